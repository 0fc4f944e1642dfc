"""Schemathesis throws schema-shaped input at every API route, as every kind of caller.

The app's own OpenAPI schema drives it: every operation under ``/api/v1`` plus ``/healthz`` and
``/readyz``, sent by an operator, a dispatcher, a liaison of a department, a street officer of a
street, a supervisor, an admin and someone with no token. No answer may be a 5xx
(``not_a_server_error``). Only that check runs: the schema declares no 401/403/404/409 for the
routes that answer them, so ``status_code_conformance`` fails on every guarded route, and most
routes answer untyped dicts, so ``response_schema_conformance`` has few bodies to check.

Bounded for CI: a few derandomized examples per operation per caller, so a run is repeatable.
Routes that would change the shared callers are sent by a throwaway user instead:
``POST /users/me/password`` (a new password ends the caller's sessions). ``POST /auth/token`` is
fuzzed anonymously only, with random usernames, so throttling never locks a shared user out.
``PATCH /users/{id}`` and ``POST /users/{id}/password`` are fuzzed as they come: the ids
schemathesis makes up name no shared user. The schema is the app's own ``/openapi.json``, read
through the module's client, and every case is sent through that client too (one app, one
lifespan), rather than schemathesis' ``from_asgi`` client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from module_app import (  # noqa: F401
    app_container,
    client,
    people,
    short_live_streams,
    signed_in,
)
from schemathesis.checks import not_a_server_error

from dispatch.auth.throttle import MemoryFailures, SignInGate

from worlds.scenarios import API, DEPARTMENT, STREET, Login

pytestmark = pytest.mark.usefixtures("sample_catalogue", "short_live_streams")

EXAMPLES = 5  # per operation per caller

CALLERS: dict[str, Callable[[Login], dict[str, str]]] = {
    "operator": lambda login: login("operator"),
    "dispatcher": lambda login: login("dispatcher"),
    "liaison": lambda login: login("liaison", department=DEPARTMENT),
    "street": lambda login: login("street", street=STREET),
    "supervisor": lambda login: login("supervisor"),
    "admin": lambda login: login("admin"),
    "anonymous": lambda _login: {},
}

SIGN_IN = ("POST", f"{API}/auth/token")
OWN_PASSWORD = ("POST", f"{API}/users/me/password")
# Multipart uploads: schemathesis generates file parts the test client cannot send (an int
# for a file); the upload's bad inputs are rules in tests/e2e/test_attachments_api.py.
UPLOAD = ("POST", f"{API}/cases/{{case_id}}/attachments")


def fuzzed(path: str) -> bool:
    return path.startswith(f"{API}/") or path in ("/healthz", "/readyz")


@pytest.fixture(scope="module", autouse=True)
def own_sign_in_gate(client: TestClient) -> None:  # noqa: F811
    """Anonymous fuzzing of the sign-in fails often from one address; a gate of this module's
    own keeps those failures from locking the shared test users out of later modules."""
    client.app.state.sign_in_gate = SignInGate(MemoryFailures())  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def schema(client: TestClient) -> Any:  # noqa: F811
    document = client.get("/openapi.json").json()
    return schemathesis.openapi.from_dict(document)


def operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if fuzzed(op.path)]


def send(client: TestClient, case: Any, headers: dict[str, str]) -> None:  # noqa: F811
    kwargs = case.as_transport_kwargs(headers=headers)
    kwargs.pop("base_url", None)
    if not kwargs.get("cookies"):
        kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), bytes | str):  # raw bodies (YAML, forms as text)
        kwargs["content"] = kwargs.pop("data")
    method = kwargs.pop("method")
    url = kwargs.pop("url")
    response = client.request(method, url, **kwargs)
    case.validate_response(response, checks=[not_a_server_error])


def fuzz(operation: Any, client: TestClient, headers: Callable[[], dict[str, str]]) -> None:  # noqa: F811
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        send(client, case, headers())

    run()


@pytest.mark.parametrize("caller", CALLERS)
def test_no_input_makes_the_api_answer_5xx_for_any_caller(
    caller: str,
    schema: Any,
    client: TestClient,  # noqa: F811
    people: Login,  # noqa: F811
    login: Login,
) -> None:
    shared = CALLERS[caller](people)
    ops = operations(schema)
    assert any(op.path == "/healthz" for op in ops) and len(ops) > 20
    failures: list[str] = []
    for operation in ops:
        key = (operation.method.upper(), operation.path)
        headers: Callable[[], dict[str, str]] = lambda: shared  # noqa: E731
        if key == SIGN_IN and caller != "anonymous":
            continue
        if key == UPLOAD:
            continue
        if key == OWN_PASSWORD and caller != "anonymous":
            headers = lambda make=CALLERS[caller]: make(login)  # noqa: E731
        try:
            fuzz(operation, client, headers)
        except Exception as error:
            failures.append(f"{key[0]} {key[1]}: {error}")
    assert not failures, "\n\n".join(failures)
