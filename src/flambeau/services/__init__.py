"""Domain services. Each talks to the others only through streams.

A service imports nothing of another but its published contract: the ``schemas`` module plus
the modules its package names in ``PUBLIC``. The rule, stated once, is in CONTRIBUTING.md
("Service boundaries"); ``tests/unit/test_architecture.py`` enforces it.
"""
