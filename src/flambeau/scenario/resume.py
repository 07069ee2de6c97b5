"""Where a rehearsal stopped, kept in its state directory so the next run carries on.

The driver saves, every second and when it stops, the Games time before which every payload
has been answered (its *checkpoint*), together with the options that decide which payloads
exist (seed, first day, start, end, duration, rate multiplier). A later run with the same options
resumes at the checkpoint; anything sent again around it carries the same deterministic ids
and is deduplicated by the platform. A run with other options starts from the beginning.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

from flambeau.files import write_json

__all__ = ["STATE_FILE", "Progress", "RunIdentity", "load", "save"]

STATE_FILE = "simulator.state.json"
_VERSION = 1


@dataclass(frozen=True)
class RunIdentity:
    """The options that decide what a rehearsal sends; a resume needs all of them equal."""

    seed: int
    first_day: date
    start: str | None
    duration: float | None
    rate_multiplier: float
    end: str | None = None


@dataclass(frozen=True)
class Progress:
    """How far a rehearsal got.

    Attributes:
        day: The day being played.
        checkpoint: Games time before which everything was answered (``None``: not started).
        finished: Every day up to the last (or the duration) has been played.
    """

    day: date
    checkpoint: datetime | None
    finished: bool = False


def save(directory: Path, identity: RunIdentity, progress: Progress) -> None:
    """Write the state file atomically."""
    state = {
        "version": _VERSION,
        "identity": {**asdict(identity), "first_day": identity.first_day.isoformat()},
        "day": progress.day.isoformat(),
        "checkpoint": None if progress.checkpoint is None else progress.checkpoint.isoformat(),
        "finished": progress.finished,
    }
    write_json(directory / STATE_FILE, state, indent=1, sort_keys=True)


def load(directory: Path, identity: RunIdentity) -> Progress | None:
    """The saved progress of a run with ``identity``, or ``None`` (no file, other options,
    or a file this version cannot read)."""
    path = directory / STATE_FILE
    try:
        state = json.loads(path.read_text())
        saved = state["identity"]
        same = RunIdentity(
            seed=int(saved["seed"]),
            first_day=date.fromisoformat(saved["first_day"]),
            start=saved["start"],
            duration=saved["duration"],
            rate_multiplier=float(saved["rate_multiplier"]),
            end=saved.get("end"),
        )
        if state.get("version") != _VERSION or same != identity:
            return None
        checkpoint = state["checkpoint"]
        return Progress(
            day=date.fromisoformat(state["day"]),
            checkpoint=None if checkpoint is None else datetime.fromisoformat(checkpoint),
            finished=bool(state.get("finished", False)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
