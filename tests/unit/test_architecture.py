"""The layering of ARCHITECTURE.md, checked on every import of every module, and no circles.

Dependencies point down: events <- log <- processing <- gateway <- services <- app/cli. A
service may import another service's published contract only: its ``schemas`` module plus the
modules its package names in ``PUBLIC`` (CONTRIBUTING.md, "Service boundaries"), never its
processors, state, routes or package. A service reaches the gateway through its face only
(``from flambeau.gateway import ...``), never through a submodule. The rehearsal is a producer:
it may use services' contracts, never the log, processing or gateway.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import flambeau
import flambeau.gateway

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
    "machine": {"errors", "machine"},
    "log": {"events", "errors", "machine", "log"},
    "processing": {"events", "errors", "machine", "log", "processing"},
    "gateway": {"events", "errors", "machine", "log", "processing", "gateway"},
    "testing": {"events", "errors", "machine", "log", "processing", "testing"},
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


def gateway_violation(target: str) -> str | None:
    """Why a service importing ``target`` bypasses the gateway's face, if it does."""
    parts = target.split(".")
    if parts[1] != "gateway":
        return None
    if len(parts) == 3 and parts[2] in flambeau.gateway.__all__:
        return None
    return f"{target}: import it from flambeau.gateway (its face), not from a submodule"


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
            bypass = gateway_violation(target)
            assert bypass is None, f"{module}: {bypass}"
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


def test_the_face_check_refuses_gateway_submodules() -> None:
    assert gateway_violation("flambeau.gateway.ProblemError") is None
    assert gateway_violation("flambeau.log.Log") is None
    for target in (
        "flambeau.gateway.problems.ProblemError",
        "flambeau.gateway.auth",
        "flambeau.gateway.fanout.Outbox",
        "flambeau.gateway.NotExported",
    ):
        assert gateway_violation(target) is not None


# -- import cycles ------------------------------------------------------------------------------
#
# Every import counts: at module level, under ``if TYPE_CHECKING:`` and inside functions. A
# deferred or type-only import hides a circle from the interpreter, not from the reader: the
# modules still cannot be understood (or moved) one without the other.


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the flambeau modules it imports, resolving ``from x import y`` to ``x.y`` when
    ``y`` is a module and to ``x`` otherwise."""
    paths = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name in paths)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    name = f"{base}.{alias.name}"
                    if name in paths:
                        targets.add(name)
                    elif base in paths:
                        targets.add(base)
        targets.discard(module)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others() -> None:
    graph = import_graph(ROOT)
    assert len(graph) > 100  # the walk found the whole package
    found = cycles(graph)
    assert found == [], "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_cycle_finder_sees_type_only_deferred_and_from_imports(tmp_path: Path) -> None:
    package = tmp_path / "flambeau"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from flambeau.sub import b\n"
    )
    (package / "sub" / "b.py").write_text("def f():\n    from flambeau.sub.c import x\n")
    (package / "sub" / "c.py").write_text("from .a import y\n")
    (package / "d.py").write_text("import flambeau.sub.a\n")
    graph = import_graph(package)
    assert graph["flambeau.d"] == {"flambeau.sub.a"}
    assert cycles(graph) == [["flambeau.sub.a", "flambeau.sub.b", "flambeau.sub.c"]]
