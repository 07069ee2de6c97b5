"""The status of a transfer's money movement, as an explicit state machine.

::

                      (single-phase transfer)
        (new) ─────────────────────────────────────▶ POSTED
          │
          │ (pending transfer)
          ▼
        PENDING ──post_pending_transfer─────────────▶ POSTED
          │  │
          │  └──────void_pending_transfer───────────▶ VOIDED
          │
          └────────timeout passed (event time)──────▶ EXPIRED

POSTED, VOIDED and EXPIRED are final: a pending transfer resolves at most once. Post and void
transfers are instructions that take effect at once, so their own status is POSTED. A partial
post is still POSTED; the part of the hold it did not post is released.
"""

from __future__ import annotations

from enum import StrEnum

from flambeau.services.payments.errors import IllegalTransferTransitionError

__all__ = ["TransferStatus", "transition"]


class TransferStatus(StrEnum):
    """Where a transfer's money is: held (PENDING), moved (POSTED) or released."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


_ALLOWED: dict[TransferStatus | None, frozenset[TransferStatus]] = {
    None: frozenset({TransferStatus.PENDING, TransferStatus.POSTED}),
    TransferStatus.PENDING: frozenset(
        {TransferStatus.POSTED, TransferStatus.VOIDED, TransferStatus.EXPIRED}
    ),
    TransferStatus.POSTED: frozenset(),
    TransferStatus.VOIDED: frozenset(),
    TransferStatus.EXPIRED: frozenset(),
}


def transition(current: TransferStatus | None, target: TransferStatus) -> TransferStatus:
    """Move a transfer from ``current`` (``None`` for a new transfer) to ``target``.

    Returns:
        ``target``, so callers can write ``status = transition(status, POSTED)``.

    Raises:
        IllegalTransferTransitionError: the diagram in this module has no such arrow.
    """
    if target not in _ALLOWED[current]:
        start = "new" if current is None else current.name
        raise IllegalTransferTransitionError(
            f"a transfer cannot move from {start} to {target.name}; "
            "a pending transfer resolves at most once"
        )
    return target
