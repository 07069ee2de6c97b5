"""The gateway: authenticated ingest, lossless live subscriptions, keys, limits and metrics.

This package is also the one face a service's routes use: everything a route handler needs
(the running :class:`Gateway`, the caller's :class:`Principal`, problem+json errors and the
response specs that document them, body splitting and ingest replies, metric gauges, a view
read after authorizing and catching up, and a raw body's schema, operation and lenient
decoding) is imported from ``flambeau.gateway``, never from its submodules.
"""

from flambeau.gateway.app import create_app
from flambeau.gateway.auth import Principal
from flambeau.gateway.config import GatewayConfig
from flambeau.gateway.context import Gateway, gateway_of
from flambeau.gateway.ingest import IngestReply, Placement, media_type, split_body
from flambeau.gateway.keys import KeyStore
from flambeau.gateway.metrics import LagRow, MetricsSource, gauge_lines
from flambeau.gateway.openapi import (
    body_operation,
    decode_json,
    json_body_operation,
    standalone_schema,
)
from flambeau.gateway.problems import (
    AUTH_PROBLEMS,
    PROBLEM_JSON,
    RATE_PROBLEM,
    FieldError,
    Problem,
    ProblemError,
    ProblemKind,
    describe_validation_error,
    problem_response,
    problem_specs,
)
from flambeau.gateway.reads import caught_up, read_view

__all__ = [
    "AUTH_PROBLEMS",
    "PROBLEM_JSON",
    "RATE_PROBLEM",
    "FieldError",
    "Gateway",
    "GatewayConfig",
    "IngestReply",
    "KeyStore",
    "LagRow",
    "MetricsSource",
    "Placement",
    "Principal",
    "Problem",
    "ProblemError",
    "ProblemKind",
    "body_operation",
    "caught_up",
    "create_app",
    "decode_json",
    "describe_validation_error",
    "gateway_of",
    "gauge_lines",
    "json_body_operation",
    "media_type",
    "problem_response",
    "problem_specs",
    "read_view",
    "split_body",
    "standalone_schema",
]
