"""Every card k8or sends, drawn by Microsoft's Adaptive Cards renderer (npm `adaptivecards`, the
library Microsoft's own hosts build on) in headless Chromium: it parses without a warning, its text is
on the page, its buttons are buttons that submit what k8or reads back, and a screenshot is saved
(under the test's tmp_path) for a person to look at.

All cards are drawn in one page of one browser.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import RENDERER, npm_file
from tests.support.cards import every_card

CARDS = every_card()
DRAW = """
(cards) => {
  const problems = {};
  window.submitted = [];
  for (const [name, json] of cards) {
    const card = new AdaptiveCards.AdaptiveCard();
    const context = new AdaptiveCards.SerializationContext();
    card.onExecuteAction = (action) => window.submitted.push({card: name, data: action.data});
    card.parse(json, context);
    const events = [];
    for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i).message);
    for (const e of card.validateProperties().validationEvents) events.push(e.message);
    problems[name] = events;
    const holder = document.createElement("section");
    holder.dataset.card = name;
    holder.style.width = "480px";
    holder.appendChild(card.render());
    document.body.appendChild(holder);
  }
  return problems;
}
"""


@pytest.fixture(scope="module")
def drawn(browser: Any) -> Any:
    """One page with every card drawn in it, and what the renderer said about each."""
    page = browser.new_page(viewport={"width": 640, "height": 800})
    page.set_content("<!doctype html><html><head><title>k8or cards</title></head><body></body></html>")
    page.add_script_tag(path=str(npm_file(RENDERER)))
    problems = page.evaluate(DRAW, [[name, card] for name, card, _ in CARDS])
    yield page, problems
    page.close()


@pytest.mark.parametrize(("name", "card", "shown"), CARDS, ids=[name for name, _, _ in CARDS])
def test_each_card_is_drawn_with_its_text_and_a_screenshot(drawn: Any, tmp_path, name, card, shown) -> None:
    page, problems = drawn
    assert problems[name] == []
    section = page.locator(f'section[data-card="{name}"]')
    text = section.inner_text()
    for expected in shown:
        assert expected in text, f"{expected!r} is not on the {name} card: {text!r}"
    shot = tmp_path / f"{name}.png"
    section.screenshot(path=str(shot))
    picture = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    assert picture.width >= 300 and picture.height >= 40
    assert len(set(picture.getdata())) > 2, "the screenshot is blank"


@pytest.mark.parametrize(
    ("name", "title", "field", "value"),
    [
        ("confirmation", "Confirm", "decision", "yes"),
        ("confirmation", "Cancel", "decision", "no"),
        ("alert", "Rollback", "k8or_command", "rollback web --to-revision 3"),
    ],
)
def test_a_pressed_button_submits_what_k8or_reads_back(drawn: Any, name, title, field, value) -> None:
    page, _ = drawn
    page.evaluate("() => { window.submitted = []; }")
    page.locator(f'section[data-card="{name}"]').get_by_role("button", name=title).click()
    submitted = page.evaluate("() => window.submitted")
    assert [s["card"] for s in submitted] == [name]
    assert submitted[0]["data"][field] == value
    card = next(card for n, card, _ in CARDS if n == name)
    sent = next(a["data"] for a in card["actions"] if a["title"] == title)
    assert json.loads(json.dumps(submitted[0]["data"])) == sent
