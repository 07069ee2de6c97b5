"""What the rehearsal sends as a payment switch, gate counters and a betting operator."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from flambeau.scenario.generators.bettors import BetPlacement, Market, OddsPolicy
from flambeau.scenario.generators.crowds import AreaDensity, GateCount
from flambeau.scenario.generators.purchases import Category, Purchase
from flambeau.scenario.payloads import (
    ACQUIRER,
    EUR_LEDGER,
    accounts_request,
    gate_zone,
    merchants,
    purchase_transfers,
    sensor_envelope,
    ticket,
    u128,
    venue_configured,
    venue_zones,
)
from flambeau.scenario.schedule import build_schedule
from flambeau.services.betting.schemas import Channel, Selection, TicketSubmitted
from flambeau.services.betting.schemas import OddsPolicy as TicketPolicy
from flambeau.services.crowds.schemas import SENSORS, FruinLevel, VenueConfigured, ZoneRole
from flambeau.services.payments.schemas import U128_MAX, CreateTransfers, TransferCode

AT = datetime(2024, 8, 4, 17, 30, tzinfo=UTC)


@given(st.text(min_size=1, max_size=60))
def test_ledger_ids_are_canonical_u128_and_stable(name: str) -> None:
    ident = u128(name)
    assert ident == str(int(ident))  # canonical decimal, no leading zero
    assert 0 < int(ident) < U128_MAX
    assert u128(name) == ident


def test_purchases_become_transfers_from_the_acquirer_with_contexts_and_no_ground_truth() -> None:
    schedule = build_schedule()
    sample = [
        Purchase(f"pay-{n}", AT + timedelta(seconds=n), "STA", f"POS-STA-{n % 7:04d}",
                 ["STA-FNB", "P2024-SHOP", "IDFM"][n % 3], f"card-{n}",
                 f"dev-{n}" if n % 2 else None, Category.DRINK, 450 + n, fraud=n % 5 == 0)
        for n in range(60)
    ]  # fmt: skip
    request = purchase_transfers(sample, "key-1")
    decoded = msgspec.json.decode(msgspec.json.encode(request), type=CreateTransfers)
    assert decoded == request
    assert b"fraud" not in msgspec.json.encode(request)
    known = {u128(name) for name in merchants(schedule)}
    for purchase, transfer, context in zip(sample, request.transfers, request.contexts,
                                           strict=True):  # fmt: skip
        assert transfer.id == context.transfer_id == u128(purchase.id)
        assert transfer.debit_account_id == u128(ACQUIRER)
        assert transfer.credit_account_id in known
        assert (transfer.amount, transfer.ledger) == (purchase.amount_cents, EUR_LEDGER)
        assert transfer.code == TransferCode.purchase
        assert (context.card, context.terminal) == (purchase.card, purchase.terminal)
    assert len({t.id for t in request.transfers}) == len(sample)


def test_accounts_cover_every_merchant_once() -> None:
    schedule = build_schedule()
    request = accounts_request(schedule)
    ids = [a.id for a in request.accounts]
    assert len(ids) == len(set(ids)) == len(merchants(schedule)) + 1
    assert request.idempotency_key == accounts_request(schedule).idempotency_key


def test_crowd_readings_are_keyed_by_venue_with_deterministic_ids() -> None:
    gate = GateCount(AT, "STA", "STA-G01", 120, 3)
    area = AreaDensity(AT, "STA", "STA-FORECOURT", 900, 9000, FruinLevel.A)
    first, second = sensor_envelope(gate), sensor_envelope(area)
    assert (first.stream, first.key, first.time) == (SENSORS, "STA", AT)
    assert first.id != second.id
    assert sensor_envelope(gate).id == first.id
    body = msgspec.json.decode(msgspec.json.encode(first.body()))
    assert body["data"] == {"type": "gate_count", "venue": "STA", "gate": "STA-G01",
                            "entered": 120, "exited": 3, "period_s": 60}  # fmt: skip
    configured = venue_configured("STA", "STA-FORECOURT", 9000, AT.date())
    assert isinstance(configured.data, VenueConfigured)
    assert configured.data.capacity > 50_000
    forecourt, station = venue_zones("STA", "STA-FORECOURT", 9000, AT.date())
    assert (forecourt.data.role, station.data.role) == (ZoneRole.FORECOURT, ZoneRole.STATION)
    assert station.data.share > 0
    assert forecourt.key == station.key == "STA"
    gate_envelope = gate_zone("STA", "STA-G01", AT.date())
    assert (gate_envelope.data.zone, gate_envelope.data.exit_width_m) == ("STA-G01", 6.0)
    assert gate_zone("STA", "STA-G01", AT.date()).id == gate_envelope.id


def test_a_ticket_carries_the_selection_seen_and_maps_channel_and_policy() -> None:
    placement = BetPlacement(
        id="bet-x-1", time=AT, bettor="AU-000042", jurisdiction="AU", currency="AUD",
        channel="retail", unit="FBLWTEAM11------------QFNL000200--", market=Market.TOTAL,
        specifier="total=2.5", selection="over", stake_cents=2000, odds_policy=OddsPolicy.HIGHER,
    )  # fmt: skip
    selection = Selection(event_id=placement.unit, market_id=18, specifiers="total=2.5",
                          outcome_id="12", odds=1.95)  # fmt: skip
    made = ticket(placement, selection)
    assert isinstance(made, TicketSubmitted)
    assert (made.ticket_id, made.customer_id, made.jurisdiction) == ("bet-x-1", "AU-000042", "AU")
    assert made.channel is Channel.RETAIL
    assert made.odds_policy is TicketPolicy.HIGHER
    assert made.selections == (selection,)
    channels = {
        ticket(replace(placement, id=f"bet-{n}", channel="online"), selection).channel
        for n in range(40)
    }
    assert channels == {Channel.MOBILE, Channel.INTERNET}


def test_purchase_categories_reach_their_merchants() -> None:
    shop = Purchase("p1", AT, "STA", "POS-STA-0001", "P2024-SHOP", "card-1", None,
                    Category.MERCH, 2500)  # fmt: skip
    (transfer,) = purchase_transfers([shop], "k").transfers
    assert transfer.credit_account_id == u128("P2024-SHOP")
