"""The playground at / in headless Chromium (Debian's, driven over the DevTools protocol): a slider per AV over
--lambda-range with the level presets marked; moving a slider (arrow keys, as a user does) and sending streams
the same text the API gives at that λ; side by side, one prompt goes out at two λ-settings at once and each
column gets its own setting's answer. Set MEAV_PLAYGROUND_SCREENSHOT=PATH to keep the side-by-side screenshot
(docs/serving/playground.png was made so)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from tests.annotation.cdp import Chromium
from tests.serving.test_serve import ask

PROMPT = "I have a question about my health."
TOKENS = 24


@pytest.fixture
def page(grouped, tmp_path):
    browser = Chromium(str(tmp_path / "profile"))
    browser.send("Emulation.setDeviceMetricsOverride", {"width": 1360, "height": 900, "deviceScaleFactor": 1, "mobile": False})  # fmt: skip
    browser.navigate(grouped.url.removesuffix("/v1") + "/")
    browser.wait_for("document.body?.dataset.ready === '1'", 30)
    browser.evaluate(f"document.getElementById('max-tokens').value = {TOKENS}")
    yield browser
    browser.close()


def _js(value) -> str:
    return json.dumps(value)


def press(browser: Chromium, selector: str, key: str, times: int) -> None:
    """Real key presses on a focused element (ArrowRight moves a range input one step up)."""
    browser.evaluate(f"document.querySelector({_js(selector)}).focus()")
    code = {"ArrowRight": 39, "ArrowLeft": 37}[key]
    for _ in range(times):
        for kind in ("rawKeyDown", "keyUp"):
            browser.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code})  # fmt: skip


def click(browser: Chromium, selector: str) -> None:
    browser.evaluate(f"document.querySelector({_js(selector)}).click()")


def send(browser: Chromium, prompt: str, columns: str) -> dict[str, str]:
    """Type the prompt, press Send, wait until every column's answer has streamed in; the answers by column."""
    browser.evaluate("document.getElementById('prompt').focus()")
    browser.send("Input.insertText", {"text": prompt})
    click(browser, "#send")
    done = " && ".join(f"document.querySelector('#chat-{c} .assistant:last-child')?.dataset.state === 'done'" for c in columns)  # fmt: skip
    browser.wait_for(done, 60)
    return {c: browser.evaluate(f"document.querySelector('#chat-{c} .assistant:last-child').textContent") for c in columns}  # fmt: skip


def test_sliders_cover_the_range_and_mark_the_presets(page):
    sliders = page.evaluate("[...document.querySelectorAll('#col-a input[type=range]')].map(s => [s.id, s.min, s.max, s.value])")  # fmt: skip
    assert sliders == [["a-medical", "-3", "3", "0"], ["a-legal", "-3", "3", "0"]]
    marks = page.evaluate("[...document.querySelectorAll('#col-a .marks button')].map(b => b.textContent)")
    medical = ["avoidance -1.30", "generic -0.40", "base 0", "expert 0.70"]  # by λ, from its av_config.json
    assert marks == [*medical, "base 0"]  # legal's config recommends no λ yet
    assert page.evaluate("document.getElementById('col-b').hidden") is True


def test_a_moved_slider_streams_the_api_answer_at_that_lambda(page, grouped):
    press(page, "#a-medical", "ArrowRight", 10)  # 10 steps of 0.05
    assert page.evaluate("document.getElementById('a-medical-value').textContent") == "0.50"
    answers = send(page, PROMPT, "a")
    assert answers["a"] == ask(grouped, "base", PROMPT, {"medical": 0.5}, max_tokens=TOKENS) and answers["a"]
    # a follow-up goes out with the conversation so far
    follow = send(page, "And what next?", "a")["a"]
    assert follow and page.evaluate("document.querySelectorAll('#chat-a .msg').length") == 4


def test_side_by_side_sends_one_prompt_at_two_settings(page, grouped):
    click(page, "#compare")
    assert page.evaluate("document.getElementById('col-b').hidden") is False
    press(page, "#a-legal", "ArrowLeft", 26)  # A: legal -1.3
    click(page, "#col-b .marks button[data-level=expert]")  # B: medical at its expert preset
    press(page, "#b-legal", "ArrowRight", 10)  # B: legal 0.5
    assert (
        page.evaluate("document.getElementById('summary-b').textContent")
        == "alignment: medical 0.70, legal 0.50"
    )
    answers = send(page, PROMPT, "ab")
    assert answers["a"] == ask(grouped, "base", PROMPT, {"legal": -1.3}, max_tokens=TOKENS)
    assert answers["b"] == ask(
        grouped, "base", PROMPT, {"medical": "expert", "legal": 0.5}, max_tokens=TOKENS
    )
    assert answers["a"] != answers["b"]
    height = page.evaluate("Math.ceil(document.getElementById('ask').getBoundingClientRect().bottom)")
    page.send("Emulation.setDeviceMetricsOverride", {"width": 1360, "height": height, "deviceScaleFactor": 1, "mobile": False})  # fmt: skip
    shot = base64.b64decode(page.send("Page.captureScreenshot", {"format": "png"})["data"])
    assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
    if target := os.environ.get("MEAV_PLAYGROUND_SCREENSHOT"):
        Path(target).write_bytes(shot)


def test_a_refused_request_shows_the_servers_error(page):
    page.evaluate("document.getElementById('max-tokens').value = 999999")  # past --max-new-tokens
    page.evaluate("document.getElementById('prompt').value = 'hi'")
    click(page, "#send")
    page.wait_for("document.querySelector('#chat-a .assistant')?.dataset.state === 'error'", 30)
    assert "max_tokens" in page.evaluate("document.querySelector('#chat-a .assistant').textContent")
