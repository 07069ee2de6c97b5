"""Events of the services' schemas, as a producer POSTs them (JSON envelopes).

Each builder returns one envelope ``{"id", "key", "time", "data"}``; the gateway validates the
payload against the stream's registered schema, so a builder that drifts from a schema fails
the test that posts it instead of passing silently.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

Envelope = dict[str, Any]

_ids = itertools.count(1)


def now() -> str:
    return datetime.now(UTC).isoformat()


def envelope(data: dict[str, Any], key: str, event_id: str | None = None) -> Envelope:
    return {"id": event_id or f"test-{next(_ids)}", "key": key, "time": now(), "data": data}


def rsc(discipline: str, gender: str, event: str, phase: str, unit: str = "000100") -> str:
    """A 34-character ODF code: discipline 3, gender 1, event 18, phase 4, unit 8."""
    return discipline + gender + event.ljust(18, "-") + phase.ljust(4, "-") + unit.ljust(8, "-")


FOOTBALL_FINAL = rsc("FBL", "M", "TEAM11", "FNL")
SWIM_FINAL = rsc("SWM", "W", "100MFREE", "FNL")


def team(noc: str, name: str, score: int | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"competitor": {"code": noc, "kind": "team", "noc": noc, "name": name}}
    if score is not None:
        line["score"] = score
    return line


def match_result(
    unit: str,
    version: int,
    home: tuple[str, str, int],
    away: tuple[str, str, int],
    *,
    status: str = "live",
    period: str = "H1",
    venue: str | None = "PDP",
    event_id: str | None = None,
) -> Envelope:
    """A head-to-head unit snapshot with a running score."""
    data: dict[str, Any] = {
        "type": "unit_result",
        "competition": "OG2024",
        "unit": unit,
        "discipline": unit[:3],
        "version": version,
        "status": status,
        "shape": "head_to_head",
        "unit_status": "running" if status in ("live", "intermediate") else "finished",
        "current_period": period,
        "home": home[0],
        "away": away[0],
        "competitors": [team(*home), team(*away)],
    }
    if venue:
        data["venue"] = venue
    return envelope(data, unit, event_id)


def race_result(
    unit: str,
    version: int,
    lines: list[tuple[str, str, str, int | None]],
    *,
    status: str = "official",
    venue: str | None = "DEF",
    event_id: str | None = None,
) -> Envelope:
    """A timed unit: ``lines`` of (athlete code, NOC, name, rank); ranks None for a start list."""
    competitors = []
    for order, (code, noc, name, rank) in enumerate(lines, start=1):
        line: dict[str, Any] = {
            "competitor": {"code": code, "noc": noc, "name": name},
            "start_order": order,
        }
        if rank is not None:
            time_ms = 52_000 + rank * 137
            line |= {"rank": rank, "time_ms": time_ms, "result": f"{time_ms / 1000:.2f}"}
        competitors.append(line)
    data: dict[str, Any] = {
        "type": "unit_result",
        "competition": "OG2024",
        "unit": unit,
        "discipline": unit[:3],
        "version": version,
        "status": status,
        "shape": "timed",
        "competitors": competitors,
    }
    if venue:
        data["venue"] = venue
    return envelope(data, unit, event_id)


def medal_count(noc: str, gold: int, silver: int, bronze: int) -> Envelope:
    data = {
        "type": "medal_count",
        "competition": "OG2024",
        "noc": noc,
        "gold": gold,
        "silver": silver,
        "bronze": bronze,
        "total": gold + silver + bronze,
    }
    return envelope(data, "OG2024")


def fixture_change(event_id: str, sport: str, competitors: list[str]) -> Envelope:
    data = {
        "type": "fixture_change",
        "event_id": event_id,
        "timestamp": now(),
        "change_type": "new",
        "sport": sport,
        "competitors": competitors,
    }
    return envelope(data, event_id)


def odds_change(
    event_id: str,
    prices: dict[str, float],
    *,
    status: str = "active",
    score: tuple[int, int] = (0, 0),
    total: dict[str, float] | None = None,
) -> Envelope:
    """A 1x2 market (outcomes 1, 2, 3) and optionally a total 2.5 market (13 under, 12 over)."""
    markets: list[dict[str, Any]] = [
        {
            "id": 1,
            "status": status,
            "outcomes": [{"id": o, "odds": odds} for o, odds in prices.items()],
        }
    ]
    if total:
        markets.append(
            {
                "id": 18,
                "specifiers": "total=2.5",
                "status": status,
                "outcomes": [{"id": o, "odds": odds} for o, odds in total.items()],
            }
        )
    data = {
        "type": "odds_change",
        "event_id": event_id,
        "timestamp": now(),
        "markets": markets,
        "event_status": {"phase": "live", "home_score": score[0], "away_score": score[1]},
    }
    return envelope(data, event_id)


def bet_stop(event_id: str, reason: str = "score_change") -> Envelope:
    data = {"type": "bet_stop", "event_id": event_id, "timestamp": now(), "reason": reason}
    return envelope(data, event_id)


def ticket_changed(ticket_id: str, change_id: str) -> Envelope:
    data = {"type": "ticket_changed", "change_id": change_id, "ticket_id": ticket_id,
            "operator": "op-1", "customer_id": "c-1", "stake_cents": 2000, "odds": [2.0],
            "potential_payout_cents": 4000}  # fmt: skip
    return envelope(data, ticket_id)


def cash_out_rejected(ticket_id: str, request_id: str, reason: str) -> Envelope:
    data = {"type": "cash_out_rejected", "request_id": request_id, "ticket_id": ticket_id,
            "operator": "op-1", "customer_id": "c-1", "reason": reason}  # fmt: skip
    return envelope(data, ticket_id)


def alive(producer: int = 1) -> Envelope:
    data = {"type": "alive", "producer": producer, "timestamp": now()}
    return envelope(data, f"producer:{producer}")


def purchase_request(key: str, payments: list[tuple[str, int, str]]) -> Envelope:
    """``payments`` of (transfer id, amount in cents, terminal) on ledger 1."""
    data = {
        "type": "create_transfers",
        "idempotency_key": key,
        "ledger": 1,
        "transfers": [
            {
                "id": transfer,
                "debit_account_id": "1",
                "credit_account_id": "2",
                "amount": amount,
                "ledger": 1,
                "code": 1,
            }
            for transfer, amount, _ in payments
        ],
        "contexts": [
            {"transfer_id": transfer, "card": f"card-{transfer}", "terminal": terminal}
            for transfer, _, terminal in payments
        ],
        "origin": "venues",
    }
    return envelope(data, "1")


def purchase_decided(key: str, payments: list[tuple[str, int, str]]) -> Envelope:
    """Every transfer of :func:`purchase_request` accepted."""
    data = {
        "type": "transfers_decided",
        "idempotency_key": key,
        "ledger": 1,
        "results": ["ok"] * len(payments),
        "transfers": [
            {
                "id": transfer,
                "debit_account_id": "1",
                "credit_account_id": "2",
                "amount": amount,
                "ledger": 1,
                "code": 1,
            }
            for transfer, amount, _ in payments
        ],
    }
    return envelope(data, "1")


def fraud_alert(transfer: str, terminal: str, *, blocked: bool = True) -> Envelope:
    data = {
        "type": "fraud_alert",
        "rule_id": "card_testing",
        "mode": "block" if blocked else "review",
        "transfer_id": transfer,
        "ledger": 1,
        "window": "10m",
        "count": 14,
        "amount": 140,
        "threshold": 10,
        "distinct_cards": 14,
        "terminal": terminal,
        "blocked": blocked,
    }
    return envelope(data, "1")


def keep_alive(source: str) -> Envelope:
    return envelope({"type": "keep_alive", "source": source, "seen_at": now()}, source)


def source_down(source: str) -> Envelope:
    data = {
        "type": "source_down",
        "source": source,
        "last_seen": now(),
        "detected_at": now(),
        "silence_ms": 30_000,
    }
    return envelope(data, source)


def venue_crowd(venue: str, level: str, occupancy: int) -> Envelope:
    data = {"type": "venue_crowd", "venue": venue, "occupancy": occupancy, "capacity": 77000,
            "area": f"{venue}-FORECOURT", "people": 5000, "area_m2": 9000, "level": level,
            "measured_at": now()}  # fmt: skip
    return envelope(data, venue)


def crowd_alert(venue: str, zone: str, *, raised: bool) -> Envelope:
    data = {"type": "crowd_alert", "venue": venue, "area": zone, "level": "E" if raised else "B",
            "people": 900, "area_m2": 1000, "raised": raised}  # fmt: skip
    return envelope(data, venue)


def incident(number: int, kind: str, status: str = "open", reports: int = 1) -> Envelope:
    data = {"type": "incident", "id": f"STA-{number:05d}", "venue": "STA", "zone": "STA-GATE-3",
            "kind": kind, "severity": "high", "status": status, "change": "opened",
            "reports": reports, "source": "CAM-12", "opened_at": now()}  # fmt: skip
    return envelope(data, "STA")


def staffing_plan(stewards: int, police: int, cause: str) -> Envelope:
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    slot = slot.replace(minute=slot.minute - slot.minute % 15)
    data = {"type": "staffing_plan", "venue": "STA", "unit": "FBLMTEAM11------------FNL-000100--",
            "slots": [{"slot": slot.isoformat(), "stewards": stewards, "supervisors": 1,
                       "police": police}], "reasons": [], "cause": cause}  # fmt: skip
    return envelope(data, "STA")


def zone_crowd(venue: str, zone: str, role: str, level: str, *, alert: bool = False) -> Envelope:
    data = {"type": "zone_crowd", "venue": venue, "zone": zone, "role": role, "kind": "walkway",
            "people": 900, "area_m2": 1000, "density": 0.9, "level": level, "alert": alert,
            "measured_at": now()}  # fmt: skip
    return envelope(data, venue)
