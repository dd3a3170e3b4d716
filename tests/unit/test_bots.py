"""The bots' bookkeeping that the proof relies on to say hands were played to the end."""

from __future__ import annotations

import random

from saga.bots import BotStats, choose


def test_a_hand_counts_as_ended_once_its_table_deals_a_later_one() -> None:
    stats = BotStats(hands_seen={"t-a-h1"})
    assert stats.hands_ended == 0
    stats.hands_seen |= {"t-b-h1", "t-b-h2"}
    assert stats.hands_ended == 1
    stats.hands_seen |= {"t-a-h2", "t-a-h3"}
    assert stats.hands_ended == 3


def test_a_bot_only_chooses_actions_the_table_offers() -> None:
    rng = random.Random(3)
    offered = ["fold", "call", "raise"]
    legal = {"actions": offered, "min_raise_to": 20, "max_raise_to": 50}
    for _ in range(200):
        action, amount = choose(legal, rng)
        assert action in offered
        if action == "raise":
            assert amount is not None
            assert 20 <= amount <= 50
        else:
            assert amount is None
