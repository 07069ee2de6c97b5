"""Prometheus metrics of the gateway, in the text exposition format (version 0.0.4).

Counters and histograms live in plain dicts keyed by label values: the hot paths (delivery,
ingest) pay one dict update. Gauges that describe current state (subscribers, connections) are
read at scrape time from whoever owns that state, and so are *metric sources*: callables that
the assembly module passes to :func:`flambeau.gateway.app.create_app` to publish what the
gateway does not own, such as each processor's lag. A source returns :class:`LagRow` rows,
directly or from a coroutine.
"""

from __future__ import annotations

import bisect
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import NamedTuple, TypeAlias

__all__ = ["Counter", "Histogram", "LagRow", "MetricsSource", "Registry", "render_lag"]

_log = logging.getLogger("flambeau.gateway.metrics")


class LagRow(NamedTuple):
    """One processor's progress on one partition: lag is ``end - committed``."""

    processor: str
    stream: str
    partition: int
    committed: int
    end: int


MetricsSource: TypeAlias = Callable[[], Iterable[LagRow] | Awaitable[Iterable[LagRow]]]
"""A callable returning lag rows, directly or as an awaitable."""

Labels = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class Counter:
    """A monotonically increasing count per label set."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self.values: dict[Labels, float] = {}

    def inc(self, labels: Labels = (), amount: float = 1.0) -> None:
        """Add ``amount`` to the count of ``labels``."""
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def render(self) -> list[str]:
        """The exposition lines of this counter."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for labels, value in sorted(self.values.items()):
            lines.append(f"{self.name}{_labels(self.label_names, labels)} {_number(value)}")
        return lines


class Histogram:
    """Observations counted into cumulative ``le`` buckets, per label set."""

    def __init__(
        self, name: str, help_text: str, buckets: Sequence[float], labels: Sequence[str] = ()
    ) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self.bounds = sorted(buckets)
        self.series: dict[Labels, tuple[list[float], list[float]]] = {}

    def observe(self, value: float, labels: Labels = (), count: float = 1.0) -> None:
        """Record ``count`` observations of ``value``."""
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = ([0.0] * (len(self.bounds) + 1), [0.0, 0.0])
        buckets, totals = series
        buckets[bisect.bisect_left(self.bounds, value)] += count
        totals[0] += value * count
        totals[1] += count

    def render(self) -> list[str]:
        """The exposition lines of this histogram."""
        name = self.name
        lines = [f"# HELP {name} {self.help}", f"# TYPE {name} histogram"]
        for labels, (buckets, totals) in sorted(self.series.items()):
            running = 0.0
            for bound, count in zip([*self.bounds, float("inf")], buckets, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                label_text = _labels(self.label_names, labels, f'le="{le}"')
                lines.append(f"{name}_bucket{label_text} {_number(running)}")
            lines.append(f"{name}_sum{_labels(self.label_names, labels)} {totals[0]!r}")
            lines.append(f"{name}_count{_labels(self.label_names, labels)} {_number(totals[1])}")
        return lines


def gauge_lines(
    name: str, help_text: str, label_names: Sequence[str], rows: Iterable[tuple[Labels, float]]
) -> list[str]:
    """Exposition lines of a gauge computed at scrape time."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in rows:
        lines.append(f"{name}{_labels(label_names, labels)} {_number(value)}")
    return lines


def render_lag(rows: Iterable[LagRow]) -> list[str]:
    """Per-processor committed offsets, ends and lag as gauges."""
    rows = sorted(rows)
    names = ("processor", "stream", "partition")

    def keyed(value_of: Callable[[LagRow], float]) -> list[tuple[Labels, float]]:
        return [((r.processor, r.stream, str(r.partition)), value_of(r)) for r in rows]

    return [
        *gauge_lines(
            "flambeau_processor_lag",
            "Events appended to a processor's input partition that it has not committed yet.",
            names,
            keyed(lambda r: max(0, r.end - r.committed)),
        ),
        *gauge_lines(
            "flambeau_processor_committed_offset",
            "Next input offset a processor will read, as committed.",
            names,
            keyed(lambda r: r.committed),
        ),
        *gauge_lines(
            "flambeau_processor_input_end_offset",
            "Next offset to be written to a processor's input partition.",
            names,
            keyed(lambda r: r.end),
        ),
    ]


LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Registry:
    """Every metric the gateway keeps, plus the sources and live gauges read at scrape time."""

    def __init__(self, sources: Sequence[MetricsSource] = ()) -> None:
        self.requests = Counter(
            "flambeau_http_requests_total",
            "HTTP requests answered, by method, route and status.",
            ("method", "route", "status"),
        )
        self.ingested = Counter(
            "flambeau_ingest_events_total",
            "Events received for ingest, by stream and outcome (accepted, duplicate, rejected).",
            ("stream", "outcome"),
        )
        self.deliveries = Counter(
            "flambeau_deliveries_total",
            "Events delivered to subscribers, by transport (ws, sse).",
            ("transport",),
        )
        self.frames = Counter(
            "flambeau_frames_total",
            "Frames written to subscribers (each may coalesce many events), by transport.",
            ("transport",),
        )
        self.slow_consumers = Counter(
            "flambeau_slow_consumer_disconnects_total",
            "Connections closed because their buffer overflowed, by transport.",
            ("transport",),
        )
        self.rejected = Counter(
            "flambeau_limit_rejections_total",
            "Requests and connections refused by a limit, by limit.",
            ("limit",),
        )
        self.delivery_latency = Histogram(
            "flambeau_delivery_latency_seconds",
            "From an event's ingest to its frame being written to a subscriber's socket.",
            LATENCY_BUCKETS,
            ("transport",),
        )
        self.sources = list(sources)
        self.gauges: list[Callable[[], list[str]]] = []

    async def render(self) -> str:
        """The whole exposition, sources included; a failing source is logged and skipped."""
        lines: list[str] = []
        for metric in (self.requests, self.ingested, self.deliveries, self.frames):
            lines += metric.render()
        lines += self.slow_consumers.render()
        lines += self.rejected.render()
        lines += self.delivery_latency.render()
        for gauge in self.gauges:
            lines += gauge()
        rows: list[LagRow] = []
        for source in self.sources:
            try:
                produced = source()
                if inspect.isawaitable(produced):
                    produced = await produced
                rows.extend(LagRow(*row) for row in produced)
            except Exception:
                _log.exception("metrics source %r failed", source)
        if self.sources:
            lines += render_lag(rows)
        return "\n".join(lines) + "\n"
