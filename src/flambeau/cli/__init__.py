"""The ``flambeau`` command line: one module per command group."""
