"""The unit, result and source state machines."""

from __future__ import annotations

import pytest

from flambeau.errors import IllegalTransitionError
from flambeau.services.results.statuses import (
    ResultStatus,
    SourceStatus,
    UnitStatus,
    advance_result_status,
    advance_source_status,
    advance_unit_status,
)

U = UnitStatus
R = ResultStatus


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (None, U.RUNNING),
        (U.SCHEDULED, U.GETTING_READY),
        (U.SCHEDULED, U.FINISHED),  # intermediate snapshots lost
        (U.SCHEDULED, U.UNSCHEDULED),
        (U.GETTING_READY, U.DELAYED),
        (U.DELAYED, U.RUNNING),
        (U.RUNNING, U.INTERRUPTED),
        (U.INTERRUPTED, U.RUNNING),
        (U.POSTPONED, U.RESCHEDULED),
        (U.RESCHEDULED, U.GETTING_READY),
        (U.FINISHED, U.FINISHED),
    ],
)
def test_legal_unit_moves(old: UnitStatus | None, new: UnitStatus) -> None:
    assert advance_unit_status(old, new) is new


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (U.FINISHED, U.RUNNING),
        (U.RUNNING, U.SCHEDULED),
        (U.RUNNING, U.POSTPONED),
        (U.CANCELLED, U.SCHEDULED),
        (U.GETTING_READY, U.UNSCHEDULED),
    ],
)
def test_illegal_unit_moves(old: UnitStatus, new: UnitStatus) -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        advance_unit_status(old, new)

    assert (caught.value.old, caught.value.new) == (old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (None, R.OFFICIAL),
        (R.START_LIST, R.LIVE),
        (R.LIVE, R.INTERMEDIATE),
        (R.INTERMEDIATE, R.LIVE),
        (R.LIVE, R.OFFICIAL),
        (R.OFFICIAL, R.PROTESTED),
        (R.PROTESTED, R.OFFICIAL),
        (R.OFFICIAL, R.PROVISIONAL),
    ],
)
def test_legal_result_moves(old: ResultStatus | None, new: ResultStatus) -> None:
    assert advance_result_status(old, new) is new


@pytest.mark.parametrize(
    ("old", "new"),
    [(R.OFFICIAL, R.LIVE), (R.UNOFFICIAL, R.START_LIST), (R.PROTESTED, R.UNCONFIRMED)],
)
def test_illegal_result_moves(old: ResultStatus, new: ResultStatus) -> None:
    with pytest.raises(IllegalTransitionError):
        advance_result_status(old, new)


def test_source_status_must_change() -> None:
    assert advance_source_status(None, SourceStatus.UP) is SourceStatus.UP
    assert advance_source_status(SourceStatus.UP, SourceStatus.DOWN) is SourceStatus.DOWN
    with pytest.raises(IllegalTransitionError):
        advance_source_status(SourceStatus.DOWN, SourceStatus.DOWN)
