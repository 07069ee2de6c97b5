"""The ledger's invariants as Prometheus gauges, read from the latest check of each partition.

::

    flambeau_payments_invariant_violations{partition="2"} 0
    flambeau_payments_ledger_imbalance{ledger="7",kind="posted"} 0
    flambeau_payments_ledger_imbalance{ledger="7",kind="pending"} 0
    flambeau_payments_ledger_imbalance{ledger="7",kind="held"} 0
    flambeau_payments_ledger_balance{ledger="7",field="debits_posted"} 500
    flambeau_payments_ledger_accounts{ledger="7"} 2

An alert on ``flambeau_payments_invariant_violations > 0`` or on any nonzero imbalance is an
alert on lost or invented money. :func:`invariant_gauges` builds the scrape-time callable; the
gateway calls it on every ``GET /metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flambeau.gateway import gauge_lines
from flambeau.log import Log
from flambeau.services.payments.schemas import LedgerChecked
from flambeau.services.payments.views import checks_view

__all__ = ["gauges", "invariant_gauges", "invariant_lines"]

_FIELDS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted", "held")


def invariant_lines(checks: Iterable[LedgerChecked]) -> list[str]:
    """The exposition lines of the latest check of each partition."""
    latest = sorted(checks, key=lambda check: check.partition)
    ledgers = sorted((sums for check in latest for sums in check.ledgers), key=lambda s: s.ledger)
    return [
        *gauge_lines(
            "flambeau_payments_invariant_violations",
            "Ledger invariant violations found since the partition was loaded (0 when sound).",
            ("partition",),
            [((str(c.partition),), float(c.violations_total)) for c in latest],
        ),
        *gauge_lines(
            "flambeau_payments_ledger_imbalance",
            "Per ledger: debits minus credits, posted and pending, and pending minus open "
            "holds (0 when double entry holds).",
            ("ledger", "kind"),
            [
                row
                for s in ledgers
                for row in (
                    ((str(s.ledger), "posted"), float(s.debits_posted - s.credits_posted)),
                    ((str(s.ledger), "pending"), float(s.debits_pending - s.credits_pending)),
                    ((str(s.ledger), "held"), float(s.debits_pending - s.held)),
                )
            ],
        ),
        *gauge_lines(
            "flambeau_payments_ledger_balance",
            "Per ledger, a balance field summed over its accounts (minor units).",
            ("ledger", "field"),
            [((str(s.ledger), name), float(getattr(s, name))) for s in ledgers for name in _FIELDS],
        ),
        *gauge_lines(
            "flambeau_payments_ledger_accounts",
            "Accounts per ledger.",
            ("ledger",),
            [((str(s.ledger),), float(s.accounts)) for s in ledgers],
        ),
    ]


def invariant_gauges(log: Log) -> Callable[[], list[str]]:
    """A scrape-time gauge source over ``log``'s ``payments.checks`` (started on first use)."""

    def lines() -> list[str]:
        _, checks = checks_view(log)
        return invariant_lines(checks.latest.values())

    return lines


gauges = [invariant_gauges]
"""Gauge factories of this service, for the assembly module to hand to the gateway."""
