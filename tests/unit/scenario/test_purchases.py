"""Payments: integer cents, peaks around session changes, card-testing at the set share."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest

from flambeau.scenario.generators.purchases import (
    CardTestingBurst,
    Category,
    Purchase,
    pos_terminals,
    purchases,
)
from flambeau.scenario.schedule import Schedule, build_schedule

_RATE = 0.05


@pytest.fixture(scope="module")
def day() -> Schedule:
    return build_schedule()


@pytest.fixture(scope="module")
def paid(day: Schedule) -> list[Purchase]:
    return list(purchases(day, seed=3, rate_multiplier=_RATE, fraud_share=0.01))


def test_same_seed_same_payments_other_seed_other_payments(day: Schedule) -> None:
    start = day.sessions[0].start
    window = {"start": start, "end": start + timedelta(minutes=30), "rate_multiplier": _RATE}
    assert list(purchases(day, 3, **window)) == list(purchases(day, 3, **window))  # type: ignore[arg-type]
    assert list(purchases(day, 3, **window)) != list(purchases(day, 4, **window))  # type: ignore[arg-type]


def test_payments_are_well_formed(paid: list[Purchase]) -> None:
    assert paid
    assert [p.time for p in paid] == sorted(p.time for p in paid)
    assert len({p.id for p in paid}) == len(paid)
    for p in paid:
        assert isinstance(p.amount_cents, int)
        assert p.amount_cents > 0
        assert p.currency == "EUR"
        assert p.time.utcoffset() == timedelta(0)
        if p.category is Category.TRANSPORT:
            assert p.terminal.startswith(f"TVM-{p.venue}-")
        else:
            assert p.terminal.startswith(f"POS-{p.venue}-")
    assert {p.category for p in paid} == set(Category)


def _per_minute(paid: list[Purchase], venue: str) -> Counter[datetime]:
    return Counter(
        p.time.replace(second=0, microsecond=0) for p in paid if p.venue == venue and not p.fraud
    )


def _mean(counts: Counter[datetime], start: datetime, minutes: int) -> float:
    return sum(counts[start + timedelta(minutes=m)] for m in range(minutes)) / minutes


def test_payments_peak_around_session_changes(day: Schedule, paid: list[Purchase]) -> None:
    session = next(s for s in day.sessions if s.venue == "STA")
    counts = _per_minute(paid, "STA")
    start = session.start.replace(second=0, microsecond=0)
    end = session.end.replace(second=0, microsecond=0)
    before = _mean(counts, start - timedelta(minutes=40), 40)
    after = _mean(counts, end, 20)
    middle = _mean(counts, start + (end - start) / 2 - timedelta(minutes=20), 40)
    assert before > 1.5 * middle
    assert after > 2.0 * middle
    assert middle > 0


def test_card_testing_is_at_the_configured_share(paid: list[Purchase]) -> None:
    fraud = [p for p in paid if p.fraud]
    share = len(fraud) / len(paid)
    assert share == pytest.approx(0.01, abs=0.001)


def test_a_card_testing_burst_is_many_tiny_charges_on_new_cards_at_one_terminal(
    paid: list[Purchase],
) -> None:
    legit_cards = {p.card for p in paid if not p.fraud}
    bursts: dict[str, list[Purchase]] = defaultdict(list)
    for p in paid:
        if p.fraud:
            bursts[p.terminal].append(p)
    assert bursts
    for terminal, charges in bursts.items():
        assert terminal.startswith("POS-")
        assert len(charges) >= 5
        assert all(1 <= p.amount_cents < 100 for p in charges)
        assert len({p.card for p in charges}) == len(charges)
        assert not legit_cards & {p.card for p in charges}
        gaps = [(b.time - a.time).total_seconds() for a, b in itertools.pairwise(charges)]
        assert min(gaps) >= 0
        assert sorted(gaps)[len(gaps) // 2] <= 10  # seconds apart, not minutes


def test_no_fraud_when_the_share_is_zero(day: Schedule) -> None:
    start = day.sessions[0].start
    assert not any(
        p.fraud
        for p in purchases(day, 3, rate_multiplier=_RATE, fraud_share=0.0, start=start,
                           end=start + timedelta(hours=2))
    )  # fmt: skip


def test_a_scripted_burst_lands_where_and_when_it_was_asked(day: Schedule) -> None:
    at = day.sessions[0].start
    terminal = pos_terminals("STA")[3]
    burst = CardTestingBurst(at, "STA", terminal, cards=25)
    window = {"start": at, "end": at + timedelta(minutes=10), "rate_multiplier": _RATE}
    charged = [p for p in purchases(day, 3, fraud_share=0.0, bursts=[burst], **window) if p.fraud]  # type: ignore[arg-type]
    assert len(charged) == 25
    assert {p.terminal for p in charged} == {terminal}
    assert charged[0].time == at


def test_the_rate_multiplier_scales_the_volume(day: Schedule) -> None:
    start = day.sessions[0].start
    window = {"start": start, "end": start + timedelta(hours=1), "fraud_share": 0.0}
    small = sum(1 for _ in purchases(day, 3, rate_multiplier=0.02, **window))  # type: ignore[arg-type]
    large = sum(1 for _ in purchases(day, 3, rate_multiplier=0.1, **window))  # type: ignore[arg-type]
    assert 4.0 < large / small < 6.0


def test_a_window_holds_what_the_whole_day_holds(day: Schedule, paid: list[Purchase]) -> None:
    start = day.sessions[3].start
    end = start + timedelta(minutes=20)
    window = list(purchases(day, 3, rate_multiplier=_RATE, fraud_share=0.01, start=start, end=end))
    assert window == [p for p in paid if start <= p.time < end]


@pytest.mark.parametrize("share", [-0.1, 1.0])
def test_a_bad_share_is_refused(day: Schedule, share: float) -> None:
    with pytest.raises(ValueError, match="fraud_share"):
        next(purchases(day, 3, fraud_share=share))


def test_no_two_days_share_a_purchase_id() -> None:
    # Ids are transfer ids on the ledger: one reused the next day would be refused as "exists".
    ids = [
        {p.id for p in purchases(build_schedule(date(2024, 8, d), 3), 3, rate_multiplier=_RATE)}
        for d in (4, 5)
    ]
    assert all(ids)
    assert not ids[0] & ids[1]
