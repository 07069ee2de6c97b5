"""Mobility: road incidents, transit feeds, supplier deliveries routed on a Paris-region network.

Modules: :mod:`.schemas` (stream payloads), :mod:`.network` (the shipped road network and its
generator, GraphML loading), :mod:`.router` (shortest paths with ``scipy.sparse.csgraph``),
:mod:`.geometry` (closures and perimeters mapped to edges with ``shapely``), :mod:`.gtfs` and
:mod:`.cifs` (feed parsing), :mod:`.adapters` (``POST /v1/adapters/gtfs-rt`` and ``/cifs``),
:mod:`.dispatch` (the routing decisions), :mod:`.processors`, :mod:`.views` and :mod:`.routes`.
"""

PUBLIC = ("schemas",)
"""The published contract (see CONTRIBUTING.md): only the stream payloads."""
