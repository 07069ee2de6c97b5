"""The online crowd anomaly detector: ``crowds.features`` in, ``crowd_anomaly`` out.

One model per zone: river's :class:`river.anomaly.StandardAbsoluteDeviation` (the "3 sigma"
rule, streaming; Hochenbaum et al. 2017, via PySAD) over the zone's density ``trend`` (change
per minute, from :mod:`.features`). After :data:`WARM_UP` windows, a window whose trend lies
more than :data:`THRESHOLD` standard deviations from the zone's mean, upwards, while the zone
holds at least :data:`MIN_DENSITY` people per square metre, raises a :class:`CrowdAnomaly` on
``crowds.anomalies``. Every window is then learned, so the model follows each zone's own
rhythm (an egress that happens every evening is normal there).

Each zone's model is kept in the processor's state (``m/<venue>/<zone>``) as a pickle written
and read by this processor only, so a restart resumes the same model. Limits: one feature
(the trend), no seasonality, and the first :data:`WARM_UP` windows of a zone flag nothing.
"""

from __future__ import annotations

import pickle
from typing import Any

from river import anomaly

from flambeau.processing import Batch, Processor, Transaction, default_processors
from flambeau.services.crowds.schemas import ANOMALIES, FEATURES, CrowdAnomaly, ZoneFeatures

__all__ = ["MIN_DENSITY", "THRESHOLD", "WARM_UP", "detector", "model_key"]

WARM_UP = 30
"""Windows learned (5 minutes at 10 s) before a zone's model may flag anything."""
THRESHOLD = 8.0
"""How many standard deviations from its mean the trend must lie to be flagged."""
MIN_DENSITY = 2.0
"""People per square metre below which nothing is flagged (Still's stable-flow band ends at
2.5): a quiet zone filling fast is not yet a crowd anomaly."""


def model_key(venue: str, zone: str) -> str:
    """The state key of a zone's model."""
    return f"m/{venue}/{zone}"


detector = Processor("crowds.anomaly", inputs=[FEATURES], outputs=[ANOMALIES])
default_processors.register(detector)


@detector.on_batch
def apply(batch: Batch[Any], tx: Transaction) -> None:
    """Score each window against its zone's model, flag the outliers, then learn the window."""
    models: dict[str, tuple[Any, int]] = {}
    for record in batch:
        features: ZoneFeatures = record.data
        key = model_key(features.venue, features.zone)
        model, seen = models.get(key) or _load(tx, key)
        if seen >= WARM_UP and features.trend > 0 and features.density >= MIN_DENSITY:
            score = float(model.score_one(None, features.trend))
            if score >= THRESHOLD:
                flagged = CrowdAnomaly(
                    venue=features.venue,
                    zone=features.zone,
                    window_end=features.window_end,
                    score=round(score, 2),
                    density=features.density,
                    trend=features.trend,
                )
                tx.emit(ANOMALIES, flagged, key=features.venue, causation_id=record.id)
        model.learn_one(None, features.trend)
        models[key] = (model, seen + 1)
    for key, kept in models.items():
        tx.state.put(key, pickle.dumps(kept))


def _load(tx: Transaction, key: str) -> tuple[Any, int]:
    raw = tx.state.get(key, bytes)
    if raw is None:
        return anomaly.StandardAbsoluteDeviation(), 0
    model, seen = pickle.loads(raw)  # noqa: S301 - written by this processor only
    return model, int(seen)
