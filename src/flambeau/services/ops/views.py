"""The ops read model: every source as ``ops.health`` last described it.

One :class:`~flambeau.processing.view.View` per log and process follows ``ops.health`` and folds
it into :class:`SourcesFold`, which ``GET /v1/ops/sources`` answers from. Only production feeds
are folded (test feeds never reach ``ops.health``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.log import Log
from flambeau.processing import View, view_of
from flambeau.services.ops.schemas import (
    HEALTH,
    DownReason,
    Feed,
    KeepAlive,
    SourceDown,
    SourceKind,
    SourceUp,
)

__all__ = ["SourceState", "SourcesFold", "Status", "sources_view"]


class Status(StrEnum):
    """Whether a source is heard from."""

    UP = "up"
    DOWN = "down"


class SourceState(msgspec.Struct, frozen=True, kw_only=True):
    """A source as ``ops.health`` last described it.

    Attributes:
        source: Its id.
        kind: What it is.
        status: Up or down.
        last_seen: Its latest sign of life.
        since: When the current status began.
        venue: The venue it serves, if any.
        reason: Why it is down (absent while up).
        detail: What a failed source reported.
    """

    source: str
    kind: SourceKind
    status: Status
    last_seen: datetime
    since: datetime
    venue: str | None = None
    reason: DownReason | None = None
    detail: str = ""


class SourcesFold:
    """Each source's latest status, by id."""

    def __init__(self) -> None:
        self.sources: dict[str, SourceState] = {}

    def __call__(self, record: Record[Any]) -> None:
        data = record.data
        if data.feed is not Feed.PRODUCTION:
            return
        match data:
            case KeepAlive(source=source, seen_at=seen_at):
                known = self.sources.get(source)
                if known is not None and seen_at > known.last_seen:
                    self.sources[source] = msgspec.structs.replace(known, last_seen=seen_at)
            case SourceUp():
                self.sources[data.source] = SourceState(
                    source=data.source,
                    kind=data.kind,
                    status=Status.UP,
                    last_seen=data.seen_at,
                    since=data.seen_at,
                    venue=data.venue,
                )
            case SourceDown():
                self.sources[data.source] = SourceState(
                    source=data.source,
                    kind=data.kind,
                    status=Status.DOWN,
                    last_seen=data.last_seen,
                    since=data.detected_at,
                    venue=data.venue,
                    reason=data.reason,
                    detail=data.detail,
                )

    def select(
        self,
        *,
        kind: SourceKind | None = None,
        status: Status | None = None,
        venue: str | None = None,
    ) -> list[SourceState]:
        """The sources matching every filter given, by id."""
        return [
            state
            for _, state in sorted(self.sources.items())
            if (kind is None or state.kind is kind)
            and (status is None or state.status is status)
            and (venue is None or state.venue == venue)
        ]


def sources_view(log: Log) -> tuple[View, SourcesFold]:
    """The running view of ``ops.health`` over ``log`` (started on first use), and its fold."""
    view = view_of(log, "ops.sources", [HEALTH], SourcesFold)
    fold = view.fold
    if not isinstance(fold, SourcesFold):  # pragma: no cover - the factory always builds one
        raise TypeError("the ops view folds into something other than a SourcesFold")
    return view, fold
