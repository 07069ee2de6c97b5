"""How each kind of payload reaches the platform, and what its answer counts as.

The driver asks the gateway which routes it serves (its OpenAPI document) and picks, per kind,
the service's own route when it is there and the gateway's generic ingest otherwise:

=============  ====================================  =========================================
payload        service route                         otherwise (generic ingest)
=============  ====================================  =========================================
ODF documents  ``POST /v1/adapters/odf``, one each   ``results.native`` (native JSON)
purchases      ``POST /v1/payments/transfers``       ``payments.requests`` (keyed by ledger)
accounts       ``POST /v1/payments/accounts``        ``payments.requests``
bets           ``POST /v1/betting/bets``, one each   ``betting.bets`` (keyed by customer)
deposits       ``POST .../customers/{id}/deposits``  ``betting.bets`` (keyed by customer)
crowds         (none)                                ``crowds.sensors`` (keyed by venue)
=============  ====================================  =========================================

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

from flambeau.scenario.client import GatewayClient, Reply, Stopped
from flambeau.scenario.documents import COMPETITION, OdfMessage
from flambeau.scenario.generators.purchases import Purchase
from flambeau.scenario.payloads import EUR_LEDGER, Envelope, funding, purchase_transfers
from flambeau.scenario.stats import Counters, Latency
from flambeau.services.betting.schemas import (
    BETS_STREAM,
    TicketSubmitted,
    bets_event_id,
    customer_key,
)
from flambeau.services.payments.schemas import CreateAccounts, CreateTransfers
from flambeau.services.results.schemas import NATIVE, DocumentType

__all__ = ["Channels", "native_key"]

ODF_ROUTE = "/v1/adapters/odf"
TRANSFERS_ROUTE = "/v1/payments/transfers"
ACCOUNTS_ROUTE = "/v1/payments/accounts"
BETS_ROUTE = "/v1/betting/bets"
DEPOSITS_ROUTE = "/v1/betting/customers/{customer_id}/deposits"
PAYMENTS_STREAM = "payments.requests"
BET_CONCURRENCY = 8
"""Tickets of one batch posted at once (the bets route takes one ticket per request)."""


def native_key(message: OdfMessage) -> str:
    """The ``results.native`` key of a document, as the results service keys its ODF form.

    Medallists share the competition's key, a discipline's schedule its discipline's, a
    keep-alive its source's; anything else its document code. Only used when the ODF adapter
    is not served.
    """
    if message.kind is DocumentType.MEDALLISTS:
        return COMPETITION
    if message.kind is DocumentType.SCHEDULE:
        return f"{COMPETITION}/{message.code[:3]}"
    if message.kind is DocumentType.KEEP_ALIVE:
        return f"{COMPETITION}/source/{message.source}"
    return f"{COMPETITION}/{message.code}"


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
        """Which way each kind goes, for the report."""
        return {
            "results": ODF_ROUTE if ODF_ROUTE in self.paths else f"ingest {NATIVE}",
            "purchases": TRANSFERS_ROUTE
            if TRANSFERS_ROUTE in self.paths
            else f"ingest {PAYMENTS_STREAM}",
            "bets": BETS_ROUTE if BETS_ROUTE in self.paths else f"ingest {BETS_STREAM}",
            "crowds": "ingest crowds.sensors",
        }

    def _count(self, kind: str, sent: int, reply: Reply) -> None:
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
            if ODF_ROUTE in self.paths:
                for message in messages:
                    self.latency.sent([message.id])
                    reply = await http.request(
                        "POST", ODF_ROUTE, content=message.xml, content_type="application/xml"
                    )
                    for stored in reply.ids:
                        self.latency.alias(stored, message.id)
                    self._count(_kind(message), 1, reply)
                return True
            envelopes = [
                {"id": m.id, "key": native_key(m), "time": m.time, "data": m.native}
                for m in messages
            ]
            self.latency.sent(m.id for m in messages)
            reply = await http.ingest(NATIVE, envelopes)
            self._count("result", len(messages), reply)
            return True
        except Stopped:
            return False

    async def accounts(self, request: CreateAccounts) -> bool:
        """Create the rehearsal's ledger accounts (an identical repeat answers ``exists``)."""
        try:
            if ACCOUNTS_ROUTE in self.paths:
                body = {"ledger": request.ledger, "accounts": request.accounts}
                reply = await self.client.post_json(
                    f"{ACCOUNTS_ROUTE}?wait=false",
                    body,
                    headers={"Idempotency-Key": request.idempotency_key},
                )
            else:
                envelope = {"id": request.idempotency_key, "key": str(request.ledger),
                            "data": request}  # fmt: skip
                reply = await self.client.ingest(PAYMENTS_STREAM, [envelope])
        except Stopped:
            return False
        self._count("accounts", 1, reply)
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
            if TRANSFERS_ROUTE in self.paths:
                # Answered at once (202): the ledger's decisions are counted from
                # payments.transfers by the watch, so a busy ledger does not slow the terminals.
                body = {
                    "ledger": request.ledger,
                    "transfers": request.transfers,
                    "contexts": request.contexts,
                    "origin": request.origin,
                }
                reply = await http.post_json(
                    f"{TRANSFERS_ROUTE}?wait=false",
                    body,
                    headers={"Idempotency-Key": request.idempotency_key},
                )
            else:
                envelope = {"id": request.idempotency_key, "key": str(EUR_LEDGER),
                            "time": first.time, "data": request}  # fmt: skip
                reply = await http.ingest(PAYMENTS_STREAM, [envelope])
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
        self._count("purchase", len(purchases), scaled)
        return True

    async def bets(
        self, tickets: list[tuple[TicketSubmitted, datetime]], client: GatewayClient | None = None
    ) -> bool:
        """Send tickets (each with its placement time); one request each on the bets route."""
        http = client or self.client
        try:
            if BETS_ROUTE not in self.paths:
                # the same ids and keys the bets route gives them
                ids = [bets_event_id("ticket", t.operator, t.ticket_id) for t, _ in tickets]
                envelopes = [
                    {
                        "id": event_id,
                        "key": customer_key(t.operator, t.customer_id),
                        "time": at,
                        "data": t,
                    }
                    for event_id, (t, at) in zip(ids, tickets, strict=True)
                ]
                self.latency.sent(ids)
                reply = await http.ingest(BETS_STREAM, self._fund_first(tickets) + envelopes)
                self._count("bet", len(tickets), reply)
                return True
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
        self._count("bet", 1, reply)

    def _fund_first(self, tickets: list[tuple[TicketSubmitted, datetime]]) -> list[Any]:
        """Deposit envelopes for the bettors of ``tickets`` not funded yet (ingest path)."""
        envelopes: list[Any] = []
        for t, at in tickets:
            if (t.customer_id, t.currency) in self.funded:
                continue
            self.funded.add((t.customer_id, t.currency))
            deposit = funding(t)
            event_id = bets_event_id(
                "deposit", t.operator, f"{t.customer_id}\x1f{deposit.deposit_id}"
            )
            key = customer_key(t.operator, t.customer_id)
            envelopes.append({"id": event_id, "key": key, "time": at, "data": deposit})
        return envelopes

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
        self._count("deposit", 1, reply)
        if not (reply.accepted or reply.duplicates):
            self.funded.discard((ticket.customer_id, ticket.currency))

    async def sensors(
        self, envelopes: Sequence[Envelope], client: GatewayClient | None = None
    ) -> bool:
        """Send crowd readings through the generic ingest."""
        http = client or self.client
        self.latency.sent(e.id for e in envelopes)
        try:
            reply = await http.ingest(envelopes[0].stream, [e.body() for e in envelopes])
        except Stopped:
            return False
        self._count("crowd", len(envelopes), reply)
        return True


def _kind(message: OdfMessage) -> str:
    return "keep_alive" if message.kind is DocumentType.KEEP_ALIVE else "result"
