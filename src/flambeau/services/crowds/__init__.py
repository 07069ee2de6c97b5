"""Crowds: gate counters and area density sensors in, venue occupancy and levels of service out.

Modules: :mod:`.schemas` (stream payloads), :mod:`.levels` (Fruin levels and the crowd alert
state machine), :mod:`.processors` (the occupancy processor), :mod:`.views` and
:mod:`.routes` (``GET /v1/crowds/venues``).
"""

PUBLIC = ("schemas", "levels")
"""The published contract (see CONTRIBUTING.md): the stream payloads, and Fruin's levels of
service (pure functions), which producers such as the rehearsal use to judge what they send."""
