"""Results snapshots as the results service publishes them, for the betting processor tests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flambeau.events import Event
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.messages import customer_key
from flambeau.services.betting.processors import betting_processors
from flambeau.services.betting.schemas import (
    Channel,
    CustomerDeposit,
    OddsChange,
    OddsPolicy,
    Selection,
    TicketSubmitted,
    bets_event_id,
)
from flambeau.services.payments.processors import ledger
from flambeau.services.payments.schemas import TransferCode, TransferFlags, TransfersDecided
from flambeau.services.results.schemas import (
    Athlete,
    Competitor,
    CompetitorResult,
    Detail,
    KeepAlive,
    SourceDown,
    SourceUp,
    UnitResult,
    UnitScheduleChanged,
)

from .harness import Desk

KICK_OFF = datetime(2024, 7, 30, 19, 0, tzinfo=UTC)
FINAL_WHISTLE = KICK_OFF + timedelta(minutes=115)
MATCH = "FBLMTEAM11------------GPA-000100--"
OTHER_MATCH = "FBLWTEAM11------------GPB-000200--"
RACE = "ATHM100M--------------FNL-000100--"
SOURCE = "FBL-timing"


def minute(value: float) -> datetime:
    """Event time ``value`` minutes after kick-off."""
    return KICK_OFF + timedelta(minutes=value)


@dataclass
class Match:
    """A football match fed snapshot by snapshot, with ascending versions."""

    desk: Desk
    unit: str = MATCH
    home: str = "FRA"
    away: str = "ESP"
    version: int = 0
    score: tuple[int, int] | None = None
    period: str | None = None
    end: datetime = FINAL_WHISTLE
    seen: list[Any] = field(default_factory=list)
    squads: tuple[dict[str, str], dict[str, str]] = ({}, {})
    """Each team's athletes (code -> position, ``""`` for none), listed in its Composition."""
    scorers: list[tuple[int, str]] = field(default_factory=list)
    """Each goal as ``(side, athlete code)``, listed as ``GOAL`` details in order."""

    def line(self, side: int, score: int | None, outcome: str | None) -> CompetitorResult:
        """A team's line: its squad and positions, the goals it scored."""
        squad = self.squads[side]
        details = [Detail(code="POSITION", pos=a, value=p) for a, p in squad.items() if p]
        details += [
            Detail(code="GOAL", pos=str(number), value=code)
            for number, (scored_by, code) in enumerate(self.scorers, start=1)
            if scored_by == side
        ]
        code = (self.home, self.away)[side]
        athletes = tuple(Athlete(code=a) for a in squad)
        return CompetitorResult(
            competitor=Competitor(code=code, name=code, athletes=athletes),
            score=score,
            outcome=outcome,  # type: ignore[arg-type]
            details=tuple(details),
        )

    def snapshot(
        self,
        status: str,
        at: datetime,
        *,
        unit_status: str | None = None,
        score: tuple[int, int] | None = None,
        period: str | None = None,
        outcomes: tuple[str | None, str | None] = (None, None),
    ) -> None:
        """Send the next version of the unit's result."""
        self.version += 1
        if score is not None:
            self.score = score
        if period is not None:
            self.period = period
        home, away = self.score if self.score is not None else (None, None)
        lines = (self.line(0, home, outcomes[0]), self.line(1, away, outcomes[1]))
        result = UnitResult(
            competition="OG2024",
            unit=self.unit,
            discipline=self.unit[:3],
            version=self.version,
            status=status,  # type: ignore[arg-type]
            shape="head_to_head",  # type: ignore[arg-type]
            unit_status=unit_status,  # type: ignore[arg-type]
            start=KICK_OFF,
            end=self.end,
            home=self.home,
            away=self.away,
            current_period=self.period,
            competitors=lines,
            source=SOURCE,
        )
        self.desk.send("results.units", result, key=self.unit, time=at)

    def open(self) -> None:
        """The start list, the evening before."""
        self.snapshot("start_list", KICK_OFF - timedelta(hours=20))
        self.desk.advance()

    def kick_off(self) -> None:
        self.snapshot("live", KICK_OFF, unit_status="running", score=(0, 0), period="H1")
        self.desk.advance()

    def goal(self, score: tuple[int, int], at: datetime, *, reprice: bool = True) -> None:
        self.snapshot("live", at, unit_status="running", score=score)
        if reprice:
            self.desk.advance()

    def official(self, score: tuple[int, int], at: datetime, **kw: Any) -> None:
        self.snapshot("official", at, unit_status="finished", score=score, period="H2", **kw)
        self.desk.advance()

    def cancel(self, at: datetime) -> None:
        cancelled = UnitScheduleChanged(
            competition="OG2024",
            unit=self.unit,
            discipline=self.unit[:3],
            status="cancelled",  # type: ignore[arg-type]
            start=KICK_OFF,
            end=self.end,
            version=self.version + 1,
        )
        self.desk.send("results.units", cancelled, key=self.unit, time=at)
        self.desk.advance()


def tick(desk: Desk, at: datetime) -> None:
    """A keep-alive of the match's source at ``at``: the feed's clock moves, nothing else."""
    desk.send("ops.health", KeepAlive(source=SOURCE, seen_at=at), key=SOURCE, time=at)


def source(desk: Desk, up: bool, at: datetime) -> None:
    """The results service's liveness saying the match's source went down or came back."""
    event: Event
    if up:
        event = SourceUp(source=SOURCE, seen_at=at, down_since=at - timedelta(seconds=30))
    else:
        event = SourceDown(
            source=SOURCE, last_seen=at - timedelta(seconds=20), detected_at=at, silence_ms=20_000
        )
    desk.send("ops.health", event, key=SOURCE, time=at)
    desk.advance()


STILL = BettingConfig(drift_every=timedelta(days=1))
"""Prices that move only on events, so a test can bet at the odds it just read."""


def new_desk(config: BettingConfig = STILL, *, payments: bool = True) -> Desk:
    """The betting processors (and the payments ledger) on one desk."""
    built = betting_processors(config)
    processors = [*built, ledger] if payments else list(built)
    return Desk(processors)


def latest_odds(desk: Desk, event_id: str = MATCH) -> OddsChange:
    """The last ``odds_change`` of ``event_id``."""
    changes = [e for e in desk.events("betting.odds") if isinstance(e, OddsChange)]
    return [c for c in changes if c.event_id == event_id][-1]


def offered(
    desk: Desk, market_id: int, specifiers: str, outcome: str, event_id: str = MATCH
) -> float:
    """The current odds of an outcome, from the feed."""
    for market in latest_odds(desk, event_id).markets:
        if market.id == market_id and market.specifiers == specifiers:
            for o in market.outcomes:
                if o.id == outcome and o.odds is not None:
                    return o.odds
    raise AssertionError(f"no odds for {market_id} {specifiers} {outcome}")


FUNDS = 10_000_000
"""What :func:`bet` deposits in a customer's wallet before its first ticket, unless told."""


def deposit(
    desk: Desk,
    cents: int,
    *,
    customer: str = "c-1",
    operator: str = "op-1",
    currency: str = "EUR",
    deposit_id: str = "funds",
    at: datetime = KICK_OFF,
) -> None:
    """Deposit ``cents`` in the customer's wallet (once per deposit id: the desk drops repeats)."""
    event = CustomerDeposit(
        deposit_id=deposit_id,
        operator=operator,
        customer_id=customer,
        amount_cents=cents,
        currency=currency,
    )
    desk.send(
        "betting.bets",
        event,
        key=customer_key(operator, customer),
        time=at,
        event_id=bets_event_id("deposit", operator, f"{customer}\x1f{deposit_id}"),
    )


def net_balances(desk: Desk) -> dict[str, int]:
    """Net balance (credits - debits) of every account from the ledger's own decisions, leaving
    deposits out: what betting moved. Holds count once posted; every result must be ``ok``."""
    skipped = int(TransferFlags.pending | TransferFlags.void_pending_transfer)
    out: dict[str, int] = defaultdict(int)
    for decided in desk.events("payments.transfers"):
        if isinstance(decided, TransfersDecided):
            assert set(decided.results) == {"ok"}, decided.results
            for transfer in decided.transfers:
                if transfer.flags & skipped or transfer.code == TransferCode.top_up:
                    continue
                out[transfer.credit_account_id] += transfer.amount
                out[transfer.debit_account_id] -= transfer.amount
    return dict(out)


def bet(
    desk: Desk,
    ticket_id: str,
    legs: list[tuple[str, int, str, str, float]],
    *,
    stake: int = 1000,
    customer: str = "c-1",
    jurisdiction: str = "FR",
    channel: Channel = Channel.INTERNET,
    policy: OddsPolicy = OddsPolicy.NONE,
    at: datetime,
    operator: str = "op-1",
    currency: str = "EUR",
    funds: int | None = FUNDS,
) -> TicketSubmitted:
    """Submit a ticket as the route would: keyed by operator and customer.

    The customer's wallet first gets ``funds`` (once per customer), unless ``funds`` is None.
    """
    if funds is not None:
        deposit(desk, funds, customer=customer, operator=operator, currency=currency, at=at)
    ticket = TicketSubmitted(
        ticket_id=ticket_id,
        operator=operator,
        customer_id=customer,
        jurisdiction=jurisdiction,
        channel=channel,
        selections=tuple(
            Selection(event_id=e, market_id=m, specifiers=s, outcome_id=o, odds=odds)
            for e, m, s, o, odds in legs
        ),
        stake_cents=stake,
        currency=currency,
        odds_policy=policy,
    )
    desk.send("betting.bets", ticket, key=customer_key(operator, customer), time=at)
    return ticket


def decisions(desk: Desk, ticket_id: str) -> list[Any]:
    """The decisions about one ticket, in order."""
    return [d for d in desk.events("betting.decisions") if d.ticket_id == ticket_id]
