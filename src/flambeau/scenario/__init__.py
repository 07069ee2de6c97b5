"""The Paris 2024 rehearsal: venues, sports, NOCs, a day's schedule and deterministic generators.

The scenario is a producer like any other: it builds plain Python values (dataclasses) and never
imports the log, the processing layer or a service. Start from :class:`Timeline`::

    for action in Timeline(ScenarioConfig(seed=7, speed=60)):
        ...  # wait until action.offset, then send action.payload
"""

from flambeau.scenario.generators.incidents import parse_script, random_incidents
from flambeau.scenario.schedule import DEFAULT_DAY, build_schedule
from flambeau.scenario.timeline import ActionKind, ScenarioAction, ScenarioConfig, Timeline

__all__ = [
    "DEFAULT_DAY",
    "ActionKind",
    "ScenarioAction",
    "ScenarioConfig",
    "Timeline",
    "build_schedule",
    "parse_script",
    "random_incidents",
]
