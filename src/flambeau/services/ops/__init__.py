"""Ops: the liveness of every source, whatever its kind, on ``ops.health``.

Published contract: :mod:`.schemas` (``ops.heartbeats``, ``ops.health`` and their events).
The other modules are the service's own: :mod:`.liveness` (the pure reducer), :mod:`.watches`
(the streams whose events count as signs of life), :mod:`.processors`, :mod:`.views` and
:mod:`.routes` (``GET /v1/ops/sources``). See docs/ops.md.
"""

PUBLIC = ("schemas",)
"""The published contract (see CONTRIBUTING.md): only the stream payloads."""
