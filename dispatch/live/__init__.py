"""Live updates (DESIGN.md §8.8): Server-Sent Events in the caller's scope, for the API's
``GET /api/v1/stream`` and the console's own stream (each front door authenticates its way)."""

from dispatch.live.feed import last_event_id, stream_response
from dispatch.live.hub import LiveHub, StreamsFull, live_hub, stop_live_streams

__all__ = [
    "LiveHub",
    "StreamsFull",
    "last_event_id",
    "live_hub",
    "stop_live_streams",
    "stream_response",
]
