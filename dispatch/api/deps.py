"""Dependencies that read as English: ``ContainerDep``, ``StoreDep`` and (from auth) users."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dispatch.bootstrap import Container
from events import EventStore


def get_container(request: Request) -> Container:
    return request.app.state.container


def get_store(request: Request) -> EventStore:
    return request.app.state.container.store


ContainerDep = Annotated[Container, Depends(get_container)]
StoreDep = Annotated[EventStore, Depends(get_store)]
