"""A worker process of the failover test: ``python -m tests.integration.nats.lease_worker URL``.

It runs the job's processor over the partitions its NATS leases give it, until SIGTERM; then it
commits, hands its leases back and exits. The worker id comes from ``LEASE_WORKER``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from flambeau.log import open_log
from flambeau.log.nats import NatsLog
from flambeau.log.nats_leases import NatsLeases
from flambeau.processing import Worker
from tests.integration.nats.lease_job import REGISTRY, sums


async def main(url: str, ttl: float) -> None:
    log = await open_log(url, REGISTRY)
    assert isinstance(log, NatsLog)
    leases = NatsLeases(log, worker=os.environ["LEASE_WORKER"], ttl=ttl)
    worker = Worker(log, [sums], assignment=leases, batch_size=50, idle_wait=0.5)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, worker.stop)
    print("ready", flush=True)
    try:
        await worker.run()
    finally:
        await leases.aclose()
        await log.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
