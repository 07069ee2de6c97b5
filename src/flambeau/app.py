"""Assembly: wires every service into the gateway and the worker.

Importing this module registers every service's streams in the default registry.
"""

from __future__ import annotations
