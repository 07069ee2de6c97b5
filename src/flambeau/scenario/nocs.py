"""National Olympic Committees and their plausible strength per discipline.

Strengths are fixed numbers on a 0-100 scale (100 is dominant), not predictions: the simulator
draws results from them, and pricing may read them as ratings. A NOC's strength in a discipline
is its listed specialty when there is one, otherwise its overall level nudged by a fixed,
hash-derived offset so that nations differ from one discipline to the next without a seed.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from flambeau.scenario.errors import UnknownCodeError

__all__ = ["NOCS", "SPECIALTIES", "Noc", "noc", "pick_field", "strength"]


@dataclass(frozen=True, slots=True)
class Noc:
    """A National Olympic Committee.

    Attributes:
        code: The three-letter IOC code.
        name: English short name.
        level: Overall sporting level, 0-100.
    """

    code: str
    name: str
    level: float


# fmt: off
NOCS: tuple[Noc, ...] = tuple(Noc(code, name, level) for code, name, level in (
    ("USA", "United States", 95), ("CHN", "China", 92), ("JPN", "Japan", 84),
    ("AUS", "Australia", 84), ("FRA", "France", 85), ("NED", "Netherlands", 80),
    ("GBR", "Great Britain", 85), ("KOR", "Republic of Korea", 76), ("ITA", "Italy", 80),
    ("GER", "Germany", 78), ("NZL", "New Zealand", 70), ("CAN", "Canada", 74),
    ("UZB", "Uzbekistan", 58), ("HUN", "Hungary", 66), ("ESP", "Spain", 70),
    ("SWE", "Sweden", 64), ("KEN", "Kenya", 60), ("NOR", "Norway", 60),
    ("IRL", "Ireland", 55), ("BRA", "Brazil", 68), ("IRI", "Iran", 55),
    ("UKR", "Ukraine", 60), ("ROU", "Romania", 55), ("GEO", "Georgia", 54),
    ("BEL", "Belgium", 60), ("BUL", "Bulgaria", 48), ("SRB", "Serbia", 60),
    ("CZE", "Czechia", 56), ("DEN", "Denmark", 60), ("AZE", "Azerbaijan", 48),
    ("CRO", "Croatia", 56), ("CUB", "Cuba", 55), ("BRN", "Bahrain", 40),
    ("SLO", "Slovenia", 50), ("TPE", "Chinese Taipei", 54), ("AUT", "Austria", 50),
    ("HKG", "Hong Kong, China", 50), ("PHI", "Philippines", 42), ("ALG", "Algeria", 42),
    ("INA", "Indonesia", 45), ("ISR", "Israel", 48), ("POL", "Poland", 58),
    ("KAZ", "Kazakhstan", 50), ("JAM", "Jamaica", 58), ("RSA", "South Africa", 54),
    ("THA", "Thailand", 46), ("ETH", "Ethiopia", 55), ("SUI", "Switzerland", 58),
    ("ECU", "Ecuador", 42), ("POR", "Portugal", 50), ("GRE", "Greece", 52),
    ("ARG", "Argentina", 55), ("EGY", "Egypt", 48), ("TUN", "Tunisia", 42),
    ("BOT", "Botswana", 40), ("CHI", "Chile", 42), ("LCA", "Saint Lucia", 36),
    ("UGA", "Uganda", 42), ("DOM", "Dominican Republic", 44), ("GUA", "Guatemala", 36),
    ("MAR", "Morocco", 48), ("DMA", "Dominica", 34), ("PAK", "Pakistan", 38),
    ("TUR", "Türkiye", 52), ("MEX", "Mexico", 50), ("ARM", "Armenia", 44),
    ("COL", "Colombia", 48), ("KGZ", "Kyrgyzstan", 40), ("PRK", "DPR Korea", 46),
    ("LTU", "Lithuania", 48), ("IND", "India", 52), ("MDA", "Moldova", 38),
    ("KOS", "Kosovo", 38), ("CYP", "Cyprus", 34), ("FIJ", "Fiji", 44),
    ("JOR", "Jordan", 36), ("MGL", "Mongolia", 42), ("PAN", "Panama", 36),
    ("TJK", "Tajikistan", 38), ("ALB", "Albania", 36), ("GRN", "Grenada", 36),
    ("MAS", "Malaysia", 46), ("PUR", "Puerto Rico", 44), ("CIV", "Côte d'Ivoire", 40),
    ("CPV", "Cabo Verde", 34), ("PER", "Peru", 38), ("QAT", "Qatar", 40),
    ("SGP", "Singapore", 40), ("SVK", "Slovakia", 48), ("ZAM", "Zambia", 44),
    ("NGR", "Nigeria", 48), ("SSD", "South Sudan", 44), ("MLI", "Mali", 40),
    ("PAR", "Paraguay", 44), ("IRQ", "Iraq", 40), ("GUI", "Guinea", 40),
    ("ANG", "Angola", 40), ("MNE", "Montenegro", 44), ("LAT", "Latvia", 44),
    ("AIN", "Individual Neutral Athletes", 50), ("EOR", "Refugee Olympic Team", 36),
))

SPECIALTIES: dict[str, dict[str, float]] = {
    "SWM": {"USA": 98, "AUS": 96, "CHN": 90, "FRA": 90, "GBR": 88, "CAN": 87, "ITA": 84,
            "HUN": 82, "IRL": 76, "JPN": 80, "KOR": 76, "GER": 78, "NED": 78, "SWE": 80},
    "ATH": {"USA": 98, "KEN": 92, "JAM": 88, "ETH": 87, "GBR": 84, "NED": 85, "NOR": 84,
            "CAN": 80, "BOT": 80, "UGA": 80, "SWE": 78, "LCA": 78, "BRN": 76, "MAR": 78,
            "ESP": 72, "ITA": 80, "AUS": 80, "JPN": 72, "NZL": 74, "GRN": 70, "DMA": 72},
    "FBL": {"ESP": 93, "FRA": 92, "USA": 90, "BRA": 88, "ARG": 86, "MAR": 86, "GER": 85,
            "JPN": 84, "CAN": 82, "EGY": 78, "AUS": 80, "COL": 78, "PAR": 76, "UKR": 74,
            "ZAM": 70, "NGR": 72, "NZL": 68, "MLI": 70, "ISR": 68, "UZB": 68, "IRQ": 66,
            "GUI": 66, "DOM": 58},
    "BKB": {"USA": 99, "FRA": 91, "SRB": 90, "GER": 89, "CAN": 87, "AUS": 87, "ESP": 85,
            "GRE": 82, "BRA": 78, "CHN": 80, "BEL": 82, "JPN": 74, "PUR": 70, "SSD": 74,
            "NGR": 74},
    "TEN": {"SRB": 95, "ESP": 95, "ITA": 91, "CHN": 90, "USA": 89, "POL": 89, "GER": 85,
            "GBR": 83, "AUS": 85, "CZE": 85, "CAN": 80, "GRE": 81, "NOR": 82, "CRO": 79,
            "SVK": 78, "FRA": 80},
    "HBL": {"DEN": 96, "FRA": 92, "NOR": 90, "SWE": 89, "GER": 90, "ESP": 88, "HUN": 84,
            "SLO": 84, "CRO": 82, "NED": 80, "EGY": 80, "BRA": 72, "KOR": 70, "ARG": 68,
            "JPN": 70, "ANG": 66},
    "HOC": {"NED": 97, "GER": 90, "BEL": 92, "GBR": 86, "AUS": 88, "ARG": 86, "IND": 86,
            "ESP": 82, "CHN": 80, "NZL": 74, "USA": 72, "FRA": 70, "IRL": 72, "RSA": 70,
            "JPN": 68},
    "WPO": {"SRB": 94, "ESP": 94, "HUN": 90, "CRO": 90, "GRE": 90, "ITA": 88, "USA": 88,
            "AUS": 86, "NED": 84, "MNE": 82, "FRA": 78, "CAN": 72, "JPN": 70, "ROU": 70,
            "CHN": 72},
    "VVO": {"ITA": 95, "FRA": 93, "POL": 93, "USA": 92, "BRA": 90, "JPN": 88, "SLO": 86,
            "TUR": 88, "CHN": 86, "SRB": 84, "GER": 82, "CAN": 82, "NED": 80, "ARG": 80,
            "KEN": 66, "DOM": 80, "EGY": 70},
    "VBV": {"SWE": 95, "GER": 90, "QAT": 90, "NOR": 92, "BRA": 92, "USA": 90, "CAN": 91,
            "SUI": 88, "AUS": 86, "ITA": 82, "NED": 82, "CZE": 80, "ESP": 80, "CHI": 76,
            "FRA": 76, "LAT": 80},
    "TTE": {"CHN": 99, "JPN": 92, "KOR": 88, "GER": 86, "FRA": 88, "SWE": 86, "TPE": 84,
            "BRA": 78, "HKG": 80, "ROU": 78, "EGY": 70, "SGP": 74, "IND": 72, "PRK": 82},
    "BDM": {"CHN": 97, "DEN": 92, "KOR": 90, "JPN": 90, "INA": 88, "MAS": 86, "TPE": 88,
            "THA": 86, "IND": 84, "ESP": 82, "FRA": 76, "HKG": 78},
    "GAR": {"CHN": 96, "USA": 95, "JPN": 94, "GBR": 88, "ITA": 86, "BRA": 88, "UKR": 84,
            "PHI": 86, "ALG": 84, "FRA": 80, "CAN": 80, "NED": 78, "KAZ": 76, "ARM": 78},
    "DIV": {"CHN": 99, "GBR": 86, "MEX": 84, "AUS": 84, "USA": 84, "CAN": 82, "JPN": 80,
            "GER": 78, "ITA": 78, "KOR": 76, "UKR": 74, "FRA": 72},
    "JUD": {"JPN": 97, "FRA": 94, "GEO": 88, "KOR": 84, "AIN": 86, "ITA": 82, "UZB": 84,
            "AZE": 82, "BRA": 84, "KOS": 84, "MGL": 80, "NED": 80, "ISR": 80},
    "FEN": {"ITA": 95, "FRA": 94, "JPN": 92, "HUN": 90, "USA": 90, "KOR": 90, "CHN": 84,
            "EGY": 80, "HKG": 84, "UKR": 80, "GER": 78, "POL": 76, "CAN": 82},
    "BOX": {"UZB": 95, "CHN": 88, "KAZ": 86, "IRL": 84, "CUB": 86, "GBR": 80, "FRA": 80,
            "PHI": 82, "TUR": 80, "USA": 78, "ALG": 82, "BRA": 80, "THA": 76},
    "ARC": {"KOR": 99, "FRA": 84, "USA": 86, "CHN": 86, "MEX": 84, "TUR": 84, "GER": 82,
            "JPN": 82, "IND": 80, "TPE": 82, "NED": 80, "ITA": 78},
    "SHO": {"CHN": 95, "KOR": 90, "USA": 88, "ITA": 88, "IND": 84, "FRA": 84, "NOR": 82,
            "CZE": 80, "GER": 80, "SUI": 82, "UKR": 80, "GBR": 80, "SWE": 78},
    "EQU": {"GER": 96, "GBR": 94, "NED": 90, "USA": 88, "FRA": 90, "SWE": 88, "DEN": 84,
            "SUI": 84, "BEL": 84, "IRL": 82, "AUS": 82, "JPN": 80, "NZL": 84},
    "GLF": {"USA": 96, "GBR": 90, "ESP": 88, "JPN": 88, "KOR": 86, "AUS": 86, "IRL": 86,
            "SWE": 84, "NZL": 84, "FRA": 82, "NOR": 84, "CAN": 84, "CHN": 82},
    "CRD": {"BEL": 96, "NED": 94, "FRA": 92, "USA": 88, "GBR": 88, "ITA": 88, "DEN": 88,
            "AUS": 86, "SLO": 88, "SUI": 84, "ESP": 84, "GER": 84, "NOR": 82, "HUN": 80},
}
# fmt: on

_BY_CODE = {entry.code: entry for entry in NOCS}


def noc(code: str) -> Noc:
    """The NOC with IOC code ``code``.

    Raises:
        UnknownCodeError: no NOC in the scenario has that code.
    """
    try:
        return _BY_CODE[code]
    except KeyError:
        raise UnknownCodeError(f"unknown NOC code {code!r}") from None


def _offset(noc_code: str, discipline: str) -> float:
    digest = hashlib.blake2b(f"{noc_code}/{discipline}".encode(), digest_size=2).digest()
    return (int.from_bytes(digest, "big") / 65535.0 - 0.5) * 14.0


def strength(noc_code: str, discipline: str) -> float:
    """The strength of ``noc_code`` in ``discipline`` on a 0-100 scale.

    Without a listed specialty the NOC's overall level, lowered a little (specialists beat
    generalists) and offset by up to 7 points, stays below the listed specialists' level.

    Raises:
        UnknownCodeError: the NOC is unknown.
    """
    listed = SPECIALTIES.get(discipline, {}).get(noc_code)
    if listed is not None:
        return float(listed)
    base = noc(noc_code).level - 10.0 + _offset(noc_code, discipline)
    return round(min(90.0, max(20.0, base)), 1)


def pick_field(discipline: str, size: int, rng: random.Random) -> list[str]:
    """Draw ``size`` distinct NOCs for a unit of ``discipline``, strong nations more often.

    Each NOC's weight grows by a factor of ``e`` every 8 strength points, so a final tends to
    gather the strong nations and still leaves room for a surprise.

    Raises:
        ValueError: ``size`` is larger than the number of NOCs.
    """
    pool = [entry.code for entry in NOCS]
    if size > len(pool):
        raise ValueError(f"cannot pick {size} NOCs out of {len(pool)}")
    weights = [math.exp(strength(code, discipline) / 8.0) for code in pool]
    chosen: list[str] = []
    for _ in range(size):
        index = rng.choices(range(len(pool)), weights=weights)[0]
        chosen.append(pool.pop(index))
        weights.pop(index)
    return chosen
