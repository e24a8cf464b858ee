"""Headless Chromium (Debian) against the real UI: an annotator logs in, sees query, response and the three
labels, submits one, and the report counts it."""

from __future__ import annotations

import json

import pytest

from meav.annotation import PushOptions, push
from tests.annotation.cdp import Chromium
from tests.annotation.test_flow import agreement_report, level_of

pytestmark = pytest.mark.slow


@pytest.fixture
def browser(tmp_path):
    chromium = Chromium(str(tmp_path / "profile"))
    yield chromium
    chromium.close()


def _type_into(browser: Chromium, selector: str, text: str) -> None:
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
    browser.send("Input.insertText", {"text": text})  # real keyboard input, as a user types


def test_annotator_labels_one_response_in_the_ui(argilla, toy_corpus, browser, tmp_path):
    creds = tmp_path / "ui-annotators.json"
    push(
        PushOptions(
            corpus_dir=toy_corpus, url=argilla.url, api_key=argilla.api_key(), annotators=["ui1", "ui2"],
            queries_per_annotator=2, min_shared=1, seed=4, argilla_dataset="ui-check", credentials=creds,
        )
    )  # fmt: skip
    password = json.loads(creds.read_text())["users"]["ui1"]["password"]

    browser.navigate(f"{argilla.url}/sign-in")
    browser.wait_for("document.querySelector('input[name=Username]')")
    _type_into(browser, "input[name=Username]", "ui1")
    _type_into(browser, "input[name=Password]", password)
    browser.wait_for("!document.querySelector('button[type=submit]').disabled", 10)
    browser.evaluate("document.querySelector('button[type=submit]').click()")
    annotate = browser.wait_for("(document.querySelector('a[href*=annotation-mode]') || {}).href")
    browser.navigate(annotate)
    browser.wait_for("document.querySelectorAll('.text_field_component__copy-button').length === 2")

    page = browser.evaluate("document.body.innerText")
    assert "Query" in page and "Response" in page and "generation_level" not in page
    for label in ("avoidance", "generic", "expert"):
        assert browser.evaluate(f"!!document.querySelector('label[for=level_{label}]')"), label
    query = page.split("Query\n", 1)[1].strip().splitlines()[0]
    response = page.split("Response\n", 1)[1].strip().splitlines()[0]
    assert query.startswith("I have a ") and "question number" in query
    level = level_of(response)  # the annotator reads the response and decides

    browser.evaluate(f"document.querySelector('label[for=level_{level}]').click()")
    browser.wait_for("!document.querySelector('button.button--submit').disabled", 10)
    browser.evaluate("document.querySelector('button.button--submit').click()")
    browser.wait_for("/Submitted\\s*1\\b/.test(document.body.innerText)", 30)  # the UI's own counter

    rep = agreement_report(argilla, tmp_path / "report", dataset="ui-check", resamples=10)
    assert rep["progress"]["ui1"]["submitted"] == 1 and rep["progress"]["ui1"]["pending"] == 5
    assert sum(sum(row) for row in rep["confusion"]["counts"]) == 1
    row = rep["confusion"]["rows"].index(level)
    assert rep["confusion"]["counts"][row][rep["confusion"]["cols"].index(level)] == 1
