"""Benchmarks: one module per ``flambeau bench NAME``, each with ``run(quick) -> dict``.

Private modules hold what benchmarks share (``_common``), their workloads, and
micro-measurements of one service loop to run by hand (``python -m flambeau.bench._reprice``).
"""
