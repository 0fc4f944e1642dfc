"""Photos in the console, in Chromium: a photo taken at intake shows as a thumbnail on the
case page, opens in a lightbox that Esc closes, and appears on the timeline."""

from __future__ import annotations

import io
import random
import uuid
from typing import Any

from browsing import Console, shot, sign_in
from PIL import Image, ImageDraw
from test_console_story import fill_complaint, submit


def street_photo() -> bytes:
    """A photo no other test uploads (content addressing would share its file)."""
    image = Image.new("RGB", (640, 480), (90, 120, random.randrange(256)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 200, 520, 420), fill=(60, 60, 60))
    draw.ellipse((240, 280, 400, 360), fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


def test_a_photo_taken_at_intake_shows_as_a_thumbnail_and_opens_in_a_lightbox(
    new_page: Any, console: Console
) -> None:
    page = new_page()
    sign_in(page, console.user("operator"), next_path="/console/intake")
    camera = page.get_by_label("照片（随手拍）")
    assert camera.get_attribute("accept") == "image/*"
    assert camera.get_attribute("capture") == "environment"
    fill_complaint(page, f"路面塌陷，附现场照片 {uuid.uuid4().hex[:6]}")
    camera.set_input_files(
        files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": street_photo()}]
    )
    assert "现场.jpg" in page.locator("[data-chosen]").inner_text()
    submit(page, "保存并派单")
    if page.locator("#dup-title").count():  # an earlier case in XYL-01: pick again, file anyway
        camera.set_input_files(
            files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": street_photo()}]
        )
        submit(page, "仍然受理")

    before = page.locator(".photo-column[data-stage=intake] a.thumb img")
    assert before.count() == 1
    before.evaluate("img => img.complete || new Promise(r => img.addEventListener('load', r))")
    assert before.evaluate("img => img.naturalWidth") == 320  # the thumbnail, not the photo
    after = page.locator(".photo-column[data-stage=reply]")
    assert "暂无照片" in after.inner_text()
    shot(page, console, "20-case-photos")

    before.click()
    lightbox = page.locator("#lightbox")
    lightbox.wait_for(state="visible")
    full = lightbox.locator("img")
    full.evaluate("img => img.complete || new Promise(r => img.addEventListener('load', r))")
    assert full.evaluate("img => img.naturalWidth") == 640
    shot(page, console, "21-photo-lightbox")
    page.keyboard.press("Escape")
    lightbox.wait_for(state="detached")

    page.get_by_role("link", name="流转轨迹").click()
    page.wait_for_load_state()
    assert "添加受理照片" in page.locator("table.list").inner_text()


def test_pictures_dropped_on_the_drop_zone_are_chosen(new_page: Any, console: Console) -> None:
    page = new_page()
    sign_in(page, console.user("operator"), next_path="/console/intake")

    chosen = page.evaluate(
        """() => {
            const zone = document.querySelector('[data-drop-zone]');
            const dropped = new DataTransfer();
            dropped.items.add(new File(['x'], 'drop.png', {type: 'image/png'}));
            dropped.items.add(new File(['x'], 'notes.txt', {type: 'text/plain'}));
            zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dropped, bubbles: true}));
            return Array.from(zone.querySelector('input[type=file]').files).map(f => f.name);
        }"""
    )

    assert chosen == ["drop.png"]
    assert "drop.png" in page.locator("[data-chosen]").inner_text()
