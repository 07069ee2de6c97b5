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

from flambeau.machine import Machine
from flambeau.services.payments.errors import IllegalTransferTransitionError

__all__ = ["TransferStatus", "transition"]


class TransferStatus(StrEnum):
    """Where a transfer's money is: held (PENDING), moved (POSTED) or released."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


def _explain(current: TransferStatus | None, target: TransferStatus, _: str) -> str:
    start = "new" if current is None else current.name
    return (
        f"a transfer cannot move from {start} to {target.name}; "
        "a pending transfer resolves at most once"
    )


_MOVES = Machine(
    "transfer",
    {
        None: {TransferStatus.PENDING, TransferStatus.POSTED},
        TransferStatus.PENDING: {
            TransferStatus.POSTED,
            TransferStatus.VOIDED,
            TransferStatus.EXPIRED,
        },
    },
    error=IllegalTransferTransitionError,
    explain=_explain,
)
transition = _MOVES.transition
"""Move a transfer from its status (``None`` for a new transfer) to one the diagram allows,
returning it (``status = transition(status, POSTED)``); else IllegalTransferTransitionError."""
