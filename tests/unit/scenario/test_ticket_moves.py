"""Bettors change their bets and cash out, most of it in a burst before each match's cut-off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flambeau.scenario.generators.bettors import BetPlacement, bets
from flambeau.scenario.generators.progressions import Progression, day_progressions
from flambeau.scenario.generators.ticket_moves import (
    BURST_WINDOW,
    CUTOFF,
    MoveKind,
    TicketMove,
    with_moves,
)
from flambeau.scenario.payloads import ticket_move
from flambeau.scenario.schedule import build_schedule


@pytest.fixture(scope="module")
def played() -> dict[str, Progression]:
    return day_progressions(build_schedule(), seed=5)


@pytest.fixture(scope="module")
def stream(played: dict[str, Progression]) -> list[BetPlacement | TicketMove]:
    football = [p for p in played.values() if p.unit.discipline == "FBL"][:4]
    ends = {p.unit.code: p.finished_at for p in football}
    return list(with_moves(bets(football, seed=5), 5, ends))


def test_moves_follow_their_bets_in_time_order_before_play_ends(
    played: dict[str, Progression], stream: list[BetPlacement | TicketMove]
) -> None:
    assert [item.time for item in stream] == sorted(item.time for item in stream)
    placed = {item.id: item.time for item in stream if isinstance(item, BetPlacement)}
    moves = [item for item in stream if isinstance(item, TicketMove)]
    assert {m.kind for m in moves} == set(MoveKind)
    for move in moves:
        assert placed[move.bet.id] < move.time < played[move.bet.unit].finished_at
    assert len({m.id for m in moves}) == len(moves)


def test_changes_and_cash_outs_burst_before_the_cutoff(
    played: dict[str, Progression], stream: list[BetPlacement | TicketMove]
) -> None:
    moves = [item for item in stream if isinstance(item, TicketMove)]
    placed = sum(isinstance(item, BetPlacement) for item in stream)
    assert 0.1 * placed < len(moves) < 0.5 * placed  # a steady few per cent, plus the burst

    def near_cutoff(move: TicketMove) -> bool:
        cutoff = played[move.bet.unit].finished_at - CUTOFF
        return cutoff - BURST_WINDOW <= move.time <= cutoff + timedelta(minutes=1)

    burst = [m for m in moves if near_cutoff(m)]
    # The 4-minute window around the cut-off holds far more than its share of ~2 hours.
    assert len(burst) > 0.3 * len(moves)
    assert any(m.time > played[m.bet.unit].finished_at - CUTOFF for m in burst)  # late tries


def test_same_seed_same_moves(played: dict[str, Progression]) -> None:
    football = [p for p in played.values() if p.unit.discipline == "FBL"][:1]
    ends = {p.unit.code: p.finished_at for p in football}
    assert list(with_moves(bets(football, 5), 5, ends)) == list(
        with_moves(bets(football, 5), 5, ends)
    )


def test_each_move_becomes_a_request_on_its_ticket(
    stream: list[BetPlacement | TicketMove],
) -> None:
    moves = [item for item in stream if isinstance(item, TicketMove)]
    cash_out = next(m for m in moves if m.kind is MoveKind.CASH_OUT)
    path, body = ticket_move(cash_out, None)
    assert path == f"/v1/betting/tickets/{cash_out.bet.id}/cash-out"
    assert body == {"request_id": cash_out.id, "customer_id": cash_out.bet.bettor}
    stake = next(m for m in moves if m.kind is MoveKind.STAKE)
    path, body = ticket_move(stake, None)
    assert path.endswith("/changes")
    assert body["stake_cents"] == stake.stake_cents != stake.bet.stake_cents
