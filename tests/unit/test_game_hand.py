"""The hand state machine: order of play, bet sizing, reopening, errors, settlement, replay."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from domain.game import (
    FULL_DECK,
    GameError,
    Hand,
    HandEvent,
    HandOver,
    IllegalAction,
    InvalidDeck,
    InvalidSetup,
    NotInHand,
    NotYourTurn,
    SeatStack,
    TableRules,
    deck_commitment,
    stack_deck,
    verify_commitment,
)

RULES = TableRules(small_blind=5, big_blind=10, min_buy_in=10, max_buy_in=1000, rake_cap=30)


def arrange(holes: Sequence[str], board: Sequence[str] = ()) -> list[str]:
    """A deck dealing `holes` (two cards per player, left of the button first) then `board`."""
    pairs = [holes[i : i + 2] for i in range(0, len(holes), 2)]
    used = set(holes) | set(board)
    burns = iter(card for card in FULL_DECK if card not in used)
    top = [pair[0] for pair in pairs] + [pair[1] for pair in pairs]
    if board:
        top += [next(burns), *board[:3], next(burns), board[3], next(burns), board[4]]
    return stack_deck(top)


def table(
    *stacks: int, rules: TableRules = RULES, button: int = 0, deck: Sequence[str] = ()
) -> Hand:
    seats = [SeatStack(seat, "abcdefghij"[seat], stack) for seat, stack in enumerate(stacks)]
    hand, _ = Hand.start("h1", rules, seats, button, list(deck) or stack_deck([]))
    return hand


def kinds(events: list[HandEvent]) -> list[str]:
    return [event.kind for event in events]


def play(hand: Hand, *moves: tuple[str, str] | tuple[str, str, int]) -> list[HandEvent]:
    events: list[HandEvent] = []
    for move in moves:
        user, action, *amount = move
        events += hand.apply(user, action, amount[0] if amount else None)
    return events


def test_heads_up_the_button_posts_the_small_blind_and_acts_first_preflop() -> None:
    seats = [SeatStack(0, "a", 1000), SeatStack(3, "b", 1000)]
    hand, events = Hand.start("h1", RULES, seats, 0, stack_deck([]))
    assert kinds(events) == ["hand.started", "blind.posted", "blind.posted"]
    assert [(e.user_id, e.blind, e.chips_in) for e in events[1:]] == [  # type: ignore[union-attr]
        ("a", "small", 5),
        ("b", "big", 10),
    ]
    assert hand.to_act == "a"
    play(hand, ("a", "call"))
    assert hand.to_act == "b"
    assert hand.legal_actions("b").actions == ["fold", "check", "raise", "all_in"]
    events = play(hand, ("b", "check"))
    assert kinds(events) == ["player.acted", "street.dealt"]
    assert hand.street == "flop"
    assert hand.to_act == "b"  # the big blind acts first after the flop, the button last
    play(hand, ("b", "check"))
    assert hand.to_act == "a"


def test_three_handed_order_preflop_and_postflop() -> None:
    hand = table(1000, 1000, 1000)  # a button, b small blind, c big blind
    assert hand.players == ["b", "c", "a"]
    assert (hand.contributed("b"), hand.contributed("c")) == (5, 10)
    assert hand.to_act == "a"  # under the gun is the button three-handed
    play(hand, ("a", "call"), ("b", "call"))
    assert hand.to_act == "c"
    play(hand, ("c", "check"))
    assert hand.to_act == "b"
    four = table(1000, 1000, 1000, 1000, button=2)  # d small blind, a big blind, b first
    assert four.players == ["d", "a", "b", "c"]
    assert four.to_act == "b"


def test_minimum_bet_and_minimum_raise_are_enforced() -> None:
    hand = table(1000, 1000, 1000)
    assert hand.legal_actions("a").min_raise_to == 20
    with pytest.raises(IllegalAction, match="between 20 and 1000"):
        hand.apply("a", "raise", 19)
    play(hand, ("a", "raise", 30))
    legal = hand.legal_actions("b")
    assert (legal.call_amount, legal.min_raise_to, legal.max_raise_to) == (25, 50, 1000)
    with pytest.raises(IllegalAction):
        hand.apply("b", "raise", 49)
    with pytest.raises(IllegalAction):
        hand.apply("b", "raise", 1001)
    with pytest.raises(IllegalAction, match="bet"):
        hand.apply("b", "bet", 50)
    with pytest.raises(IllegalAction, match="no amount"):
        hand.apply("b", "call", 25)
    play(hand, ("b", "raise", 50), ("c", "fold"), ("a", "call"))
    assert hand.street == "flop"
    assert hand.legal_actions("b").actions == ["fold", "check", "bet", "all_in"]
    with pytest.raises(IllegalAction):
        hand.apply("b", "bet", 9)
    with pytest.raises(IllegalAction, match="bet instead"):
        hand.apply("b", "raise", 20)
    play(hand, ("b", "bet", 10))
    assert hand.legal_actions("a").min_raise_to == 20


def test_a_short_all_in_does_not_reopen_the_betting() -> None:
    hand = table(1000, 1000, 65)  # c, the big blind, has 65
    play(hand, ("a", "raise", 40), ("b", "call"))
    play(hand, ("c", "all_in"))  # to 65: 25 more, under the full raise of 30
    assert hand.all_in == {"c"}
    legal = hand.legal_actions("a")
    assert legal.actions == ["fold", "call"]
    assert (legal.call_amount, legal.min_raise_to) == (25, None)
    with pytest.raises(IllegalAction, match="not open"):
        hand.apply("a", "raise", 100)
    with pytest.raises(IllegalAction):
        hand.apply("a", "all_in")
    play(hand, ("a", "call"))
    assert hand.legal_actions("b").actions == ["fold", "call"]
    play(hand, ("b", "call"))
    assert hand.street == "flop"
    assert hand.pot_total == 195


def test_a_full_all_in_raise_reopens_the_betting() -> None:
    hand = table(1000, 1000, 70)
    play(hand, ("a", "raise", 40), ("b", "call"), ("c", "all_in"))  # +30: a full raise
    legal = hand.legal_actions("a")
    assert legal.actions == ["fold", "call", "raise", "all_in"]
    assert legal.min_raise_to == 100


def test_short_all_ins_that_add_up_to_a_full_raise_reopen_the_betting() -> None:
    hand = table(60, 80, 1000, 1000, button=0)  # order b, c, d, a; d acts first
    play(hand, ("d", "raise", 40), ("a", "all_in"))  # a: 60, +20 short
    play(hand, ("b", "all_in"), ("c", "call"))  # b: 80, +20 short; +40 since d acted
    assert "raise" in hand.legal_actions("d").actions
    other = table(60, 1000, 1000, 1000, button=0)
    play(other, ("d", "raise", 40), ("a", "all_in"), ("b", "call"), ("c", "call"))
    assert other.legal_actions("d").actions == ["fold", "call"]


def test_a_short_all_in_bet_does_not_reopen_for_a_player_who_checked() -> None:
    hand = table(1000, 1000, 17)  # c, the big blind, has 7 behind after the flop
    play(hand, ("a", "call"), ("b", "call"), ("c", "check"), ("b", "check"))
    play(hand, ("c", "all_in"))  # a 7-chip bet, under the 10-chip minimum bet
    assert hand.legal_actions("a").actions == ["fold", "call", "raise", "all_in"]
    assert hand.legal_actions("a").min_raise_to == 17  # the full-bet increment stays 10
    play(hand, ("a", "call"))
    assert hand.legal_actions("b").actions == ["fold", "call"]  # b checked: not reopened


def test_no_raise_is_offered_when_no_opponent_could_call_it() -> None:
    hand = table(300, 1000, 100)  # a all-in for 300; c, still to act, has only 100
    play(hand, ("a", "all_in"))
    assert hand.legal_actions("b").actions == ["fold", "call"]
    heads_up = table(1000, 300)
    play(heads_up, ("a", "raise", 400))
    assert heads_up.legal_actions("b").actions == ["fold", "call", "all_in"]
    assert heads_up.legal_actions("b").call_amount == 290


def test_players_face_the_full_big_blind_when_it_is_short() -> None:
    hand = table(1000, 1000, 6)  # c posts 6 of the 10-chip big blind, all-in
    assert hand.legal_actions("a").call_amount == 10
    assert hand.legal_actions("a").min_raise_to == 20


def test_checking_facing_a_bet_and_calling_nothing_are_illegal() -> None:
    hand = table(1000, 1000)
    with pytest.raises(IllegalAction, match="cannot check") as error:
        hand.apply("a", "check")
    assert error.value.legal == ["fold", "call", "raise", "all_in"]
    play(hand, ("a", "call"))
    with pytest.raises(IllegalAction, match="check instead"):
        hand.apply("b", "call")
    with pytest.raises(IllegalAction, match="unknown"):
        hand.apply("b", "shove")


def test_acting_out_of_turn_or_illegally_changes_nothing() -> None:
    hand = table(1000, 1000, 1000)
    before = hand.snapshot()
    with pytest.raises(NotYourTurn) as error:
        hand.apply("b", "raise", 100)
    assert (error.value.user_id, error.value.to_act) == ("b", "a")
    with pytest.raises(NotYourTurn):
        hand.apply("zed", "fold")
    for action, amount in [("raise", 15), ("bet", 20), ("check", None), ("raise", None)]:
        with pytest.raises(IllegalAction):
            hand.apply("a", action, amount)
    assert hand.snapshot() == before
    assert hand.legal_actions("b").actions == []


def test_a_timeout_checks_when_it_can_and_folds_otherwise() -> None:
    hand = table(1000, 1000)
    assert hand.timeout_action("a") == ("fold", None)
    with pytest.raises(NotYourTurn):
        hand.timeout_action("b")
    play(hand, ("a", "call"))
    assert hand.timeout_action("b") == ("check", None)


def test_folding_to_one_player_ends_the_hand_without_rake() -> None:
    hand = table(1000, 1000, 1000)
    events = play(hand, ("a", "raise", 40), ("b", "fold"), ("c", "fold"))
    assert kinds(events)[-2:] == ["bet.returned", "hand.ended"]
    result = hand.result
    assert result is not None
    assert hand.is_over
    assert hand.to_act is None
    assert (result.rake, result.showdown, result.shown) == (0, False, {})
    assert result.returned == {"a": 30}
    assert result.payouts == {"a": 25}
    assert result.final_stacks == {"b": 995, "c": 990, "a": 1015}
    with pytest.raises(HandOver):
        hand.apply("a", "check")


def test_a_full_hand_to_showdown_pays_the_best_hand() -> None:
    # b: pocket kings, c: ace-queen, a: 7-2; the board gives c a straight on the river.
    deck = arrange(["Kc", "Kd", "Ac", "Qd", "7h", "2s"], ["Ks", "Jh", "3c", "4d", "Th"])
    hand = table(1000, 1000, 1000, deck=deck)
    assert hand.hole_cards("b") == ["Kc", "Kd"]
    play(hand, ("a", "fold"), ("b", "call"), ("c", "check"))
    assert hand.board == ["Ks", "Jh", "3c"]
    play(hand, ("b", "bet", 20), ("c", "call"), ("b", "check"), ("c", "check"))
    events = play(hand, ("b", "bet", 100), ("c", "raise", 300), ("b", "call"))
    assert kinds(events)[-2:] == ["showdown", "hand.ended"]
    showdown = events[-2]
    assert [(h.user_id, h.category) for h in showdown.hands] == [  # type: ignore[union-attr]
        ("b", "Three of a kind"),
        ("c", "Straight"),
    ]
    result = hand.result
    assert result is not None
    assert result.board == ("Ks", "Jh", "3c", "4d", "Th")
    assert result.pots[0].winners == ("c",)
    assert (result.pots[0].amount, result.rake) == (660, 30)
    assert result.payouts == {"c": 630}
    assert result.final_stacks == {"b": 670, "c": 1300, "a": 1000}
    assert result.shown == {"b": ("Kc", "Kd"), "c": ("Ac", "Qd")}


def test_an_all_in_preflop_runs_out_the_board() -> None:
    deck = arrange(["Ah", "Ad", "Kc", "Kd"], ["2c", "7d", "9h", "Js", "3s"])
    hand = table(300, 500, deck=deck)  # heads-up: b gets the aces, a (button) the kings
    play(hand, ("a", "all_in"))
    events = play(hand, ("b", "call"))
    assert kinds(events) == ["player.acted", *["street.dealt"] * 3, "showdown", "hand.ended"]
    assert hand.board == ["2c", "7d", "9h", "Js", "3s"]
    assert hand.result is not None
    assert hand.result.final_stacks == {"b": 770, "a": 0}  # 600 pot, 30 rake (the cap)
    assert hand.result.rake == 30


def test_short_blinds_post_what_they_have() -> None:
    hand = table(100, 4)  # heads-up, b in the big blind has 4 chips
    assert hand.is_over  # a's small blind covers b's all-in: nobody has to act
    assert hand.result is not None
    assert hand.result.returned == {"a": 1}
    assert len(hand.board) == 5
    assert sum(hand.result.final_stacks.values()) + hand.result.rake == 104


def test_a_split_pot_gives_the_odd_chip_left_of_the_button() -> None:
    rules = TableRules(
        small_blind=5, big_blind=10, min_buy_in=10, max_buy_in=1000, rake_cap=0, rake_bps=0
    )
    deck = arrange(["2c", "3c", "2d", "3d", "4h", "5h"], ["Ts", "Js", "Qs", "Ks", "As"])
    hand = table(1000, 1000, 1000, rules=rules, deck=deck)
    play(hand, ("a", "call"), ("b", "fold"), ("c", "check"))
    while not hand.is_over:
        assert hand.to_act is not None
        hand.apply(hand.to_act, "check")
    assert hand.result is not None
    assert hand.result.pots[0].winners == ("c", "a")
    assert hand.result.payouts == {"c": 13, "a": 12}


def test_fold_out_of_a_player_not_to_act_keeps_the_turn() -> None:
    hand = table(1000, 1000, 1000)
    events = hand.fold_out("c")
    assert kinds(events) == ["player.acted"]
    assert events[0].forced  # type: ignore[union-attr]
    assert hand.to_act == "a"
    assert hand.folded == {"c"}
    play(hand, ("a", "call"))
    events = hand.fold_out("a")  # leaves after acting: b to act still
    assert hand.to_act is None
    assert hand.is_over
    assert hand.result is not None
    assert hand.result.payouts == {"b": 25}
    assert hand.fold_out("b") == []
    with pytest.raises(NotInHand):
        hand.fold_out("zed")


def test_fold_out_of_the_player_to_act_moves_the_turn_on() -> None:
    hand = table(1000, 1000, 1000)
    hand.fold_out("a")
    assert hand.to_act == "b"
    replayed = Hand.from_dict(hand.to_dict())
    assert replayed.snapshot() == hand.snapshot()


def test_the_last_player_left_wins_the_dead_blinds() -> None:
    hand = table(1000, 1000, 1000)
    hand.fold_out("b")
    hand.fold_out("c")
    assert hand.result is not None
    assert hand.result.payouts == {"a": 15}
    assert hand.result.final_stacks == {"b": 995, "c": 990, "a": 1015}


def test_an_all_in_player_cannot_be_folded_out() -> None:
    hand = table(1000, 1000, 1000)
    play(hand, ("a", "all_in"))
    assert hand.fold_out("a") == []
    assert hand.folded == set()


def test_hands_are_deterministic_and_replayable() -> None:
    deck = arrange(["Kc", "Kd", "Ac", "Qd", "7h", "2s"], ["Ks", "Jh", "3c", "4d", "Th"])
    moves = [("a", "raise", 30), ("b", "call"), ("c", "all_in"), ("a", "call"), ("b", "fold")]
    results = []
    for _ in range(2):
        hand = table(1000, 1000, 500, deck=deck)
        events = play(hand, *moves)  # type: ignore[arg-type]
        results.append((events, hand.result, hand.snapshot()))
    assert results[0] == results[1]
    data = json.loads(json.dumps(hand.to_dict()))
    assert Hand.from_dict(data).snapshot() == hand.snapshot()
    assert json.dumps(hand.snapshot())


def test_every_chip_in_is_reported_by_an_event() -> None:
    seats = [SeatStack(0, "a", 1000), SeatStack(1, "b", 1000), SeatStack(2, "c", 50)]
    hand, events = Hand.start("h", RULES, seats, 0, stack_deck([]))
    events += play(hand, ("a", "raise", 30), ("b", "call"), ("c", "all_in"), ("a", "call"))
    chips_in = sum(getattr(event, "chips_in", 0) for event in events)
    assert chips_in == hand.pot_total == sum(hand.contributed(u) for u in hand.players)
    assert sum(hand.stacks.values()) + hand.pot_total == 2050


def test_the_deck_commitment_of_a_hand_verifies() -> None:
    deck = arrange(["Kc", "Kd", "Ac", "Qd"])
    commitment = deck_commitment(deck, "salt-1")
    hand = table(100, 100, deck=deck)
    assert verify_commitment(hand.deck, "salt-1", commitment)
    assert not verify_commitment(hand.deck, "salt-2", commitment)
    assert not verify_commitment([deck[1], deck[0], *deck[2:]], "salt-1", commitment)


@pytest.mark.parametrize(
    ("seats", "button", "error"),
    [
        ([SeatStack(0, "a", 100), SeatStack(1, "b", 0)], 0, InvalidSetup),
        ([SeatStack(0, "a", 100), SeatStack(0, "b", 100)], 0, InvalidSetup),
        ([SeatStack(0, "a", 100), SeatStack(1, "a", 100)], 0, InvalidSetup),
        ([SeatStack(0, "a", 100), SeatStack(9, "b", 100)], 0, InvalidSetup),
        ([SeatStack(0, "a", 100), SeatStack(1, "b", -5)], 0, InvalidSetup),
        ([SeatStack(0, "a", 100), SeatStack(1, "b", 100)], 2, InvalidSetup),
    ],
)
def test_bad_setups_are_refused(
    seats: list[SeatStack], button: int, error: type[GameError]
) -> None:
    with pytest.raises(error):
        Hand.start("h", RULES, seats, button, stack_deck([]))


def test_seats_without_chips_sit_out_and_the_deck_is_checked() -> None:
    seats = [SeatStack(0, "a", 100), SeatStack(1, "b", 0), SeatStack(2, "c", 100)]
    hand, _ = Hand.start("h", RULES, seats, 0, stack_deck([]))
    assert hand.players == ["c", "a"]
    with pytest.raises(NotInHand):
        hand.hole_cards("b")
    with pytest.raises(InvalidDeck):
        Hand.start("h", RULES, seats, 0, list(FULL_DECK[:51]))


def test_check_refuses_exactly_what_apply_refuses_and_changes_nothing() -> None:
    rules = TableRules(small_blind=5, big_blind=10, min_buy_in=100, max_buy_in=1_000, rake_cap=30)
    seats = [SeatStack(0, "a", 500), SeatStack(1, "b", 500), SeatStack(2, "c", 500)]
    hand, _ = Hand.start("h", rules, seats, 0, FULL_DECK)
    before = hand.snapshot()
    actor = hand.to_act
    assert actor is not None
    other = next(u for u in hand.players if u != actor)
    for user, action, amount in [
        (other, "call", None),
        (actor, "check", None),
        (actor, "raise", 11),
        (actor, "raise", 10_000),
        (actor, "bet", None),
        (actor, "steal", None),
    ]:
        with pytest.raises(GameError):
            hand.check(user, action, amount)
        with pytest.raises(GameError):
            hand.apply(user, action, amount)
    hand.check(actor, "raise", 20)
    assert hand.snapshot() == before
