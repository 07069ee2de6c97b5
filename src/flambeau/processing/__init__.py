"""Stateful stream processing: processors, keyed state, windows, timers and the worker runtime.

The query side is here too: a :class:`View` folds a stream into a read model for routes.
The engine that runs one partition (``flambeau.processing.engine``) is the runtime's own.
"""

from flambeau.processing.assignment import Assignment, StaticAssignment
from flambeau.processing.batch import Batch
from flambeau.processing.clock import Clock, ManualClock, SystemClock
from flambeau.processing.errors import (
    ProcessorConfigError,
    ReservedStateKeyError,
    UndeclaredOutputError,
    UnknownProcessorError,
)
from flambeau.processing.processor import (
    BatchHandler,
    Processor,
    ProcessorRegistry,
    TimerHandler,
    default_processors,
)
from flambeau.processing.relay import broadcast_keys, relay
from flambeau.processing.runtime import Lag, Worker, processor_lag
from flambeau.processing.sidestreams import DeadLetter, LateEvent
from flambeau.processing.state import State
from flambeau.processing.timers import TimeDomain, Timer, Timers
from flambeau.processing.transaction import Transaction, output_id
from flambeau.processing.view import View, view_of
from flambeau.processing.windows import (
    Agg,
    Emit,
    Hopping,
    Session,
    Sliding,
    Tumbling,
    Window,
    WindowResult,
    WindowSpec,
)

__all__ = [
    "Agg",
    "Assignment",
    "Batch",
    "BatchHandler",
    "Clock",
    "DeadLetter",
    "Emit",
    "Hopping",
    "Lag",
    "LateEvent",
    "ManualClock",
    "Processor",
    "ProcessorConfigError",
    "ProcessorRegistry",
    "ReservedStateKeyError",
    "Session",
    "Sliding",
    "State",
    "StaticAssignment",
    "SystemClock",
    "TimeDomain",
    "Timer",
    "TimerHandler",
    "Timers",
    "Transaction",
    "Tumbling",
    "UndeclaredOutputError",
    "UnknownProcessorError",
    "View",
    "Window",
    "WindowResult",
    "WindowSpec",
    "Worker",
    "broadcast_keys",
    "default_processors",
    "output_id",
    "processor_lag",
    "relay",
    "view_of",
]
