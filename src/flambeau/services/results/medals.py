"""The medal table, derived only from OFFICIAL medallist documents, whatever their order.

State (:class:`MedalBook`, one per competition and feed) is the counted medallists of each
event, keyed by event RSC: for every event, its highest-versioned OFFICIAL ``DT_MEDALLISTS``
document. The table is a pure function of that map (:func:`tally`), recomputed on every
change, so:

- a correction with a higher version (a protest upheld) replaces the event's medallists, and
  the moved medal leaves one NOC and joins another; nothing is ever counted twice;
- older or equal versions are ignored (``STALE``), non-official ones never touch the table
  (``IGNORED``);
- any delivery order of the same documents, duplicates included, ends in the same table.

Two different documents with the same event and version are a source error; the first one
applied wins.

The table sorts the IOC way: gold, then silver, then bronze, then NOC code; NOCs with equal
counts share a rank (:func:`standings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

import msgspec

from flambeau.services.results.outcomes import Emit, Step, Verdict, route
from flambeau.services.results.schemas import (
    MEDALS,
    MedalCount,
    MedalKind,
    Medallist,
    Medallists,
    MedalsAwarded,
    MedalStanding,
    MedalStandings,
)
from flambeau.services.results.statuses import ResultStatus

__all__ = [
    "Counts",
    "EventMedals",
    "MedalBook",
    "Tally",
    "apply_medallists",
    "discrepancies",
    "medal_state_key",
    "standings",
    "tally",
]


class Counts(TypedDict):
    """A NOC's medal counts: the keyword arguments a medal count or a standing line takes."""

    gold: int
    silver: int
    bronze: int
    total: int


class Tally(msgspec.Struct, frozen=True, array_like=True):
    """A NOC's medals."""

    gold: int = 0
    silver: int = 0
    bronze: int = 0

    @property
    def total(self) -> int:
        """All medals."""
        return self.gold + self.silver + self.bronze

    def counts(self) -> Counts:
        """The four counts as the events carrying them name them (with ``total``)."""
        return Counts(gold=self.gold, silver=self.silver, bronze=self.bronze, total=self.total)


class EventMedals(msgspec.Struct, frozen=True, kw_only=True):
    """The medallists counted for one event, and the version they come from."""

    version: int
    medallists: tuple[Medallist, ...] = ()


class MedalBook(msgspec.Struct, frozen=True, kw_only=True):
    """A competition's counted medallists per event, and the table derived from them.

    Attributes:
        events: Event RSC -> its highest-versioned OFFICIAL medallists.
        table: NOC -> medals; always ``tally(events)``, stored so reads need not recompute.
        stale: Documents ignored as older or equal versions.
        unofficial: Documents ignored for not being OFFICIAL.
    """

    events: dict[str, EventMedals] = {}
    table: dict[str, Tally] = {}
    stale: int = 0
    unofficial: int = 0


def medal_state_key(doc: Medallists) -> str:
    """The state key of ``doc``'s medal book: competition and feed."""
    return f"{doc.competition}/{doc.feed.value}"


def tally(events: Mapping[str, EventMedals]) -> dict[str, Tally]:
    """The medal table of ``events``: one medal per medallist line, to its NOC.

    Lines without a NOC (none in real feeds) are not counted.
    """
    counts: dict[str, list[int]] = {}
    index = {MedalKind.GOLD: 0, MedalKind.SILVER: 1, MedalKind.BRONZE: 2}
    for counted in events.values():
        for medallist in counted.medallists:
            noc = medallist.competitor.noc
            if noc is not None:
                counts.setdefault(noc, [0, 0, 0])[index[medallist.medal]] += 1
    return {noc: Tally(*medals) for noc, medals in sorted(counts.items())}


def apply_medallists(book: MedalBook | None, doc: Medallists) -> Step[MedalBook]:
    """Apply one version of an event's medallists document.

    Args:
        book: The competition's book under :func:`medal_state_key`, or ``None``.
        doc: The document.

    Returns:
        ``IGNORED`` unless OFFICIAL; ``STALE`` unless its version beats the event's counted
        one; otherwise ``APPLIED``, emitting on ``results.medals`` (key: competition) a
        :class:`MedalsAwarded` and then a :class:`MedalCount` per NOC whose count changed,
        in NOC order. Test feeds emit to ``results.test``.
    """
    current = MedalBook() if book is None else book
    if doc.status is not ResultStatus.OFFICIAL:
        return Step(
            msgspec.structs.replace(current, unofficial=current.unofficial + 1), Verdict.IGNORED
        )
    known = current.events.get(doc.event)
    if known is not None and doc.version <= known.version:
        return Step(msgspec.structs.replace(current, stale=current.stale + 1), Verdict.STALE)
    counted = EventMedals(version=doc.version, medallists=doc.medallists)
    events = {**current.events, doc.event: counted}
    table = tally(events)
    previous = () if known is None else known.medallists
    kept = {(m.medal, m.competitor.code) for m in doc.medallists}
    awarded = MedalsAwarded(
        competition=doc.competition,
        event=doc.event,
        version=doc.version,
        medallists=doc.medallists,
        withdrawn=tuple(m for m in previous if (m.medal, m.competitor.code) not in kept),
        feed=doc.feed,
    )
    emits: list[Emit] = [route(MEDALS, doc.feed, doc.competition, awarded)]
    for noc in sorted(current.table.keys() | table.keys()):
        after = table.get(noc, Tally())
        if current.table.get(noc, Tally()) != after:
            count = MedalCount(
                competition=doc.competition, noc=noc, feed=doc.feed, **after.counts()
            )
            emits.append(route(MEDALS, doc.feed, doc.competition, count))
    new = msgspec.structs.replace(current, events=events, table=table)
    return Step(new, Verdict.APPLIED, tuple(emits))


def _ioc_order(item: tuple[str, Tally]) -> tuple[int, int, int, str]:
    noc, medals = item
    return -medals.gold, -medals.silver, -medals.bronze, noc


def standings(table: Mapping[str, Tally]) -> list[MedalStanding]:
    """The table in IOC order (gold, silver, bronze, then NOC code), ranked.

    NOCs with the same gold, silver and bronze share a rank, and the next rank skips
    (1, 2, 2, 4).
    """
    lines: list[MedalStanding] = []
    previous: Tally | None = None
    rank = 0
    for position, (noc, medals) in enumerate(sorted(table.items(), key=_ioc_order), 1):
        if medals != previous:
            rank, previous = position, medals
        lines.append(MedalStanding(rank=rank, noc=noc, **medals.counts()))
    return lines


def discrepancies(table: Mapping[str, Tally], reported: MedalStandings) -> list[str]:
    """Where a source's own medal table (``DT_MEDALS``) disagrees with the derived one.

    Returns:
        One line per NOC whose counts differ, e.g. ``"FRA: derived 5/4/3, reported 5/4/4"``;
        empty when they agree.
    """
    theirs = {line.noc: Tally(line.gold, line.silver, line.bronze) for line in reported.standings}
    lines = []
    for noc in sorted(table.keys() | theirs.keys()):
        ours, other = table.get(noc, Tally()), theirs.get(noc, Tally())
        if ours != other:
            lines.append(
                f"{noc}: derived {ours.gold}/{ours.silver}/{ours.bronze}, "
                f"reported {other.gold}/{other.silver}/{other.bronze}"
            )
    return lines
