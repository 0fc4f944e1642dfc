"""三巡一查零报告 on a phone (DESIGN §8.7, issue 17 item 6), in Chromium at 360×740: a grid
worker lands on today's rounds, files a zero report with one tap, and a finding with a photo
and the phone's position; another grid's report is the 403 page. The street page shows its
grids' rounds, the 漏巡 worklist and the missed-patrols map measure. Screenshots:
``test-output/screenshots/17-patrol-*.png``.

Each test uses its own grid of the sample catalogue, so the shared database's patrol days
(one stream per grid and day) never collide.
"""

from __future__ import annotations

import io
import random
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from browsing import Console, shot, sign_in
from PIL import Image

from dispatch.auth.users import User
from dispatch.catalogue.versions import active_catalogue
from dispatch.handlers import Issuer
from dispatch.handlers.executor import load_case
from dispatch.handlers.patrols import PatrolReport, patrol_missed_raised, report_patrol
from dispatch.projections.case_list import live_tables

PHONE = {"width": 360, "height": 740}
# Inside XYL-02's polygon in the sample catalogue.
WHERE = {"latitude": 34.2712, "longitude": 108.9577}


def grid_worker(console: Console, grid: str) -> User:
    return console.user("grid", grid=grid, name="网格员小王")


@pytest.fixture
def phone(browser: Any, console: Console) -> Iterator[Any]:
    """A phone-sized page that may ask for the device's position (and gets ``WHERE``)."""
    context = browser.new_context(
        base_url=console.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation=WHERE,
        permissions=["geolocation"],
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def photo() -> bytes:
    image = Image.new("RGB", (400, 300), (random.randrange(256), 90, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


def round_item(page: Any, name: str) -> Any:
    return page.locator(f'li.round[data-round="{name}"]')


def rounds(console: Console) -> list[str]:
    active = active_catalogue(console.container.engine)
    assert active is not None
    return [r.name for r in active[1].patrol.rounds]


def case_by_number(console: Console, case_no: str) -> str:
    console.container.fresh("case_list")
    cases = live_tables()["case_list"]
    with console.container.store.reading() as conn:
        return str(conn.execute(sa.select(cases.c.id).where(cases.c.case_no == case_no)).scalar())


def test_a_grid_worker_lands_on_todays_rounds_and_files_a_zero_report_with_one_tap(
    phone: Any, console: Console
) -> None:
    sign_in(phone, grid_worker(console, "XYL-01"))

    assert phone.url.endswith("/console/patrol")
    first, *others = rounds(console)
    for name in (first, *others):
        assert round_item(phone, name).get_attribute("data-status") in ("due", "missing")
        assert "截止" in round_item(phone, name).inner_text()
    shot(phone, console, "17-patrol-rounds")
    button = round_item(phone, first).get_by_role("button")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 260  # a thumb's target on a phone

    with phone.expect_navigation():
        button.tap()

    assert f"{first}零报告已提交" in phone.locator(".flash.ok").inner_text()
    assert round_item(phone, first).get_attribute("data-status") == "zero"
    assert "零报告" in round_item(phone, first).inner_text()
    assert round_item(phone, first).get_by_role("button").count() == 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, console, "17-patrol-zero-reported")


def test_a_finding_is_filed_with_its_photo_and_the_phones_position(
    phone: Any, console: Console
) -> None:
    worker = grid_worker(console, "XYL-02")
    sign_in(phone, worker, next_path="/console/patrol")
    form = phone.locator("form[data-patrol-finding]")
    camera = form.get_by_label("照片")
    assert camera.get_attribute("accept") == "image/*"
    assert camera.get_attribute("capture") == "environment"

    form.get_by_label("诉求类别").select_option(label="道路坑洼")
    form.get_by_label("诉求描述").fill(f"巡查发现人行道塌陷一处 {uuid.uuid4().hex[:6]}")
    picture = {"name": "塌陷.jpg", "mimeType": "image/jpeg", "buffer": photo()}
    camera.set_input_files(files=[picture])
    form.get_by_role("button", name="使用本机定位").tap()
    phone.wait_for_function("document.querySelector('[data-lat]').value !== ''")
    assert "已记录设备定位" in form.locator("[data-located]").inner_text()
    shot(phone, console, "17-patrol-finding-form")
    with phone.expect_navigation():
        form.get_by_role("button", name="上报问题").tap()

    flash = phone.locator(".flash.ok").inner_text()
    assert "已立案" in flash, phone.content()
    case_no = flash.rsplit("：", 1)[1].rstrip("。")
    state, _version = load_case(console.container.store, case_by_number(console, case_no))
    assert state.channel == "patrol"
    assert state.location.grid == "XYL-02"
    assert (state.location.lat, state.location.lon) == (WHERE["latitude"], WHERE["longitude"])
    [attachment] = state.attachments
    assert (attachment.stage, attachment.media_type) == ("intake", "image/jpeg")
    assert attachment.by == worker.username
    chosen_round = rounds(console)[0]  # the form offers the first round not yet reported
    assert round_item(phone, chosen_round).get_attribute("data-status") == "reported"
    assert case_no in round_item(phone, chosen_round).inner_text()
    shot(phone, console, "17-patrol-finding-filed")


def test_a_grid_worker_cannot_report_for_another_grid_through_the_console(
    phone: Any, console: Console
) -> None:
    sign_in(phone, grid_worker(console, "XYL-03"), next_path="/console/patrol")
    first = rounds(console)[0]
    form = round_item(phone, first).locator("form.zero")
    form.locator("input[name=grid]").evaluate("input => input.value = 'CLZ-01'")

    with phone.expect_navigation() as answer:
        form.get_by_role("button").tap()

    assert answer.value.status == 403
    console.container.fresh("patrol_reports")
    with console.container.store.reading() as conn:
        reported = conn.execute(
            sa.text("SELECT count(*) FROM patrol_reports WHERE grid = 'CLZ-01' AND reported")
        ).scalar()
    assert reported == 0
    phone.goto("/console/patrol")
    assert round_item(phone, first).get_attribute("data-status") in ("due", "missing")


def test_a_street_officer_sees_todays_rounds_of_its_grids(new_page: Any, console: Console) -> None:
    container = console.container
    worker = grid_worker(console, "CLZ-02")
    last = rounds(console)[-1]
    issuer = Issuer(actor=worker, role="grid")
    report_patrol(container.handling, uuid.uuid4().hex, PatrolReport("CLZ-02", last), issuer)
    page = new_page()
    sign_in(page, console.user("street", street="CLZ"), next_path="/console/street")

    table = page.locator("table.patrol-rounds")
    grids = set(table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.grid)"))
    assert grids == {"CLZ-01", "CLZ-02", "CLZ-03"}
    row = table.locator(f'tr[data-grid="CLZ-02"][data-round="{last}"]')
    assert row.get_attribute("data-status") == "zero"
    assert "零报告" in row.inner_text()
    table.screenshot(path=str(console.screenshots / "17-patrol-street-rounds.png"))


def test_missed_rounds_show_on_the_street_worklist_and_the_map(
    new_page: Any, console: Console
) -> None:
    container = console.container
    active = active_catalogue(container.engine)
    assert active is not None
    catalogue = active[1]
    grid = catalogue.grid("CLZ-03")
    assert grid is not None
    yesterday = container.clock().astimezone(catalogue.zone).date() - timedelta(days=1)
    for round_ in catalogue.patrol.rounds[:2]:
        due_at = round_.due_at(yesterday, catalogue.zone)
        assert patrol_missed_raised(container.handling, grid, yesterday, round_, due_at)
    page = new_page()
    sign_in(page, console.user("street", street="CLZ"), next_path="/console/worklists")

    page.goto("/console/worklists?key=patrol_missed")
    assert "漏巡" in page.locator("#h-worklist").inner_text()
    rows = page.locator("tbody tr").all_inner_texts()
    for round_ in catalogue.patrol.rounds[:2]:
        assert any(grid.name in r and f"{yesterday} {round_.name}" in r for r in rows), rows
    shot(page, console, "17-patrol-missed-worklist")

    page.goto("/console/street?measure=missed_patrols#grid-map-card")
    assert page.locator("svg#grid-map").get_attribute("data-measure") == "missed_patrols"
    missed = page.locator('svg#grid-map path.grid[data-grid="CLZ-03"]')
    assert int(missed.get_attribute("data-value")) == 2
    assert "近7日漏巡" in (missed.locator("title").text_content() or "")
    page.locator("#grid-map-card").screenshot(
        path=str(console.screenshots / "17-patrol-missed-map.png")
    )
