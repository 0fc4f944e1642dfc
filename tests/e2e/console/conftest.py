"""The console in a real browser: uvicorn on a free localhost port over the test database,
Debian's Chromium driven by Playwright, and a screenshot of every page under
``test-output/screenshots/``.

The browser tests are skipped, saying why, when ``/usr/bin/chromium`` or Playwright is missing
(``.ci/run`` installs both). Never ``playwright install``: the browser is the system's.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from browsing import FAST_HASHER, Console

from dispatch.app import create_app
from dispatch.bootstrap import Container, bootstrap
from dispatch.live import stop_live_streams
from dispatch.settings import Settings

CHROMIUM = Path(os.environ.get("DISPATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SAMPLE_CATALOGUE = Path(__file__).parents[3] / "dispatch/catalogue/samples/sample.yaml"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def console(database_url: str, redis_url: str, request: pytest.FixtureRequest) -> Iterator[Console]:
    container = bootstrap(
        Settings(
            database_url=database_url,
            redis_url=redis_url,
            secret_key="console-test-secret-of-32-bytes-or-more",
            inline_routing=True,
        )
    )
    container.password_hasher = FAST_HASHER  # sign-ins in milliseconds
    _load_sample_catalogue(container)
    port = _free_port()
    app = create_app(container)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console's uvicorn server did not start")
        time.sleep(0.05)
    screenshots = Path(request.config.rootpath) / "test-output" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    try:
        yield Console(f"http://127.0.0.1:{port}", container, screenshots)
    finally:
        stop_live_streams(app)  # as ``dispatch serve`` does on SIGTERM: open streams end
        server.should_exit = True
        thread.join(timeout=10)
        container.close()


def _load_sample_catalogue(container: Container) -> None:
    from dispatch.catalogue.versions import active_catalogue, load_catalogue

    active = active_catalogue(container.engine)
    if active is None or active[1].version != "2026-11-sample":
        text = SAMPLE_CATALOGUE.read_text(encoding="utf-8")
        load_catalogue(container.engine, text, loaded_by="tests")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless; the tests skip, saying why, when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"the browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser tests need Playwright: pip install -e '.[test]'"
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, console: Console) -> Iterator[Any]:
    """A factory of pages, each in its own browser context (its own cookies: one user each);
    every page records any JavaScript dialog in ``page.dialogs``."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(
            base_url=console.url, viewport={"width": 1280, "height": 900}, locale="zh-CN"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []

        def on_dialog(dialog: Any) -> None:
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    yield make
    for context in contexts:
        context.close()
