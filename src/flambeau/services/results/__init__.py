"""Results: Olympic Data Feed (ODF) parsing, normalized results events and pure reducers.

Importing the package registers its streams (``results.odf``, ``results.units``,
``results.schedule``, ``results.medals``, ``results.records``, ``results.test``, ...) in
:data:`flambeau.events.default_registry`; its sources' liveness goes to ``ops.health``, the
ops service's stream (:mod:`flambeau.services.ops.schemas`).

- :mod:`.odf` parses ODF XML safely; :mod:`.odf_builder` writes it.
- :mod:`.schemas` holds the normalized events (the native JSON form), defined in
  :mod:`.payloads` and :mod:`.vocabulary` and re-exported there.
- :mod:`.units`, :mod:`.schedule`, :mod:`.medals`, :mod:`.liveness` are pure reducers a
  processor wraps: ``step = apply(state, input)``, then store ``step.state`` and emit
  ``step.emits``.
- :mod:`.processors` runs them over ``results.odf`` and ``results.native`` (registered in
  :data:`flambeau.processing.default_processors`); :mod:`.documents` reads their input.
- :mod:`.routes` lists the HTTP routes: the ODF and native adapters (:mod:`.adapters`) and
  the queries, which answer from the read models in :mod:`.views`.
"""

from flambeau.services.results.liveness import LivenessPolicy, SourceHealth, check, observe
from flambeau.services.results.medals import MedalBook, apply_medallists, standings
from flambeau.services.results.odf import ParsedOdf, parse, stream_key
from flambeau.services.results.outcomes import Emit, Step, Verdict
from flambeau.services.results.schedule import ScheduleState, apply_schedule
from flambeau.services.results.units import UnitDocState, apply_result, fold_unit

PUBLIC = ("schemas", "odf_builder", "codes")
"""The published contract: the stream payloads, the ODF writer producers (the rehearsal)
use to speak the feed the adapters read, and the result system codes (RSC) both sides build
and parse. Nothing else here may be imported by another
service or the rehearsal (see CONTRIBUTING.md)."""

__all__ = [
    "Emit",
    "LivenessPolicy",
    "MedalBook",
    "ParsedOdf",
    "ScheduleState",
    "SourceHealth",
    "Step",
    "UnitDocState",
    "Verdict",
    "apply_medallists",
    "apply_result",
    "apply_schedule",
    "check",
    "fold_unit",
    "observe",
    "parse",
    "standings",
    "stream_key",
]
