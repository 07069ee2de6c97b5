"""The layering of ARCHITECTURE.md, checked on every import of every module.

Dependencies point down: events <- log <- processing <- gateway <- services <- app/cli. A
service may import another service's published contract only: its ``schemas`` module plus the
modules its package names in ``PUBLIC`` (CONTRIBUTING.md, "Service boundaries"), never its
processors, state, routes or package. The rehearsal is a producer: it may use services'
contracts, never the log, processing or gateway.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import flambeau

ROOT = Path(flambeau.__file__).parent
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())


def published(service: str) -> set[str]:
    """The modules ``service`` names in ``PUBLIC`` (read from its source, not imported)."""
    tree = ast.parse((ROOT / "services" / service / "__init__.py").read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["PUBLIC"]
            and isinstance(node.value, ast.Tuple)
        ):
            return {ast.literal_eval(element) for element in node.value.elts}
    raise AssertionError(f"flambeau.services.{service} does not name its PUBLIC modules")


CONTRACTS = {service: published(service) for service in SERVICES}

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
            # the imported names too: ``from flambeau.services import results`` is the package
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def contract_violation(target: str, own: str | None) -> str | None:
    """Why importing ``target`` from service ``own`` (or the rehearsal) breaks the boundary."""
    parts = target.split(".")
    if parts[1] != "services" or len(parts) < 3 or parts[2] == own:
        return None
    service = parts[2]
    module = parts[3] if len(parts) > 3 else ""
    if service not in CONTRACTS:
        return f"{target} is not a service"
    if module not in CONTRACTS[service]:
        allowed = ", ".join(sorted(f"flambeau.services.{service}.{m}" for m in CONTRACTS[service]))
        return f"{target} is not in {service}'s published contract ({allowed})"
    return None


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
            problem = contract_violation(target, own)
            assert problem is None, f"{module}: {problem}"
            assert top not in {"app", "cli", "scenario", "bench"}, f"{module} imports {target}"
        elif layer == "scenario":
            assert top not in {"log", "processing", "gateway", "app"}, (
                f"the rehearsal is a producer over HTTP: {module} must not import {target}"
            )
            problem = contract_violation(target, None)
            assert problem is None, f"{module}: {problem}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_publishes_its_schemas_and_only_modules_it_has(service: str) -> None:
    contract = CONTRACTS[service]
    assert "schemas" in contract
    for name in contract:
        assert (ROOT / "services" / service / f"{name}.py").exists(), f"{service}.{name}"


def test_the_boundary_check_refuses_what_is_not_published() -> None:
    assert contract_violation("flambeau.services.results.schemas.UNITS", "betting") is None
    assert contract_violation("flambeau.services.results.odf_builder.x", None) is None
    assert contract_violation("flambeau.services.betting.trading.Trading", "betting") is None
    for target in (
        "flambeau.services.results.liveness.observe",
        "flambeau.services.results.LivenessPolicy",
        "flambeau.services.payments.state.Ledger",
    ):
        problem = contract_violation(target, "betting")
        assert problem is not None
        assert "published contract" in problem
