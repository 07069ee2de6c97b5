"""The transfer status state machine."""

from __future__ import annotations

import pytest

from flambeau.services.payments.errors import IllegalTransferTransitionError
from flambeau.services.payments.status import TransferStatus as S
from flambeau.services.payments.status import transition

LEGAL = {
    (None, S.PENDING),
    (None, S.POSTED),
    (S.PENDING, S.POSTED),
    (S.PENDING, S.VOIDED),
    (S.PENDING, S.EXPIRED),
}
ALL = [(start, end) for start in [None, *S] for end in S]


@pytest.mark.parametrize(("start", "end"), sorted(LEGAL, key=str))
def test_legal_moves_return_the_new_status(start: S | None, end: S) -> None:
    assert transition(start, end) is end


@pytest.mark.parametrize(("start", "end"), [move for move in ALL if move not in LEGAL], ids=str)
def test_illegal_moves_raise_and_name_both_ends(start: S | None, end: S) -> None:
    with pytest.raises(IllegalTransferTransitionError, match=end.name):
        transition(start, end)


def test_a_hold_resolves_at_most_once() -> None:
    status = transition(transition(None, S.PENDING), S.POSTED)
    for again in (S.VOIDED, S.EXPIRED, S.POSTED):
        with pytest.raises(IllegalTransferTransitionError, match="at most once"):
            transition(status, again)
