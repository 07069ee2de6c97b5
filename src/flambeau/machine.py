"""One small state-machine helper: a table of moves and the ``transition`` that enforces it.

Every state machine in Flambeau is an ``Enum`` plus a :class:`Machine`: NATS leases,
subscriptions (fan-out), partition tasks (runtime), tickets, markets, transfers (payments),
unit, result and source statuses (results) and the rehearsal's result documents. Each module
draws its diagram in its docstring and writes the table once::

    MOVES = Machine("lease", {HELD: {DRAINING, LOST}, DRAINING: {RELEASED, LOST}})
    status = MOVES.transition(status, LeaseStatus.DRAINING)

A state missing from the table is final. ``None`` may stand for "no state yet" (a new
transfer). A forbidden move raises :class:`~flambeau.errors.IllegalTransitionError`, or the
subclass the machine names, with a message naming the machine and both states.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from enum import Enum
from typing import Generic, TypeVar

from flambeau.errors import IllegalTransitionError

__all__ = ["Machine"]

S = TypeVar("S", bound=Hashable)


def _say(state: object) -> str:
    if state is None:
        return "nothing"
    return str(state.value) if isinstance(state, Enum) else str(state)


class Machine(Generic[S]):
    """A state machine's moves table and its one :meth:`transition`.

    Args:
        name: What moves, for messages (``"lease"``, ``"partition task"``).
        moves: Each state (``None``: no state yet) and the states it may move to.
        error: The error to raise, :class:`IllegalTransitionError` or a subclass of it.
        explain: Builds the message from ``(current, target, subject)``; by default
            ``"a <name> cannot go from <current> to <target>"`` (``subject`` replaces
            ``"a <name>"`` when given).
    """

    def __init__(
        self,
        name: str,
        moves: Mapping[S | None, Iterable[S]],
        *,
        error: type[IllegalTransitionError] = IllegalTransitionError,
        explain: Callable[[S | None, S, str], str] | None = None,
    ) -> None:
        self.name = name
        self.moves: dict[S | None, frozenset[S]] = {s: frozenset(t) for s, t in moves.items()}
        self.error = error
        self._explain = explain or self._default

    def _default(self, current: S | None, target: S, subject: str) -> str:
        return f"{subject or 'a ' + self.name} cannot go from {_say(current)} to {_say(target)}"

    def allowed(self, current: S | None) -> frozenset[S]:
        """The states ``current`` may move to (none for a final state)."""
        return self.moves.get(current, frozenset())

    def transition(self, current: S | None, target: S, *, subject: str = "") -> S:
        """Return ``target`` if the table allows moving there from ``current``.

        Args:
            current: The state now (``None``: no state yet).
            target: The state asked for.
            subject: Names the thing moving in the message (``"market sr:match:1 18"``).

        Raises:
            IllegalTransitionError: (or the machine's subclass) the table has no such move.
        """
        if target not in self.allowed(current):
            message = self._explain(current, target, subject)
            raise self.error(message, machine=self.name, old=current, new=target)
        return target
