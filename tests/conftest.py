"""Fixtures every test directory shares."""

pytest_plugins = ["tests.support.nats_server"]
