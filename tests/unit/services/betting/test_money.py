"""Money through any sequence of corrected results: the final result alone decides balances."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flambeau.services.betting.money import account_id

from .feeds import MATCH, Match, bet, minute, net_balances, new_desk, offered
from .harness import Desk

EUR = 978
OUTCOMES = ("1", "2", "3")  # home, draw, away
scores = st.tuples(st.integers(0, 3), st.integers(0, 3))


def balances(desk: Desk) -> dict[str, int]:
    return net_balances(desk)


def winner(score: tuple[int, int]) -> str:
    return "1" if score[0] > score[1] else "2" if score[0] == score[1] else "3"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stakes=st.lists(st.integers(1, 100_000), min_size=3, max_size=3),
    results=st.lists(scores, min_size=1, max_size=4),
)
def test_after_any_corrections_each_customer_holds_what_the_last_result_pays(
    stakes: list[int], results: list[tuple[int, int]]
) -> None:
    desk = new_desk()
    match = Match(desk)
    match.open()
    odds = {o: offered(desk, 1, "", o) for o in OUTCOMES}
    for outcome, stake in zip(OUTCOMES, stakes, strict=True):
        bet(desk, f"t-{outcome}", [(MATCH, 1, "", outcome, odds[outcome])], stake=stake,
            customer=f"c-{outcome}", at=minute(-30))  # fmt: skip
    match.kick_off()
    for number, score in enumerate(results):
        match.official(score, minute(115 + 10 * number))
        desk.advance(timedelta(seconds=1))
    final = winner(results[-1])
    held = balances(desk)
    for outcome, stake in zip(OUTCOMES, stakes, strict=True):
        expected = -stake + (int(stake * odds[outcome] + 1e-9) if outcome == final else 0)
        assert held[account_id(EUR, "op-1", f"c-{outcome}")] == expected
    assert sum(held.values()) == 0
