"""Fixtures every test directory shares, and the Hypothesis profile every property test runs.

Hypothesis' timing checks (an example's deadline, slow input generation) fail tests on a
loaded machine for reasons unrelated to the property: CI machines are shared and noisy, so
timing is measured in benchmarks and never asserted here.
"""

from hypothesis import HealthCheck, settings

pytest_plugins = ["tests.support.nats_server"]

settings.register_profile("flambeau", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("flambeau")
