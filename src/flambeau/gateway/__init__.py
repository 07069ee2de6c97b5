"""The gateway: authenticated ingest, lossless live subscriptions, keys, limits and metrics."""

from flambeau.gateway.app import create_app
from flambeau.gateway.config import GatewayConfig
from flambeau.gateway.context import Gateway, gateway_of
from flambeau.gateway.keys import KeyStore
from flambeau.gateway.metrics import LagRow, MetricsSource

__all__ = [
    "Gateway",
    "GatewayConfig",
    "KeyStore",
    "LagRow",
    "MetricsSource",
    "create_app",
    "gateway_of",
]
