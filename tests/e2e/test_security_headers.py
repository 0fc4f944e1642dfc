"""Every response carries nosniff and a Referrer-Policy; console pages a strict CSP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

TEMPLATES = Path(__file__).parents[2] / "dispatch/console/templates"


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/api/v1/cases", "/api/v1/nowhere", "/open311/v2/services.json", "/console/login"],
)
def test_security_headers_are_present_on_every_response(client: TestClient, path: str):
    response = client.get(path, follow_redirects=False)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_console_pages_forbid_framing_and_inline_scripts(client: TestClient):
    for path in ("/console/login", "/console/static/console.js", "/console/nowhere"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "Content-Security-Policy" not in client.get("/api/v1/cases").headers


def test_a_413_carries_the_headers_too(client: TestClient):
    response = client.post("/api/v1/cases", content=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_console_templates_need_no_inline_script_or_style():
    """What the CSP above allows: scripts and styles from the console's own files only."""
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", text), template.name
