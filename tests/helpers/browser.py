"""Helpers for the canvas's real-browser tests: Debian's Chromium through Playwright, and a stub Telegram.WebApp."""

import json
import os
import shutil

import pytest

PHONE = {"width": 390, "height": 760}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
THEME = {
    "bg_color": "#ffffff",
    "text_color": "#1f2328",
    "hint_color": "#8a8f98",
    "button_color": "#3390ec",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#eef1f5",
}


def chromium_or_skip() -> str:
    """The chromium executable; skip (or, in CI, fail) without it or without Playwright."""
    executable = shutil.which("chromium")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        executable = None
    if executable is None:
        reason = "no Chromium (or no playwright package): apt-get install chromium to run the canvas's browser test"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return executable


def stub_telegram(
    init_data: str, platform: str = "android", version: str = "8.0", safe_area: dict[str, int] | None = None
) -> str:
    """A ``window.Telegram.WebApp`` stand-in that records what the page calls (in ``window.__calls``).

    Like Telegram's own script it reports its ``platform`` and ``version`` and
    sets the safe-area CSS variables (``safe_area``: name → pixels, e.g.
    ``{"content-safe-area-inset-top": 46}``)."""
    styles = "".join(
        f"document.documentElement.style.setProperty('--tg-{name}', '{px}px');"
        for name, px in (safe_area or {}).items()
    )
    return f"""
    window.__calls = [];
    window.Telegram = {{ WebApp: {{
        initData: {json.dumps(init_data)},
        initDataUnsafe: {{}},
        platform: {json.dumps(platform)},
        version: {json.dumps(version)},
        themeParams: {json.dumps(THEME)},
        isVersionAtLeast(wanted) {{
            const [a, b] = [this.version, wanted].map((v) => v.split(".").map(Number));
            return a[0] > b[0] || (a[0] === b[0] && (a[1] || 0) >= (b[1] || 0));
        }},
        ready() {{ window.__calls.push("ready"); }},
        expand() {{ window.__calls.push("expand"); }},
        requestFullscreen() {{ window.__calls.push("requestFullscreen"); }},
        disableVerticalSwipes() {{ window.__calls.push("disableVerticalSwipes"); }},
        onEvent(name) {{ window.__calls.push("onEvent:" + name); }},
        HapticFeedback: {{ notificationOccurred(kind) {{ window.__calls.push("haptic:" + kind); }} }},
    }} }};
    document.addEventListener("DOMContentLoaded", () => {{ {styles} }});
    """


SMALL_PHONE = {"width": 360, "height": 740}  # the narrowest phone the canvas is made for


async def phone_page(browser, url: str, init_data: str, viewport=SMALL_PHONE):
    """The canvas at ``url`` as Telegram opens it on a phone (touch, 2× pixels), signed with ``init_data``;
    Telegram's own script is blocked (no network), and the page's script errors are kept in ``page.errors``."""
    context = await browser.new_context(viewport=viewport, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.route("https://telegram.org/**", lambda route: route.abort())
    await page.add_init_script(stub_telegram(init_data))
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    await page.goto(url)
    return page


async def stroke(page, offset: float = 0.0) -> None:
    """One zigzag stroke across the canvas with the mouse, ``offset`` (a fraction of it) lower and deeper
    (the page crops a drawing to its strokes: another offset, another picture)."""
    box = await page.locator("#canvas").bounding_box()
    for step in range(7):
        x = box["x"] + box["width"] * (0.25 + 0.5 * step / 6)
        y = box["y"] + box["height"] * (0.4 + offset + (0.05 + offset) * (1 if step % 2 else -1))
        await page.mouse.move(x, y)
        if step == 0:
            await page.mouse.down()
    await page.mouse.up()
