"""Drive the results reducers the way a processor will: ODF in, keyed MessagePack state, emits out.

Each reducer's state lives in one dict of bytes, encoded and decoded with msgspec on every
step, so the tests also prove every state round-trips through MessagePack.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

import msgspec

from flambeau.services.results.liveness import (
    LivenessPolicy,
    SourceHealth,
    check,
    liveness_state_key,
    observe,
)
from flambeau.services.results.medals import MedalBook, apply_medallists, medal_state_key
from flambeau.services.results.odf import ParsedOdf, parse
from flambeau.services.results.outcomes import Emit, Step, Verdict
from flambeau.services.results.schedule import ScheduleState, apply_schedule, schedule_state_key
from flambeau.services.results.schemas import (
    Feed,
    KeepAlive,
    Medallists,
    ScheduleDocument,
    UnitResult,
)
from flambeau.services.results.units import UnitDocState, apply_result, result_state_key

T = TypeVar("T")


class Pipeline:
    """The four reducers behind one ODF entry point, with state kept as MessagePack bytes."""

    def __init__(self, *, silence: timedelta = timedelta(seconds=20)) -> None:
        self.policy = LivenessPolicy(silence=silence)
        self.store: dict[str, bytes] = {}
        self.emitted: list[Emit] = []
        self.verdicts: list[Verdict] = []
        self.irregular: list[str] = []
        self.raw: list[ParsedOdf] = []

    def load(self, key: str, kind: type[T]) -> T | None:
        data = self.store.get(key)
        return None if data is None else msgspec.msgpack.decode(data, type=kind)

    def _save(self, key: str, step: Step[Any]) -> list[Emit]:
        self.store[key] = msgspec.msgpack.encode(step.state)
        self.emitted.extend(step.emits)
        self.verdicts.append(step.verdict)
        self.irregular.extend(step.irregular)
        return list(step.emits)

    def feed(self, xml: str | bytes, *, now: datetime | None = None) -> list[Emit]:
        """Parse one document and apply it; returns what this document emitted."""
        parsed = parse(xml)
        self.raw.append(parsed)
        body = parsed.body
        match body:
            case UnitResult():
                key = "units:" + result_state_key(body)
                return self._save(key, apply_result(self.load(key, UnitDocState), body))
            case ScheduleDocument():
                key = "schedule:" + schedule_state_key(body)
                return self._save(key, apply_schedule(self.load(key, ScheduleState), body))
            case Medallists():
                key = "medals:" + medal_state_key(body)
                return self._save(key, apply_medallists(self.load(key, MedalBook), body))
            case KeepAlive():
                key = "health:" + liveness_state_key(body.source, body.feed)
                state = self.load(key, SourceHealth)
                step = observe(
                    state,
                    source=body.source,
                    seen_at=body.seen_at,
                    now=body.seen_at if now is None else now,
                    policy=self.policy,
                    feed=body.feed,
                )
                return self._save(key, step)
        return []

    def tick(self, now: datetime) -> list[Emit]:
        """What a liveness timer does: check every known source at ``now``."""
        emits: list[Emit] = []
        for key in sorted(k for k in self.store if k.startswith("health:")):
            state = self.load(key, SourceHealth)
            assert state is not None
            emits.extend(self._save(key, check(state, now=now, policy=self.policy)))
        return emits

    def medal_book(self, competition: str = "OG2024", feed: Feed = Feed.PRODUCTION) -> MedalBook:
        book = self.load(f"medals:{competition}/{feed.value}", MedalBook)
        return MedalBook() if book is None else book


def kinds(emits: list[Emit]) -> list[tuple[str, str, str]]:
    """``(stream, key, type tag)`` of each emit, the shape most assertions compare."""
    return [(e.stream, e.key, type(e.event).__struct_config__.tag) for e in emits]  # type: ignore[misc]
