"""The layering of ARCHITECTURE.md, checked on every import of every module.

Dependencies point down: events <- log <- processing <- gateway <- services <- app/cli. A
service may read another service's published contract (its ``schemas`` module, and the ODF
wire format the results service publishes), never its processors, state or routes. The
rehearsal is a producer: it may use services' contracts, never the log, processing or gateway.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import flambeau

ROOT = Path(flambeau.__file__).parent
CONTRACTS = {"schemas", "odf_builder", "errors"}

ALLOWED: dict[str, set[str]] = {
    "events": {"events", "errors"},
    "errors": {"errors"},
    "log": {"events", "errors", "log"},
    "processing": {"events", "errors", "log", "processing"},
    "gateway": {"events", "errors", "log", "processing", "gateway"},
    "testing": {"events", "errors", "log", "processing", "testing"},
}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found.append((".".join(("flambeau", *parts)), path))
    return found


def flambeau_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names if a.name.startswith("flambeau"))
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").startswith("flambeau")
        ):
            names.append(str(node.module))
    return names


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_module_imports_respect_the_layers(module: str, path: Path) -> None:
    layer = module.split(".")[1] if module.count(".") else ""
    for target in flambeau_imports(path):
        parts = target.split(".")
        if len(parts) < 2:
            continue
        top = parts[1]
        if layer in ALLOWED:
            assert top in ALLOWED[layer], f"{module} ({layer}) must not import {target}"
        elif layer == "services":
            own = module.split(".")[2]
            if top == "services" and len(parts) > 2 and parts[2] != own:
                contract = parts[3] if len(parts) > 3 else ""
                assert contract in CONTRACTS, (
                    f"{module} may use another service's contract only, not {target}"
                )
            assert top not in {"app", "cli", "scenario", "bench"}, f"{module} imports {target}"
        elif layer == "scenario":
            assert top not in {"log", "processing", "gateway", "app"}, (
                f"the rehearsal is a producer over HTTP: {module} must not import {target}"
            )
            if top == "services":
                contract = parts[3] if len(parts) > 3 else ""
                assert contract in CONTRACTS, f"{module} imports {target}"
