"""``dispatch verify`` checks every attachment's stored file and names a changed or missing one
(DESIGN §8.6)."""

from __future__ import annotations

import uuid
from pathlib import Path

from click.testing import Result
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from dispatch.domain.events import AttachmentAdded, AttachmentErased
from dispatch.media import LocalMediaStore
from dispatch.media.storage import fan_out_key
from dispatch.settings import get_settings
from events import EventStore, Meta
from workers.cli import app

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def dispatch_cli(database_url: str, media_dir: Path, *args: str) -> Result:
    get_settings.cache_clear()
    env = {"DISPATCH_DATABASE_URL": database_url, "DISPATCH_MEDIA_DIR": str(media_dir)}
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


def attach(engine: Engine, store: LocalMediaStore, data: bytes) -> tuple[str, str]:
    stored = store.put(data, "application/pdf")
    attachment_id = "att_" + uuid.uuid4().hex[:16]
    event = AttachmentAdded(
        attachment_id=attachment_id,
        sha256=stored.sha256,
        size=stored.size,
        media_type="application/pdf",
        stage="intake",
        by="op-1",
    )
    log = EventStore(engine)
    log.append(
        "case-a",
        [event],
        expected_version=log.stream_version("case-a"),
        meta=Meta(actor="op-1", role="operator", command_id=uuid.uuid4().hex),
    )
    return attachment_id, stored.sha256


def test_intact_attachment_files_verify(
    scratch_database_url: str, scratch_engine: Engine, tmp_path: Path
) -> None:
    attach(scratch_engine, LocalMediaStore(tmp_path), PDF)

    result = dispatch_cli(scratch_database_url, tmp_path, "verify")

    assert result.exit_code == 0, result.output
    assert "1 attachment files intact" in result.output


def test_a_file_changed_on_disk_makes_verify_name_it(
    scratch_database_url: str, scratch_engine: Engine, tmp_path: Path
) -> None:
    store = LocalMediaStore(tmp_path)
    attach(scratch_engine, store, PDF + b"% other\n")
    changed, sha256 = attach(scratch_engine, store, PDF)
    (tmp_path / fan_out_key(sha256)).write_bytes(PDF.replace(b"Catalog", b"Catalag"))

    result = dispatch_cli(scratch_database_url, tmp_path, "verify")

    assert result.exit_code != 0
    assert f"attachment {changed} of case case-a" in result.output
    assert "was changed" in result.output


def test_a_missing_file_makes_verify_name_it(
    scratch_database_url: str, scratch_engine: Engine, tmp_path: Path
) -> None:
    store = LocalMediaStore(tmp_path)
    missing, sha256 = attach(scratch_engine, store, PDF)
    (tmp_path / fan_out_key(sha256)).unlink()

    result = dispatch_cli(scratch_database_url, tmp_path, "verify")

    assert result.exit_code != 0
    assert f"attachment {missing} of case case-a" in result.output
    assert "is missing" in result.output


def erase(engine: Engine, store: LocalMediaStore, attachment_id: str, sha256: str) -> None:
    """What ``dispatch privacy erase`` does: the event first, then the file."""
    log = EventStore(engine)
    log.append(
        "case-a",
        [AttachmentErased(attachment_id=attachment_id, sha256=sha256)],
        expected_version=log.stream_version("case-a"),
        meta=Meta(actor="privacy-erase", role="system", command_id=uuid.uuid4().hex),
    )
    store.delete(sha256)


def test_an_erased_file_is_reported_erased_not_missing(
    scratch_database_url: str, scratch_engine: Engine, tmp_path: Path
) -> None:
    store = LocalMediaStore(tmp_path)
    attach(scratch_engine, store, PDF + b"% kept\n")
    erased, sha256 = attach(scratch_engine, store, PDF)
    erase(scratch_engine, store, erased, sha256)

    result = dispatch_cli(scratch_database_url, tmp_path, "verify")

    assert result.exit_code == 0, result.output
    assert "1 attachment files intact" in result.output
    assert "1 attachments erased (privacy erase)" in result.output
    assert "missing" not in result.output and "changed" not in result.output


def test_a_stored_file_no_event_names_is_listed_as_stray_and_removed_on_request(
    scratch_database_url: str, scratch_engine: Engine, tmp_path: Path
) -> None:
    store = LocalMediaStore(tmp_path)
    attach(scratch_engine, store, PDF)
    # An upload stored whose AttachmentAdded never reached the log (the append failed).
    orphan = store.put(PDF + b"% orphan\n", "application/pdf").sha256

    listed = dispatch_cli(scratch_database_url, tmp_path, "verify", "--strays")

    assert listed.exit_code == 0, listed.output
    assert f"stray file {orphan}" in listed.output
    assert "1 stray files listed" in listed.output
    assert store.exists(orphan)

    removed = dispatch_cli(scratch_database_url, tmp_path, "verify", "--remove-strays")

    assert removed.exit_code == 0, removed.output
    assert "1 stray files removed" in removed.output
    assert not store.exists(orphan)
    again = dispatch_cli(scratch_database_url, tmp_path, "verify", "--strays")
    assert "no stray files" in again.output and "1 attachment files intact" in again.output


def test_a_file_left_behind_by_an_interrupted_erase_is_a_stray(
    scratch_database_url: str, scratch_engine: Engine, tmp_path: Path
) -> None:
    store = LocalMediaStore(tmp_path)
    erased, sha256 = attach(scratch_engine, store, PDF)
    erase(scratch_engine, store, erased, sha256)
    store.put(PDF, "application/pdf")  # as if the deletion had not happened

    result = dispatch_cli(scratch_database_url, tmp_path, "verify", "--strays")

    assert result.exit_code == 0, result.output
    assert f"stray file {sha256}" in result.output
