"""axe-core in Chromium on each role's main page: no serious or critical violation.

A hotline hall has staff on screen readers and at zoomed, low-contrast monitors; the WCAG
rules axe checks (labels, names, contrast, landmarks, the page's language) are the floor. axe
comes from the ``axe-playwright-python`` wheel (its bundled ``axe.min.js``): nothing is fetched
while the tests run.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsing import Console, file_case, shot, sign_in

DEPARTMENT = "envir"  # env.* routes here in the sample catalogue
STREET = "XYL"
SERIOUS = {"serious", "critical"}

axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright",
    reason="the accessibility tests need axe-playwright-python: pip install -e '.[test]'",
)


def serious_violations(page: Any) -> list[str]:
    results = axe_playwright.Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


@pytest.fixture(scope="module")
def a_case(console: Console) -> str:
    """A routed complaint, so that lists and the case page have something in them."""
    case_id, _ = file_case(console, description="小区门口烧烤油烟很大，晚上十点还在营业")
    return case_id


MAIN_PAGES = [
    pytest.param(("operator",), {}, "/console/intake", id="operator-intake"),
    pytest.param(("liaison",), {"department": DEPARTMENT}, "/console/worklists", id="liaison"),
    pytest.param(("dispatcher",), {}, "/console/desk", id="dispatcher-desk"),
    pytest.param(("supervisor",), {}, "/console/dashboard", id="supervisor-dashboard"),
    pytest.param(("street",), {"street": STREET}, "/console/street", id="street-page"),
    pytest.param(("operator",), {}, "/console/callbacks", id="operator-callbacks"),
    pytest.param(("supervisor",), {}, "/console/cases", id="case-list"),
    pytest.param(("grid",), {"grid": "XYL-02"}, "/console/patrol", id="grid-worker-patrol"),
    pytest.param(("admin",), {}, "/console/admin", id="admin-menu"),
    pytest.param(("admin",), {}, "/console/admin/users", id="admin-users"),
]


@pytest.mark.parametrize(("roles", "scope", "path"), MAIN_PAGES)
def test_each_roles_main_page_has_no_serious_accessibility_violation(
    new_page: Any,
    console: Console,
    a_case: str,
    roles: tuple[str, ...],
    scope: dict[str, str],
    path: str,
) -> None:
    page = new_page()
    sign_in(page, console.user(*roles, **scope), next_path=path)
    page.goto(path)
    page.wait_for_load_state()
    shot(page, console, f"a11y{path.replace('/', '-')}")
    assert serious_violations(page) == []


def test_the_case_page_has_no_serious_accessibility_violation(
    new_page: Any, console: Console, a_case: str
) -> None:
    page = new_page()
    sign_in(page, console.user("supervisor"), next_path=f"/console/cases/{a_case}")
    page.goto(f"/console/cases/{a_case}")
    page.wait_for_load_state()
    assert serious_violations(page) == []


def test_the_sign_in_page_has_no_serious_accessibility_violation(new_page: Any) -> None:
    page = new_page()
    page.goto("/console/login")
    assert serious_violations(page) == []


def test_axe_finds_a_serious_violation_when_there_is_one(new_page: Any) -> None:
    """The check can fail: an unlabelled input and an image without alt text are reported."""
    page = new_page()
    page.goto("/console/login")
    page.evaluate(
        "document.querySelector('main, body').insertAdjacentHTML('beforeend',"
        " '<input type=text id=nolabel><img src=x.png>')"
    )
    found = serious_violations(page)
    assert any(line.startswith(("label", "image-alt")) for line in found), found
