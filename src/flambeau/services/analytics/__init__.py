"""Analytics: per-minute KPIs per venue, SQL over the recent past.

Modules: :mod:`.schemas` (stream payloads), :mod:`.processors` (the re-keying stages and the
KPI windows), :mod:`.buffers` (Arrow buffers of the last minutes, kept live by a view),
:mod:`.sql` (the read-only DuckDB surface) and :mod:`.routes` (``POST /v1/analytics/sql``,
``GET /v1/analytics/kpis``).
"""

PUBLIC = ("schemas",)
"""The published contract (see CONTRIBUTING.md): only the stream payloads."""
