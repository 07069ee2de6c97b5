"""Options shared by several commands: where data lives and which log to open."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA = Path("flambeau-data")


def data_dir(explicit: Path | None) -> Path:
    """``--data``, else ``$FLAMBEAU_DATA``, else ``./flambeau-data``; created if missing."""
    path = explicit or Path(os.environ.get("FLAMBEAU_DATA", DEFAULT_DATA))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_url(explicit: str | None, data: Path) -> str:
    """``--log``, else ``$FLAMBEAU_LOG``, else the embedded SQLite log in the data directory."""
    return explicit or os.environ.get("FLAMBEAU_LOG") or f"sqlite:///{data / 'log.db'}"
