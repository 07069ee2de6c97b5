"""Subscription positions: how a subscriber says where to start, and how it resumes.

A *cursor* names a position in every partition of a stream at once, plus the stream's epoch::

    9f2c4e1a0b3d5c7e/12.0.7.33

means "epoch ``9f2c4e1a0b3d5c7e``; next offsets 12, 0, 7 and 33 in partitions 0 to 3". Each
delivered event carries the cursor just past it (the SSE ``id``), so a browser's
``Last-Event-ID`` resumes every partition exactly, with no gap and no duplicate.

A start position (``from``) is one of:

- ``earliest``: the first retained event of every partition;
- ``latest`` (the default): only events appended from now on;
- a cursor, as above;
- ``<partition>:<offset>,...``: explicit offsets; partitions not named start at ``latest``.

Resolving a position against the log gives exact replay (``recovered=True``) or, when the
position cannot be honoured (another epoch, a partition count that changed, offsets the
retention already dropped, or offsets beyond the end), ``recovered=False`` with the current end
position. Never a silent gap.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from flambeau.log.base import StreamInfo

__all__ = ["Start", "format_cursor", "parse_cursor", "resolve_start"]

_CURSOR = re.compile(r"^(?P<epoch>[^/\s]+)/(?P<offsets>\d+(?:\.\d+)*)$")
_EXPLICIT = re.compile(r"^\d+:\d+(?:,\d+:\d+)*$")
MAX_OFFSET = 2**63 - 1


@dataclass(frozen=True)
class Start:
    """Where a subscription starts.

    Attributes:
        offsets: Next offset to deliver, per partition.
        recovered: ``True`` when the requested position is honoured exactly.
        reason: Why it was not honoured (empty when recovered).
    """

    offsets: list[int]
    recovered: bool
    reason: str = ""


def format_cursor(epoch: str, offsets: Sequence[int]) -> str:
    """The cursor of ``offsets`` (next offset per partition) in ``epoch``."""
    return f"{epoch}/{'.'.join(map(str, offsets))}"


def parse_cursor(text: str) -> tuple[str, list[int]] | None:
    """``(epoch, offsets)`` of a cursor, or ``None`` if ``text`` is not shaped like one."""
    match = _CURSOR.match(text)
    if match is None:
        return None
    offsets = [int(o) for o in match.group("offsets").split(".")]
    if any(o > MAX_OFFSET for o in offsets):
        return None
    return match.group("epoch"), offsets


def resolve_start(
    spec: str | None, info: StreamInfo, partitions: Collection[int] | None = None
) -> Start:
    """Turn a ``from`` value (or a ``Last-Event-ID``) into per-partition offsets.

    Args:
        spec: ``earliest``, ``latest``, a cursor, ``P:O,...``; ``None`` or empty means latest.
        info: The stream as the log describes it now.
        partitions: The partitions the subscription reads (all when ``None``); only their
            offsets decide whether the position is recovered.

    Raises:
        ValueError: ``spec`` is none of the accepted forms.
    """
    count = info.partitions
    start = [info.start.get(p, 0) for p in range(count)]
    end = [info.end.get(p, 0) for p in range(count)]
    wanted = range(count) if partitions is None else sorted(partitions)
    if not spec or spec == "latest":
        return Start(end, True)
    if spec == "earliest":
        return Start(start, True)
    cursor = parse_cursor(spec)
    if cursor is not None:
        epoch, offsets = cursor
        if epoch != info.epoch:
            return Start(end, False, f"the stream's epoch is now {info.epoch}, not {epoch}")
        if len(offsets) != count:
            return Start(
                end, False, f"the stream has {count} partitions, the cursor names {len(offsets)}"
            )
        return _check(offsets, start, end, wanted)
    if _EXPLICIT.match(spec):
        offsets = list(end)
        for item in spec.split(","):
            part_text, offset_text = item.split(":")
            part = int(part_text)
            if part >= count:
                raise ValueError(f"partition {part} does not exist; the stream has {count}")
            offsets[part] = min(int(offset_text), MAX_OFFSET)
        return _check(offsets, start, end, wanted)
    raise ValueError(
        "must be 'earliest', 'latest', a cursor such as '<epoch>/12.0.7' or "
        f"'<partition>:<offset>,...'; got {spec[:80]!r}"
    )


def _check(offsets: list[int], start: list[int], end: list[int], wanted: Sequence[int]) -> Start:
    for part in wanted:
        if offsets[part] < start[part]:
            return Start(
                end,
                False,
                f"partition {part} offset {offsets[part]} is no longer retained "
                f"(first retained: {start[part]})",
            )
        if offsets[part] > end[part]:
            return Start(
                end,
                False,
                f"partition {part} offset {offsets[part]} is beyond the end ({end[part]})",
            )
    return Start(offsets, True)
