"""One error idiom: every exception class Flambeau defines derives from FlambeauError."""

from __future__ import annotations

import importlib
import pkgutil

import flambeau
from flambeau.errors import FlambeauError


def flambeau_exceptions() -> list[type[BaseException]]:
    """Every exception class defined in a ``flambeau`` module, after importing them all."""
    for found in pkgutil.walk_packages(flambeau.__path__, "flambeau."):
        if found.name.rpartition(".")[2] != "__main__":
            importlib.import_module(found.name)
    classes: list[type[BaseException]] = []
    pending: list[type[BaseException]] = [BaseException]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in classes and sub not in pending:
                pending.append(sub)
        if cls.__module__.split(".")[0] == "flambeau":
            classes.append(cls)
    return sorted(set(classes), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def test_every_exception_derives_from_flambeau_error() -> None:
    classes = flambeau_exceptions()
    assert len(classes) > 40  # the walk found the services' errors too
    strays = [
        f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, FlambeauError)
    ]
    assert strays == [], "derive these from FlambeauError (CONTRIBUTING.md, Errors): " + ", ".join(
        strays
    )
