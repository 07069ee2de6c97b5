"""The payments read model keeps a bounded memory of the replies it can give."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flambeau.events import Record
from flambeau.services.payments import views
from flambeau.services.payments.results import TransferResult
from flambeau.services.payments.schemas import Transfer, TransfersDecided
from flambeau.services.payments.views import LedgerView

NOW = datetime(2024, 8, 4, 12, tzinfo=UTC)


def decided(request: int, items: int) -> Record[Any]:
    event = TransfersDecided(
        idempotency_key=f"key-{request}",
        ledger=978,
        results=[TransferResult.ok] * items,
        transfers=[
            Transfer(id=str(request * 1000 + i + 1), debit_account_id="1",
                     credit_account_id="2", amount=1, ledger=978, code=1)
            for i in range(items)
        ],
    )  # fmt: skip
    return Record(f"d{request}", "payments.transfers", "978", 0, request, NOW, NOW,
                  f"request-{request}", event)  # fmt: skip


def test_replies_keep_results_only_and_at_most_the_results_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "RESULTS_KEPT", 25)
    view = LedgerView()
    for request in range(10):
        view(decided(request, 10))
    kept = list(view.decisions.values)
    assert kept == ["request-8", "request-9"]  # 20 results; a third would pass 25
    assert view.decisions.held == 20
    assert all(not d.transfers for d in view.decisions.values.values())  # type: ignore[union-attr]
    assert view.decisions.get("request-9").results == [TransferResult.ok] * 10  # type: ignore[union-attr]


def test_one_decision_larger_than_the_bound_is_still_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "RESULTS_KEPT", 5)
    view = LedgerView()
    view(decided(1, 10))
    assert list(view.decisions.values) == ["request-1"]
