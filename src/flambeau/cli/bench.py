"""``flambeau bench NAME``: run one benchmark (or ``all``) and print its figures."""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Annotated

import typer
from rich.console import Console

import flambeau.bench
from flambeau.bench._common import machine

console = Console(stderr=True)


def available() -> list[str]:
    """Benchmark names: the public modules of :mod:`flambeau.bench`."""
    return sorted(
        m.name for m in pkgutil.iter_modules(flambeau.bench.__path__) if not m.name.startswith("_")
    )


def register(app: typer.Typer) -> None:
    """Add ``bench`` to ``app``."""

    @app.command()
    def bench(
        name: Annotated[str, typer.Argument(help="Benchmark name, or 'all'.")],
        quick: Annotated[bool, typer.Option("--quick", help="Finish in under 30 s.")] = False,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print one JSON object as the last line.")
        ] = False,
    ) -> None:
        """Measure one benchmark, or all of them.

        Names: log, process, e2e, chain, fanout, nats, ledger, betting, analytics, crowds,
        mobility, rentals.
        """
        names = available() if name == "all" else [name]
        for one in names:
            if one not in available():
                raise typer.BadParameter(
                    f"unknown benchmark {one!r}; choose from: {', '.join(available())}",
                    param_hint="NAME",
                )
        for one in names:
            module = importlib.import_module(f"flambeau.bench.{one}")
            console.rule(f"bench {one}{' (quick)' if quick else ''}")
            result = module.run(quick=quick)
            result = {"bench": one, **result, "machine": machine()}
            if as_json:
                print(json.dumps(result, sort_keys=False))
            else:
                console.print_json(data=result)
