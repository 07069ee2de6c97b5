"""Fraud rules: velocity windows, the card-testing burst, modes, order, memory and storage."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from flambeau.services.payments.fraud import (
    DEFAULT_RULES,
    CardTestingRule,
    Dimension,
    FraudEngine,
    Metric,
    Rule,
    VelocityRule,
)
from flambeau.services.payments.results import TransferResult as R
from flambeau.services.payments.schemas import CreateTransfers, FraudMode, PaymentContext

from .ledgers import NOW, transfer

BLOCK, REVIEW, SHADOW = FraudMode.block, FraudMode.review, FraudMode.shadow


def velocity(rule_id: str, mode: FraudMode = REVIEW, **fields: object) -> VelocityRule:
    spec = {"dimension": "card", "window": "1h", "threshold": 3, **fields}
    return msgspec.convert({"id": rule_id, "mode": mode, **spec}, VelocityRule)


def pay(card: str = "tok_a", device: str = "", terminal: str = "t1") -> PaymentContext:
    return PaymentContext(transfer_id="1", card=card, device=device, terminal=terminal)


def test_a_card_over_its_hourly_count_raises_an_alert_with_the_window_figures() -> None:
    engine = FraudEngine([velocity("card_hourly", threshold=3)])
    verdicts = [engine.evaluate(str(n), 500, pay(), NOW + timedelta(minutes=n)) for n in range(4)]
    assert [len(v.alerts) for v in verdicts] == [0, 0, 0, 1]
    alert = verdicts[-1].alerts[0]
    assert (alert.rule_id, alert.window, alert.count, alert.amount, alert.threshold) == (
        "card_hourly",
        "1h",
        4,
        2_000,
        3,
    )
    assert (alert.card, alert.terminal, alert.mode, alert.blocked) == ("tok_a", "t1", REVIEW, False)
    assert not verdicts[-1].block


def test_the_hour_slides_in_event_time() -> None:
    engine = FraudEngine([velocity("card_hourly", threshold=3)])
    for n in range(3):
        engine.evaluate(str(n), 500, pay(), NOW + timedelta(minutes=n))
    later = engine.evaluate("9", 500, pay(), NOW + timedelta(minutes=61))
    assert later.alerts == []


def test_a_day_window_and_an_amount_metric() -> None:
    engine = FraudEngine(
        [
            velocity(
                "device_spend", dimension="device", window="1d", threshold=10_000, metric="amount"
            )
        ]
    )
    first = engine.evaluate("1", 6_000, pay(device="d1"), NOW)
    second = engine.evaluate("2", 6_000, pay(device="d1"), NOW + timedelta(hours=20))
    other_device = engine.evaluate("3", 6_000, pay(device="d2"), NOW + timedelta(hours=20))
    assert (first.alerts, other_device.alerts) == ([], [])
    assert [(a.rule_id, a.amount, a.device) for a in second.alerts] == [
        ("device_spend", 12_000, "d1")
    ]


def burst(engine: FraudEngine, cards: int, attempts: int, every_s: int = 20) -> list[bool]:
    blocked = []
    for n in range(attempts):
        context = pay(card=f"tok_{n % cards}", terminal="kiosk_7")
        blocked.append(
            engine.evaluate(str(n), 1, context, NOW + timedelta(seconds=n * every_s)).block
        )
    return blocked


def test_a_card_testing_burst_is_blocked_once_it_reaches_its_thresholds() -> None:
    engine = FraudEngine([CardTestingRule(id="card_testing", mode=BLOCK)])
    blocked = burst(engine, cards=25, attempts=25)
    # 20 tiny attempts from 20 distinct cards within ten minutes: the 20th is the first blocked.
    assert blocked == [False] * 19 + [True] * 6
    alert = engine.evaluate(
        "x", 1, pay(card="tok_new", terminal="kiosk_7"), NOW + timedelta(seconds=500)
    ).alerts[0]
    assert (alert.window, alert.distinct_cards, alert.threshold) == ("10m", 26, 20)


def test_tiny_attempts_from_few_cards_or_spread_out_are_not_card_testing() -> None:
    assert not any(burst(FraudEngine([CardTestingRule(id="ct", mode=BLOCK)]), cards=3, attempts=40))
    spread = FraudEngine([CardTestingRule(id="ct", mode=BLOCK)])
    assert not any(burst(spread, cards=40, attempts=40, every_s=60))


def test_only_tiny_amounts_count_towards_card_testing() -> None:
    engine = FraudEngine([CardTestingRule(id="ct", mode=BLOCK, min_attempts=3, min_cards=3)])
    for n in range(5):
        assert not engine.evaluate(str(n), 2_500, pay(card=f"c{n}"), NOW).block


def test_shadow_and_review_alert_without_blocking_and_block_stops_evaluation() -> None:
    rules: list[Rule] = [
        velocity("shadow_rule", SHADOW, threshold=0),
        velocity("review_rule", REVIEW, threshold=0),
        velocity("block_rule", BLOCK, threshold=0),
        velocity("never_reached", REVIEW, threshold=0),
    ]
    verdict = FraudEngine(rules).evaluate("1", 100, pay(), NOW)
    assert verdict.block
    assert [(a.rule_id, a.mode, a.blocked) for a in verdict.alerts] == [
        ("shadow_rule", SHADOW, False),
        ("review_rule", REVIEW, False),
        ("block_rule", BLOCK, True),
    ]
    only_soft = FraudEngine(rules[:2]).evaluate("1", 100, pay(), NOW)
    assert not only_soft.block
    assert len(only_soft.alerts) == 2


def test_rules_missing_their_key_are_skipped() -> None:
    engine = FraudEngine([velocity("per_device", dimension="device", threshold=0)])
    assert engine.evaluate("1", 100, pay(device=""), NOW).alerts == []


def test_screen_refuses_blocked_transfers_by_index_and_ignores_those_without_context() -> None:
    engine = FraudEngine([velocity("one_per_card", BLOCK, threshold=1)])
    request = CreateTransfers(
        idempotency_key="k",
        ledger=1,
        transfers=[transfer(1), transfer(2), transfer(3), transfer(4)],
        contexts=[
            PaymentContext(transfer_id="1", card="tok"),
            PaymentContext(transfer_id="2", card="tok"),
            PaymentContext(transfer_id="4", card="tok"),
        ],
    )
    screening = engine.screen(request, NOW)
    assert screening.refused == {1: R.blocked_by_fraud_rule, 3: R.blocked_by_fraud_rule}
    assert [a.transfer_id for a in screening.alerts] == ["2", "4"]
    assert {a.ledger for a in screening.alerts} == {1}


def test_counters_unused_for_a_day_are_forgotten() -> None:
    engine = FraudEngine([velocity("card_hourly")])
    for n in range(100):
        engine.evaluate(str(n), 1, pay(card=f"tok_{n}", terminal=""), NOW)
    engine.changes()
    engine.evaluate("x", 1, pay(card="fresh", terminal=""), NOW + timedelta(days=1, seconds=1))
    assert list(engine.counters) == ["card:fresh"]
    changes = engine.changes()
    assert changes["f/c/card:tok_0"] is None
    assert changes["f/c/card:fresh"] is not None


def test_the_number_of_counters_is_capped() -> None:
    engine = FraudEngine([velocity("card_hourly")], max_keys=10)
    for n in range(50):
        engine.evaluate(str(n), 1, pay(card=f"tok_{n}", terminal=""), NOW)
    assert len(engine.counters) == 10
    assert "card:tok_49" in engine.counters


def test_stored_counters_continue_where_they_stopped() -> None:
    engine = FraudEngine(DEFAULT_RULES)
    burst(engine, cards=15, attempts=15)
    restored = FraudEngine(DEFAULT_RULES)
    restored.load({**engine.to_items(), "a/1": b"ledger keys are ignored"})
    assert restored.to_items() == engine.to_items()
    after = [engine, restored]
    results = [
        [
            e.evaluate(
                str(n), 1, pay(card=f"z{n}", terminal="kiosk_7"), NOW + timedelta(seconds=300 + n)
            ).block
            for n in range(6)
        ]
        for e in after
    ]
    assert results[0] == results[1]
    assert results[0][-1]


def test_changes_name_touched_counters_only() -> None:
    engine = FraudEngine(DEFAULT_RULES)
    engine.evaluate("1", 1, pay(card="c", device="d", terminal="t"), NOW)
    assert set(engine.changes()) == {"f/c/card:c", "f/c/device:d", "f/c/terminal:t", "f/b/t"}
    assert engine.changes() == {}


def test_rules_are_data_and_bad_rule_sets_are_refused() -> None:
    rules = msgspec.json.decode(
        b'[{"type": "card_testing", "id": "ct", "mode": "block", "window_minutes": 5},'
        b' {"type": "velocity", "id": "v", "mode": "shadow", "dimension": "card",'
        b' "window": "1d", "threshold": 10, "metric": "amount"}]',
        type=list[Rule],
    )
    assert rules[1] == VelocityRule(
        id="v",
        mode=SHADOW,
        dimension=Dimension.card,
        window="1d",
        threshold=10,
        metric=Metric.amount,
    )
    with pytest.raises(ValueError, match="unique"):
        FraudEngine([rules[0], rules[0]])
    with pytest.raises(ValueError, match="window_minutes"):
        FraudEngine([CardTestingRule(id="ct", mode=BLOCK, window_minutes=61)])
