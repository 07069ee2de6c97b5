"""Entry point of the ``flambeau`` command; each command group lives in its own module."""

from __future__ import annotations

import typer

from flambeau.cli import bench, gateway, keys, simulate, tail, up, worker

app = typer.Typer(
    name="flambeau",
    help="Flambeau: the immediate-data backbone for mega-events.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

for module in (up, simulate, tail, bench, gateway, keys, worker):
    module.register(app)


def main() -> None:
    """Run the ``flambeau`` command."""
    app()


if __name__ == "__main__":
    main()
