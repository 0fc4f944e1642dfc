"""随手拍 · 影像证明 on the case aggregate: privacy erase of the reporter's intake photos."""

from __future__ import annotations

from builders import given, received, then_state, when

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev


def added(attachment_id: str, stage: str) -> ev.AttachmentAdded:
    return ev.AttachmentAdded(
        attachment_id=attachment_id,
        sha256=attachment_id.ljust(64, "0"),
        size=10,
        media_type="image/jpeg",
        stage=stage,  # type: ignore[arg-type]
        by="op-1",
    )


def test_privacy_erase_erases_the_intake_photos_and_keeps_the_departments_evidence() -> None:
    state = given(received(), added("a1", "intake"), added("a2", "progress"), added("a3", "reply"))

    events = when(state, cmd.EraseIntakePhotos())

    assert events == [ev.AttachmentErased(attachment_id="a1", sha256="a1".ljust(64, "0"))]
    after = then_state(state, events)
    assert [a.attachment_id for a in after.attachments if a.erased_at is not None] == ["a1"]


def test_privacy_erase_twice_yields_nothing_the_second_time() -> None:
    state = given(received(), added("a1", "intake"))
    state = then_state(state, when(state, cmd.EraseIntakePhotos()))

    assert when(state, cmd.EraseIntakePhotos()) == []


def test_a_closed_case_can_still_have_its_reporters_photos_erased() -> None:
    state = given(received(), added("a1", "intake"), ev.CaseClosed(note="办结"))

    assert [e.type for e in when(state, cmd.EraseIntakePhotos())] == ["AttachmentErased"]
