"""Analytics: per-minute KPIs per venue, SQL over the recent past, next-hour forecast.

Modules: :mod:`.schemas` (stream payloads), :mod:`.processors` (the re-keying stages and the
KPI windows), :mod:`.ends` (units' estimated ends carried to their venue), :mod:`.buffers`
(Arrow buffers of the last hour, kept live by a view), :mod:`.sql` (the read-only DuckDB
surface), :mod:`.forecast` and :mod:`.planning` (next-hour forecast and actions) and
:mod:`.routes` (``POST /v1/analytics/sql``, ``GET /v1/analytics/kpis``,
``GET /v1/analytics/forecast``).
"""

PUBLIC = ("schemas",)
"""The published contract (see CONTRIBUTING.md): only the stream payloads."""
