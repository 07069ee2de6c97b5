"""ODF over HTTP to the facts on the public streams: gateway (uvicorn) and worker over one log.

Documents are POSTed to ``/v1/adapters/odf`` as a timing system would; the results processors
run in a :class:`~flambeau.processing.Worker` in the same event loop; assertions read the
output streams (event types, keys, and causation ids equal to the ids the adapter returned)
and the query routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from flambeau.events import Record, utc_now
from flambeau.gateway import GatewayConfig
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.processing import ManualClock, Worker, processor_lag
from flambeau.services.results import routes
from flambeau.services.results.processors import POLICY, PROCESSORS
from flambeau.services.results.schemas import (
    AUDIT,
    HEALTH,
    HEARD,
    MEDALS,
    ODF,
    RECORDS,
    REJECTED,
    SCHEDULE,
    TEST,
    UNITS,
)
from flambeau.services.results.statuses import ResultStatus
from flambeau.services.results.views import metric_lines
from tests.unit.gateway.served import Served, serve
from tests.unit.services.results._documents import (
    ATH_EVENT,
    ATH_FINAL,
    FBL_FINAL,
    H1,
    H2,
    ROW_EVENT,
    RUNNERS,
    SWM_FINAL,
    crew,
    fixture,
    football_final,
    match,
    medallists,
    sprint,
    swimming_final,
)
from tests.unit.services.results._feeds import as_test_feed


@dataclass
class Platform:
    """The gateway with the results routes, a worker running the results processors, one log."""

    served: Served
    log: Log
    clock: ManualClock
    client: httpx.AsyncClient

    async def post(self, xml: str) -> httpx.Response:
        return await self.client.post(
            "/v1/adapters/odf", content=xml.encode(), headers={"Content-Type": "application/xml"}
        )

    async def post_all(self, documents: list[str]) -> list[str]:
        """POST each document (each must be accepted); the ids the adapter returned."""
        ids = []
        for xml in documents:
            response = await self.post(xml)
            assert response.status_code == 200, response.text
            ids.append(response.json()["id"])
        return ids

    async def settled(self, timeout: float = 20.0) -> None:
        """Wait until every processor has caught up, twice in a row (signs feed liveness)."""
        calm = 0
        async with asyncio.timeout(timeout):
            while calm < 2:
                lags = await processor_lag(self.log, list(PROCESSORS))
                calm = calm + 1 if all(lag.behind == 0 for lag in lags) else 0
                await asyncio.sleep(0.02)

    async def records(self, stream: str) -> list[Record[Any]]:
        out: list[Record[Any]] = []
        for partition, end in sorted((await self.log.end_offsets(stream)).items()):
            raw = await self.log.read(stream, partition, 0, max(end, 1))
            out.extend(self.log.registry.decode(stream, r) for r in raw)
        return out

    async def get(self, path: str, scope: str | None = None) -> Any:
        headers = {}
        if scope is not None:
            headers["Authorization"] = f"Bearer {await self.served.key(scope)}"
        response = await self.client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(params=["memory", "sqlite"])
async def platform(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Platform]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/log.db"
    clock = ManualClock(utc_now())
    async with await open_log(url) as log:
        worker = Worker(log, list(PROCESSORS), clock=clock, idle_wait=0.02)
        running = asyncio.create_task(worker.run())
        try:
            async with serve(log, tmp_path, GatewayConfig(), routers=routes.routes) as served:
                served.gateway.metrics.gauges.append(metric_lines(log))  # see the report
                key = await served.key("write:results.odf")
                async with served.client(key) as client:
                    yield Platform(served, log, clock, client)
        finally:
            worker.stop()
            await running


def tags(records: list[Record[Any]]) -> list[str]:
    return [type(r.data).__struct_config__.tag for r in records]


def trace(records: list[Record[Any]], tag: str, key: str) -> list[str | None]:
    """The causation ids of the records of type ``tag`` under ``key``, in order."""
    return [
        r.causation_id
        for r in records
        if r.key == key and type(r.data).__struct_config__.tag == tag
    ]


async def test_swimming_final_from_start_list_to_official(platform: Platform) -> None:
    ids = await platform.post_all(swimming_final())
    schedule, start, ready, running, live, current, unofficial, late, finished, official = ids[:10]
    await platform.settled()

    units = await platform.records(UNITS)
    assert trace(units, "unit_result", SWM_FINAL) == [start, live, current, unofficial, official]
    assert trace(units, "unit_schedule", SWM_FINAL) == [schedule, ready, running, finished]
    assert [(r.key, r.causation_id) for r in await platform.records(RECORDS)] == [
        (SWM_FINAL, unofficial)
    ]
    schedules = await platform.records(SCHEDULE)
    assert trace(schedules, "venue_day_schedule", "2024-07-31/LDA") == [
        schedule,
        ready,
        running,
        finished,
    ]
    [stale] = await platform.records(AUDIT)
    assert (stale.causation_id, stale.data.reason.value, stale.data.version) == (late, "stale", 3)
    medals = await platform.records(MEDALS)
    assert [(type(r.data).__struct_config__.tag, r.causation_id) for r in medals] == [
        ("medals_awarded", ids[10]),
        *[("medal_count", ids[10])] * 3,
    ]

    unit = await platform.get(f"/v1/results/units/{SWM_FINAL}")
    assert unit["schedule"]["status"] == "finished"
    result = unit["results"]["result"]
    assert (result["version"], result["status"]) == (7, "official")
    winner = result["competitors"][0]
    assert (winner["competitor"]["noc"], winner["rank"], winner["time_ms"]) == ("SWE", 1, 52160)
    assert [
        (s["rank"], s["noc"]) for s in (await platform.get("/v1/results/medals"))["standings"]
    ] == [
        (1, "SWE"),
        (2, "USA"),
        (3, "HKG"),
    ]
    day = await platform.get("/v1/results/schedule?date=2024-07-31&venue=LDA")
    [swimming] = day["schedules"]
    assert [(u["unit"], u["status"]) for u in swimming["units"]] == [
        (SWM_FINAL, "finished"),
        ("SWMM200MBK------------SFNL000100--", "scheduled"),
    ]


async def test_football_match_with_a_goal_in_extra_time(platform: Platform) -> None:
    docs = football_final()
    ids = await platform.post_all(docs[:4])
    again = await platform.post(docs[2])  # the very same message again: a log duplicate
    assert again.json()["duplicate"] is True
    ids += await platform.post_all([match(25, ResultStatus.LIVE, "H2", H1, H2)])  # late: stale
    await platform.settled()

    live = (await platform.get(f"/v1/results/units/{FBL_FINAL}"))["results"]["result"]
    assert (live["current_period"], [c["score"] for c in live["competitors"]]) == ("ET1", [3, 4])
    assert [p["code"] for p in live["periods"] if p["kind"] == "extra_time"] == ["ET1"]

    ids += await platform.post_all([docs[4]])
    await platform.settled()

    units = await platform.records(UNITS)
    assert trace(units, "unit_result", FBL_FINAL) == [ids[0], ids[1], ids[2], ids[3], ids[5]]
    assert [r.causation_id for r in await platform.records(AUDIT)] == [ids[4]]
    final = (await platform.get(f"/v1/results/units/{FBL_FINAL}"))["results"]["result"]
    assert (final["version"], final["status"]) == (41, "official")
    assert {c["competitor"]["noc"]: c["outcome"] for c in final["competitors"]} == {
        "FRA": "loss",
        "ESP": "win",
    }
    total = next(p for p in final["periods"] if p["kind"] == "total")
    assert (total["home_score"], total["away_score"]) == (3, 5)


async def test_a_protest_reassigns_the_bronze_medal(platform: Platform) -> None:
    ids = await platform.post_all(
        [
            medallists(ROW_EVENT, 1, [crew("GBR"), crew("NED"), crew("USA")]),
            sprint(8, ResultStatus.OFFICIAL, ["LCA", "USA", "GBR", "CIV"]),
            medallists(ATH_EVENT, 1, [RUNNERS["LCA"], RUNNERS["USA"], RUNNERS["GBR"]]),
        ]
    )
    await platform.settled()
    before = (await platform.get("/v1/results/medals"))["standings"]
    assert [(s["noc"], s["gold"], s["silver"], s["bronze"]) for s in before] == [
        ("GBR", 1, 0, 1),
        ("LCA", 1, 0, 0),
        ("USA", 0, 1, 1),
        ("NED", 0, 1, 0),
    ]

    ids += await platform.post_all(
        [
            sprint(9, ResultStatus.PROTESTED, ["LCA", "USA", "GBR", "CIV"]),
            sprint(10, ResultStatus.OFFICIAL, ["LCA", "USA", "CIV"], disqualified="GBR"),
            medallists(ATH_EVENT, 2, [RUNNERS["LCA"], RUNNERS["USA"], RUNNERS["CIV"]]),
        ]
    )
    # the first version again, as a backup site replaying a gap would send it
    resent = medallists(
        ATH_EVENT, 1, [RUNNERS["LCA"], RUNNERS["USA"], RUNNERS["GBR"]], resent_after=30
    )
    ids += await platform.post_all([resent])
    await platform.settled()

    medals = await platform.records(MEDALS)
    moved = [r for r in medals if r.causation_id == ids[5]]
    assert [type(r.data).__struct_config__.tag for r in moved] == [
        "medals_awarded",
        "medal_count",
        "medal_count",
    ]
    assert [(m.medal.value, m.competitor.noc) for m in moved[0].data.withdrawn] == [
        ("bronze", "GBR")
    ]
    assert [(r.data.noc, r.data.bronze) for r in moved[1:]] == [("CIV", 1), ("GBR", 0)]
    assert {r.causation_id for r in medals} == {ids[0], ids[2], ids[5]}  # not the re-send
    [ignored] = await platform.records(AUDIT)
    assert (ignored.causation_id, ignored.data.reason.value) == (ids[6], "stale")
    after = (await platform.get("/v1/results/medals"))["standings"]
    assert [(s["rank"], s["noc"], s["gold"], s["silver"], s["bronze"]) for s in after] == [
        (1, "GBR", 1, 0, 0),
        (1, "LCA", 1, 0, 0),
        (3, "USA", 0, 1, 1),
        (4, "NED", 0, 1, 0),
        (5, "CIV", 0, 0, 1),
    ]
    assert sum(s["total"] for s in after) == 6
    sprint_view = (await platform.get(f"/v1/results/units/{ATH_FINAL}"))["results"]["result"]
    assert [(c["competitor"]["noc"], c["irm"]) for c in sprint_view["competitors"]][-1] == (
        "GBR",
        "DSQ",
    )


async def test_entity_attacks_are_refused_over_http_and_kept_for_inspection(
    platform: Platform,
) -> None:
    attacks = [fixture(name) for name in ("billion_laughs.xml", "xxe_file.xml")]

    responses = [await platform.post(xml) for xml in attacks]

    assert [r.status_code for r in responses] == [400, 400]
    assert all(r.json()["type"] == "urn:flambeau:problem:unsafe-xml" for r in responses)
    assert all("lol" * 3 not in r.text and "root:" not in r.text for r in responses)
    letters = await platform.records(REJECTED)
    assert [r.data.text for r in letters] == attacks
    assert [r.id in resp.json()["detail"] for r, resp in zip(letters, responses, strict=True)] == [
        True,
        True,
    ]
    assert sum((await platform.log.end_offsets(ODF)).values()) == 0


async def test_test_feeds_never_reach_a_public_stream(platform: Platform) -> None:
    documents = [*swimming_final(), *football_final(), fixture("keepalive.xml")]
    await platform.post_all([as_test_feed(xml) for xml in documents])
    await platform.settled()

    public = ("results.units", "results.schedule", "results.medals", "results.records")
    for stream in (*public, HEALTH):
        assert await platform.records(stream) == [], stream
    rehearsal = await platform.records(TEST)
    assert {type(r.data).__struct_config__.tag for r in rehearsal} >= {
        "unit_result",
        "unit_schedule",
        "venue_day_schedule",
        "medals_awarded",
        "medal_count",
        "record_flagged",
        "keep_alive",
        "source_up",
    }
    assert all(r.data.feed.value == "test" for r in rehearsal)
    assert (await platform.get("/v1/results/medals"))["standings"] == []


async def test_a_silent_source_goes_down(platform: Platform) -> None:
    sources = "/v1/results/sources"
    [keepalive] = await platform.post_all([fixture("keepalive.xml")])
    await platform.settled()
    assert [
        (s["source"], s["status"]) for s in (await platform.get(sources, "read:ops.*"))["sources"]
    ] == [("SWMXSWIMOG2024", "up")]

    # past the deadline, however long the gateway took to start after the clock was made
    platform.clock.advance(POLICY.silence + timedelta(minutes=1))
    async with asyncio.timeout(10):
        while "source_down" not in tags(await platform.records(HEALTH)):  # noqa: ASYNC110
            await asyncio.sleep(0.02)  # the worker's commit is in another task; poll the log

    health = await platform.records(HEALTH)
    [heard] = await platform.records(HEARD)
    assert tags(health) == ["keep_alive", "source_up", "source_down"]
    assert health[-1].causation_id == heard.id
    assert heard.causation_id == keepalive  # the chain goes back to the ODF message
    assert [s["status"] for s in (await platform.get(sources, "read:ops.*"))["sources"]] == ["down"]
    metrics = (await platform.client.get("/metrics")).text
    assert 'flambeau_results_source_up{source="SWMXSWIMOG2024"} 0' in metrics.splitlines()
    # coming back up is shown by the processor tests: here processing time is a manual clock,
    # and the next sign would be received (stamped) on the real one, already "long ago"
