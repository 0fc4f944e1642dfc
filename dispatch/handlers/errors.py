"""Application errors: the API answers each with one status (404, 403, 409, 412, 422).

Like the domain's refusals, each carries a stable ``code`` and the ``facts`` to word it
(``dispatch.handlers.wording``); the English message is for logs.
"""

from __future__ import annotations

from collections.abc import Mapping

from events import ConcurrencyError


class ApplicationError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        facts: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.facts = dict(facts or {})


class CaseNotFound(ApplicationError):
    status = 404
    code = "case_not_found"


class TaskNotFound(ApplicationError):
    status = 404
    code = "task_not_found"


class NotInScope(ApplicationError):
    """The actor may not act on this case or task (another department's task, say)."""

    status = 403
    code = "not_in_scope"


class StaleVersion(ApplicationError):
    """``If-Match`` named a version the case has moved past."""

    status = 412
    code = "stale_version"

    def __init__(self, expected: int, actual: int, *, case_no: str | None = None) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"the case is at version {actual}, not {expected}: reload it and try again",
            facts={"case_no": case_no, "expected": expected, "actual": actual},
        )


class InvalidInput(ApplicationError):
    """Input that passed the schema but not the catalogue (unknown category, say)."""

    status = 422
    code = "invalid_input"

    def __init__(
        self,
        field: str,
        message: str,
        *,
        code: str | None = None,
        facts: Mapping[str, object] | None = None,
    ) -> None:
        self.field = field
        super().__init__(
            f"{field}: {message}",
            code=code,
            facts={"field": field, "problem": message, **(facts or {})},
        )


class IdempotencyKeyReused(InvalidInput):
    """The Idempotency-Key already made a case from a different body (DESIGN.md §8.2)."""

    code = "idempotency_key_reused"

    def __init__(self, case_id: str) -> None:
        super().__init__(
            "Idempotency-Key",
            "this key was already used for a different request: send a new key for a new case",
        )
        self.case_id = case_id


class NoCatalogue(ApplicationError):
    status = 409
    code = "no_catalogue"

    def __init__(self) -> None:
        super().__init__("no catalogue is loaded yet: an admin must load one first")


class CaseBusy(ApplicationError, ConcurrencyError):
    """Other commands kept landing on the case between our read and our append.

    Still a ``ConcurrencyError`` for callers that retry on one (jobs, the demo); the API
    answers 409 ``busy``, as for any lost race: the client may simply send the command again.
    """

    status = 409
    code = "busy"

    def __init__(
        self, case_id: str, version: int, attempts: int, *, case_no: str | None = None
    ) -> None:
        ConcurrencyError.__init__(self, case_id, version, version + 1)
        self.facts = {"case_no": case_no}
        self.args = (
            f"case {case_id} is busy: other commands landed on it {attempts} times while "
            "this one was being decided; send it again",
        )


class KeyTaken(Exception):
    """A concurrent intake with the same Idempotency-Key won: its case is the answer (if the
    winner's body, by ``fingerprint``, was the same)."""

    def __init__(self, case_id: str, fingerprint: str | None = None) -> None:
        super().__init__(f"the idempotency key already names case {case_id}")
        self.case_id = case_id
        self.fingerprint = fingerprint
