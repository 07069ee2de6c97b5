"""The places the shipped network knows: venues, the Athletes' Village, depots and transit hubs.

Venue coordinates are those of the Paris 2024 competition sites (data.paris2024.org export),
kept to the Île-de-France venues; the Village, the depots and the hubs are rounded public
locations. Codes are what deliveries name as ``origin`` and ``destination``.
"""

from __future__ import annotations

from typing import NamedTuple

from flambeau.services.mobility.schemas import VENUE_LINES

__all__ = ["HUBS", "PLACES", "VENUE_LINES", "Place"]


class Place(NamedTuple):
    """A named place: ``kind`` is ``venue``, ``village``, ``depot`` or ``hub``."""

    code: str
    name: str
    kind: str
    lat: float
    lon: float


PLACES: tuple[Place, ...] = (
    Place("AQC", "Centre Aquatique", "venue", 48.923723, 2.35578),
    Place("BCY", "Arena Bercy", "venue", 48.83863, 2.378597),
    Place("CDM", "Arena Champ de Mars", "venue", 48.8531, 2.30252),
    Place("CPL", "Arena Porte de la Chapelle", "venue", 48.8997292, 2.3605141),
    Place("CSB", "Clichy-sous-Bois", "venue", 48.906345, 2.553544),
    Place("DEF", "Paris La Défense Arena", "venue", 48.8954, 2.2294),
    Place("EIF", "Stade Tour Eiffel", "venue", 48.85613, 2.2978),
    Place("ELA", "Colline d'Elancourt", "venue", 48.78981063, 1.9642379),
    Place("GRP", "Grand Palais", "venue", 48.86616355, 2.3125474),
    Place("HDV", "Hôtel de Ville", "venue", 48.8563881, 2.35222203),
    Place("INV", "Invalides", "venue", 48.85704803, 2.312835932),
    Place("LBO", "Site d'escalade du Bourget", "venue", 48.93693402, 2.41997931),
    Place("LCO", "La Concorde", "venue", 48.86570357, 2.32121423),
    Place("LCS", "La Courneuve", "venue", 48.9372382, 2.3994101),
    Place("LGN", "Golf National", "venue", 48.7532, 2.0758),
    Place("NPA", "Arena Paris Nord", "venue", 48.9721, 2.5149),
    Place("PDP", "Parc des Princes", "venue", 48.84156974, 2.253048697),
    Place("RGA", "Stade Roland Garros", "venue", 48.845968, 2.253522),
    Place("SP1", "Arena Paris Sud 1", "venue", 48.832968, 2.2840069),
    Place("STA", "Stade de France", "venue", 48.924475, 2.360127),
    Place("TRO", "Trocadéro", "venue", 48.85972558, 2.29221884),
    Place(
        "VE1", "Vélodrome National de Saint-Quentin-en-Yvelines", "venue", 48.78800979, 2.0349827
    ),
    Place("VER", "Château de Versailles", "venue", 48.81432266, 2.08452588),
    Place("VN1", "Stade nautique de Vaires-sur-Marne", "venue", 48.8623, 2.6348),
    Place("YDM", "Stade Yves-du-Manoir", "venue", 48.92934371, 2.24777122),
    Place("VIL", "Village des athlètes", "village", 48.9140, 2.3340),
    Place("RUN", "Dépôt Rungis (MIN)", "depot", 48.7605, 2.3510),
    Place("GEN", "Dépôt Port de Gennevilliers", "depot", 48.9360, 2.2880),
    Place("BON", "Dépôt Port de Bonneuil", "depot", 48.7720, 2.4880),
    Place("ROI", "Dépôt Roissy Sogaris", "depot", 48.9700, 2.5000),
    Place("GDN", "Gare du Nord", "hub", 48.8809, 2.3553),
    Place("CHT", "Châtelet", "hub", 48.8584, 2.3470),
    Place("GDL", "Gare de Lyon", "hub", 48.8443, 2.3744),
    Place("LDF", "La Défense (hub)", "hub", 48.8920, 2.2380),
)

HUBS: tuple[str, ...] = ("GDN", "CHT", "GDL", "LDF")
"""The hubs whose travel times the public access display gives."""
