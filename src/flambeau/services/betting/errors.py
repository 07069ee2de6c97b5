"""Errors the betting service raises on purpose (rejections are reason codes, not exceptions)."""

from __future__ import annotations

from flambeau.errors import FlambeauError, IllegalTransitionError

__all__ = [
    "IllegalMarketTransitionError",
    "IllegalTicketTransitionError",
    "InvalidFixtureError",
    "InvalidResultError",
    "InvalidSpecifiersError",
    "UnknownSportError",
    "UnsettleableMarketError",
]


class IllegalMarketTransitionError(IllegalTransitionError):
    """A market status move the state machine forbids, such as SETTLED -> ACTIVE."""


class IllegalTicketTransitionError(IllegalTransitionError):
    """A ticket state move the machine in ``ticket_records``' docstring forbids."""


class InvalidSpecifiersError(FlambeauError):
    """A market specifier string is not ``key=value`` pairs joined by ``|``."""


class UnknownSportError(FlambeauError):
    """A sport name or ODF discipline code has no pricing profile."""


class InvalidFixtureError(FlambeauError):
    """A schedule entry cannot carry markets: wrong number of competitors, duplicate ids."""


class InvalidResultError(FlambeauError):
    """An official result does not fit its event: negative scores, unknown competitors."""


class UnsettleableMarketError(FlambeauError):
    """A market cannot be settled from the result given, such as a next-goal market without the
    order of goals."""
