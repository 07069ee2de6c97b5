"""How each kind of payload reaches the platform, and what its answer counts as.

Each kind goes where the platform takes it. A stream that a service's route appends to refuses
the gateway's generic ingest (only the service writes it), so those kinds always use the route;
only the sensors' stream, which producers write, goes through the generic ingest:

=============  ==========================================  ==================================
payload        way in                                      stream written
=============  ==========================================  ==================================
ODF documents  ``POST /v1/adapters/odf``, one each         ``results.odf``
purchases      ``POST /v1/payments/transfers``             ``payments.requests`` (by ledger)
accounts       ``POST /v1/payments/accounts``              ``payments.requests``
bets           ``POST /v1/betting/bets``, one each         ``betting.bets`` (by customer)
deposits       ``POST .../customers/{id}/deposits``        ``betting.bets`` (by customer)
crowds         ``POST /v1/streams/crowds.sensors/events``  ``crowds.sensors`` (by venue)
security       ``POST /v1/streams/<stream>/events``        ``crowds.reports`` (by venue),
                                                           ``ops.heartbeats`` (by system)
=============  ==========================================  ==================================

The driver reads the routes the gateway serves (its OpenAPI document); the report marks a route
the gateway does not serve, whose sends are then counted as rejected (404).

A bettor's wallet may not go below zero, so each bettor's first bet (per currency) is preceded
by a deposit (:func:`~flambeau.scenario.payloads.funding`), sent on the same key, so it reaches
the ledger before the stake.

Every sender notes its ids with :class:`~flambeau.scenario.stats.Latency` before the request
and counts the answer in :class:`~flambeau.scenario.stats.Counters`. It returns ``False`` only
when the client was stopped before an answer came (the lane then keeps the batch as unsent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flambeau.scenario.client import GatewayClient, Reply
from flambeau.scenario.documents import OdfMessage
from flambeau.scenario.errors import Stopped
from flambeau.scenario.generators.purchases import Purchase
from flambeau.scenario.payloads import Envelope, funding, purchase_transfers
from flambeau.scenario.stats import Counters, Latency
from flambeau.services.betting.schemas import TicketSubmitted, bets_event_id
from flambeau.services.payments.schemas import CreateAccounts, CreateTransfers
from flambeau.services.results.schemas import ODF_ROUTE, DocumentType

__all__ = ["Channels"]

SENSORS_STREAM = "crowds.sensors"
TRANSFERS_ROUTE = "/v1/payments/transfers"
ACCOUNTS_ROUTE = "/v1/payments/accounts"
BETS_ROUTE = "/v1/betting/bets"
DEPOSITS_ROUTE = "/v1/betting/customers/{customer_id}/deposits"
BET_CONCURRENCY = 8
"""Tickets of one batch posted at once (the bets route takes one ticket per request)."""


@dataclass
class Channels:
    """The senders of every lane, bound to one client, its routes and the driver's counters."""

    client: GatewayClient
    paths: set[str]
    counters: Counters
    latency: Latency
    operator: str | None = None
    problems: list[str] = field(default_factory=list)
    funded: set[tuple[str, str]] = field(default_factory=set)
    """Bettors (customer, currency) whose wallet was funded (at most the scenario's bettors)."""

    def describe(self) -> dict[str, str]:
        """Which way each kind goes, for the report (a route the gateway lacks is marked)."""
        routes = {"results": ODF_ROUTE, "purchases": TRANSFERS_ROUTE, "bets": BETS_ROUTE}
        shown = {
            kind: route if route in self.paths else f"{route} (not served)"
            for kind, route in routes.items()
        }
        return {**shown, "crowds": f"ingest {SENSORS_STREAM}"}

    def count(self, kind: str, sent: int, reply: Reply) -> None:
        """Count the answer to a request carrying ``sent`` payloads of ``kind``."""
        counters = self.counters
        counters.count(kind, sent, reply.accepted, reply.duplicates, reply.rejected)
        if reply.failed:
            counters.failed += sent
        if reply.problem and (reply.rejected or reply.failed):
            counters.last_problem = f"{kind}: {reply.problem}"[:300]
            self.problems.append(counters.last_problem)
            del self.problems[:-20]

    async def odf(self, messages: list[OdfMessage], client: GatewayClient | None = None) -> bool:
        """Send ODF documents of one source, in order (on ``client``, else the main one)."""
        http = client or self.client
        try:
            for message in messages:
                self.latency.sent([message.id])
                reply = await http.request(
                    "POST", ODF_ROUTE, content=message.xml, content_type="application/xml"
                )
                for stored in reply.ids:
                    self.latency.alias(stored, message.id)
                self.count(_kind(message), 1, reply)
            return True
        except Stopped:
            return False

    async def accounts(self, request: CreateAccounts) -> bool:
        """Create the rehearsal's ledger accounts (an identical repeat answers ``exists``)."""
        try:
            body = {"ledger": request.ledger, "accounts": request.accounts}
            reply = await self.client.post_json(
                f"{ACCOUNTS_ROUTE}?wait=false",
                body,
                headers={"Idempotency-Key": request.idempotency_key},
            )
        except Stopped:
            return False
        self.count("accounts", 1, reply)
        return True

    async def purchases(
        self, purchases: list[Purchase], client: GatewayClient | None = None
    ) -> bool:
        """Send card payments as one ledger request (each purchase is one transfer)."""
        http = client or self.client
        first = purchases[0]
        request: CreateTransfers = purchase_transfers(purchases, f"{first.id}+{len(purchases)}")
        self.latency.sent([request.idempotency_key])
        try:
            # Answered at once (202): the ledger's decisions are counted from
            # payments.transfers by the watch, so a busy ledger does not slow the terminals.
            body = {
                "ledger": request.ledger,
                "transfers": request.transfers,
                "contexts": request.contexts,
                "origin": request.origin,
                "at": first.time.isoformat(),  # the day's clock, not the wall's
            }
            reply = await http.post_json(
                f"{TRANSFERS_ROUTE}?wait=false",
                body,
                headers={"Idempotency-Key": request.idempotency_key},
            )
        except Stopped:
            return False
        for stored in reply.ids:
            self.latency.alias(stored, request.idempotency_key)
        # One request carries every purchase: its answer stands for each of them.
        scaled = Reply(
            reply.status,
            accepted=len(purchases) if reply.accepted else 0,
            duplicates=len(purchases) if reply.duplicates else 0,
            rejected=len(purchases) if reply.rejected else 0,
            problem=reply.problem,
            failed=reply.failed,
        )
        self.count("purchase", len(purchases), scaled)
        return True

    async def bets(
        self, tickets: list[tuple[TicketSubmitted, datetime]], client: GatewayClient | None = None
    ) -> bool:
        """Send tickets (each with its placement time); one request each on the bets route."""
        http = client or self.client
        try:
            gate = asyncio.Semaphore(BET_CONCURRENCY)
            await asyncio.gather(*(self._bet(http, t, at, gate) for t, at in tickets))
            return True
        except Stopped:
            return False

    async def _bet(
        self, http: GatewayClient, ticket: TicketSubmitted, at: datetime, gate: asyncio.Semaphore
    ) -> None:
        body = {
            "ticket_id": ticket.ticket_id,
            "customer_id": ticket.customer_id,
            "jurisdiction": ticket.jurisdiction,
            "channel": ticket.channel,
            "selections": ticket.selections,
            "stake_cents": ticket.stake_cents,
            "currency": ticket.currency,
            "odds_policy": ticket.odds_policy,
            "placed_at": at,
        }
        async with gate:
            await self._deposit(http, ticket)
            if self.operator is not None:
                self.latency.sent([bets_event_id("ticket", self.operator, ticket.ticket_id)])
            reply = await http.post_json(BETS_ROUTE, body)
        if self.operator is None and isinstance(reply.body, dict) and "operator" in reply.body:
            self.operator = str(reply.body["operator"])
        self.count("bet", 1, reply)

    async def _deposit(self, http: GatewayClient, ticket: TicketSubmitted) -> None:
        """Fund the bettor's wallet before its first bet (the route appends it at once)."""
        if (ticket.customer_id, ticket.currency) in self.funded:
            return
        if DEPOSITS_ROUTE not in self.paths:
            return  # a gateway without wallets: bets go as they are
        self.funded.add((ticket.customer_id, ticket.currency))
        deposit = funding(ticket)
        body = {"deposit_id": deposit.deposit_id, "amount_cents": deposit.amount_cents,
                "currency": deposit.currency}  # fmt: skip
        path = DEPOSITS_ROUTE.replace("{customer_id}", quote(ticket.customer_id, safe=""))
        reply = await http.post_json(path, body)
        self.count("deposit", 1, reply)
        if not (reply.accepted or reply.duplicates):
            self.funded.discard((ticket.customer_id, ticket.currency))

    async def moves(
        self, moves: list[tuple[str, dict[str, Any]]], client: GatewayClient | None = None
    ) -> bool:
        """Send changes and cash-outs (route and body each), one request each."""
        http = client or self.client
        try:
            gate = asyncio.Semaphore(BET_CONCURRENCY)
            await asyncio.gather(*(self._move(http, path, body, gate) for path, body in moves))
            return True
        except Stopped:
            return False

    async def _move(
        self, http: GatewayClient, path: str, body: dict[str, Any], gate: asyncio.Semaphore
    ) -> None:
        async with gate:
            reply = await http.post_json(path, body)
        self.count("cash_out" if path.endswith("/cash-out") else "change", 1, reply)

    async def sensors(
        self, envelopes: Sequence[Envelope], client: GatewayClient | None = None
    ) -> bool:
        """Send crowd readings (and security reports and heartbeats) through the generic
        ingest, one request per stream."""
        http = client or self.client
        self.latency.sent(e.id for e in envelopes)
        for stream in dict.fromkeys(e.stream for e in envelopes):
            batch = [e.body() for e in envelopes if e.stream == stream]
            try:
                reply = await http.ingest(stream, batch)
            except Stopped:
                return False
            self.count("crowd" if stream == SENSORS_STREAM else "security", len(batch), reply)
        return True


def _kind(message: OdfMessage) -> str:
    return "keep_alive" if message.kind is DocumentType.KEEP_ALIVE else "result"
