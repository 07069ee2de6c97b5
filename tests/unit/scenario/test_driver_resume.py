"""The checkpoint file: a run resumes only a run with the same options."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from flambeau.scenario.resume import STATE_FILE, Progress, RunIdentity, load, save

IDENTITY = RunIdentity(seed=3, first_day=date(2024, 8, 4), start="18:00:00", duration=600.0,
                       rate_multiplier=1.0)  # fmt: skip


def test_progress_round_trips_for_the_same_options(tmp_path: Path) -> None:
    progress = Progress(date(2024, 8, 4), datetime(2024, 8, 4, 16, 5, 3, tzinfo=UTC))
    save(tmp_path, IDENTITY, progress)
    assert load(tmp_path, IDENTITY) == progress
    save(tmp_path, IDENTITY, Progress(date(2024, 8, 5), None, finished=True))
    assert load(tmp_path, IDENTITY) == Progress(date(2024, 8, 5), None, finished=True)


def test_other_options_start_over(tmp_path: Path) -> None:
    save(tmp_path, IDENTITY, Progress(date(2024, 8, 4), None))
    for other in (
        RunIdentity(4, date(2024, 8, 4), "18:00:00", 600.0, 1.0),
        RunIdentity(3, date(2024, 8, 5), "18:00:00", 600.0, 1.0),
        RunIdentity(3, date(2024, 8, 4), None, 600.0, 1.0),
        RunIdentity(3, date(2024, 8, 4), "18:00:00", None, 1.0),
        RunIdentity(3, date(2024, 8, 4), "18:00:00", 600.0, 2.0),
    ):
        assert load(tmp_path, other) is None


def test_a_missing_or_damaged_file_means_no_progress(tmp_path: Path) -> None:
    assert load(tmp_path, IDENTITY) is None
    (tmp_path / STATE_FILE).write_text("{not json")
    assert load(tmp_path, IDENTITY) is None
    (tmp_path / STATE_FILE).write_text('{"version": 1}')
    assert load(tmp_path, IDENTITY) is None
