"""Helpers of the browser tests (imported by conftest.py and the tests)."""

from __future__ import annotations

from pathlib import Path

API_KEY = "page-test-key"
# Chinese attribute values: the page must show them with a CJK font
REGIONS_ZH = {"north": "华北", "south": "华南", "east": "华东", "west": "西部", "central": "华中"}
CATEGORIES_ZH = {"components": "零部件", "tools": "工具", "packaging": "包装",
                 "materials": "原材料", "spares": "备件"}


def sign_in(tab, site, key: str | None = None) -> None:
    """Open the page and sign in with ``key`` (default: the service's key)."""
    tab.goto(site.url + "/")
    tab.fill("#api-key", key or site.key)
    tab.click("#signin-form button[type=submit]")


def shot(tab, folder: Path, name: str, full_page: bool = True) -> Path:
    """A screenshot of what the person sees now (the whole page, or the screen)."""
    path = Path(folder) / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    return path


def expect_no_errors(tab) -> None:
    """No console error, no uncaught exception, no error line on the page."""
    assert tab.console.errors == [], tab.console.errors
    assert tab.inner_text("#status").strip() == ""


def platform_fonts(tab, selector: str) -> dict[str, int]:
    """The fonts Chromium actually used to draw the text of ``selector`` (family -> glyphs),
    from the DevTools protocol: a missing CJK font shows as a fallback or no glyphs."""
    cdp = tab.context.new_cdp_session(tab)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        return {f["familyName"]: f["glyphCount"] for f in fonts}
    finally:
        cdp.detach()
