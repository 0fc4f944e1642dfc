"""The bench suite keeps what it measured: each part's figures are written as it finishes."""

from __future__ import annotations

from typing import Any

import pytest

from bench import parts
from bench.parts import Setup, sizes_for
from bench.suite import run_parts

from worlds.routing import claimed_redis


def test_each_part_is_handed_on_as_it_finishes_and_a_failing_part_does_not_stop_the_rest(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fine(_setup: Setup, _filled: Any) -> dict[str, Any]:
        return {"measured": 1}

    def broken(_setup: Setup, _filled: Any) -> dict[str, Any]:
        raise RuntimeError("the load client fell over")

    monkeypatch.setitem(parts.PARTS, "append", fine)
    monkeypatch.setitem(parts.PARTS, "intake", broken)
    monkeypatch.setitem(parts.PARTS, "inbox", fine)
    seen: list[list[str]] = []

    with claimed_redis(redis_url) as flushable:  # the suite flushes the database it is given
        setup = Setup("postgresql://unused", flushable, sizes_for(True, None))
        results, seconds = run_parts(
            setup, ["append", "intake", "inbox"], lambda r, _s: seen.append(list(r))
        )

    assert seen == [["append"], ["append", "intake"], ["append", "intake", "inbox"]]
    assert results["append"] == {"measured": 1} and results["inbox"] == {"measured": 1}
    assert "the load client fell over" in results["intake"]["error"]
    assert set(seconds) == {"append", "intake", "inbox"}
