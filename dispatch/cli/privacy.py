"""``dispatch privacy erase CASE_ID``: forget the reporter of a case, keep the hash chain.

The reporter is their name and phone (in the vault) and the photos they supplied: every
``intake`` attachment of the case (随手拍 sent with the complaint, whoever uploaded it).
Progress and reply photos are the departments' evidence and stay. Each erased photo gets an
``AttachmentErased`` event, then its file and thumbnail are deleted unless another attachment
still shows the same bytes; ``dispatch verify`` then reports it as erased, not missing.
"""

from __future__ import annotations

import typer

from dispatch.bootstrap import Container
from dispatch.cli.common import container, fail
from dispatch.domain import commands as c
from dispatch.domain.events import CaseReceived, registry
from dispatch.handlers import Issuer, SystemActor
from dispatch.queries.attachment_files import attachment_files
from events.vault import erase_personal_data

app = typer.Typer(no_args_is_help=True, help="Personal data of reporters")

ERASER = SystemActor(username="privacy-erase")


@app.command("erase")
def erase(case_id: str) -> None:
    """Erase the reporter's name, phone and intake photos of CASE_ID (events and hashes stay)."""
    deps = container()
    try:
        history = deps.store.read_stream(case_id)
        if not history:
            fail(f"no case with id {case_id!r}")
        received = registry.decode(history[0])
        assert isinstance(received, CaseReceived)
        if received.reporter_ref is None:
            typer.echo(f"case {case_id} has no reporter on record")
        else:
            with deps.store.transaction() as conn:
                found = erase_personal_data(conn, received.reporter_ref)
            if not found:
                fail(f"the reporter record {received.reporter_ref} of case {case_id} is missing")
            typer.echo(f"erased the reporter of case {case_id} ({received.case_no})")
        photos, files = erase_intake_photos(deps, case_id)
        typer.echo(f"erased {photos} intake photos of case {case_id}; {files} files deleted")
    finally:
        deps.close()


def erase_intake_photos(deps: Container, case_id: str) -> tuple[int, int]:
    """How many attachments were newly erased, and how many stored files were deleted.

    Files are deleted for every erased attachment of the case, not only the new ones, so
    running the erase again finishes a deletion a crash interrupted.
    """
    issuer = Issuer(actor=ERASER, role="system")
    result = deps.handle(case_id, c.EraseIntakePhotos(), issuer)
    recorded = attachment_files(deps.store)
    live = recorded.live
    doomed = {f.sha256 for f in recorded.files if f.case_id == case_id and f.erased} - live
    deleted = sum(deps.media_store.delete(sha256) for sha256 in sorted(doomed))
    return len(result.events), deleted
