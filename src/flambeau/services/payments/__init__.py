"""Payments: a TigerBeetle-style double-entry ledger with holds, linked chains and fraud rules.

Modules: :mod:`.schemas` (stream payloads), :mod:`.results` (result codes), :mod:`.status`
(the transfer state machine), :mod:`.state` (stored state), :mod:`.ledger` (the model),
:mod:`.decisions` (requests to decision events, per partition), :mod:`.fraud` and
:mod:`.velocity` (rules and counters), :mod:`.invariants` (checks), :mod:`.reference` (an
independent model for recovery tests), :mod:`.throughput` (a micro-measurement).
"""
