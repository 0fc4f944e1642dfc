"""The application's one sign-in gate as a FastAPI dependency, shared by the API and the console."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from dispatch.auth.throttle import SignInGate, sign_in_gate
from dispatch.bootstrap import Container

_gate_lock = threading.Lock()


def get_sign_in_gate(request: Request) -> SignInGate:
    """The application's one sign-in gate (API and console share it), made on first use;
    a test may put its own in ``app.state.sign_in_gate`` first."""
    state = request.app.state
    with _gate_lock:
        gate = getattr(state, "sign_in_gate", None)
        if gate is None:
            container: Container = state.container
            gate = state.sign_in_gate = sign_in_gate(
                redis_url=container.redis_url, database_url=container.settings.database_url
            )
    return gate


SignInGateDep = Annotated[SignInGate, Depends(get_sign_in_gate)]
