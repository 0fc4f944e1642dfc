"""Every catalogue load is a numbered version; a refused load leaves the active one in place."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dispatch.catalogue import CatalogueError
from dispatch.catalogue.versions import (
    RECHECK,
    active_catalogue,
    catalogue_version,
    list_versions,
    load_catalogue,
)
from events.database import make_engine

SAMPLE = Path(__file__).parents[2] / "dispatch" / "catalogue" / "samples" / "sample.yaml"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def sample(label: str) -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    return text.replace('version: "2026-11-sample"', f'version: "{label}"')


def test_there_is_no_active_catalogue_before_the_first_load(scratch_engine: Engine) -> None:
    assert active_catalogue(scratch_engine) is None
    assert list_versions(scratch_engine) == []


def test_each_load_is_a_new_higher_version_and_the_newest_is_active(
    scratch_engine: Engine,
) -> None:
    first, catalogue, warnings = load_catalogue(
        scratch_engine, sample("v1"), loaded_by="admin-a", now=NOW
    )
    assert catalogue.version == "v1"
    assert any("2027" in warning for warning in warnings)
    second, _, _ = load_catalogue(scratch_engine, sample("v2"), loaded_by="admin-b", now=NOW)
    assert second > first
    number, active = active_catalogue(scratch_engine)  # type: ignore[misc]
    assert (number, active.version) == (second, "v2")
    versions = list_versions(scratch_engine)
    assert [(v.number, v.label, v.loaded_by) for v in versions] == [
        (second, "v2", "admin-b"),
        (first, "v1", "admin-a"),
    ]
    assert versions[0].loaded_at == NOW and versions[0].warnings == warnings
    old = catalogue_version(scratch_engine, first)
    assert old is not None and old.version == "v1"


def test_a_refused_load_stores_nothing_and_keeps_the_previous_version_active(
    scratch_engine: Engine,
) -> None:
    number, _, _ = load_catalogue(scratch_engine, sample("good"), loaded_by="admin", now=NOW)
    broken = sample("broken").replace("lead: water}", "lead: waterworks}")
    with pytest.raises(CatalogueError, match=r"routing\.0\.lead"):
        load_catalogue(scratch_engine, broken, loaded_by="admin", now=NOW)
    active_number, active = active_catalogue(scratch_engine)  # type: ignore[misc]
    assert (active_number, active.version) == (number, "good")
    assert [v.number for v in list_versions(scratch_engine)] == [number]
    after, _, _ = load_catalogue(scratch_engine, sample("fixed"), loaded_by="admin", now=NOW)
    assert after > number


def test_the_active_catalogue_is_cached_and_other_processes_loads_are_seen_after_a_recheck(
    scratch_database_url: str, scratch_engine: Engine, tmp_path: Path
) -> None:
    load_catalogue(scratch_engine, sample("one"), loaded_by="admin", now=NOW)
    number, cached = active_catalogue(scratch_engine)  # type: ignore[misc]
    assert active_catalogue(scratch_engine)[1] is cached  # type: ignore[index]
    other = make_engine(scratch_database_url)  # another engine of this process shares it
    try:
        assert active_catalogue(other)[1] is cached  # type: ignore[index]
    finally:
        other.dispose()
    two = tmp_path / "two.yaml"
    two.write_text(sample("two"), encoding="utf-8")
    subprocess.run(  # another process loads a newer version
        [
            sys.executable,
            "-c",
            "import sys; from dispatch.catalogue.versions import load_catalogue; "
            "from events.database import make_engine; "
            "load_catalogue(make_engine(sys.argv[1]), open(sys.argv[2], encoding='utf-8').read(),"
            " loaded_by='admin')",
            scratch_database_url,
            str(two),
        ],
        check=True,
    )
    time.sleep(RECHECK)  # past RECHECK since this process last looked, it asks again
    seen_number, seen = active_catalogue(scratch_engine)  # type: ignore[misc]
    assert (seen_number, seen.version) == (number + 1, "two")


def test_a_version_loaded_through_another_engine_of_this_process_is_current_at_once(
    scratch_database_url: str, scratch_engine: Engine
) -> None:
    load_catalogue(scratch_engine, sample("one"), loaded_by="admin", now=NOW)
    assert active_catalogue(scratch_engine)[1].version == "one"  # type: ignore[index]
    other = make_engine(scratch_database_url)
    try:
        newer, _, _ = load_catalogue(other, sample("two"), loaded_by="admin", now=NOW)
    finally:
        other.dispose()
    seen_number, seen = active_catalogue(scratch_engine)  # type: ignore[misc]
    assert (seen_number, seen.version) == (newer, "two")


def test_versions_load_on_the_shared_session_database(engine: Engine, unique: str) -> None:
    number, _, _ = load_catalogue(engine, sample(f"shared-{unique}"), loaded_by=unique, now=NOW)
    assert any(v.number == number and v.loaded_by == unique for v in list_versions(engine))
    later, _, _ = load_catalogue(engine, sample(f"later-{unique}"), loaded_by=unique, now=NOW)
    assert later > number
