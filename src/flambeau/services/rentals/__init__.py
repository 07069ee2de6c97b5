"""Rentals: furnished lets and rental cars, priced live from demand and the Games.

Modules: :mod:`.schemas` (stream payloads and pricing settings), :mod:`.model` (the vectorised
price of an area's listing-nights), :mod:`.book` (an area's state), :mod:`.processors` (the
Games demand and pricing processors), :mod:`.views` and :mod:`.routes` (``/v1/rentals/...``).
"""

PUBLIC = ("schemas",)
"""The published contract (see CONTRIBUTING.md): only the stream payloads."""
