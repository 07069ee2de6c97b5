"""Payments: a TigerBeetle-style double-entry ledger with holds, linked chains and fraud rules.

The model: :mod:`.schemas` (stream payloads), :mod:`.results` (result codes), :mod:`.status`
(the transfer state machine), :mod:`.state` (stored state), :mod:`.ledger` (the model),
:mod:`.decisions` (requests to decision events, per partition), :mod:`.fraud` and
:mod:`.velocity` (rules and counters), :mod:`.invariants` (full checks), :mod:`.reference`
(an independent model for recovery tests). Its workload and micro-measurement live in
:mod:`flambeau.bench._ledger_loop`.

On the platform: :mod:`.processors` (the ``payments.ledger`` processor), :mod:`.books` (each
partition's decoded state, kept between batches), :mod:`.monitor` (invariant checks after every
batch), :mod:`.views` (read models), :mod:`.api` and :mod:`.routes` (the HTTP API),
:mod:`.metrics` (the invariants as gauges). See ``docs/payments.md``.
"""

PUBLIC = ("schemas",)
"""The published contract (see CONTRIBUTING.md): only the stream payloads."""
