"""The dashboard's generated reference data matches the scenario it is generated from.

Not a browser test: it runs with the unit tests, so a venue edited in ``flambeau.scenario``
without regenerating ``scenario-data.js`` fails CI.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from flambeau.scenario.venues import VENUES

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "dashboard_data.py"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dashboard_data", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_module_is_what_the_script_generates() -> None:
    module = generator()
    committed = module.OUTPUT.read_text(encoding="utf-8")
    assert committed == module.render(), (
        "scenario-data.js is stale: run .venv/bin/python scripts/dashboard_data.py"
    )


def test_every_venue_is_in_the_module_with_its_coordinates() -> None:
    text = generator().render()
    for venue in VENUES:
        line = re.search(rf'\{{"code": "{venue.code}".*\}}', text)
        assert line is not None, venue.code
        assert f'"lat": {round(venue.latitude, 6)}' in line.group(0)
        assert f'"lon": {round(venue.longitude, 6)}' in line.group(0)


def test_check_mode_fails_on_a_stale_file(tmp_path: Path) -> None:
    module = generator()
    module.OUTPUT = tmp_path / "scenario-data.js"
    module.OUTPUT.write_text("// stale\n", encoding="utf-8")
    assert module.main(["--check"]) == 1
    assert module.main([]) == 0
    assert module.main(["--check"]) == 0
