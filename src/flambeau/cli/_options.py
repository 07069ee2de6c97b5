"""Options shared by several commands: where data lives and which log to open."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DATA = Path("flambeau-data")

DataOption = Annotated[
    Path | None, typer.Option("--data", help="Data directory.", envvar="FLAMBEAU_DATA")
]
"""``--data``, as every command that keeps or reads data takes it (see :func:`data_dir`)."""
LogOption = Annotated[
    str | None, typer.Option("--log", help="Log URL (default: the data dir's SQLite).")
]
"""``--log``, as the commands that only read or process the log take it (see :func:`log_url`)."""


def data_dir(explicit: Path | None) -> Path:
    """``--data``, else ``$FLAMBEAU_DATA``, else ``./flambeau-data``; created if missing."""
    path = explicit or Path(os.environ.get("FLAMBEAU_DATA", DEFAULT_DATA))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_url(explicit: str | None, data: Path) -> str:
    """``--log``, else ``$FLAMBEAU_LOG``, else the embedded SQLite log in the data directory."""
    return explicit or os.environ.get("FLAMBEAU_LOG") or f"sqlite:///{data / 'log.db'}"
