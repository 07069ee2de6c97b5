"""The medal table: only OFFICIAL medallists count, corrections move medals, order never matters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flambeau.services.results.medals import (
    EventMedals,
    MedalBook,
    Tally,
    apply_medallists,
    discrepancies,
    medal_state_key,
    standings,
    tally,
)
from flambeau.services.results.outcomes import Verdict
from flambeau.services.results.schemas import (
    MEDALS,
    TEST,
    Competitor,
    Feed,
    MedalCount,
    MedalKind,
    Medallist,
    Medallists,
    MedalsAwarded,
    MedalStanding,
    MedalStandings,
)
from flambeau.services.results.statuses import ResultStatus

from ._pipeline import kinds

G, S, B = MedalKind.GOLD, MedalKind.SILVER, MedalKind.BRONZE
EVENT_100M = "ATHW100M--------------------------"
EVENT_JUDO = "JUDM-60KG-------------------------"


def medal(kind: MedalKind, noc: str, code: str | None = None) -> Medallist:
    return Medallist(medal=kind, competitor=Competitor(code=code or f"{noc}-1", noc=noc))


def doc(
    event: str,
    version: int,
    *lines: Medallist,
    status: ResultStatus = ResultStatus.OFFICIAL,
    feed: Feed = Feed.PRODUCTION,
) -> Medallists:
    return Medallists(
        competition="OG2024",
        event=event,
        version=version,
        status=status,
        feed=feed,
        medallists=lines,
    )


PODIUM_V1 = doc(EVENT_100M, 1, medal(G, "LCA"), medal(S, "USA"), medal(B, "GBR"))
PODIUM_V2 = doc(EVENT_100M, 2, medal(G, "LCA"), medal(S, "USA"), medal(B, "CIV"))


def test_official_medallists_count_and_each_changed_noc_is_emitted() -> None:
    step = apply_medallists(None, PODIUM_V1)

    assert step.verdict is Verdict.APPLIED
    assert (
        kinds(list(step.emits))
        == [(MEDALS, "OG2024", "medals_awarded")] + [(MEDALS, "OG2024", "medal_count")] * 3
    )
    assert [e.event for e in step.emits[1:]] == [
        MedalCount(competition="OG2024", noc="GBR", bronze=1, total=1),
        MedalCount(competition="OG2024", noc="LCA", gold=1, total=1),
        MedalCount(competition="OG2024", noc="USA", silver=1, total=1),
    ]
    assert step.state.table == {"GBR": Tally(0, 0, 1), "LCA": Tally(1, 0, 0), "USA": Tally(0, 1, 0)}


def test_unofficial_and_partial_medallists_never_touch_the_table() -> None:
    book = apply_medallists(None, PODIUM_V1).state

    for status in (ResultStatus.UNOFFICIAL, ResultStatus.PARTIAL, ResultStatus.PROTESTED):
        step = apply_medallists(book, doc(EVENT_100M, 9, medal(G, "FRA"), status=status))
        assert (step.verdict, step.emits) == (Verdict.IGNORED, ())
        assert step.state.table == book.table
        book = step.state

    assert book.unofficial == 3


def test_a_protest_moves_the_bronze_without_counting_it_twice() -> None:
    book = apply_medallists(None, PODIUM_V1).state
    book = apply_medallists(
        book,
        doc(
            EVENT_JUDO,
            1,
            medal(G, "JPN"),
            medal(S, "FRA"),
            medal(B, "GBR", "GBR-7"),
            medal(B, "KOR"),
        ),
    ).state
    assert book.table["GBR"] == Tally(0, 0, 2)
    before = sum(t.total for t in book.table.values())

    corrected = apply_medallists(book, PODIUM_V2)

    awarded = corrected.emits[0].event
    assert isinstance(awarded, MedalsAwarded)
    assert awarded.withdrawn == (medal(B, "GBR"),)
    assert [e.event for e in corrected.emits[1:]] == [
        MedalCount(competition="OG2024", noc="CIV", bronze=1, total=1),
        MedalCount(competition="OG2024", noc="GBR", bronze=1, total=1),
    ]
    table = corrected.state.table
    assert (table["GBR"], table["CIV"]) == (Tally(0, 0, 1), Tally(0, 0, 1))
    assert sum(t.total for t in table.values()) == before == 7

    late_original = apply_medallists(corrected.state, PODIUM_V1)
    assert (late_original.verdict, late_original.emits) == (Verdict.STALE, ())
    assert late_original.state.table == table
    assert late_original.state.stale == 1


def test_a_noc_that_loses_its_only_medal_leaves_the_table_with_a_zero_count() -> None:
    book = apply_medallists(None, PODIUM_V1).state

    step = apply_medallists(book, PODIUM_V2)

    assert "GBR" not in step.state.table
    gbr = [e.event for e in step.emits if getattr(e.event, "noc", None) == "GBR"]
    assert gbr == [MedalCount(competition="OG2024", noc="GBR")]


def test_ioc_order_is_gold_then_silver_then_bronze_then_noc() -> None:
    table = {
        "USA": Tally(40, 44, 42),
        "CHN": Tally(40, 27, 24),
        "FRA": Tally(16, 26, 22),
        "GBR": Tally(14, 22, 29),
        "AUS": Tally(18, 19, 16),
        "NZL": Tally(10, 7, 3),
        "CAN": Tally(9, 7, 11),
        "UZB": Tally(8, 2, 3),
        "HUN": Tally(6, 7, 6),
        "ESP": Tally(5, 4, 9),
        "SWE": Tally(4, 4, 3),
        "KEN": Tally(4, 2, 5),
        "NOR": Tally(4, 1, 3),
        "IRL": Tally(4, 0, 3),
        "AAA": Tally(4, 0, 3),
    }

    lines = standings(table)

    assert [line.noc for line in lines] == [
        "USA", "CHN", "AUS", "FRA", "GBR", "NZL", "CAN", "UZB", "HUN", "ESP",
        "SWE", "KEN", "NOR", "AAA", "IRL",
    ]  # fmt: skip
    assert [(line.noc, line.rank) for line in lines[-2:]] == [("AAA", 14), ("IRL", 14)]
    assert lines[0] == MedalStanding(rank=1, noc="USA", gold=40, silver=44, bronze=42, total=126)


def test_a_tally_gives_its_counts_with_their_total() -> None:
    assert Tally(2, 1, 3).counts() == {"gold": 2, "silver": 1, "bronze": 3, "total": 6}


def test_ties_share_a_rank_and_the_next_rank_skips() -> None:
    lines = standings({"FRA": Tally(1), "ITA": Tally(1), "BEL": Tally(0, 1), "ALB": Tally(1)})

    assert [(line.noc, line.rank) for line in lines] == [
        ("ALB", 1),
        ("FRA", 1),
        ("ITA", 1),
        ("BEL", 4),
    ]


def test_a_sources_own_table_is_checked_against_the_derived_one() -> None:
    book = apply_medallists(None, PODIUM_V2).state
    reported = MedalStandings(
        competition="OG2024",
        version=3,
        standings=(
            MedalStanding(rank=1, noc="LCA", gold=1, total=1),
            MedalStanding(rank=2, noc="USA", silver=1, total=1),
            MedalStanding(rank=3, noc="GBR", bronze=1, total=1),
        ),
    )

    assert discrepancies(book.table, reported) == [
        "CIV: derived 0/0/1, reported 0/0/0",
        "GBR: derived 0/0/0, reported 0/0/1",
    ]


def test_test_feed_medals_have_their_own_book_and_stream() -> None:
    test_doc = doc(EVENT_100M, 1, medal(G, "FRA"), feed=Feed.TEST)

    step = apply_medallists(None, test_doc)

    assert medal_state_key(test_doc) != medal_state_key(PODIUM_V1)
    assert {e.stream for e in step.emits} == {TEST}


# --- the invariant: delivery order never changes the final table --------------------------

NOCS = ["FRA", "USA", "GBR", "CIV", "JPN"]
medallist_lines = st.lists(
    st.builds(medal, st.sampled_from(MedalKind), st.sampled_from(NOCS)), max_size=4
).map(tuple)
statuses = st.sampled_from(
    [ResultStatus.OFFICIAL] * 3
    + [ResultStatus.UNOFFICIAL, ResultStatus.PARTIAL, ResultStatus.PROTESTED]
)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[Medallists], list[Medallists]]:
    """A set of versioned documents (one per event and version), and an order to deliver them
    in, with duplicates."""
    events = draw(
        st.lists(
            st.sampled_from([EVENT_100M, EVENT_JUDO, "SWMW100MFR------------------------"]),
            min_size=1,
            unique=True,
        )
    )
    documents = []
    for event in events:
        for version in draw(st.lists(st.integers(1, 8), min_size=1, max_size=4, unique=True)):
            documents.append(
                Medallists(
                    competition="OG2024",
                    event=event,
                    version=version,
                    status=draw(statuses),
                    medallists=draw(medallist_lines),
                )
            )
    duplicates = draw(st.lists(st.sampled_from(documents), max_size=6))
    return documents, draw(st.permutations(documents + duplicates))


@given(deliveries())
def test_any_delivery_order_yields_the_table_of_the_highest_official_versions(
    case: tuple[list[Medallists], list[Medallists]],
) -> None:
    documents, delivery = case
    book: MedalBook | None = None
    for document in delivery:
        book = apply_medallists(book, document).state

    highest: dict[str, Medallists] = {}
    for document in documents:
        if document.status is ResultStatus.OFFICIAL:
            best = highest.get(document.event)
            if best is None or document.version > best.version:
                highest[document.event] = document
    expected = tally(
        {e: EventMedals(version=d.version, medallists=d.medallists) for e, d in highest.items()}
    )
    assert book is not None
    assert book.table == expected
    assert standings(book.table) == standings(expected)
    counted_lines = sum(len(d.medallists) for d in highest.values())
    assert sum(t.total for t in book.table.values()) == counted_lines
