"""ODF result system codes (RSC): the 34-character name of a unit, a phase or an event.

An RSC is five fixed-width fields padded with ``-``::

    ATH  M  100M--------------  FNL-  000100--
    ^3   ^1 ^18                 ^4    ^8        = 34 characters

Unused trailing fields are all dashes, so ``ATHM100M--------------------------`` names the
event and ``ATHM100M--------------FNL---------`` its final phase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flambeau.scenario.errors import UnknownCodeError

__all__ = ["RSC_LENGTH", "Rsc", "parse_rsc", "rsc"]

RSC_LENGTH = 34
_WIDTHS = (3, 1, 18, 4, 8)
_FIELD = re.compile(r"^[A-Z0-9]*$")
_DISCIPLINE = re.compile(r"^[A-Z]{2}[A-Z0-9]$")
_GENDERS = frozenset("MWXO-")


@dataclass(frozen=True, slots=True)
class Rsc:
    """The parts of an RSC, without their padding.

    Attributes:
        discipline: Three letters, e.g. ``SWM``.
        gender: ``M`` men, ``W`` women, ``X`` mixed, ``O`` open.
        event: Up to 18 characters, e.g. ``100MFREE``.
        phase: Up to 4 characters, e.g. ``FNL`` or ``SFNL``.
        unit: Up to 8 characters, e.g. ``000100``.
    """

    discipline: str
    gender: str
    event: str
    phase: str
    unit: str

    def __str__(self) -> str:
        return rsc(self.discipline, self.gender, self.event, self.phase, self.unit)


def rsc(discipline: str, gender: str = "", event: str = "", phase: str = "", unit: str = "") -> str:
    """Build a 34-character RSC from its parts.

    Raises:
        ValueError: a part is too long or holds characters other than ``A-Z`` and ``0-9``.
    """
    parts = (discipline, gender, event, phase, unit)
    out = []
    names = ("discipline", "gender", "event", "phase", "unit")
    for name, part, width in zip(names, parts, _WIDTHS, strict=True):
        if len(part) > width or not _FIELD.match(part):
            raise ValueError(f"RSC {name} {part!r} must be at most {width} of A-Z and 0-9")
        out.append(part.ljust(width, "-"))
    if not _DISCIPLINE.match(discipline):
        raise ValueError(
            f"RSC discipline {discipline!r} must be two letters then a letter or digit"
        )
    if gender and gender not in _GENDERS:
        raise ValueError(f"RSC gender {gender!r} must be one of M, W, X, O")
    return "".join(out)


def parse_rsc(code: str) -> Rsc:
    """Split a 34-character RSC into its parts.

    Raises:
        UnknownCodeError: ``code`` is not 34 characters of ``A-Z``, ``0-9`` and ``-``.
    """
    if len(code) != RSC_LENGTH or not re.fullmatch(r"[A-Z0-9-]+", code):
        raise UnknownCodeError(f"{code!r} is not a {RSC_LENGTH}-character ODF RSC")
    parts = []
    start = 0
    for width in _WIDTHS:
        parts.append(code[start : start + width].rstrip("-"))
        start += width
    return Rsc(*parts)
