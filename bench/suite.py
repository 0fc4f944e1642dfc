"""``dispatch bench``: every part in turn, one table, ``docs/benchmarks.md`` and the JSON.

The bench creates scratch databases on the PostgreSQL server it is given and drops them; it
never touches the configured database itself. Redis has no scratch databases, so the bench
asks for a database number it may flush: an empty one, or one it used before (it leaves its
mark, ``OWNER_KEY``), and empties it before each part and at the end.
"""

from __future__ import annotations

import json
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from bench import document
from bench.figures import Figure, text_table
from bench.machine import ROOT, describe
from bench.parts import PARTS, Setup, filled_database, sizes_for
from bench.scorecard import scorecard
from dispatch.ops.logs import configure_logging
from events.database import make_engine, normalise_url

OWNER_KEY = "street-whistle:bench:owner"
DEFAULT_OUTPUT = ROOT / "docs/benchmarks.md"
DEFAULT_JSON = ROOT / "bench/results/bench.json"


class BenchRefused(Exception):
    """The bench cannot run as asked; the message says what to give it instead."""


@dataclass(frozen=True)
class Options:
    database_url: str | None  # a PostgreSQL server (the configured one by default)
    redis_url: str | None
    quick: bool = False
    cases: int | None = None
    only: Sequence[str] = tuple(PARTS)
    database: str | None = None
    keep_database: bool = False
    output: Path | None = None  # DEFAULT_OUTPUT
    json_path: Path | None = None  # DEFAULT_JSON


def parts_named(only: str | None) -> tuple[str, ...]:
    if not only:
        return tuple(PARTS)
    names = tuple(name.strip() for name in only.split(",") if name.strip())
    unknown = [name for name in names if name not in PARTS]
    if unknown:
        raise BenchRefused(f"no part named {', '.join(unknown)}; the parts: {', '.join(PARTS)}")
    return tuple(name for name in PARTS if name in names)  # the suite's order


def check_database(url: str | None, *, creates: bool = True) -> str:
    """``url`` if it names a PostgreSQL server the bench can reach (and, when it ``creates``,
    make scratch databases on); else a refusal that says what to pass instead."""
    advice = (
        "pass --database-url postgresql://user@host:5432/postgres or set DISPATCH_DATABASE_URL "
        "(the bench creates scratch databases on that server and drops them)"
    )
    if not url:
        raise BenchRefused(f"dispatch bench needs PostgreSQL: {advice}")
    backend = sa.make_url(normalise_url(url)).get_backend_name()
    if backend != "postgresql":
        raise BenchRefused(f"dispatch bench needs PostgreSQL, not {backend}: {advice}")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            may_create = conn.exec_driver_sql(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
            ).scalar_one()
    except sa.exc.OperationalError as error:
        raise BenchRefused(f"cannot reach PostgreSQL at {url}: {error.orig}") from error
    finally:
        engine.dispose()
    if creates and not may_create:
        raise BenchRefused(f"the user of {url} may not create databases (CREATEDB); {advice}")
    return url


def claim_redis(url: str | None) -> str:
    """Empty the Redis database ``url`` names, if it is empty or the bench's own."""
    advice = "pass --redis-url redis://host:6379/<n>, a database number the bench may flush"
    if not url:
        raise BenchRefused(f"dispatch bench needs a real Redis: {advice}")
    connection = redis.Redis.from_url(url)
    try:
        keys = connection.dbsize()
        if keys and not connection.exists(OWNER_KEY):
            raise BenchRefused(
                f"the Redis database at {url} holds {keys} keys the bench did not write; {advice}"
            )
        connection.flushdb()
        connection.set(OWNER_KEY, "dispatch bench")
    except redis.RedisError as error:
        raise BenchRefused(f"cannot use Redis at {url}: {error}") from error
    finally:
        connection.close()
    return url


def release_redis(url: str) -> None:
    connection = redis.Redis.from_url(url)
    try:
        connection.flushdb()
    finally:
        connection.close()


def figure_json(figure: Figure) -> dict[str, Any]:
    return {
        "figure": figure.name,
        "unit": figure.unit,
        "ours": figure.ours,
        "raw": figure.raw,
        "ratio": None if figure.ratio is None else round(figure.ratio, 3),
        "target": figure.target.describe() if figure.target else None,
        "met": figure.met,
        "note": figure.note,
    }


def say(message: str) -> None:
    print(message, flush=True)


PartsDone = Callable[[dict[str, Any], dict[str, float]], None]


def run_parts(
    setup: Setup, names: Sequence[str], part_done: PartsDone
) -> tuple[dict[str, Any], dict[str, float]]:
    """Each part in turn; one that fails is recorded with its traceback and the rest go on.
    ``part_done`` gets what was measured so far after every part, so that a run cut short
    (an hour at full size) keeps the parts it finished."""
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    with filled_database(setup, say) as filled:
        for name in names:
            say(f"— {name} …")
            claim_redis(setup.redis_url)
            started = time.perf_counter()
            try:
                results[name] = PARTS[name](setup, filled)
            except Exception:
                results[name] = {"error": traceback.format_exc(limit=6)}
                say(f"  {name} failed:\n{results[name]['error']}")
            seconds[name] = round(time.perf_counter() - started, 1)
            say(f"  {name}: {seconds[name]:g} s")
            part_done(results, seconds)
    release_redis(setup.redis_url)
    return results, seconds


def run_suite(options: Options) -> int:
    """Run, print the table, write the document and the JSON; 0 however the figures fare."""
    server_url = check_database(options.database_url)
    redis_url = claim_redis(options.redis_url)
    if options.database:
        check_database(options.database, creates=False)
    configure_logging(format="text", level="WARNING")  # the in-process parts' request logs
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    sizes = sizes_for(options.quick, options.cases)
    setup = Setup(server_url, redis_url, sizes, options.database, options.keep_database)
    machine = describe(server_url, redis_url)
    say(f"dispatch bench, {sizes.describe()}; parts: {', '.join(options.only)}")
    output = options.output or DEFAULT_OUTPUT
    json_path = options.json_path or DEFAULT_JSON

    def write(results: dict[str, Any], seconds: dict[str, float]) -> None:
        figures = scorecard(results)
        document.write(output, document.render(machine, sizes.describe(), figures, results))
        json_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "machine": machine,
            "sizes": asdict(sizes),
            "seconds": seconds,
            "figures": [figure_json(f) for f in figures],
            "results": results,
        }
        json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")

    results, _seconds = run_parts(setup, options.only, write)
    print()
    print(text_table(scorecard(results)))
    say(f"\nwritten: {output} and {json_path} (after each part)")
    return 0
