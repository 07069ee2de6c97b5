"""The ticket state machine, money ids, and the read models' folds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flambeau.events import Record
from flambeau.services.betting import views
from flambeau.services.betting.errors import IllegalTicketTransitionError
from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.money import account_id, transfer_request
from flambeau.services.betting.schemas import (
    BetSettlement,
    BetStop,
    CashOutRequest,
    Channel,
    OddsChange,
    OddsMarket,
    OddsOutcome,
    ReasonCode,
    Selection,
    SettledMarket,
    SettledOutcome,
    TicketAccepted,
    TicketOutcome,
    TicketRejected,
    TicketSettled,
    TicketSubmitted,
)
from flambeau.services.betting.ticket_records import TicketState, transition
from flambeau.services.betting.views import MarketBoard, TicketBook
from flambeau.services.payments.schemas import TransferCode

NOW = datetime(2024, 7, 30, 19, 0, tzinfo=UTC)
T = TicketState


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (T.PENDING, T.OPEN),
        (T.PENDING, T.REJECTED),
        (T.OPEN, T.OPEN),
        (T.OPEN, T.SETTLED),
        (T.OPEN, T.CASHED_OUT),
        (T.SETTLED, T.OPEN),
    ],
)
def test_the_ticket_machine_allows_its_moves(source: TicketState, target: TicketState) -> None:
    assert transition(source, target) is target


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (T.PENDING, T.SETTLED),
        (T.REJECTED, T.OPEN),
        (T.CASHED_OUT, T.OPEN),
        (T.SETTLED, T.SETTLED),
        (T.SETTLED, T.CASHED_OUT),
    ],
)
def test_the_ticket_machine_refuses_the_others(source: TicketState, target: TicketState) -> None:
    with pytest.raises(IllegalTicketTransitionError, match=f"{source.value} to {target.value}"):
        transition(source, target)


def test_money_ids_are_stable_distinct_and_canonical_u128() -> None:
    book = account_id(978, "op-1")
    alice = account_id(978, "op-1", "alice")
    assert book != alice
    assert account_id(978, "op-1", "alice") == alice
    assert account_id(826, "op-1", "alice") != alice
    for value in (book, alice):
        assert value == str(int(value))
        assert 0 < int(value) < 2**128 - 1
    paid = transfer_request(
        978, purpose=("op-1", "t-1", "payout", "1"), operator="op-1", customer_id="alice",
        amount_cents=2100, code=TransferCode.bet_payout, to_customer=True,
    )  # fmt: skip
    again = transfer_request(
        978, purpose=("op-1", "t-1", "payout", "1"), operator="op-1", customer_id="alice",
        amount_cents=2100, code=TransferCode.bet_payout, to_customer=True,
    )  # fmt: skip
    assert paid == again
    (transfer,) = paid.transfers
    assert (transfer.debit_account_id, transfer.credit_account_id) == (book, alice)
    with pytest.raises(ValueError, match="positive"):
        transfer_request(
            978, purpose=("x",), operator="op-1", customer_id="alice", amount_cents=0,
            code=TransferCode.bet_stake, to_customer=False,
        )  # fmt: skip


def record(stream: str, data: object, offset: int = 0) -> Record[object]:
    return Record(f"r{offset}", stream, "", 0, offset, NOW, NOW, None, data)


def ticket(ticket_id: str = "t-1") -> TicketSubmitted:
    return TicketSubmitted(
        ticket_id=ticket_id, operator="op-1", customer_id="c-1", jurisdiction="FR",
        channel=Channel.MOBILE, stake_cents=500,
        selections=(Selection(event_id="e", market_id=1, outcome_id="1", odds=2.0),),
    )  # fmt: skip


def test_a_decision_folded_before_its_ticket_is_kept_until_the_ticket_arrives() -> None:
    book = TicketBook()
    accepted = TicketAccepted(
        ticket_id="t-1", operator="op-1", customer_id="c-1", stake_cents=500, odds=(2.0,),
        potential_payout_cents=1000,
    )  # fmt: skip
    settled = TicketSettled(
        ticket_id="t-1", operator="op-1", customer_id="c-1", outcome=TicketOutcome.WON,
        stake_cents=500, payout_cents=1000,
    )  # fmt: skip
    book(record("betting.decisions", accepted, 0))
    book(record("betting.decisions", settled, 1))
    assert ("op-1", "t-1") not in book.tickets
    book(record("betting.bets", ticket(), 0))
    shown = book.tickets[("op-1", "t-1")]
    assert shown.status == "settled"
    assert shown.payout_cents == 1000
    assert shown.history == ("ticket_accepted", "ticket_settled")


def test_the_ticket_book_forgets_its_oldest_tickets_and_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "TICKETS_KEPT", 3)
    monkeypatch.setattr(views, "REQUESTS_KEPT", 2)
    monkeypatch.setattr(views, "EARLY_KEPT", 2)
    book = TicketBook()
    for n in range(5):
        book(record("betting.bets", ticket(f"t-{n}"), n))
    assert list(book.tickets) == list(book.submitted) == [("op-1", f"t-{n}") for n in (2, 3, 4)]
    for n in range(4):
        change = CashOutRequest(
            request_id=f"c-{n}", ticket_id="t-4", operator="op-1", customer_id="c-1"
        )
        book(record("betting.bets", change, 10 + n))
    assert list(book.request_bodies) == list(book.requests) == [("op-1", "c-2"), ("op-1", "c-3")]
    for n in range(4):  # decisions whose tickets never come
        rejected = TicketRejected(
            ticket_id=f"lost-{n}", operator="op-1", customer_id="c-1",
            reason=ReasonCode.MARKET_SUSPENDED,
        )  # fmt: skip
        book(record("betting.decisions", rejected, 20 + n))
    assert len(book._early) == 2
    # what is kept still folds: the newest ticket is decided
    accepted = TicketAccepted(
        ticket_id="t-4", operator="op-1", customer_id="c-1", stake_cents=500, odds=(2.0,),
        potential_payout_cents=1000,
    )  # fmt: skip
    book(record("betting.decisions", accepted, 30))
    assert book.tickets[("op-1", "t-4")].status == "accepted"


def test_the_market_board_follows_stops_prices_and_settlements() -> None:
    board = MarketBoard()
    market = OddsMarket(
        id=1, status=MarketStatus.ACTIVE,
        outcomes=(OddsOutcome("1", 2.0, 0.48), OddsOutcome("2", 3.4, 0.28),
                  OddsOutcome("3", 4.1, 0.24)),
    )  # fmt: skip
    board(record("betting.odds", OddsChange(event_id="e", timestamp=NOW, markets=(market,))))
    assert board.events["e"].markets[0].status is MarketStatus.ACTIVE
    board(record("betting.odds", BetStop(event_id="e", timestamp=NOW)))
    assert board.events["e"].markets[0].status is MarketStatus.SUSPENDED
    assert [m.kind.value for m in board.markets_of("e")] == ["1x2"]
    settled = SettledMarket(
        id=1,
        outcomes=tuple(SettledOutcome(id=o, result=int(o == "1")) for o in "123"),  # type: ignore[arg-type]
    )
    board(record("betting.odds", BetSettlement(event_id="e", timestamp=NOW, markets=(settled,))))
    shown = board.events["e"].markets[0]
    assert shown.status is MarketStatus.SETTLED
    assert [o.result for o in shown.result] == [1, 0, 0]
    assert [o.odds for o in shown.outcomes] == [2.0, 3.4, 4.1]  # last prices kept
