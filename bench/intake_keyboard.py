"""Intake by keyboard: the keystrokes and seconds an operator needs to file one complaint.

The console runs in-process (uvicorn over a fresh SQLite file and an embedded Redis); Debian's
Chromium, driven by Playwright, types a complaint in the order of a phone call — phone, name,
保密, 诉求性质, category by its Chinese name, address, street and grid, description, urgency —
and files it with Alt+S, with no click. Each key press counts one; a typed Chinese string counts
as its characters (an input method needs more: say so when you compare). The time is from the
form's first keystroke to the case page, typed at ``--delay`` ms a key (0: as fast as the
browser takes them). Not a test: it prints figures, and ``--json`` keeps them.

    python -m bench.intake_keyboard [--rounds 5] [--delay 0] [--json [PATH]]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import uvicorn
from argon2 import PasswordHasher

from dispatch.app import create_app
from dispatch.auth.users import add_user
from dispatch.bootstrap import bootstrap
from dispatch.catalogue.versions import load_catalogue
from dispatch.ops.embedded_redis import EmbeddedRedis
from dispatch.ops.migrations import prepare_database
from dispatch.settings import Settings
from events.database import make_engine

SAMPLE = Path(__file__).parent.parent / "dispatch/catalogue/samples/sample.yaml"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password-1"


class Keyboard:
    """Playwright's keyboard, counting keystrokes."""

    def __init__(self, page: Any, delay: float) -> None:
        self.page, self.delay, self.count = page, delay, 0

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=self.delay)
        self.count += len(text)

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
        self.count += times


def file_one(page: Any, delay: float) -> tuple[int, float]:
    """One complaint through the intake form: (keystrokes, seconds)."""
    page.goto("/console/intake")
    keys = Keyboard(page, delay)
    started = time.perf_counter()
    keys.type("139" + str(uuid.uuid4().int)[:8])
    keys.press("Tab")
    keys.type("王女士")
    keys.press("Tab", 3)  # past 保密 and 诉求性质 (投诉)
    keys.type("油烟")
    keys.press("Enter")  # the one category named 油烟
    keys.press("Tab")
    keys.type("西一路12号")
    keys.press("Tab")
    keys.press("ArrowDown")  # the street
    keys.press("Tab")
    keys.press("ArrowDown")  # its first grid
    keys.press("Tab")
    if page.evaluate("document.activeElement.hasAttribute('data-locate')"):
        keys.press("Tab")
    keys.type(f"楼下餐馆油烟直排，晚上更严重 {uuid.uuid4().hex[:4]}")
    with page.expect_navigation():
        keys.press("Alt+S")
    if page.locator("#dup-title").count():  # a likely duplicate: file it anyway
        with page.expect_navigation():
            keys.press("Alt+S")
    page.get_by_test_id("case-no").wait_for()
    return keys.count, time.perf_counter() - started


def run(rounds: int, delay: float, scratch: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    redis = EmbeddedRedis(scratch / "redis")
    redis.start()
    database_url = f"sqlite:///{scratch}/intake.db"
    engine = make_engine(database_url)
    prepare_database(engine)
    load_catalogue(engine, SAMPLE.read_text(encoding="utf-8"), loaded_by="bench")
    with engine.begin() as conn:
        operator = add_user(
            conn,
            username=f"bench-{uuid.uuid4().hex[:6]}",
            password=PASSWORD,
            roles=("operator",),
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        )
    engine.dispose()
    container = bootstrap(
        Settings(
            database_url=database_url,
            redis_url=redis.url,
            secret_key="bench-intake-secret-of-32-bytes-or-more",
            inline_routing=True,
        )
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(container), port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    results: list[tuple[int, float]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
            )
            page = browser.new_context(
                base_url=f"http://127.0.0.1:{port}", locale="zh-CN"
            ).new_page()
            page.goto("/console/login?next=/console/intake")
            page.get_by_label("用户名").fill(operator.username)
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_label("密码").press("Enter")
            page.wait_for_url("**/console/intake")
            results = [file_one(page, delay) for _ in range(rounds)]
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        container.close()
        redis.stop()
    seconds = [s for _, s in results]
    return {
        "rounds": rounds,
        "delay_ms": delay,
        "keystrokes": results[0][0],
        "seconds_median": round(statistics.median(seconds), 3),
        "seconds_max": round(max(seconds), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="complaints to file")
    parser.add_argument("--delay", type=float, default=0.0, help="ms between typed keys")
    parser.add_argument(
        "--json", nargs="?", const="-", help="also write the figures as JSON (to PATH, or stdout)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sw-bench-intake-") as scratch:
        result = run(args.rounds, args.delay, Path(scratch))
    print("intake by keyboard (one complaint, no mouse)")
    for key, value in result.items():
        print(f"  {key:<16} {value}")
    if args.json == "-":
        print(json.dumps(result, indent=2))
    elif args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
