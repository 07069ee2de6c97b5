"""Payments: a TigerBeetle-style double-entry ledger with holds, linked chains and fraud rules.

Modules: :mod:`.schemas` (stream payloads), :mod:`.ledger` (the model), :mod:`.decisions`
(requests to decision events), :mod:`.fraud` and :mod:`.velocity` (rules and counters),
:mod:`.invariants` (checks), :mod:`.reference` (an independent model for recovery tests).
"""
