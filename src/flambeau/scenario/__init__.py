"""The Paris 2024 rehearsal: venues, sports, NOCs, a day's schedule and deterministic generators.

The scenario is a producer like any other: it builds plain Python values (dataclasses) and never
imports the log, the processing layer or a service.
"""
