"""The Olympic competition venues of Paris 2024, as the project's own data.

Codes, names and coordinates follow the public Paris 2024 venue list. Capacities are
approximate public figures, rounded; the competition windows per discipline are approximate
too (the public list gives one window per venue, and had wrong dates for golf and BMX). The
Paralympic programme and the ceremonies are left out: the rehearsal plays an Olympic day.

A venue has one or more fields of play (a court, a pool, a pitch); a field of play hosts one
unit at a time, and each field sells its own session tickets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from flambeau.scenario.errors import UnknownCodeError

__all__ = [
    "VENUES",
    "FieldOfPlay",
    "Venue",
    "VenueSport",
    "active_venues",
    "venue",
    "venues_for",
]


@dataclass(frozen=True, slots=True)
class VenueSport:
    """A discipline held at a venue between two days (inclusive, local dates).

    Attributes:
        discipline: ODF discipline code.
        first_day: The first competition day at this venue.
        last_day: The last competition day at this venue.
        events: The events held here (RSC event codes); empty means every event.
    """

    discipline: str
    first_day: date
    last_day: date
    events: tuple[str, ...] = ()

    def active(self, day: date) -> bool:
        """Whether this discipline competes at the venue on ``day``."""
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True, slots=True)
class FieldOfPlay:
    """A court, pool or pitch that hosts one unit at a time.

    Attributes:
        code: Unique within the venue, e.g. ``CHATRIER``.
        name: Display name.
        capacity: Approximate seats sold per session on this field.
        disciplines: The disciplines it can host.
    """

    code: str
    name: str
    capacity: int
    disciplines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Venue:
    """A competition venue.

    Attributes:
        code: The three-character venue code, e.g. ``STA``.
        name: Official name.
        city: Town or area.
        latitude: WGS 84 degrees.
        longitude: WGS 84 degrees.
        utc_offset_hours: Local offset during the Games (CEST is +2; Tahiti is -10).
        sports: The disciplines held here, with their windows.
        fields: The fields of play.
        opens: Gates open (local time) on a competition day.
        closes: Gates close (local time).
    """

    code: str
    name: str
    city: str
    latitude: float
    longitude: float
    sports: tuple[VenueSport, ...]
    fields: tuple[FieldOfPlay, ...]
    utc_offset_hours: int = 2
    opens: time = time(7, 0)
    closes: time = time(23, 59)

    @property
    def capacity(self) -> int:
        """Approximate spectators per session across all fields of play."""
        return sum(fop.capacity for fop in self.fields)

    @property
    def disciplines(self) -> tuple[str, ...]:
        """The ODF codes of the disciplines held here."""
        return tuple(sport.discipline for sport in self.sports)

    @property
    def tz(self) -> timezone:
        """The venue's local time zone during the Games, as a fixed offset."""
        return timezone(timedelta(hours=self.utc_offset_hours))

    def hosts(self, discipline: str, day: date | None = None) -> bool:
        """Whether the venue holds ``discipline`` (on ``day``, when given)."""
        return any(
            sport.discipline == discipline and (day is None or sport.active(day))
            for sport in self.sports
        )

    def active_sports(self, day: date) -> tuple[VenueSport, ...]:
        """The disciplines competing here on ``day``."""
        return tuple(sport for sport in self.sports if sport.active(day))

    def local(self, day: date, clock: time) -> datetime:
        """The UTC instant of local time ``clock`` on ``day`` at this venue."""
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(UTC)

    def opening_hours(self, day: date) -> tuple[datetime, datetime]:
        """When the gates open and close on ``day``, in UTC."""
        return self.local(day, self.opens), self.local(day, self.closes)


def _d(text: str) -> date:
    return date.fromisoformat(f"2024-{text}")


def _s(discipline: str, first: str, last: str, *events: str) -> VenueSport:
    return VenueSport(discipline, _d(first), _d(last), events)


def _f(code: str, name: str, capacity: int, *disciplines: str) -> FieldOfPlay:
    return FieldOfPlay(code, name, capacity, disciplines)


# The table reads best one venue per block, so the formatter leaves it alone.
# fmt: off
VENUES: tuple[Venue, ...] = (
    Venue("ALX", "Pont Alexandre III", "Paris", 48.8637, 2.3134,
          (_s("TRI", "07-30", "08-05"), _s("OWS", "08-08", "08-09")),
          (_f("COURSE", "Pont Alexandre III course", 1_500, "TRI", "OWS"),)),
    Venue("AQC", "Centre Aquatique", "Saint-Denis", 48.923723, 2.35578,
          (_s("DIV", "07-27", "08-10"), _s("WPO", "07-27", "08-04"), _s("SWA", "08-05", "08-10")),
          (_f("DIVING", "Diving pool", 2_500, "DIV", "SWA"),
           _f("POLO", "Polo pool", 2_500, "WPO"))),
    Venue("BCY", "Bercy Arena", "Paris", 48.83863, 2.378597,
          (_s("GAR", "07-27", "08-05"), _s("GTR", "08-02", "08-02"), _s("BKB", "08-06", "08-11")),
          (_f("ARENA", "Bercy Arena", 15_000, "GAR", "GTR", "BKB"),)),
    Venue("BOR", "Stade de Bordeaux", "Bordeaux", 44.8974, -0.5616,
          (_s("FBL", "07-24", "08-02"),), (_f("PITCH", "Stade de Bordeaux", 42_000, "FBL"),)),
    Venue("CDM", "Arena Champ de Mars", "Paris", 48.8531, 2.30252,
          (_s("JUD", "07-27", "08-03"), _s("WRE", "08-05", "08-11")),
          (_f("MAT", "Competition mats", 8_000, "JUD", "WRE"),)),
    Venue("CPL", "Arena Porte de la Chapelle", "Paris", 48.8997292, 2.3605141,
          (_s("BDM", "07-27", "08-05"), _s("GRY", "08-08", "08-10")),
          (_f("COURT1", "Court 1", 4_000, "BDM", "GRY"), _f("COURT2", "Court 2", 4_000, "BDM"))),
    Venue("CTX", "Centre national de tir de Châteauroux", "Déols", 46.8157, 1.7582,
          (_s("SHO", "07-27", "08-05"),),
          (_f("PISTOL", "Pistol hall", 1_000, "SHO"),
           _f("SHOTGUN", "Shotgun range", 2_000, "SHO"))),
    Venue("DEF", "Paris La Défense Arena", "Nanterre", 48.8954, 2.2294,
          (_s("SWM", "07-27", "08-04"), _s("WPO", "08-05", "08-11")),
          (_f("POOL", "Competition pool", 15_000, "SWM", "WPO"),)),
    Venue("EIF", "Stade Tour Eiffel", "Paris", 48.85613, 2.2978,
          (_s("VBV", "07-27", "08-10"),), (_f("CENTRE", "Centre court", 12_000, "VBV"),)),
    Venue("ELA", "Colline d'Élancourt", "Élancourt", 48.78981063, 1.9642379,
          (_s("MTB", "07-28", "07-29"),), (_f("COURSE", "Hill course", 25_000, "MTB"),)),
    Venue("GRP", "Grand Palais", "Paris", 48.86616355, 2.3125474,
          (_s("FEN", "07-27", "08-04"), _s("TKW", "08-07", "08-10")),
          (_f("PISTE", "Main hall", 8_000, "FEN", "TKW"),)),
    Venue("HDV", "Hôtel de Ville", "Paris", 48.8563881, 2.35222203,
          (_s("ATH", "08-10", "08-11", "MARATHON"),),
          (_f("START", "Marathon start", 2_000, "ATH"),)),
    Venue("INV", "Invalides", "Paris", 48.85704803, 2.312835932,
          (_s("ARC", "07-25", "08-04"), _s("CRD", "07-27", "07-27")),
          (_f("RANGE", "Archery range", 8_000, "ARC", "CRD"),)),
    Venue("LBO", "Site d'escalade du Bourget", "Le Bourget", 48.93693402, 2.41997931,
          (_s("CLB", "08-05", "08-10"),), (_f("WALL", "Climbing walls", 6_000, "CLB"),)),
    Venue("LC1", "La Concorde 1", "Paris", 48.86640642, 2.32119515,
          (_s("BK3", "07-30", "08-05"), _s("BKG", "08-09", "08-10")),
          (_f("COURT", "Urban court", 8_000, "BK3", "BKG"),)),
    Venue("LC2", "La Concorde 2", "Paris", 48.86504456, 2.32119516,
          (_s("BMF", "07-30", "07-31"),), (_f("PARK", "BMX park", 5_000, "BMF"),)),
    Venue("LC3", "La Concorde 3", "Paris", 48.86486788, 2.32139191,
          (_s("SKB", "07-27", "07-29"),), (_f("STREET", "Street course", 7_000, "SKB"),)),
    Venue("LC4", "La Concorde 4", "Paris", 48.86573765, 2.3220383,
          (_s("SKB", "08-06", "08-07"),), (_f("PARK", "Skate park", 7_000, "SKB"),)),
    Venue("LGN", "Golf National", "Guyancourt", 48.7532, 2.0758,
          (_s("GLF", "08-01", "08-10"),), (_f("COURSE", "Albatros course", 30_000, "GLF"),)),
    Venue("LIL", "Stade Pierre Mauroy", "Villeneuve-d'Ascq", 50.61190661, 3.13047318,
          (_s("BKB", "07-27", "08-04"), _s("HBL", "08-06", "08-11")),
          (_f("COURT", "Stade Pierre Mauroy", 27_000, "BKB", "HBL"),)),
    Venue("LYO", "Stade de Lyon", "Décines-Charpieu", 45.76514165, 4.98199275,
          (_s("FBL", "07-25", "08-09"),), (_f("PITCH", "Stade de Lyon", 59_000, "FBL"),)),
    Venue("MAM", "Marina de Marseille", "Marseille", 43.2661, 5.3678,
          (_s("SAL", "07-28", "08-08"),), (_f("BAY", "Race areas", 5_000, "SAL"),)),
    Venue("MRS", "Stade de Marseille", "Marseille", 43.2698, 5.3959,
          (_s("FBL", "07-24", "08-06"),), (_f("PITCH", "Stade de Marseille", 67_000, "FBL"),)),
    Venue("NAN", "Stade de la Beaujoire", "Nantes", 47.25593494, -1.52469927,
          (_s("FBL", "07-24", "08-08"),), (_f("PITCH", "Stade de la Beaujoire", 35_000, "FBL"),)),
    Venue("NIC", "Stade de Nice", "Nice", 43.7051, 7.1926,
          (_s("FBL", "07-24", "07-31"),), (_f("PITCH", "Stade de Nice", 36_000, "FBL"),)),
    Venue("NPA", "Arena Paris Nord", "Villepinte", 48.9721, 2.5149,
          (_s("BOX", "07-27", "08-05"), _s("MPN", "08-08", "08-08")),
          (_f("RING", "Arena", 6_000, "BOX", "MPN"),)),
    Venue("PDP", "Parc des Princes", "Paris", 48.84156974, 2.253048697,
          (_s("FBL", "07-24", "08-10"),), (_f("PITCH", "Parc des Princes", 48_000, "FBL"),)),
    Venue("RGA", "Stade Roland-Garros", "Paris", 48.845968, 2.253522,
          (_s("TEN", "07-27", "08-04"), _s("BOX", "08-06", "08-10")),
          (_f("CHATRIER", "Court Philippe-Chatrier", 15_000, "TEN", "BOX"),
           _f("LENGLEN", "Court Suzanne-Lenglen", 10_000, "TEN"),
           _f("MATHIEU", "Court Simonne-Mathieu", 5_000, "TEN"))),
    Venue("SP1", "Arena Paris Sud 1", "Paris", 48.832968, 2.2840069,
          (_s("VVO", "07-27", "08-11"),), (_f("COURT", "Arena Paris Sud 1", 12_000, "VVO"),)),
    Venue("SP4", "Arena Paris Sud 4", "Paris", 48.830184, 2.289033,
          (_s("TTE", "07-27", "08-10"),),
          (_f("TABLE1", "Table 1", 3_000, "TTE"), _f("TABLE2", "Table 2", 3_000, "TTE"))),
    Venue("SP6", "Arena Paris Sud 6", "Paris", 48.829381, 2.290865,
          (_s("HBL", "07-25", "08-04"), _s("WLF", "08-07", "08-11")),
          (_f("COURT", "Arena Paris Sud 6", 6_000, "HBL", "WLF"),)),
    Venue("STA", "Stade de France", "Saint-Denis", 48.924475, 2.360127,
          (_s("RU7", "07-24", "07-30"),
           _s("ATH", "08-01", "08-11", "100M", "400MH", "1500M", "3000MSC")),
          (_f("STADIUM", "Stade de France", 77_000, "RU7", "ATH"),)),
    Venue("STE", "Stade Geoffroy-Guichard", "Saint-Étienne", 45.4607, 4.3902,
          (_s("FBL", "07-24", "07-31"),), (_f("PITCH", "Stade Geoffroy-Guichard", 41_000, "FBL"),)),
    Venue("TAH", "Teahupo'o", "Tahiti", -17.86693, -149.25208,
          (_s("SRF", "07-27", "07-30"),), (_f("REEF", "Teahupo'o reef", 1_000, "SRF"),),
          utc_offset_hours=-10),
    Venue("TRO", "Trocadéro", "Paris", 48.85972558, 2.29221884,
          (_s("ATH", "08-01", "08-07", "20KMW"), _s("CRD", "08-03", "08-04")),
          (_f("COURSE", "Trocadéro course", 13_000, "ATH", "CRD"),)),
    Venue("VE1", "Vélodrome National de Saint-Quentin-en-Yvelines", "Montigny-le-Bretonneux",
          48.78800979, 2.03498269,
          (_s("CTR", "08-05", "08-11"),), (_f("TRACK", "Velodrome track", 5_000, "CTR"),)),
    Venue("VE2", "Stade BMX de Saint-Quentin-en-Yvelines", "Montigny-le-Bretonneux",
          48.78800979, 2.03498269,
          (_s("BMX", "08-01", "08-02"),), (_f("TRACK", "BMX track", 5_000, "BMX"),)),
    Venue("VER", "Château de Versailles", "Versailles", 48.81432266, 2.08452588,
          (_s("EQU", "07-27", "08-06"), _s("MPN", "08-09", "08-11")),
          (_f("ARENA", "Equestrian arena", 15_000, "EQU", "MPN"),)),
    Venue("VN1", "Stade nautique de Vaires-sur-Marne - bassin d'eaux calmes", "Vaires-sur-Marne",
          48.8623, 2.6348,
          (_s("ROW", "07-27", "08-03"), _s("CSP", "08-06", "08-10")),
          (_f("LAKE", "Flat-water course", 14_000, "ROW", "CSP"),)),
    Venue("VN2", "Stade nautique de Vaires-sur-Marne - stade d'eaux vives", "Vaires-sur-Marne",
          48.86223209583829, 2.6395463613678416,
          (_s("CSL", "07-27", "08-05"),), (_f("CHANNEL", "White-water course", 12_000, "CSL"),)),
    Venue("YDM", "Stade Yves-du-Manoir", "Colombes", 48.92934371, 2.24777122,
          (_s("HOC", "07-27", "08-09"),),
          (_f("PITCH1", "Pitch 1", 15_000, "HOC"), _f("PITCH2", "Pitch 2", 5_000, "HOC"))),
)
# fmt: on

_BY_CODE = {entry.code: entry for entry in VENUES}


def venue(code: str) -> Venue:
    """The venue with code ``code``.

    Raises:
        UnknownCodeError: no venue has that code.
    """
    try:
        return _BY_CODE[code]
    except KeyError:
        raise UnknownCodeError(f"unknown venue code {code!r}") from None


def venues_for(discipline: str, day: date | None = None) -> tuple[Venue, ...]:
    """The venues that hold ``discipline`` (on ``day``, when given)."""
    return tuple(entry for entry in VENUES if entry.hosts(discipline, day))


def active_venues(day: date) -> Iterator[Venue]:
    """The venues with at least one discipline competing on ``day``."""
    return (entry for entry in VENUES if entry.active_sports(day))
