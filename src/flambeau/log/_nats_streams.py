"""How a Flambeau stream lives in JetStream: names, stream configs, and what a process knows.

Partition ``p`` of stream ``s`` is the JetStream stream ``FB_<s>_<p>`` capturing the subject
``fb.<s>.<p>``; the headers of its stored messages are republished to ``fbn.<s>.<p>`` for waiting
readers; its metadata carries the stream's name, partition count and epoch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import msgspec
from nats.aio.client import Client
from nats.aio.subscription import Subscription
from nats.js.api import DiscardPolicy, RePublish, StorageType, StreamConfig, StreamInfo
from nats.js.client import JetStreamContext

from flambeau.events import StreamSpec
from flambeau.log._nats_options import Options
from flambeau.log._waiters import Waiters
from flambeau.log.base import StreamInfo as LogStreamInfo

MIN_DUPLICATE_WINDOW_S = 0.1
META_STREAM = "flambeau.stream"
META_PARTITION = "flambeau.partition"
META_PARTITIONS = "flambeau.partitions"
META_EPOCH = "flambeau.epoch"


def subject(stream: str, partition: int) -> str:
    """The JetStream subject of one partition: ``fb.<stream>.<partition>``."""
    return f"fb.{stream}.{partition}"


def jetstream_name(stream: str, partition: int) -> str:
    """The JetStream stream holding one partition: ``FB_<stream with . as ~>_<partition>``."""
    return f"FB_{stream.replace('.', '~')}_{partition}"


def notify_subject(stream: str) -> str:
    """Where stored messages of ``stream`` are republished (headers only), for waiters."""
    return f"fbn.{stream}.*"


def stream_config(
    spec: StreamSpec, partition: int, count: int, epoch: str, opts: Options
) -> StreamConfig:
    """The JetStream stream of one partition: its subject, retention, window and epoch."""
    window = opts.dedupe_window.total_seconds()
    max_age = spec.max_age.total_seconds() if spec.max_age is not None else None
    if max_age is not None:
        window = min(window, max_age)  # JetStream requires the window to fit in max_age
    subj = subject(spec.name, partition)
    return StreamConfig(
        name=jetstream_name(spec.name, partition),
        subjects=[subj],
        storage=StorageType.MEMORY if opts.memory else StorageType.FILE,
        num_replicas=opts.replicas,
        max_age=max_age,
        max_bytes=spec.max_bytes if spec.max_bytes is not None else -1,
        discard=DiscardPolicy.OLD,
        duplicate_window=max(window, MIN_DUPLICATE_WINDOW_S),
        allow_direct=True,
        republish=RePublish(src=subj, dest=f"fbn.{spec.name}.{partition}", headers_only=True),
        metadata={
            META_STREAM: spec.name,
            META_PARTITION: str(partition),
            META_PARTITIONS: str(count),
            META_EPOCH: epoch,
        },
    )


@dataclass(eq=False)
class StreamView:
    """What this process knows of one Flambeau stream."""

    spec: StreamSpec
    epoch: str
    names: list[str]
    subjects: list[bytes]
    start: list[int]
    end: list[int]
    waiters: Waiters = field(default_factory=Waiters)
    watch: Subscription | None = None

    @property
    def partitions(self) -> int:
        return len(self.names)

    def info(self) -> LogStreamInfo:
        count = self.partitions
        return LogStreamInfo(
            name=self.spec.name,
            partitions=count,
            epoch=self.epoch,
            start={p: self.start[p] for p in range(count)},
            end={p: self.end[p] for p in range(count)},
        )

    def advance(self, partition: int, end: int) -> None:
        """Move a partition's known end forward (never back), waking the waiters."""
        if end > self.end[partition]:
            self.end[partition] = end
            self.wake()

    def wake(self) -> None:
        self.waiters.wake()


def epoch_of(infos: Sequence[StreamInfo]) -> str:
    """One epoch per Flambeau stream: its partitions' epochs, combined if a partition was reset."""
    epochs = [(info.config.metadata or {}).get(META_EPOCH, "") for info in infos]
    if len(set(epochs)) == 1:
        return epochs[0]
    return hashlib.sha256("|".join(epochs).encode()).hexdigest()[:16]


def bounds(info: StreamInfo) -> tuple[int, int]:
    """(first retained offset, next offset) of a partition stream."""
    state = info.state
    end = state.last_seq
    return min(max(state.first_seq - 1, 0), end), end


def ready(stream: StreamView, after: Mapping[int, int]) -> bool:
    """Whether a partition in ``after`` is known to hold data at or beyond its offset there."""
    end = stream.end
    return any(0 <= p < len(end) and end[p] > offset for p, offset in after.items())


async def cut(nc: Client, js: JetStreamContext, name: str, cutoff: str) -> None:
    """Purge the messages of JetStream stream ``name`` stored before ``cutoff`` (RFC 3339)."""
    reply = await nc.request(
        f"$JS.API.DIRECT.GET.{name}",
        msgspec.json.encode({"start_time": cutoff}),
        timeout=5.0,
    )
    headers = reply.headers or {}
    if headers.get("Status") == "404":
        await js.purge_stream(name)  # everything is older than the cutoff
    elif "Nats-Sequence" in headers:
        first_kept = int(headers["Nats-Sequence"])
        if first_kept > 1:
            await js.purge_stream(name, seq=first_kept)
