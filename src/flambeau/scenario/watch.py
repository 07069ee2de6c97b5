"""The rehearsal's subscriber side: the odds bettors see, and what the platform derived.

:class:`Watch` follows the derived streams over one WebSocket with the simulator's key. Each
event arriving is matched against what the driver sent (end-to-end latency, see
:class:`~flambeau.scenario.stats.Latency`) and counted by type, so the report can say what the
rehearsal moved: bet stops and repriced odds, settled tickets, medal table changes, sources
down and up, fraud and crowd alerts. Odds messages are folded into the
:class:`~flambeau.scenario.odds.OddsBook` that fills in the odds each bettor saw.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field

import msgspec

from flambeau.scenario.client import GatewayClient, Subscriber, WireEvent
from flambeau.scenario.odds import OddsBook
from flambeau.scenario.stats import Latency
from flambeau.services.betting.schemas import ODDS_STREAM, OddsMessage

__all__ = ["FOLLOWED", "Watch"]

logger = logging.getLogger("flambeau.scenario")

FOLLOWED = (
    ODDS_STREAM,
    "betting.decisions",
    "results.units",
    "results.medals",
    "ops.health",
    "payments.transfers",
    "payments.alerts",
    "crowds.venues",
)
"""Streams the rehearsal follows. The odds start a little back, so bettors see current
prices at once; the others start at the end (the report counts what this run caused)."""
ODDS_WINDOW = 500


class _Tag(msgspec.Struct):
    type: str = ""
    results: list[str] = []
    reason: str = ""


_tag = msgspec.json.Decoder(_Tag)
_odds = msgspec.json.Decoder(OddsMessage)


@dataclass
class Watch:
    """Follows :data:`FOLLOWED`, feeding ``latency`` and ``odds``, and counting events by
    type (``derived``), the ledger's transfer results (``ledger``) and the bet engine's
    refusals by reason (``refusals``)."""

    latency: Latency
    odds: OddsBook = field(default_factory=OddsBook)
    derived: Counter[str] = field(default_factory=Counter)
    ledger: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    subscriber: Subscriber | None = None

    async def start_positions(self, client: GatewayClient) -> dict[str, str]:
        """Where each stream's subscription starts (the odds a window back)."""
        positions = dict.fromkeys(FOLLOWED, "latest")
        reply = await client.request("GET", f"/v1/streams/{ODDS_STREAM}")
        body = reply.body if isinstance(reply.body, dict) else {}
        ends: dict[str, int] = body.get("end") or {}
        starts: dict[str, int] = body.get("start") or {}
        if ends:
            positions[ODDS_STREAM] = ",".join(
                f"{p}:{max(int(starts.get(p, 0)), int(end) - ODDS_WINDOW)}"
                for p, end in sorted(ends.items(), key=lambda item: int(item[0]))
            )
        return positions

    async def run(self, client: GatewayClient, stop: asyncio.Event) -> None:
        """Follow the streams until ``stop`` is set."""
        urls = ["ws" + base[len("http") :] + "/v1/ws" for base in client.bases]
        positions = await self.start_positions(client)
        self.subscriber = Subscriber(urls, client.key, positions, self.apply)
        await self.subscriber.run(stop)

    def apply(self, stream: str, events: list[WireEvent]) -> None:
        """Take one frame of ``stream``'s events."""
        observe = self.latency.observe
        derived = self.derived
        for event in events:
            observe(event.id, event.causation_id)
            try:
                tag = _tag.decode(event.data)
                derived[tag.type] += 1
                if tag.type == "transfers_decided":
                    self.ledger.update(tag.results)
                elif tag.type == "ticket_rejected":
                    self.refusals[tag.reason] += 1
                if stream == ODDS_STREAM:
                    self.odds.apply(_odds.decode(event.data))
            except msgspec.DecodeError:
                logger.debug("%s event %s does not decode", stream, event.id)
