"""Maps stored type names to event classes and upgrades old payloads on read.

Stored rows are never rewritten: an event written at ``schema_version`` 1 is turned into the
current class by a chain of upcasters, each taking one version's payload to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from events.envelope import Event, RecordedEvent
from events.errors import UnknownEventType

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]
E = TypeVar("E", bound=type[Event])


class EventRegistry:
    def __init__(self) -> None:
        self._classes: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: E) -> E:
        """Class decorator: make ``cls`` the current class of its ``type``."""
        existing = self._classes.get(cls.type)
        if existing is not None and existing is not cls:
            raise ValueError(f"event type {cls.type!r} is already registered to {existing!r}")
        self._classes[cls.type] = cls
        return cls

    def upcaster(self, type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: the function takes a ``from_version`` payload to ``from_version + 1``."""

        def decorate(function: Upcaster) -> Upcaster:
            self._upcasters[(type_name, from_version)] = function
            return function

        return decorate

    def class_for(self, type_name: str) -> type[Event]:
        try:
            return self._classes[type_name]
        except KeyError:
            raise UnknownEventType(f"no event class registered for type {type_name!r}") from None

    def upcast(self, type_name: str, schema_version: int, data: Payload) -> Payload:
        current = self.class_for(type_name).schema_version
        while schema_version < current:
            step = self._upcasters.get((type_name, schema_version))
            if step is None:
                raise UnknownEventType(
                    f"{type_name} v{schema_version} has no upcaster to v{schema_version + 1}"
                )
            data = step(dict(data))
            schema_version += 1
        return data

    def decode(self, recorded: RecordedEvent) -> Event:
        cls = self.class_for(recorded.type)
        data = self.upcast(recorded.type, recorded.schema_version, recorded.data)
        return cls.model_validate(data)

    def types(self) -> list[str]:
        return sorted(self._classes)
