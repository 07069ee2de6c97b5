"""A bet stands only once its stake is collected: holds, posts and voids on the wallet."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from flambeau.events import Record
from flambeau.processing import output_id
from flambeau.services.betting.messages import StakeDecided
from flambeau.services.betting.money import account_id, hold_request
from flambeau.services.betting.schemas import (
    ChangeRejected,
    OddsPolicy,
    ReasonCode,
    TicketAccepted,
    TicketChange,
    TicketChanged,
    TicketRejected,
    TicketSettled,
)
from flambeau.services.payments.schemas import (
    CreateTransfers,
    RequestRejected,
    TransferFlags,
    TransfersDecided,
)

from .feeds import KICK_OFF, MATCH, Match, bet, decisions, deposit, minute, new_desk, offered
from .harness import Desk

EUR = 978
PENDING = int(TransferFlags.pending)
POST = int(TransferFlags.post_pending_transfer)
VOID = int(TransferFlags.void_pending_transfer)


def wallet(desk: Desk, customer: str = "c-1") -> tuple[int, int]:
    """The wallet's (balance, held) from the ledger's decisions: posted and pending sums."""
    account = account_id(EUR, "op-1", customer)
    posted: dict[str, int] = defaultdict(int)
    held: dict[str, int] = {}
    for decided in desk.events("payments.transfers"):
        if not isinstance(decided, TransfersDecided):
            continue
        for t in decided.transfers:
            if t.flags & PENDING:
                held[t.id] = t.amount if t.debit_account_id == account else 0
                continue
            if t.flags & (POST | VOID):
                held.pop(t.pending_id, None)
                if t.flags & VOID:
                    continue
            posted[t.credit_account_id] += t.amount
            posted[t.debit_account_id] -= t.amount
    return posted[account], sum(held.values())


def results(desk: Desk) -> list[str]:
    """Every transfer result the ledger gave betting's requests, in order."""
    return [str(r) for d in desk.events("payments.transfers") if isinstance(d, TransfersDecided)
            for r in d.results]  # fmt: skip


def change(desk: Desk, change_id: str, stake: int, at_minute: float) -> None:
    request = TicketChange(
        change_id=change_id, ticket_id="t-1", operator="op-1", customer_id="c-1",
        stake_cents=stake, odds_policy=OddsPolicy.ANY,
    )  # fmt: skip
    desk.send("betting.bets", request, key="op-1/c-1", time=minute(at_minute))


def stake_replies(desk: Desk) -> list[Record[Any]]:
    return [r for r in desk.records("betting.replies") if isinstance(r.data, StakeDecided)]


def test_a_stake_the_wallet_cannot_cover_is_refused_and_never_paid() -> None:
    desk = new_desk()
    match = Match(desk)
    match.open()
    home = offered(desk, 1, "", "1")
    deposit(desk, 500)  # the wallet holds 5.00
    bet(desk, "t-1", [(MATCH, 1, "", "1", home)], stake=5000, at=minute(-30), funds=None)
    (rejected,) = decisions(desk, "t-1")
    assert isinstance(rejected, TicketRejected)
    assert rejected.reason is ReasonCode.INSUFFICIENT_FUNDS
    assert rejected.detail == "the wallet could not cover 5000 cents (exceeds_credits)"
    assert "exceeds_credits" in results(desk)
    match.kick_off()
    match.official((1, 0), minute(115))  # the home side wins: the ticket would have paid
    desk.advance(timedelta(seconds=1))
    assert [type(d) for d in decisions(desk, "t-1")] == [TicketRejected]
    assert wallet(desk) == (500, 0)  # 5.00 stays 5.00: no stake taken, no payout made
    legs = [e for e in desk.events("betting.legs") if type(e).__name__ == "LegRelease"]
    assert len(legs) == 1  # the leg the market had accepted is released


def test_a_covered_stake_is_held_then_posted_and_the_win_is_paid() -> None:
    desk = new_desk()
    match = Match(desk)
    match.open()
    home = offered(desk, 1, "", "1")
    deposit(desk, 10_000)
    bet(desk, "t-1", [(MATCH, 1, "", "1", home)], stake=5000, at=minute(-30), funds=None)
    (accepted,) = decisions(desk, "t-1")
    assert isinstance(accepted, TicketAccepted)
    assert wallet(desk) == (5000, 0)  # held, then posted at acceptance
    requests = [e for e in desk.events("payments.requests") if isinstance(e, CreateTransfers)]
    flags = [r.transfers[0].flags for r in requests]
    assert flags == [0, PENDING, POST]  # the deposit, the hold, its post
    match.kick_off()
    match.official((1, 0), minute(115))
    (settled,) = [d for d in decisions(desk, "t-1") if isinstance(d, TicketSettled)]
    assert settled.payout_cents == int(5000 * home)
    assert wallet(desk) == (5000 + int(5000 * home), 0)


def test_a_bet_refused_by_its_market_voids_its_hold() -> None:
    desk = new_desk()
    match = Match(desk)
    match.open()
    match.kick_off()
    deposit(desk, 3000)
    bet(desk, "t-1", [(MATCH, 1, "", "1", offered(desk, 1, "", "1"))], stake=2000,
        at=minute(5), policy=OddsPolicy.ANY, funds=None)  # fmt: skip
    assert wallet(desk) == (3000, 2000)  # held while the live delay runs
    match.goal((0, 1), minute(5) + timedelta(seconds=2))
    desk.advance(timedelta(seconds=5))
    (rejected,) = decisions(desk, "t-1")
    assert isinstance(rejected, TicketRejected)
    assert rejected.reason is ReasonCode.MARKET_SUSPENDED
    assert wallet(desk) == (3000, 0)  # voided: the whole balance is free again


def test_an_in_play_bet_is_decided_after_its_delay_even_when_the_hold_came_first() -> None:
    desk = new_desk()
    match = Match(desk)
    match.open()
    match.kick_off()
    bet(desk, "t-1", [(MATCH, 1, "", "1", offered(desk, 1, "", "1"))], at=minute(5))
    assert decisions(desk, "t-1") == []  # the ledger held the stake; the delay still runs
    desk.advance(timedelta(seconds=5))
    (accepted,) = decisions(desk, "t-1")
    assert isinstance(accepted, TicketAccepted)


def test_a_stake_increase_the_wallet_cannot_cover_leaves_the_ticket_as_it_was() -> None:
    desk = new_desk()
    match = Match(desk)
    match.open()
    home = offered(desk, 1, "", "1")
    deposit(desk, 1500)
    bet(desk, "t-1", [(MATCH, 1, "", "1", home)], stake=1000, at=minute(-30), funds=None)
    change(desk, "ch-1", 2000, -20)
    (refused,) = [d for d in decisions(desk, "t-1") if isinstance(d, ChangeRejected)]
    assert refused.reason is ReasonCode.INSUFFICIENT_FUNDS
    assert refused.detail == "the wallet could not cover 1000 cents (exceeds_credits)"
    assert wallet(desk) == (500, 0)
    change(desk, "ch-2", 1400, -10)
    (changed,) = [d for d in decisions(desk, "t-1") if isinstance(d, TicketChanged)]
    assert changed.stake_cents == 1400
    assert wallet(desk) == (100, 0)


def test_a_customer_without_any_deposit_has_an_empty_wallet() -> None:
    desk = new_desk()
    Match(desk).open()
    bet(desk, "t-1", [(MATCH, 1, "", "1", offered(desk, 1, "", "1"))], at=KICK_OFF,
        funds=None)  # fmt: skip
    (rejected,) = decisions(desk, "t-1")
    assert rejected.reason is ReasonCode.INSUFFICIENT_FUNDS


def test_the_relay_forwards_only_decisions_on_holds_to_the_tickets_partition() -> None:
    desk = new_desk()
    Match(desk).open()
    bet(desk, "t-1", [(MATCH, 1, "", "1", offered(desk, 1, "", "1"))], at=KICK_OFF)
    (stake,) = stake_replies(desk)
    ticket_partition = [r for r in desk.records("betting.bets")][-1].partition
    assert stake.partition == ticket_partition
    assert stake.data.collected
    # the ids of the hand-written relay it replaced: a replay over an older log dedupes
    assert stake.causation_id is not None
    assert stake.id == output_id("betting.stakes", "payments.transfers", stake.causation_id, 0)
    # A hold request refused whole (its key reused for other content) is a refused stake.
    held = hold_request(EUR, purpose=("x",), operator="op-1", customer_id="c-1",
                        amount_cents=1, partition=ticket_partition)  # fmt: skip
    desk.send("payments.transfers", RequestRejected(idempotency_key=held.idempotency_key,
              ledger=EUR, reason="idempotency_key_reused"), key=str(EUR))  # fmt: skip
    latest = stake_replies(desk)[-1].data
    assert (latest.collected, latest.result) == (False, "idempotency_key_reused")
    assert [type(d) for d in decisions(desk, "t-1")] == [TicketAccepted]  # no ticket waits


def test_a_change_named_like_its_ticket_holds_its_own_stake() -> None:
    desk = new_desk()
    Match(desk).open()
    deposit(desk, 1500)
    bet(desk, "t-1", [(MATCH, 1, "", "1", offered(desk, 1, "", "1"))], at=minute(-30),
        funds=None)  # fmt: skip
    change(desk, "t-1", 1400, -20)  # the change id is the ticket id
    (changed,) = [d for d in decisions(desk, "t-1") if isinstance(d, TicketChanged)]
    assert changed.stake_cents == 1400
    assert wallet(desk) == (100, 0)  # 10.00, then 4.00 more: a second hold, not the first
