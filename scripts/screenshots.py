"""The README's screenshots, taken from the demo as anyone would see it.

Runs ``dispatch demo --fresh`` in a scratch directory (its own demo.db, embedded Redis and
workers, on a free port), reads the passwords it prints, and has Debian's Chromium (headless,
driven by Playwright) sign in as each role and photograph its main page at 1280×800. The
pictures go to ``docs/screenshots/`` as palette PNGs (a quarter of the size, text still
sharp). The demo is stopped afterwards; nothing outside the scratch directory is touched
except the pictures.

    python scripts/screenshots.py [--cases 800] [--out docs/screenshots]   # make screenshots
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--lang=zh-CN",  # date inputs as a Chinese desk shows them (年/月/日)
]
VIEWPORT = {"width": 1280, "height": 800}
# "  operator   operator      Xy12…  话务员 王丽", as ``dispatch demo`` prints who may sign in.
CREDENTIAL = re.compile(r"^\s{2}(?P<role>\w+)\s+(?P<username>[\w-]+)\s+(?P<password>\S+)\s{2}")
READY_LINE = "Open311 api_key"


@dataclass(frozen=True)
class Shot:
    """One picture: who signs in, which page, and the file it becomes."""

    name: str
    role: str
    path: str
    username: str | None = None  # None: the first user the demo printed with this role
    open_first_case: bool = False  # from the page's list, follow the first case's link
    scroll_to: str | None = None  # a part further down the page (CSS selector) to show
    tab: str | None = None  # a worklist tab to open first (its label's start, e.g. 待办理)


SHOTS = [
    Shot("operator-intake", "operator", "/console/intake"),
    Shot(
        "liaison-worklist", "liaison", "/console/worklists", username="city-liaison", tab="待办理"
    ),
    Shot("dispatcher-desk", "dispatcher", "/console/desk"),
    Shot("supervisor-dashboard", "supervisor", "/console/dashboard"),
    Shot("case-timeline", "supervisor", "/console/cases", open_first_case=True),
    Shot("street-page", "street", "/console/street", username="qh-street"),
    Shot(
        "street-map", "street", "/console/street", username="qh-street", scroll_to="#grid-map-card"
    ),
    # The grid worker's phone-sized patrol page, once the console has one (skipped on a 403).
    Shot("grid-worker", "grid", "/console/"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=800, help="complaints in the demo month")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with running_demo(args.cases) as (base_url, passwords):
        take_all(base_url, passwords, args.out)


@contextmanager
def running_demo(cases: int) -> Iterator[tuple[str, dict[str, tuple[str, str]]]]:
    """``dispatch demo`` in a scratch directory; yields its URL and {username: (role, password)}."""
    port = free_port()
    dispatch = Path(sys.executable).parent / "dispatch"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}
    env["DISPATCH_LOG_FORMAT"] = "text"
    # This checkout's code, even when the venv's editable install points at another one.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="whistle-screenshots-") as scratch:
        print(f"dispatch demo --fresh --cases {cases} --port {port} in {scratch} …", flush=True)
        demo = subprocess.Popen(
            [str(dispatch), "demo", "--fresh", "--cases", str(cases), "--port", str(port)],
            cwd=scratch,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its workers and Redis stop with it
        )
        try:
            assert demo.stdout is not None
            passwords = read_credentials(demo.stdout)
            base_url = f"http://127.0.0.1:{port}"
            wait_until_ready(base_url, demo)
            yield base_url, passwords
        finally:
            os.killpg(demo.pid, signal.SIGTERM)
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait()


def read_credentials(output: IO[str]) -> dict[str, tuple[str, str]]:
    passwords: dict[str, tuple[str, str]] = {}
    for line in output:
        if line.startswith("  …"):
            continue  # one line per day of history
        print(f"  demo: {line.rstrip()}", flush=True)
        match = CREDENTIAL.match(line)
        if match:
            passwords[match["username"]] = (match["role"], match["password"])
        if line.startswith(READY_LINE):
            return passwords
    raise SystemExit("the demo stopped before it printed the passwords")


def wait_until_ready(base_url: str, demo: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            raise SystemExit(f"the demo exited with {demo.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the demo did not answer on {base_url} within {seconds:.0f} s")


def take_all(base_url: str, passwords: dict[str, tuple[str, str]], out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            for shot in SHOTS:
                username = shot.username or first_of_role(passwords, shot.role)
                if username is None or username not in passwords:
                    print(f"  skip {shot.name}: the demo has no {shot.role} user")
                    continue
                context = browser.new_context(
                    base_url=base_url,
                    viewport=VIEWPORT,
                    locale="zh-CN",
                    timezone_id="Asia/Shanghai",
                )
                context.set_default_timeout(20_000)
                try:
                    page = context.new_page()
                    sign_in(page, username, passwords[username][1], shot.path)
                    if shot.open_first_case:
                        open_first_case(page)
                    elif not answers(page, shot.path):
                        print(f"  skip {shot.name}: {shot.path} is not a page for {shot.role}")
                        continue
                    if shot.tab:
                        page.get_by_role("link", name=re.compile(f"^{shot.tab}")).first.click()
                        page.wait_for_load_state()
                    if shot.scroll_to:
                        page.locator(shot.scroll_to).scroll_into_view_if_needed()
                    settle(page)
                    save(page, out / f"{shot.name}.png")
                finally:
                    context.close()
        finally:
            browser.close()


def first_of_role(passwords: dict[str, tuple[str, str]], role: str) -> str | None:
    return next((user for user, (r, _) in passwords.items() if r == role), None)


def sign_in(page: Any, username: str, password: str, path: str) -> None:
    page.goto(f"/console/login?next={path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_label("密码").press("Enter")
    page.wait_for_load_state()
    if "/console/login" in page.url:
        raise SystemExit(f"{username} could not sign in")


def answers(page: Any, path: str) -> bool:
    response = page.goto(path)
    page.wait_for_load_state()
    return response is not None and response.ok


def open_first_case(page: Any) -> None:
    link = page.locator("main a[href^='/console/cases/']").first
    page.goto(link.get_attribute("href"))
    page.wait_for_load_state()


def settle(page: Any) -> None:
    """The page's own script has run (live counts, charts) and the fonts are in."""
    page.evaluate("document.fonts.ready")
    page.wait_for_timeout(600)


def save(page: Any, path: Path) -> None:
    page.screenshot(path=str(path))
    optimise(path)
    print(f"  wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def optimise(path: Path) -> None:
    """256 colours are plenty for a console page; the file shrinks to about a quarter."""
    with Image.open(path) as picture:
        palette = picture.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    palette.save(path, optimize=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
