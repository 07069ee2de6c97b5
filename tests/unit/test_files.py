"""``write_json``: readers see the old file or the new one, never a partial one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flambeau.files import write_json


def test_the_file_is_replaced_whole_and_no_temporary_is_left(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"url": "old"}))
    inode = path.stat().st_ino

    write_json(path, {"url": "http://127.0.0.1:8000", "pid": 1}, sort_keys=True)

    assert json.loads(path.read_text()) == {"pid": 1, "url": "http://127.0.0.1:8000"}
    assert path.stat().st_ino != inode  # renamed over, not rewritten in place
    assert os.listdir(tmp_path) == ["run.json"]


def test_a_value_that_cannot_be_written_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    write_json(path, {"day": 1})
    with pytest.raises(TypeError):
        write_json(path, {"day": object()})
    assert json.loads(path.read_text()) == {"day": 1}
    assert os.listdir(tmp_path) == ["status.json"]
