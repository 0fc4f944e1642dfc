"""Who may read ``/metrics`` and the details of ``/readyz`` (DESIGN.md §8.9).

With ``DISPATCH_METRICS_TOKEN`` set, a caller from any address who sends it as
``Authorization: Bearer <token>``; without it, callers on the loopback interface only (a
scraper beside the process). Behind a reverse proxy on the same host every caller looks like
loopback: set the token there.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request

from dispatch.api.problems import Problem
from dispatch.bootstrap import Container


def sends_metrics_token(request: Request, container: Container) -> bool:
    token = container.settings.metrics_token
    if not token:
        return False
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip(), token)


def is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host.removeprefix("::ffff:")).is_loopback
    except ValueError:
        return False  # a name such as Starlette's "testclient" is not an address


def may_observe(request: Request, container: Container) -> bool:
    if container.settings.metrics_token:
        return sends_metrics_token(request, container)
    return is_loopback(request)


def require_observer(request: Request) -> None:
    """A dependency: the metrics reader, else 401 (a token is expected) or 403."""
    container: Container = request.app.state.container
    if may_observe(request, container):
        return
    if container.settings.metrics_token:
        raise Problem(
            401,
            "send the metrics token: Authorization: Bearer <DISPATCH_METRICS_TOKEN>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    raise Problem(
        403,
        "metrics are answered on the loopback interface only; "
        "set DISPATCH_METRICS_TOKEN to scrape from elsewhere",
    )
