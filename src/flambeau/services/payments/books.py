"""Each ledger partition's decoded state, kept in memory from one batch to the next.

The runtime keeps a processor's state as encoded key/value pairs (``tx.state``). Decoding ten
thousand accounts for every batch would cost more than applying the batch, so the ledger
processor keeps each partition's :class:`Book` (its :class:`~.decisions.PaymentsState` and its
:class:`~.monitor.Monitor`) between batches, and writes only the keys a batch changed.

A kept book is only used while it provably equals the committed state: at the end of every
batch the processor stores a fresh random *token* in the state (key ``p/token``) and files the
book under it. The next batch reads the token from ``tx.state``; the book filed under that
token is the state as of that commit. Anything else forces a reload from ``tx.state``:

- the handler raised half-way (the runtime then discards the batch's writes, and the book,
  taken off the shelf when the batch began, was never filed back);
- the partition was reloaded from the log by a new engine whose last commit differs from the
  book, say after a crash, or after another worker processed the partition meanwhile;
- two logs in one process run the same processor (tests): their tokens differ.

The shelf keeps one book per (processor, partition) (:data:`KEEP`): a book left behind by a
stopped engine is dropped when the partition's next book is filed, so a long-running worker
never holds two copies of a partition. (Two logs running the same processor in one process
would take turns reloading: still correct, only slower.)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from flambeau.processing import Transaction
from flambeau.services.payments.decisions import PaymentsState
from flambeau.services.payments.fraud import DEFAULT_RULES, Rule
from flambeau.services.payments.monitor import Monitor
from flambeau.services.payments.schemas import LedgerChecked

__all__ = ["KEEP", "OWN_PREFIX", "TOKEN_KEY", "Book", "Shelf"]

OWN_PREFIX = "p/"
"""State keys of the processor itself, beside the ledger's and the fraud engine's."""
TOKEN_KEY = OWN_PREFIX + "token"
KEEP = 1


class Book:
    """One partition's decoded state and invariant monitor.

    Attributes:
        state: The ledger and fraud counters.
        monitor: The continuous invariant checks.
        loaded: The full check made when the book was loaded, until the processor emits it.
    """

    __slots__ = ("loaded", "monitor", "state")

    def __init__(self, state: PaymentsState, monitor: Monitor, loaded: LedgerChecked | None):
        self.state = state
        self.monitor = monitor
        self.loaded = loaded


class Shelf:
    """Books by (processor, partition) and token; see the module docstring."""

    def __init__(self, rules: Sequence[Rule] = DEFAULT_RULES) -> None:
        self.rules = tuple(rules)
        self.loads = 0
        self._books: dict[tuple[str, int], dict[bytes, Book]] = {}

    def take(self, tx: Transaction) -> Book:
        """The book of ``tx``'s partition as of its last commit, loaded if not kept.

        Raises:
            LedgerStateError: the stored state does not load.
        """
        token = tx.state.get(TOKEN_KEY, bytes)
        slot = self._books.get((tx.processor, tx.partition))
        book = None if token is None or slot is None else slot.pop(token, None)
        if book is None:
            return self._load(tx)
        book.state.ledger.transfers.read = tx.state.committed()  # this engine's store
        return book

    def file(self, tx: Transaction, book: Book) -> None:
        """Keep ``book`` under a fresh token, written to ``tx.state`` with the batch."""
        token = os.urandom(16)
        tx.state.put(TOKEN_KEY, token)
        slot = self._books.setdefault((tx.processor, tx.partition), {})
        slot[token] = book
        while len(slot) > KEEP:
            del slot[next(iter(slot))]

    def _load(self, tx: Transaction) -> Book:
        self.loads += 1
        state = PaymentsState.load(
            tx.state.stored(skip=(OWN_PREFIX,)), self.rules, read=tx.state.committed()
        )
        monitor = Monitor(tx.partition)
        return Book(state, monitor, monitor.start(state.ledger))
