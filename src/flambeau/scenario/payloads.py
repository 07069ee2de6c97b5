"""The rehearsal as a payment switch, a gate counter and a betting operator: what it sends.

Everything here is a pure function of the scenario's values and the services' published
schemas, with deterministic ids, so a payload sent again after a restart is the same payload:

- card payments become ledger transfers (:func:`purchase_transfers`) from the card acquirer's
  clearing account to the merchant's account, each with a :class:`PaymentContext` (card,
  wallet device and terminal tokens, never a card number) for the fraud rules. The accounts
  are created once (:func:`accounts_request`); the ledger answers ``exists`` to a repeat;
- gate counts and area densities become ``crowds.sensors`` events (:func:`sensor_envelope`);
- bets become tickets (:func:`ticket`) once the odds the bettor saw are known, and the
  changes and cash-outs bettors try become requests on their tickets (:func:`ticket_move`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

from flambeau.events import Event
from flambeau.scenario.generators.bettors import BetPlacement
from flambeau.scenario.generators.bettors import OddsPolicy as BettorPolicy
from flambeau.scenario.generators.crowds import AreaDensity, GateCount
from flambeau.scenario.generators.purchases import Purchase
from flambeau.scenario.generators.ticket_moves import MoveKind, TicketMove
from flambeau.scenario.schedule import Schedule
from flambeau.scenario.venues import venue
from flambeau.services.betting.schemas import (
    Channel,
    CustomerDeposit,
    OddsPolicy,
    Selection,
    TicketSubmitted,
)
from flambeau.services.crowds.schemas import SENSORS as CROWD_SENSORS
from flambeau.services.crowds.schemas import AreaDensity as AreaReading
from flambeau.services.crowds.schemas import GateCount as GateReading
from flambeau.services.crowds.schemas import (
    VenueConfigured,
    ZoneConfigured,
    ZoneKind,
    ZoneRole,
)
from flambeau.services.payments.schemas import (
    Account,
    CreateAccounts,
    CreateTransfers,
    PaymentContext,
    Transfer,
    TransferCode,
)

__all__ = [
    "ACQUIRER",
    "EUR_LEDGER",
    "WALLET_FUNDS",
    "Envelope",
    "accounts_request",
    "first_sight",
    "funding",
    "gate_zone",
    "merchants",
    "purchase_transfers",
    "sensor_envelope",
    "ticket",
    "ticket_move",
    "u128",
    "venue_configured",
    "venue_zones",
]

EUR_LEDGER = 978
"""Ledgers are numbered by ISO 4217 currency (as the betting service numbers them)."""
WALLET_FUNDS = 1_000_000
"""What each bettor deposits in its betting wallet before its first bet, in minor units: a
wallet may not go below zero, and this covers many of the largest stakes (2,500.00)."""
ACQUIRER = "ACQUIRER-P2024"
"""The card acquirer's clearing account: debited by every card payment it settles."""
_ACQUIRER_CODE = 1
_MERCHANT_CODE = 2
_TRANSIT = ("IDFM", "TCL", "RTM", "NAOLIB", "TBM", "LIGNES-AZUR", "STAS", "ILEVIA",
            "RESEAU-HORIZON", "TAHITI-TRANSPORT")  # fmt: skip
_CHANNELS = {"retail": Channel.RETAIL}
_POLICIES = {BettorPolicy.NONE: OddsPolicy.NONE, BettorPolicy.HIGHER: OddsPolicy.HIGHER,
             BettorPolicy.ANY: OddsPolicy.ANY}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event for the gateway's generic ingest (``POST /v1/streams/{stream}/events``)."""

    stream: str
    id: str
    key: str
    time: datetime
    data: Event

    def body(self) -> dict[str, Any]:
        """The envelope as the ingest route takes it (the payload encodes itself)."""
        return {"id": self.id, "key": self.key, "time": self.time, "data": self.data}


def u128(name: str) -> str:
    """A stable ledger id for ``name``: 127 bits of its BLAKE2b hash, as a decimal string.

    127 bits keep clear of the reserved maximum and of zero in practice; the ledger refuses a
    reserved id anyway.
    """
    digest = hashlib.blake2b(name.encode(), digest_size=16).digest()
    return str((int.from_bytes(digest, "big") >> 1) or 1)


def merchants(schedule: Schedule) -> list[str]:
    """Every account a payment of the day can credit: each venue's food and drink, the shop,
    the transit operators."""
    return [f"{code}-FNB" for code in schedule.venues] + ["P2024-SHOP", *_TRANSIT]


def accounts_request(schedule: Schedule) -> CreateAccounts:
    """Create the acquirer's clearing account and every merchant account of the day."""
    accounts = [Account(id=u128(ACQUIRER), ledger=EUR_LEDGER, code=_ACQUIRER_CODE)]
    accounts += [
        Account(id=u128(name), ledger=EUR_LEDGER, code=_MERCHANT_CODE)
        for name in merchants(schedule)
    ]
    return CreateAccounts(
        idempotency_key=f"rehearsal-accounts-{schedule.day.isoformat()}",
        ledger=EUR_LEDGER,
        accounts=accounts,
    )


def purchase_transfers(purchases: Sequence[Purchase], idempotency_key: str) -> CreateTransfers:
    """One ledger request for ``purchases``: a transfer and a payment context each.

    ``Purchase.fraud`` is the simulator's ground truth and is never sent: the fraud rules must
    find the card testing on their own.
    """
    transfers = []
    contexts = []
    acquirer = u128(ACQUIRER)
    for purchase in purchases:
        transfer_id = u128(purchase.id)
        transfers.append(
            Transfer(
                id=transfer_id,
                debit_account_id=acquirer,
                credit_account_id=u128(purchase.merchant),
                amount=purchase.amount_cents,
                ledger=EUR_LEDGER,
                code=TransferCode.purchase,
            )
        )
        contexts.append(
            PaymentContext(
                transfer_id=transfer_id,
                card=purchase.card,
                device=purchase.device or "",
                terminal=purchase.terminal,
                venue=purchase.venue,
                category=purchase.category.value,
            )
        )
    return CreateTransfers(
        idempotency_key=idempotency_key,
        ledger=EUR_LEDGER,
        transfers=transfers,
        contexts=contexts,
        origin="venues",
    )


def venue_configured(code: str, area: str, area_m2: int, day: date) -> Envelope:
    """A venue's capacity and monitored area, sent before its first reading of the day."""
    place = venue(code)
    data = VenueConfigured(
        venue=code, capacity=place.capacity, area=area, area_m2=area_m2, name=place.name[:128]
    )
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    return Envelope(CROWD_SENSORS, f"venue-{code}-{day.isoformat()}", code, midnight, data)


GATE_EXIT_WIDTH_M = 6.0
"""Each rehearsal gate's exit width: a gate per 4,000 seats empties them in 8 minutes at the
Green Guide's 82 persons per metre per minute through about 6 m."""
STATION_SHARE = 0.6
"""The share of a venue's leaving crowd heading for its transit station (the rest walk, drive
or take shuttles): a rehearsal assumption."""
STATION_M2 = 2_000


def venue_zones(code: str, area: str, area_m2: int, day: date) -> list[Envelope]:
    """The venue's forecourt (a walkway) and its transit station (``<venue>-TRANSIT``) as zones."""
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    zones = (
        ZoneConfigured(venue=code, zone=area, role=ZoneRole.FORECOURT, area_m2=area_m2),
        ZoneConfigured(
            venue=code, zone=f"{code}-TRANSIT", role=ZoneRole.STATION, area_m2=STATION_M2,
            share=STATION_SHARE,
        ),
    )  # fmt: skip
    return [
        Envelope(CROWD_SENSORS, f"zone-{z.zone}-{day.isoformat()}", code, midnight, z)
        for z in zones
    ]


def first_sight(
    payload: GateCount | AreaDensity, configured: set[str], day: date
) -> list[Envelope]:
    """The venue and its zones, or a gate's zone, the first time ``configured`` sees them.

    ``configured`` (the venues and gates already configured that day) is updated in place.
    """
    if isinstance(payload, AreaDensity) and payload.venue not in configured:
        configured.add(payload.venue)
        return [
            venue_configured(payload.venue, payload.area, payload.area_m2, day),
            *venue_zones(payload.venue, payload.area, payload.area_m2, day),
        ]
    if isinstance(payload, GateCount) and payload.gate not in configured:
        configured.add(payload.gate)
        return [gate_zone(payload.venue, payload.gate, day)]
    return []


def gate_zone(code: str, gate: str, day: date) -> Envelope:
    """A gate as a zone with its exit width, sent before the gate's first count of the day."""
    data = ZoneConfigured(
        venue=code, zone=gate, role=ZoneRole.GATE, kind=ZoneKind.WALKWAY, area_m2=100,
        exit_width_m=GATE_EXIT_WIDTH_M,
    )  # fmt: skip
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    return Envelope(CROWD_SENSORS, f"zone-{gate}-{day.isoformat()}", code, midnight, data)


def sensor_envelope(reading: GateCount | AreaDensity) -> Envelope:
    """A gate count or area density as a ``crowds.sensors`` event, keyed by venue."""
    stamp = reading.time.strftime("%Y%m%dT%H%M%S")
    data: Event
    if isinstance(reading, GateCount):
        data = GateReading(
            venue=reading.venue, gate=reading.gate, entered=reading.entered, exited=reading.exited
        )
        ident = f"gate-{reading.gate}-{stamp}"
    else:
        data = AreaReading(
            venue=reading.venue, area=reading.area, people=reading.people, area_m2=reading.area_m2
        )
        ident = f"area-{reading.area}-{stamp}"
    return Envelope(CROWD_SENSORS, ident, reading.venue, reading.time, data)


def funding(ticket: TicketSubmitted) -> CustomerDeposit:
    """The deposit that funds the wallet of ``ticket``'s bettor, once per bettor and currency."""
    return CustomerDeposit(
        deposit_id=f"rehearsal-funds-{ticket.currency}",
        operator=ticket.operator,
        customer_id=ticket.customer_id,
        amount_cents=WALLET_FUNDS,
        currency=ticket.currency,
    )


def ticket(bet: BetPlacement, selection: Selection) -> TicketSubmitted:
    """The ticket of ``bet`` on ``selection`` (the market, outcome and odds the bettor saw).

    The operator is the jurisdiction's licensed operator of the rehearsal; online bets split
    between the mobile app and the website by a stable hash of the ticket id.
    """
    channel = _CHANNELS.get(bet.channel)
    if channel is None:
        mobile = hashlib.blake2b(bet.id.encode(), digest_size=1).digest()[0] < 166  # ~65%
        channel = Channel.MOBILE if mobile else Channel.INTERNET
    return TicketSubmitted(
        ticket_id=bet.id,
        operator=f"op-{bet.jurisdiction.lower()}",
        customer_id=bet.bettor,
        jurisdiction=bet.jurisdiction,
        channel=channel,
        selections=(selection,),
        stake_cents=bet.stake_cents,
        currency=bet.currency,
        odds_policy=_POLICIES[bet.odds_policy],
    )


def ticket_move(move: TicketMove, selection: Selection | None) -> tuple[str, dict[str, Any]]:
    """The route and body of a change or cash-out a bettor tries (``selection``: the new leg,
    at the odds last seen, for a change of selection)."""
    ticket_id = quote(move.bet.id, safe="")
    if move.kind is MoveKind.CASH_OUT:
        body: dict[str, Any] = {"request_id": move.id, "customer_id": move.bet.bettor}
        return f"/v1/betting/tickets/{ticket_id}/cash-out", body
    body = {"change_id": move.id, "customer_id": move.bet.bettor, "odds_policy": "any"}
    if move.stake_cents is not None:
        body["stake_cents"] = move.stake_cents
    if selection is not None:
        body["selections"] = [selection]
    return f"/v1/betting/tickets/{ticket_id}/changes", body
