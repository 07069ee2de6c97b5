"""Small files other processes read while we write them: run files, status, resume state."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json(path: Path, value: Any, **dumps: Any) -> None:
    """Write ``value`` as JSON to ``path`` atomically: a reader sees the old file or the new one,
    never an empty or half-written one (a script polling for ``run.json`` may read it at once).
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(value, **dumps))
    os.replace(temporary, path)
