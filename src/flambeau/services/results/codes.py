"""ODF codes: the results system code (RSC), competition shapes by discipline, result times.

An RSC is 34 characters in five fixed-width parts, each padded on the right with ``-``::

    SWM  W  100MFR------------  FNL-  000100--
    ^3   ^1 ^18                 ^4    ^8

The discipline is two letters then a letter or a digit (``SWM``, ``BK3`` for 3x3 basketball,
``RU7`` for rugby sevens); other parts may hold dashes of their own (judo's
``JUDM-60KG``). A code names a discipline, an event, a phase or a unit: the
parts below its level are all padding (``SWMW100MFR------------------------`` is an event), so
a blank part is never followed by a filled one.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flambeau.services.results.errors import InvalidRscError

__all__ = [
    "COMPETITION_CODE",
    "GAMES_TZ",
    "ORGANISATION_CODE",
    "RSC_LENGTH",
    "SHORT_CODE",
    "Level",
    "Rsc",
    "Shape",
    "format_time_ms",
    "games_timezone",
    "parse_rsc",
    "parse_time_ms",
    "rsc",
    "rsc_pattern",
    "shape_of_discipline",
]

RSC_LENGTH = 34
COMPETITION_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
"""ODF competition codes: ``OG2024``, ``SYOG-2026``."""
ORGANISATION_CODE = r"^[A-Z][A-Z0-9]{1,9}$"
"""NOC and other organisation codes: ``FRA``, ``AIN``, ``EOR``."""
SHORT_CODE = r"^[A-Z][A-Z0-9]{0,7}$"
"""Short ODF codes of marks: records (``WR``, ``OR``) and invalid result marks (``DNF``)."""

_PARTS = (("discipline", 3), ("gender", 1), ("event", 18), ("phase", 4), ("unit", 8))
_CHARSET = re.compile(r"^[A-Z0-9.\-]{34}$")
_DISCIPLINE = re.compile(r"^[A-Z]{2}[A-Z0-9]$")
_GENDER = re.compile(r"^[A-Z\-]$")


class Level(StrEnum):
    """What an RSC names."""

    DISCIPLINE = "discipline"
    EVENT = "event"
    PHASE = "phase"
    UNIT = "unit"


class Shape(StrEnum):
    """The three shapes of competition the normalized model represents."""

    TIMED = "timed"
    """Races ranked by time: swimming, athletics track, rowing."""
    HEAD_TO_HEAD = "head_to_head"
    """Matches with a running score, periods and extra time: football, basketball, tennis, judo."""
    JUDGED = "judged"
    """Events ranked by points from judges or scoring: gymnastics, diving."""


class Rsc(NamedTuple):
    """A parsed RSC; each part keeps its padding so ``"".join(rsc) == code``."""

    discipline: str
    gender: str
    event: str
    phase: str
    unit: str

    @property
    def code(self) -> str:
        """The 34-character code."""
        return "".join(self)

    @property
    def level(self) -> Level:
        """The lowest part that is filled in."""
        if _filled(self.unit):
            return Level.UNIT
        if _filled(self.phase):
            return Level.PHASE
        if _filled(self.event):
            return Level.EVENT
        return Level.DISCIPLINE

    @property
    def event_code(self) -> str:
        """The RSC of this code's event: the discipline, gender and event parts, then padding."""
        return (self.discipline + self.gender + self.event).ljust(RSC_LENGTH, "-")


def _filled(part: str) -> bool:
    return part.strip("-") != ""


def parse_rsc(
    code: str,
    *,
    element: str | None = "OdfBody",
    attribute: str | None = "DocumentCode",
    at_least: Level = Level.DISCIPLINE,
) -> Rsc:
    """Split and check an RSC.

    Args:
        code: The 34-character code.
        element: Where the code came from, for the error.
        attribute: Which attribute held it, for the error.
        at_least: The coarsest level accepted: ``Level.UNIT`` demands a unit code,
            ``Level.EVENT`` an event, phase or unit code.

    Raises:
        InvalidRscError: wrong length or characters, a bad part, a filled part below a blank
            one, or a code coarser than ``at_least``. ``part`` names the faulty part.
    """

    def bad(reason: str, part: str | None = None) -> InvalidRscError:
        return InvalidRscError(reason, element=element, attribute=attribute, value=code, part=part)

    if len(code) != RSC_LENGTH:
        raise bad(f"an RSC has {RSC_LENGTH} characters, this one has {len(code)}")
    if not _CHARSET.match(code):
        raise bad("an RSC holds only A-Z, 0-9, '.' and '-'")
    parts: list[str] = []
    start = 0
    for _name, width in _PARTS:
        parts.append(code[start : start + width])
        start += width
    rsc = Rsc(*parts)
    if not _DISCIPLINE.match(rsc.discipline):
        raise bad(
            "the discipline is two letters then a letter or digit, e.g. SWM, BK3", "discipline"
        )
    if not _GENDER.match(rsc.gender):
        raise bad("the gender is one letter (M, W, X, O) or '-'", "gender")
    blank: str | None = None
    for (name, _width), part in zip(_PARTS[2:], rsc[2:], strict=True):
        if not _filled(part):
            blank = blank or name
        elif blank is not None:
            raise bad(f"the {name} is filled in but the {blank} above it is blank", name)
    order = list(Level)
    if order.index(rsc.level) < order.index(at_least):
        raise bad(f"this document needs a code at {at_least} level, this one names a {rsc.level}")
    return rsc


def rsc(discipline: str, gender: str = "", event: str = "", phase: str = "", unit: str = "") -> str:
    """Build a 34-character RSC from its parts, unpadded: the producer's side of
    :func:`parse_rsc` (``rsc("ATH", "M", "100M", "FNL", "000100")``).

    Raises:
        InvalidRscError: a part is longer than its width, or the code would not parse.
    """
    padded = []
    for (name, width), part in zip(_PARTS, (discipline, gender, event, phase, unit), strict=True):
        if len(part) > width:
            raise InvalidRscError(
                f"the {name} has at most {width} characters", value=part, part=name
            )
        padded.append(part.ljust(width, "-"))
    return parse_rsc("".join(padded), element=None, attribute=None).code


def _filled_part(width: int) -> str:
    # ``width`` characters, not all dashes: some leading dashes, then a character that is not
    # one (a JSON Schema pattern, so no lookahead)
    head = "[A-Z0-9.]"
    rest = "[A-Z0-9.\\-]"
    options = [f"{'-' * i}{head}{rest}{{{width - 1 - i}}}" for i in range(width)]
    return "(?:" + "|".join(options) + ")"


def rsc_pattern(at_least: Level = Level.DISCIPLINE) -> str:
    """The regular expression of the codes :func:`parse_rsc` accepts at ``at_least``.

    The OpenAPI document carries it, so a client is told exactly which codes are valid.
    """
    event, phase, unit = (_filled_part(width) for _, width in _PARTS[2:])
    tails = {
        Level.UNIT: f"{event}{phase}{unit}",
        Level.PHASE: f"{event}{phase}(?:{unit}|-{{8}})",
        Level.EVENT: f"{event}(?:{phase}(?:{unit}|-{{8}})|-{{12}})",
        Level.DISCIPLINE: f"(?:{event}(?:{phase}(?:{unit}|-{{8}})|-{{12}})|-{{30}})",
    }
    return f"^[A-Z]{{2}}[A-Z0-9][A-Z\\-]{tails[at_least]}$"


# Disciplines whose units are matches between two sides, and those ranked by judges or points.
# Everything else defaults to timed when its results are times, judged otherwise.
_HEAD_TO_HEAD = frozenset(
    {"FBL", "BKB", "BK3", "TEN", "TTE", "BDM", "JUD", "BOX", "FEN", "WRE", "TKW", "HBL", "HOC"}
    | {"VBV", "VVO", "WPO", "RU7", "ARC", "BSB", "SBL"}
)
_JUDGED = frozenset({"GAR", "GRY", "GTR", "DIV", "SKB", "BKG", "SRF", "SWA", "EQU"})
_TIMED = frozenset(
    {"SWM", "OWS", "ATH", "ROW", "CSP", "CSL", "CRD", "CTR", "CMB", "CMX", "TRI", "MPN", "SAL"}
)


def shape_of_discipline(discipline: str) -> Shape | None:
    """The competition shape of a discipline, when the discipline has a single one."""
    if discipline in _HEAD_TO_HEAD:
        return Shape.HEAD_TO_HEAD
    if discipline in _JUDGED:
        return Shape.JUDGED
    if discipline in _TIMED:
        return Shape.TIMED
    return None


_TIME = re.compile(r"^(?:(?:(\d+):)?(\d{1,2}):)?(\d{1,2})(?:\.(\d{1,3}))?$")


def parse_time_ms(text: str) -> int | None:
    """Milliseconds from an ODF time: ``52.16``, ``1:45.30``, ``2:05:31.4``; ``None`` if not one.

    A leading ``+`` (a gap behind the leader) is accepted and ignored.
    """
    match = _TIME.match(text.removeprefix("+"))
    if match is None:
        return None
    hours, minutes, seconds, fraction = match.groups()
    if (minutes is not None and int(seconds) > 59) or (hours is not None and int(minutes) > 59):
        return None
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds)
    return total * 1000 + int((fraction or "").ljust(3, "0"))


def format_time_ms(ms: int) -> str:
    """The ODF text of a time: hundredths when exact, else thousandths; ``h:mm:ss``, ``m:ss``."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    fraction = f"{millis // 10:02d}" if millis % 10 == 0 else f"{millis:03d}"
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{fraction}"
    if minutes:
        return f"{minutes}:{seconds:02d}.{fraction}"
    return f"{seconds}.{fraction}"


def games_timezone() -> tzinfo:
    """Paris time, in which ODF writes header dates and times; CEST if no tz database exists.

    The Games ran from July to September, all in summer time, so the fixed +02:00 fallback
    gives the same answer on a machine without IANA zone data.
    """
    try:
        return ZoneInfo("Europe/Paris")
    except ZoneInfoNotFoundError:  # pragma: no cover - depends on the host's zone data
        return timezone(timedelta(hours=2), "CEST")


GAMES_TZ = games_timezone()
"""The Games' local time zone."""
