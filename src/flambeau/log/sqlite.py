"""``sqlite:///path``: the embedded default. One SQLite database in WAL mode holds the events,
the consumer-group offsets and processor state, so a processor's batch commits in one
transaction.

Writes go through a single writer thread with group commit: every job that queued while the
previous commit ran is written in the same SQLite transaction (up to ``GROUP_MAX_ROWS`` rows),
then published on the event loop in job order. Offsets are assigned on the loop (see
:mod:`flambeau.log._core`), so the writer only inserts. Readers see recent records from the
in-memory tail (the newest ``TAIL_RECORDS`` records and at most about ``TAIL_BYTES`` of each
partition) and older ones through a small pool of read-only connections, never on the event
loop thread.

One process at a time: offsets are assigned in memory by the process that holds the log, so
opening takes an exclusive lock on ``<path>.lock`` and a second process gets
:class:`~flambeau.errors.LogLockedError`. Run the gateway and the processors in one process
(``flambeau up``), or move to ``nats://`` to spread them over machines.

Memory is bounded: the tails (``TAIL_BYTES`` a partition), SQLite's page caches
(``WRITER_CACHE_KIB`` for the writer, ``READER_CACHE_KIB`` for each of the ``READERS``) and the
dedupe window (see :mod:`flambeau.log._core`).

Durability: ``sync=normal`` (the default) survives a process crash and loses at most the last
commits on power loss; ``sync=full`` fsyncs every group commit.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import SplitResult

import msgspec

from flambeau.errors import InvalidLogURLError, LogLockedError
from flambeau.events import Record, Registry, StreamSpec, pack_array
from flambeau.log._core import Job, LogCore, Partition, StreamState
from flambeau.log._registry import reject_unknown, take_window

GROUP_MAX_ROWS = 20_000
TAIL_RECORDS = 4096
TAIL_BYTES = 256 << 10
WRITER_CACHE_KIB = 32 << 10
READER_CACHE_KIB = 8 << 10
RETENTION_EVERY_S = 5.0
READERS = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    name TEXT PRIMARY KEY,
    sid INTEGER NOT NULL UNIQUE,
    partitions INTEGER NOT NULL,
    epoch TEXT NOT NULL,
    created_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS segments (
    sid INTEGER NOT NULL,
    part INTEGER NOT NULL,
    first_off INTEGER NOT NULL,
    last_off INTEGER NOT NULL,
    ingested_us INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (sid, part, first_off)
);
CREATE TABLE IF NOT EXISTS offsets (
    grp TEXT NOT NULL,
    stream TEXT NOT NULL,
    part INTEGER NOT NULL,
    next INTEGER NOT NULL,
    PRIMARY KEY (grp, stream, part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
    grp TEXT NOT NULL,
    part INTEGER NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (grp, part, key)
) WITHOUT ROWID;
"""

INSERT_SEGMENT = (
    "INSERT INTO segments (sid, part, first_off, last_off, ingested_us, data) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
UPSERT_OFFSET = (
    "INSERT INTO offsets (grp, stream, part, next) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (grp, stream, part) DO UPDATE SET next = excluded.next"
)
UPSERT_STATE = (
    "INSERT INTO state (grp, part, key, value) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (grp, part, key) DO UPDATE SET value = excluded.value"
)
DELETE_STATE = "DELETE FROM state WHERE grp = ? AND part = ? AND key = ?"

_decode_segment = msgspec.msgpack.Decoder(list[Record[msgspec.Raw]]).decode


_SYNC = {"normal": "NORMAL", "full": "FULL"}


def connect(path: Path, sync: str, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with Flambeau's pragmas: WAL, the chosen synchronous level, autocommit off."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {_SYNC[sync]}")
    conn.execute("PRAGMA temp_store = MEMORY")
    # page cache, in KiB: the writer keeps the right edge of every B-tree it appends to; readers
    # mostly fetch recent segments, which the OS page cache also holds
    conn.execute(f"PRAGMA cache_size = -{READER_CACHE_KIB if readonly else WRITER_CACHE_KIB}")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    return conn


class _Pending:
    """A job waiting for the writer, with the future its appender awaits."""

    __slots__ = ("future", "job", "rows", "sql")

    def __init__(
        self,
        job: Job | None,
        future: asyncio.Future[None],
        sql: list[tuple[str, tuple[object, ...]]] | None = None,
    ) -> None:
        self.job = job
        self.future = future
        self.sql = sql or []
        self.rows = sum(len(s.blobs) for s in job.segments) if job else 0


class SQLiteLog(LogCore):
    """The embedded log: one SQLite file, one writer thread."""

    tail_max = TAIL_RECORDS
    tail_bytes = TAIL_BYTES

    def __init__(
        self, url: str, registry: Registry, path: Path, *, sync: str, dedupe_window: timedelta
    ) -> None:
        super().__init__(url, registry, dedupe_window=dedupe_window)
        self.path = path
        self.sync = sync
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._writer_conn = connect(path, sync)
        self._writer_conn.executescript(SCHEMA)
        self._max_sid: int = self._writer_conn.execute(
            "SELECT COALESCE(MAX(sid), 0) FROM streams"
        ).fetchone()[0]
        self._readers = ThreadPoolExecutor(READERS, thread_name_prefix="flambeau-sqlite-read")
        self._reader_conns: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._writer = threading.Thread(
            target=self._write_loop, name="flambeau-sqlite-writer", daemon=True
        )
        self._next_retention = time.monotonic() + RETENTION_EVERY_S
        self._lock: int | None = None
        self._unregistered: dict[str, tuple[int, int, str]] = {}

    # -- opening --------------------------------------------------------------------------------

    def _load(self) -> None:
        """Read streams, ends, group offsets and the dedupe window back from the file."""
        conn = self._writer_conn
        recent: list[tuple[int, StreamState, list[str]]] = []
        for name, sid, count, epoch in conn.execute(
            "SELECT name, sid, partitions, epoch FROM streams ORDER BY sid"
        ).fetchall():
            if name in self.registry:
                spec = self.registry.spec(name)
                self._add_stream(self._restore(conn, spec, sid, count, epoch, recent))
            else:  # kept on disk, served once some module registers it in this process
                self._unregistered[name] = (sid, count, epoch)
        recent.sort(key=lambda item: item[0])
        for ingested_us, state, segment_ids in recent:
            self._remember(ingested_us, state, segment_ids)
        for grp, stream, part, nxt in conn.execute("SELECT grp, stream, part, next FROM offsets"):
            self._groups.setdefault((grp, stream), {})[part] = nxt

    def _stored_stream(self, spec: StreamSpec) -> StreamState | None:
        found = self._unregistered.pop(spec.name, None)
        if found is None:
            return None
        recent: list[tuple[int, StreamState, list[str]]] = []
        conn = connect(self.path, self.sync, readonly=True)  # rare: a stream registered late
        try:
            state = self._restore(conn, spec, *found, recent)
        finally:
            conn.close()
        for ingested_us, _, segment_ids in sorted(recent, key=lambda item: item[0]):
            self._remember(ingested_us, state, segment_ids)
        return state

    def _restore(
        self,
        conn: sqlite3.Connection,
        spec: StreamSpec,
        sid: int,
        count: int,
        epoch: str,
        recent: list[tuple[int, StreamState, list[str]]],
    ) -> StreamState:
        """Rebuild a stored stream's ends and its ids still inside the dedupe window."""
        cutoff = int(time.time() * 1_000_000) - self._dedupe_window_us
        parts = []
        for part in range(count):
            high = conn.execute(
                "SELECT last_off FROM segments WHERE sid = ? AND part = ? "
                "ORDER BY first_off DESC LIMIT 1",
                (sid, part),
            ).fetchone()
            end = high[0] + 1 if high else 0
            low = conn.execute(
                "SELECT first_off FROM segments WHERE sid = ? AND part = ? "
                "ORDER BY first_off LIMIT 1",
                (sid, part),
            ).fetchone()
            parts.append(Partition(low[0] if low else end, end))
        state = StreamState(spec=spec, sid=sid, epoch=epoch, partitions=parts)
        for part in range(count):
            for ingested_us, data in conn.execute(
                "SELECT ingested_us, data FROM segments WHERE sid = ? AND part = ? "
                "ORDER BY first_off DESC",
                (sid, part),
            ):
                if ingested_us < cutoff:
                    break
                segment_ids = []
                for record in _decode_segment(data):
                    state.ids[record.id] = (part, record.offset)
                    segment_ids.append(record.id)
                recent.append((ingested_us, state, segment_ids))
        return state

    def _next_sid(self) -> int:
        # skip the ids of streams kept on disk that no service registers in this process
        self._max_sid += 1
        return self._max_sid

    # -- the writer thread ----------------------------------------------------------------------

    def _write_loop(self) -> None:
        conn = self._writer_conn
        take = self._queue.get
        take_now = self._queue.get_nowait
        while True:
            first = take()
            if first is None:
                break
            group = [first]
            rows = first.rows
            stop = False
            while rows < GROUP_MAX_ROWS:
                try:
                    more = take_now()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                group.append(more)
                rows += more.rows
            try:  # anything that goes wrong fails this group's jobs: no appender waits forever
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for pending in group:
                        self._write(conn, pending)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except Exception as exc:  # a failed commit fails every job in the group
                self._loop.call_soon_threadsafe(self._finish, group, exc)
            else:
                self._loop.call_soon_threadsafe(self._finish, group, None)
            if stop:
                break
        conn.close()

    @staticmethod
    def _write(conn: sqlite3.Connection, pending: _Pending) -> None:
        job = pending.job
        for sql, params in pending.sql:
            conn.execute(sql, params)
        if job is None:
            return
        for state in job.new_streams:
            conn.execute(
                "INSERT INTO streams (name, sid, partitions, epoch, created_us) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    state.spec.name,
                    state.sid,
                    len(state.partitions),
                    state.epoch,
                    int(time.time() * 1e6),
                ),
            )
        if job.segments:
            conn.executemany(
                INSERT_SEGMENT,
                [
                    (
                        s.sid,
                        s.partition,
                        s.first,
                        s.first + len(s.blobs) - 1,
                        s.ingested_us,
                        pack_array(s.blobs),
                    )
                    for s in job.segments
                ],
            )
        if job.group is not None:
            group = job.group
            if job.offsets:
                conn.executemany(UPSERT_OFFSET, [(group, s, p, o) for s, p, o in job.offsets])
            puts = [(group, c.partition, c.key, c.value) for c in job.state if c.value is not None]
            deletes = [(group, c.partition, c.key) for c in job.state if c.value is None]
            if puts:
                conn.executemany(UPSERT_STATE, puts)
            if deletes:
                conn.executemany(DELETE_STATE, deletes)

    def _finish(self, group: list[_Pending], error: BaseException | None) -> None:
        for pending in group:
            if error is not None:
                self._failed = error
                if not pending.future.done():
                    pending.future.set_exception(error)
                continue
            if pending.job is not None:
                self._publish(pending.job)
            if not pending.future.done():
                pending.future.set_result(None)

    def _submit(
        self, job: Job | None, sql: list[tuple[str, tuple[object, ...]]] | None = None
    ) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self._loop.create_future()
        self._queue.put(_Pending(job, future, sql))
        return future

    async def _persist(self, job: Job) -> None:
        await self._submit(job)
        if time.monotonic() >= self._next_retention:
            self._next_retention = time.monotonic() + RETENTION_EVERY_S
            await self.enforce_retention()

    # -- reading --------------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(self.path, self.sync, readonly=True)
            self._reader_conns.append(conn)
        return conn

    async def _read_stored(
        self, state: StreamState, partition: int, offset: int, end: int
    ) -> list[Record[msgspec.Raw]]:
        def query() -> list[Record[msgspec.Raw]]:
            conn = self._reader()
            (first,) = conn.execute(
                "SELECT MAX(first_off) FROM segments WHERE sid = ? AND part = ? AND first_off <= ?",
                (state.sid, partition, offset),
            ).fetchone()
            out: list[Record[msgspec.Raw]] = []
            for first_off, data in conn.execute(
                "SELECT first_off, data FROM segments WHERE sid = ? AND part = ? "
                "AND first_off >= ? AND first_off < ? ORDER BY first_off",
                (state.sid, partition, offset if first is None else first, end),
            ):
                out.extend(_decode_segment(data)[max(0, offset - first_off) : end - first_off])
                if len(out) >= end - offset:
                    break
            return out

        return await self._loop.run_in_executor(self._readers, query)

    async def load_state(self, group: str, partition: int) -> dict[str, bytes]:
        self._check_usable()

        def query() -> dict[str, bytes]:
            rows = self._reader().execute(
                "SELECT key, value FROM state WHERE grp = ? AND part = ?", (group, partition)
            )
            return dict(rows.fetchall())

        return await self._loop.run_in_executor(self._readers, query)

    # -- retention ------------------------------------------------------------------------------

    async def enforce_retention(self) -> None:
        self._check_usable()
        cuts: list[tuple[StreamState, int, int]] = []
        now_us = int(time.time() * 1_000_000)
        for state in list(self._streams.values()):
            spec = state.spec
            if spec.max_age is None and spec.max_bytes is None:
                continue
            for index, part in enumerate(state.partitions):
                start, end = part.start, part.end
                cut = await self._loop.run_in_executor(
                    self._readers, self._retention_cut, state, index, start, end, now_us
                )
                if cut > start:
                    cuts.append((state, index, cut))
        if not cuts:
            return
        sql: list[tuple[str, tuple[object, ...]]] = [
            ("DELETE FROM segments WHERE sid = ? AND part = ? AND last_off < ?", (s.sid, i, c))
            for s, i, c in cuts
        ]
        await self._submit(None, sql)
        for state, index, cut in cuts:
            part = state.partitions[index]
            part.start = max(part.start, cut)
            if part.base < part.start:
                part.drop(min(part.start - part.base, len(part.tail)))

    def _retention_cut(
        self, state: StreamState, part: int, start: int, end: int, now_us: int
    ) -> int:
        """The first offset to keep, at segment grain; runs on a reader thread.

        Expired segments are deleted on every pass, so the scan by age from the start reads
        only those and one more.
        """
        conn = self._reader()
        spec = state.spec
        cut = start
        if spec.max_age is not None:
            cutoff = now_us - int(spec.max_age.total_seconds() * 1_000_000)
            row = conn.execute(
                "SELECT first_off FROM segments WHERE sid = ? AND part = ? AND ingested_us >= ? "
                "ORDER BY first_off LIMIT 1",
                (state.sid, part, cutoff),
            ).fetchone()
            cut = max(cut, row[0] if row else end)
        if spec.max_bytes is not None:
            kept = 0
            keep_from = end
            for first_off, size in conn.execute(
                "SELECT first_off, length(data) FROM segments WHERE sid = ? AND part = ? "
                "ORDER BY first_off DESC",
                (state.sid, part),
            ):
                if kept + size > spec.max_bytes:
                    break
                kept += size
                keep_from = first_off
            cut = max(cut, keep_from)
        return cut

    # -- closing --------------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        await self._loop.run_in_executor(None, self._writer.join)
        self._readers.shutdown(wait=True)
        for conn in self._reader_conns:
            conn.close()
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = None
        self._wake_all()


def take_lock(path: Path) -> int:
    """Hold ``<path>.lock`` exclusively for this process, or say who holds it."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise LogLockedError(
            f"the log {path} is open in another process (pid {holder}); a SQLite log has one "
            "process: run gateway and processors together with 'flambeau up', or use nats://"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


async def open_backend(url: SplitResult, options: dict[str, str], registry: Registry) -> SQLiteLog:
    """Open ``sqlite:///relative.db`` or ``sqlite:////absolute.db``.

    Options: ``sync=normal|full`` and ``dedupe_window=SECONDS``.
    """
    raw_path = url.path[1:] if url.path.startswith("/") else url.path
    if url.netloc or not raw_path:
        raise InvalidLogURLError(
            f"a SQLite log URL is sqlite:///relative/path.db or sqlite:////absolute/path.db, "
            f"got {url.geturl()!r}"
        )
    sync = options.pop("sync", "normal")
    if sync not in _SYNC:
        raise InvalidLogURLError(f"sync must be 'normal' or 'full', got {sync!r}")
    window = take_window(options, url)
    reject_unknown(options, url)
    path = Path(raw_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = take_lock(path)
    try:
        log = SQLiteLog(url.geturl(), registry, path, sync=sync, dedupe_window=window)
    except BaseException:
        os.close(lock)
        raise
    log._lock = lock
    await asyncio.get_running_loop().run_in_executor(None, log._load)
    log._writer.start()
    os.chmod(path, 0o600)
    return log
