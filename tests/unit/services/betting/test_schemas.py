"""The betting streams: registration, strict decoding of tickets, round trips."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from flambeau.events import Event, default_registry
from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.schemas import (
    BETS_STREAM,
    DECISIONS_STREAM,
    ODDS_STREAM,
    Alive,
    BetCancel,
    BetStop,
    CancelledMarket,
    CashOutAccepted,
    CashOutRejected,
    CashOutRequest,
    ChangeRejected,
    EventPhase,
    EventStatus,
    FixtureChange,
    FixtureChangeType,
    MarketRef,
    OddsChange,
    OddsMarket,
    OddsOutcome,
    ReasonCode,
    RollbackBetSettlement,
    Selection,
    StopReason,
    TicketAccepted,
    TicketChange,
    TicketChanged,
    TicketOutcome,
    TicketRejected,
    TicketSettled,
    TicketSettlementRolledBack,
    odds_key,
)

from .factories import KICK_OFF

TICKET: dict[str, Any] = {
    "type": "ticket",
    "ticket_id": "t-1",
    "operator": "op-1",
    "customer_id": "c-1",
    "jurisdiction": "FR",
    "channel": "internet",
    "selections": [
        {
            "event_id": "fbl-m1",
            "market_id": 18,
            "specifiers": "total=2.5",
            "outcome_id": "12",
            "odds": 1.87,
        }
    ],
    "stake_cents": 1000,
    "odds_policy": "higher",
}


def decode_ticket(**changes: Any) -> Any:
    body = {**TICKET, **changes}
    return default_registry.json_decoder(BETS_STREAM).decode(msgspec.json.encode(body))


def with_selection(**changes: Any) -> dict[str, Any]:
    return {"selections": [{**TICKET["selections"][0], **changes}]}


def test_streams_are_registered_with_eight_partitions() -> None:
    for name in (ODDS_STREAM, BETS_STREAM, DECISIONS_STREAM):
        spec = default_registry.spec(name)
        assert spec.partitions == 8
        assert not spec.public
    assert default_registry.spec(ODDS_STREAM).max_age == timedelta(days=4)


def test_a_valid_ticket_decodes() -> None:
    ticket = decode_ticket()
    assert ticket.stake_cents == 1000
    assert ticket.selections[0] == Selection(
        event_id="fbl-m1", market_id=18, specifiers="total=2.5", outcome_id="12", odds=1.87
    )


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        (with_selection(odds="1.87"), r"\$\.selections\[0\]\.odds"),
        (with_selection(odds=1.0), r"\$\.selections\[0\]\.odds"),
        (with_selection(specifiers="total = 2.5"), r"\$\.selections\[0\]\.specifiers"),
        (with_selection(market_id=0), r"\$\.selections\[0\]\.market_id"),
        ({"stake_cents": 0}, r"\$\.stake_cents"),
        ({"stake_cents": -500}, r"\$\.stake_cents"),
        ({"stake_cents": 10.5}, r"\$\.stake_cents"),
        ({"selections": []}, r"\$\.selections"),
        ({"jurisdiction": "france"}, r"\$\.jurisdiction"),
        ({"channel": "pigeon"}, r"\$\.channel"),
        ({"odds_policy": "HIGHER"}, r"\$\.odds_policy"),
        ({"ticket_id": ""}, r"\$\.ticket_id"),
    ],
)
def test_bad_tickets_fail_naming_the_field(changes: dict[str, Any], path: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=path):
        decode_ticket(**changes)


NOW = KICK_OFF + timedelta(minutes=31)
ODDS_MESSAGES: list[Event] = [
    OddsChange(
        event_id="fbl-m1",
        timestamp=NOW,
        markets=(
            OddsMarket(
                id=1,
                status=MarketStatus.ACTIVE,
                outcomes=(OddsOutcome(id="1", odds=1.5, probability=0.63),),
            ),
        ),
        betstop_reason=StopReason.SCORE_CHANGE,
        event_status=EventStatus(phase=EventPhase.LIVE, home_score=1, away_score=0, period="1H"),
    ),
    BetStop(event_id="fbl-m1", timestamp=NOW, reason=StopReason.SCORE_CHANGE),
    BetCancel(
        event_id="fbl-m1",
        timestamp=NOW,
        markets=(CancelledMarket(id=1),),
        start_time=KICK_OFF,
        end_time=NOW,
    ),
    RollbackBetSettlement(event_id="fbl-m1", timestamp=NOW, markets=(MarketRef(id=1),)),
    FixtureChange(event_id="fbl-m1", timestamp=NOW, change_type=FixtureChangeType.DATETIME),
    Alive(timestamp=NOW, subscribed=False),
]
DECISION_MESSAGES: list[Event] = [
    TicketAccepted(
        ticket_id="t",
        operator="o",
        customer_id="c",
        stake_cents=100,
        odds=(1.9,),
        potential_payout_cents=190,
        in_play=True,
        delay_ms=5000,
    ),
    TicketRejected(ticket_id="t", operator="o", customer_id="c", reason=ReasonCode.ODDS_CHANGED),
    TicketChanged(
        change_id="x",
        ticket_id="t",
        operator="o",
        customer_id="c",
        stake_cents=50,
        odds=(1.9,),
        potential_payout_cents=95,
    ),
    ChangeRejected(
        change_id="x", ticket_id="t", operator="o", customer_id="c", reason=ReasonCode.CUTOFF_PASSED
    ),
    CashOutAccepted(request_id="r", ticket_id="t", operator="o", customer_id="c", amount_cents=9),
    CashOutRejected(
        request_id="r",
        ticket_id="t",
        operator="o",
        customer_id="c",
        reason=ReasonCode.MARKET_SUSPENDED,
    ),
    TicketSettled(
        ticket_id="t",
        operator="o",
        customer_id="c",
        outcome=TicketOutcome.WON,
        stake_cents=100,
        payout_cents=190,
    ),
    TicketSettlementRolledBack(ticket_id="t", operator="o", customer_id="c", reversed_cents=190),
]
BET_MESSAGES: list[Event] = [
    TicketChange(change_id="x", ticket_id="t", operator="o", customer_id="c", stake_cents=50),
    CashOutRequest(request_id="r", ticket_id="t", operator="o", customer_id="c"),
]


@pytest.mark.parametrize(
    ("stream", "message"),
    [(ODDS_STREAM, m) for m in ODDS_MESSAGES]
    + [(DECISIONS_STREAM, m) for m in DECISION_MESSAGES]
    + [(BETS_STREAM, m) for m in BET_MESSAGES],
    ids=lambda value: type(value).__name__ if isinstance(value, Event) else value,
)
def test_every_message_round_trips_through_its_stream(stream: str, message: Event) -> None:
    default_registry.check(stream, message)
    packed = msgspec.msgpack.encode(message)
    assert default_registry.decoder(stream).decode(packed) == message
    text = msgspec.json.encode(message)
    assert default_registry.json_decoder(stream).decode(text) == message


def test_enums_travel_as_snake_case_strings() -> None:
    text = msgspec.json.decode(msgspec.json.encode(ODDS_MESSAGES[0]))
    assert text["type"] == "odds_change"
    assert text["markets"][0]["status"] == "active"
    assert text["betstop_reason"] == "score_change"


def test_odds_are_keyed_by_event_and_alive_by_producer() -> None:
    assert odds_key(ODDS_MESSAGES[0]) == "fbl-m1"  # type: ignore[arg-type]
    assert odds_key(Alive(timestamp=NOW, producer=3)) == "producer:3"
