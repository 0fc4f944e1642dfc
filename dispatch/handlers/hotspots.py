"""主动治理: the timer scan's call that raises ``HotspotDetected``, once.

Appended with the hotspot stream's ``expected_version`` and a command id fixed by grid,
category and window, so two schedulers, or one restarted, raise each hotspot once; the
domain (``decide_hotspot``) refuses a second one on a stream that holds one.
"""

from __future__ import annotations

from dispatch.domain.events import HotspotDetected, registry
from dispatch.domain.hotspot import decide_hotspot, hotspot_stream
from dispatch.handlers.actor import SYSTEM
from dispatch.handlers.executor import meta_for
from dispatch.handlers.handling import Handling, Issuer
from events import ConcurrencyError, Event

RETRIES = 5


def hotspot_raised(deps: Handling, detected: HotspotDetected) -> bool:
    """Was ``detected`` appended now (not before, by this or another scheduler)?"""
    stream = hotspot_stream(detected.grid, detected.category, detected.window_start)
    key = f"hotspot:{detected.grid}:{detected.category}:{detected.window_start.isoformat()}"
    meta = meta_for(Issuer(actor=SYSTEM, role="system"), key)
    for _attempt in range(RETRIES):
        history = deps.log.read_stream(stream)
        events: list[Event] = [registry.decode(recorded) for recorded in history]
        new_events = decide_hotspot(events, detected)
        if not new_events:
            return False
        version = history[-1].version if history else 0
        try:
            result = deps.log.append(
                stream, new_events, expected_version=version, meta=meta, now=deps.clock()
            )
        except ConcurrencyError:
            continue  # another scheduler landed first: decide again
        return not result.duplicate
    return False  # still contended: the next scan asks again
