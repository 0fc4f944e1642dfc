"""Which stored files the log names (DESIGN §8.6): for ``dispatch verify`` and privacy erase.

A file is content-addressed, so two attachments (on two cases, say) may name the same bytes;
one of them erased must not delete what the other still shows. This reads the whole log in
batches, as verify does: it runs from the command line, never on a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from events import EventStore, RecordedEvent


@dataclass(frozen=True)
class RecordedFile:
    """One ``AttachmentAdded``: where it sits in the log and whether it was erased since."""

    attachment_id: str
    case_id: str
    position: int
    sha256: str
    erased: bool


@dataclass(frozen=True)
class AttachmentFiles:
    files: tuple[RecordedFile, ...]

    @property
    def live(self) -> frozenset[str]:
        """The sha256 of every file some attachment still shows."""
        return frozenset(f.sha256 for f in self.files if not f.erased)

    def strays(self, stored: Iterable[str]) -> list[str]:
        """Stored files no live attachment names: an upload whose event never made it into the
        log (a crash, a refused command), or an erased file whose deletion did not finish."""
        live = self.live
        return [sha256 for sha256 in stored if sha256 not in live]


def attachment_files(store: EventStore) -> AttachmentFiles:
    added: dict[str, RecordedEvent] = {}
    erased: set[str] = set()
    for batch in store.iter_all():
        for recorded in batch:
            if recorded.type == "AttachmentAdded":
                added[str(recorded.data.get("attachment_id"))] = recorded
            elif recorded.type == "AttachmentErased":
                erased.add(str(recorded.data.get("attachment_id")))
    return AttachmentFiles(
        tuple(
            RecordedFile(
                attachment_id=attachment_id,
                case_id=recorded.stream_id,
                position=recorded.position,
                sha256=str(recorded.data.get("sha256", "")),
                erased=attachment_id in erased,
            )
            for attachment_id, recorded in added.items()
        )
    )
