"""``/docs`` and ``/redoc`` work on a closed network: every asset they name is served here.

A 12345 hall usually has no internet; FastAPI's default pages load Swagger UI and ReDoc from
a CDN and are blank there. The pages must name only local paths, and each must answer 200.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")

PAGES = ["/docs", "/redoc", "/open311/v2/docs", "/open311/v2/redoc"]


def referenced_assets(html: str) -> list[str]:
    return ASSET_REFERENCE.findall(html)


@pytest.mark.parametrize("page", PAGES)
def test_the_api_pages_name_no_other_host(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assets = referenced_assets(html)
    assert assets, "the page loads its viewer from somewhere"
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from another host"
    assert "cdn" not in html.lower()
    assert "fonts.googleapis" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']https?://""", html)


@pytest.mark.parametrize("page", PAGES)
def test_every_asset_of_the_api_pages_is_served(client: TestClient, page: str) -> None:
    for url in referenced_assets(client.get(page).text):
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, f"{url} is a real bundle, not an empty stub"


@pytest.mark.parametrize(
    ("page", "schema"),
    [
        ("/docs", "/openapi.json"),
        ("/redoc", "/openapi.json"),
        ("/open311/v2/docs", "/open311/v2/openapi.json"),
    ],
)
def test_the_api_pages_read_their_own_schema(client: TestClient, page: str, schema: str) -> None:
    assert schema in client.get(page).text
    assert client.get(schema).json()["openapi"].startswith("3.")


def test_the_swagger_bundle_is_the_viewer_itself(client: TestClient) -> None:
    html = client.get("/docs").text
    script = next(url for url in referenced_assets(html) if url.endswith(".js"))
    assert "SwaggerUIBundle" in client.get(script).text
    css = next(url for url in referenced_assets(html) if url.endswith(".css"))
    assert client.get(css).headers["content-type"].startswith("text/css")
