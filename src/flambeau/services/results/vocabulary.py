"""The vocabulary of the results payloads: constrained field types and enumerations.

:mod:`flambeau.services.results.schemas` re-exports the public ones; import them from there.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from flambeau.services.results.codes import (
    COMPETITION_CODE,
    ORGANISATION_CODE,
    SHORT_CODE,
    Level,
    rsc_pattern,
)

CompetitionCode = Annotated[
    str, msgspec.Meta(pattern=COMPETITION_CODE, description="ODF competition, e.g. OG2024")
]
RscCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z0-9.\-]{34}$",
        description="34-character ODF results system code, e.g. SWMW100MFR------------FNL-000100--",
    ),
]
# The documented pattern is parse_rsc's grammar (test_codes proves them equal); the structs
# check codes with parse_rsc itself, whose refusal names the faulty part.
UnitCode = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"pattern": rsc_pattern(Level.UNIT)},
        description="RSC of a unit: every part filled in, e.g. SWMW100MFR------------FNL-000100--",
    ),
]
EventCode = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"pattern": rsc_pattern(Level.EVENT)},
        description="RSC of an event, a phase or a unit, e.g. SWMW100MFR------------------------",
    ),
]
Discipline = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{2}[A-Z0-9]$", description="e.g. SWM, BK3, RU7")
]
Organisation = Annotated[
    str, msgspec.Meta(pattern=ORGANISATION_CODE, description="NOC or organisation, e.g. FRA")
]
Irm = Annotated[
    str,
    msgspec.Meta(pattern=r"^[A-Z][A-Z0-9]{1,7}$", description="invalid result mark, e.g. DNF"),
]
RecordCode = Annotated[str, msgspec.Meta(pattern=SHORT_CODE)]
"""A record's code: ``WR``, ``OR``, a continental record."""
Version = Annotated[int, msgspec.Meta(ge=0, description="ascending document version")]
Count = Annotated[int, msgspec.Meta(ge=0)]
Position = Annotated[int, msgspec.Meta(ge=1)]
Moment = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 with a zone")]
Text = Annotated[str, msgspec.Meta(max_length=256)]
LongText = Annotated[str, msgspec.Meta(max_length=4096)]


class DocumentType(StrEnum):
    """ODF message types this service knows; the ``results`` reducers read the first seven."""

    SCHEDULE = "DT_SCHEDULE"
    SCHEDULE_UPDATE = "DT_SCHEDULE_UPDATE"
    RESULT = "DT_RESULT"
    CURRENT = "DT_CURRENT"
    MEDALLISTS = "DT_MEDALLISTS"
    MEDALS = "DT_MEDALS"
    KEEP_ALIVE = "DT_KA"
    # Known ODF types kept raw on results.odf for replay but not normalized (yet).
    PARTIC = "DT_PARTIC"
    PARTIC_UPDATE = "DT_PARTIC_UPDATE"
    PARTIC_TEAMS = "DT_PARTIC_TEAMS"
    PARTIC_TEAMS_UPDATE = "DT_PARTIC_TEAMS_UPDATE"
    PARTIC_HORSES = "DT_PARTIC_HORSES"
    PARTIC_HORSES_UPDATE = "DT_PARTIC_HORSES_UPDATE"
    ENTRIES = "DT_ENTRIES"
    PHASE_RESULT = "DT_PHASE_RESULT"
    CUMULATIVE_RESULT = "DT_CUMULATIVE_RESULT"
    POOL_STANDING = "DT_POOL_STANDING"
    BRACKETS = "DT_BRACKETS"
    PLAY_BY_PLAY = "DT_PLAY_BY_PLAY"
    STATS = "DT_STATS"
    RANKING = "DT_RANKING"
    RECORD = "DT_RECORD"
    MEDALLISTS_DISCIPLINE = "DT_MEDALLISTS_DISCIPLINE"
    MEDALLISTS_DAY = "DT_MEDALLISTS_DAY"
    COMMUNICATION = "DT_COMMUNICATION"
    CONFIG = "DT_CONFIG"
    WEATHER = "DT_WEATHER"
    PDF = "DT_PDF"
    IMAGE = "DT_IMAGE"
    LOCAL_ON = "DT_LOCAL_ON"
    LOCAL_OFF = "DT_LOCAL_OFF"
    GLOBAL_GM = "DT_GLOBAL_GM"
    GLOBAL_GN = "DT_GLOBAL_GN"


class DocumentKind(StrEnum):
    """Which unit document a :class:`UnitResult` snapshots: ``DT_RESULT`` or ``DT_CURRENT``."""

    RESULT = "result"
    CURRENT = "current"


class CompetitorKind(StrEnum):
    """An athlete or a team (ODF ``Competitor@Type`` A or T)."""

    ATHLETE = "athlete"
    TEAM = "team"


class MedalKind(StrEnum):
    """Gold, silver or bronze."""

    GOLD = "gold"
    SILVER = "silver"
    BRONZE = "bronze"


class MatchOutcome(StrEnum):
    """A side's outcome in a head-to-head unit (ODF ``WLT``)."""

    WIN = "win"
    LOSS = "loss"
    TIE = "tie"


class PeriodKind(StrEnum):
    """What a period of a head-to-head unit is."""

    REGULAR = "regular"
    EXTRA_TIME = "extra_time"
    SHOOTOUT = "shootout"
    TOTAL = "total"
