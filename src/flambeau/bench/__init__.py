"""Benchmarks: one module per ``flambeau bench NAME``, each with ``run(quick) -> dict``."""
