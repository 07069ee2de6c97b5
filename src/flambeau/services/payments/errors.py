"""Errors the payments service raises on purpose (result codes are data, not exceptions)."""

from __future__ import annotations

from flambeau.errors import FlambeauError, IllegalTransitionError

__all__ = ["IllegalTransferTransitionError", "LedgerStateError", "ReferenceMismatchError"]


class IllegalTransferTransitionError(IllegalTransitionError):
    """A transfer status move the state machine forbids, such as POSTED -> VOIDED."""


class LedgerStateError(FlambeauError):
    """Stored ledger state cannot be loaded: an unknown key prefix or an undecodable value."""


class ReferenceMismatchError(FlambeauError):
    """The reference model saw a decision that applies a transfer twice or resolves a hold twice."""
