"""The web chat in real headless Chromium (Debian's package, driven by Playwright) against
a real uvicorn server and the real engine: paste, answer, copy, follow-up, feedback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migfix.server.app import create_app
from migfix.server.explain import Engine
from migfix.server.feedback import FeedbackStore
from migfix.server.settings import Settings

from .conftest import live_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXAMPLE = (Path(__file__).parents[2] / "examples" / "conflicting-leaf-nodes.txt").read_text()
FOLLOW_UP = "I ran it again, same thing.\nWhat now?"


@pytest.fixture
def page(settings: Settings, engine: Engine) -> Iterator[tuple[object, str, list[str]]]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium; test.sh does)")
    from playwright.sync_api import sync_playwright

    with live_server(create_app(settings, engine=engine)) as url, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1000, "height": 1400})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(url)
        yield tab, url, errors
        browser.close()


def test_chat_answers_copies_follows_up_and_records_feedback(
    page, settings: Settings, tmp_path: Path
) -> None:
    tab, _, errors = page
    assert tab.evaluate("document.activeElement.id") == "paste"  # keyboard users start typing

    tab.fill("#paste", EXAMPLE)
    tab.keyboard.press("Control+Enter")
    first = tab.locator(".answer").first
    first.wait_for()
    assert tab.locator(".question").first.inner_text() == EXAMPLE  # multi-line paste intact
    assert "Conflicting migrations" in first.locator("h2").inner_text()
    assert first.locator(".match a").inner_text() == "conflicting-leaf-nodes"
    assert first.locator(".confidence").inner_text().endswith("%")
    steps = first.locator(".steps > li")
    assert steps.count() >= 2
    assert steps.first.locator(".risk").inner_text().lower() in {"safe", "caution", "destructive"}

    command = first.locator(".steps .command code").first.inner_text()
    assert "makemigrations --merge orders" in command
    first.locator(".steps .copy").first.click()
    assert tab.evaluate("navigator.clipboard.readText()") == command
    assert first.locator(".steps .copy").first.inner_text() == "Copied"

    tab.fill("#paste", FOLLOW_UP)
    tab.click("#send")
    tab.locator(".answer").nth(1).wait_for()
    second = tab.locator(".answer").nth(1)
    assert tab.locator(".turn").count() == 2
    assert tab.locator(".question").nth(1).inner_text() == FOLLOW_UP
    assert second.locator(".match a").inner_text() == "conflicting-leaf-nodes"

    second.get_by_role("button", name="This fixed it").click()
    tab.get_by_text("Thanks, recorded.").wait_for()
    rows = FeedbackStore(settings.database_url).feedback()
    assert [(r["helpful"], r["playbook_id"]) for r in rows] == [(True, "conflicting-leaf-nodes")]
    assert "What now?" in rows[0]["question"]

    tab.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    assert errors == []


def test_errors_are_shown_not_thrown(page) -> None:
    tab, _, errors = page
    tab.fill("#paste", "   ")
    tab.click("#send")
    assert tab.locator(".turn").count() == 0  # blank input is not sent
    tab.fill("#paste", "x" * 1_000_050)
    tab.click("#send")
    alert = tab.get_by_role("alert")
    alert.wait_for()
    assert "larger than" in alert.inner_text()
    tab.click("#reset")
    assert tab.locator(".turn").count() == 0
    assert [e for e in errors if "413" not in e] == []
