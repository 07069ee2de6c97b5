"""Crowds: gate counters and area density sensors in, venue occupancy and levels of service out.

Modules: :mod:`.schemas` (stream payloads), :mod:`.levels` (Fruin levels and the crowd alert
state machine), :mod:`.processors` (the occupancy processor), :mod:`.views` and
:mod:`.routes` (``GET /v1/crowds/venues``).
"""

PUBLIC = ("schemas",)
"""The published contract (see CONTRIBUTING.md): only the stream payloads."""
