"""Every card k8or sends, as Slack Block Kit: within Slack's block limits, with the card's text and
its buttons carrying the same data; a card too big for one message says how much was left out."""

from __future__ import annotations

import json

import pytest

from bot.slack.blocks import blocks_from_card
from dialogs import cards
from tests.support.block_kit import block_kit_problems
from tests.support.cards import every_card, namespace_status

CARDS = every_card()


def _text(blocks: list[dict]) -> str:
    parts = [b["text"]["text"] for b in blocks if "text" in b]
    parts += [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    parts += [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return "\n".join(parts)


@pytest.mark.parametrize(("name", "card", "shown"), CARDS, ids=[name for name, _, _ in CARDS])
def test_every_card_is_block_kit_slack_accepts_with_the_same_text(name, card, shown) -> None:
    blocks = blocks_from_card(card)
    assert block_kit_problems(blocks) == []
    for expected in shown:
        assert expected in _text(blocks)


@pytest.mark.parametrize("name", ["confirmation", "alert"])
def test_buttons_carry_the_cards_data(name) -> None:
    card = next(card for n, card, _ in CARDS if n == name)
    [actions] = [b for b in blocks_from_card(card) if b["type"] == "actions"]
    sent = [json.loads(e["value"]) for e in actions["elements"]]
    assert sent == [a["data"] for a in card["actions"]]


def test_a_card_of_hundreds_of_lines_keeps_to_fifty_blocks_and_says_how_many_are_left_out() -> None:
    card = cards.namespace_card(namespace_status(400))
    blocks = blocks_from_card(card)
    assert block_kit_problems(blocks) == [] and len(blocks) == 50
    shown = _text(blocks).count("`app-") + _text(blocks).count(" app-")
    last = blocks[-1]["elements"][0]["text"]
    assert last == f"… {400 + 2 - shown} more lines in the message text."  # apps, "Recent warnings", one
