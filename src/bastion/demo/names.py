"""Word lists and builders for plausible, synthetic English health-service names.

Place names are made by joining common English place-name elements, so they
sound right without naming a real organisation on purpose.
"""

from __future__ import annotations

import random
import re

PLACE_HEADS = (
    "Ash", "Brad", "Brook", "Carl", "Dun", "Elm", "Fair", "Green", "Hart", "Kings",
    "Lang", "Lyn", "Mill", "Nor", "Oak", "Red", "Rother", "Sand", "Shep", "Stan",
    "Sud", "Thorn", "Wal", "Whit", "Wood", "Ack", "Bar", "Bel", "Chal", "Cran",
    "Dor", "Fen", "Gold", "Hal", "Holm", "Ken", "Lam", "Mar", "Mor", "New",
    "Pen", "Ray", "Sal", "Tam", "Wen", "Wyn", "Ald", "Bur", "Cas", "Der",
    "Ex", "Gris", "Hay", "Ing", "Kel", "Lid", "Mal", "Ot", "Pick", "Rich",
)  # fmt: skip
PLACE_TAILS = (
    "ford", "well", "bridge", "ham", "ton", "bury", "field", "ley", "wick", "worth",
    "by", "thorpe", "stead", "mouth", "minster", "combe", "dale", "hurst", "mere",
    "chester", "gate", "port", "borough", "den", "holme", "caster", "wood", "hampton",
)  # fmt: skip
COMPASS = ("North", "South", "East", "West", "Central", "Mid")
COUNTY_TAILS = ("shire", "land", "sex", "folk")

FIRST_NAMES = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Sophie", "Emily", "Ruby", "Chloe",
    "Hannah", "Priya", "Aisha", "Zara", "Fatima", "Niamh", "Siobhan", "Megan", "Laura", "Helen",
    "Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Arthur", "Muhammad", "Oscar", "Charlie",
    "James", "Thomas", "Daniel", "Samuel", "Rohan", "Arjun", "Kwame", "Tomasz", "Rhys", "Owen",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Khan", "Wood", "Jackson", "Clarke", "Hughes", "Edwards", "Turner", "Begum", "Okafor",
    "Murphy", "Kaur", "Singh", "Ali", "Shah", "Cooper", "Harris", "Morris", "Nowak", "Mensah",
)  # fmt: skip
STREETS = (
    "Church Lane", "Station Road", "High Street", "Mill Lane", "Park Road", "Victoria Road",
    "Market Square", "London Road", "Queens Road", "Manor Road", "Kings Road", "Bridge Street",
    "Castle Street", "Abbey Road", "Orchard Way", "Grove Road", "Chapel Street", "Green Lane",
)  # fmt: skip
TREES = ("Oaks", "Elms", "Willows", "Limes", "Beeches", "Cedars", "Maples", "Laurels", "Hollies")

TRUST_KINDS = (
    # (name pattern, slug suffix, weight); {p} and {q} are places
    ("{p} University Hospitals NHS Foundation Trust", "uh", 5),
    ("{p} Teaching Hospitals NHS Trust", "th", 3),
    ("{p} and {q} Hospitals NHS Trust", "hospitals", 4),
    ("{p} Community Health Services NHS Trust", "chs", 3),
    ("{p} and {q} Mental Health NHS Foundation Trust", "mh", 3),
    ("{p} Healthcare NHS Foundation Trust", "hc", 3),
    ("{p} Ambulance Service NHS Foundation Trust", "as", 1),
    ("{p} Children's Hospital NHS Foundation Trust", "ch", 1),
)
GP_KINDS = (
    "{p} Medical Centre",
    "{p} Surgery",
    "{s} Surgery",
    "{s} Medical Practice",
    "The {t} Practice",
    "{p} Health Centre",
    "{p} Family Practice",
)
CARE_KINDS = (
    "{p} Care Home",
    "{t} House Nursing Home",
    "{p} Homecare Ltd",
    "{p} Hospice",
    "{p} Lodge Residential Care",
)
SUPPLIER_NAMES = (
    "Meridian Clinical Systems Ltd",
    "Harbourline Health Software Ltd",
    "Northlight Pathology Services Ltd",
    "Keystone Digital Care plc",
    "Bluewater Imaging Systems Ltd",
)
ALB_NAMES = (
    "National Health Data Service",
    "Health Workforce Agency",
    "Clinical Standards Authority",
)
CONTACT_ROLES = ("security lead", "SIRO", "data protection officer", "IT service desk")


class NameBook:
    """Hand out unique place names and slugs, deterministically for one ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._places = [h + t for h in PLACE_HEADS for t in PLACE_TAILS]
        rng.shuffle(self._places)
        self._used_slugs: set[str] = set()

    def place(self) -> str:
        """Return a place name not handed out before (recycled with a compass point when spent)."""
        if not self._places:
            self._places = [
                f"{c} {h}{t}" for c in COMPASS for h in PLACE_HEADS for t in PLACE_TAILS
            ]
            self.rng.shuffle(self._places)
        return self._places.pop()

    def county(self) -> str:
        """Return an area name for an integrated care board."""
        pattern = self.rng.randrange(3)
        if pattern == 0:
            return f"{self.place()} and {self.place()}"
        if pattern == 1:
            return f"{self.rng.choice(COMPASS)} {self.place()}{self.rng.choice(COUNTY_TAILS)}"
        return f"{self.place()}{self.rng.choice(COUNTY_TAILS)}"

    def slug(self, text: str) -> str:
        """Return a unique DNS label made from ``text``."""
        base = re.sub(r"[^a-z0-9]", "", text.lower())[:40] or "org"
        slug, n = base, 1
        while slug in self._used_slugs:
            n += 1
            slug = f"{base}{n}"
        self._used_slugs.add(slug)
        return slug

    def person(self) -> tuple[str, str]:
        """Return a person's (first name, last name)."""
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def trust(self) -> tuple[str, str]:
        """Return a trust's name and the stem of its slug."""
        patterns = [k[0] for k in TRUST_KINDS]
        weights = [k[2] for k in TRUST_KINDS]
        index = self.rng.choices(range(len(patterns)), weights)[0]
        p, q = self.place(), self.place()
        stem = p + (q if "{q}" in patterns[index] else "") + TRUST_KINDS[index][1]
        return patterns[index].format(p=p, q=q), stem

    def gp_practice(self) -> str:
        """Return a GP practice's name."""
        return self.rng.choice(GP_KINDS).format(
            p=self.place(), s=self.rng.choice(STREETS), t=self.rng.choice(TREES)
        )

    def care_provider(self) -> str:
        """Return a care provider's name."""
        return self.rng.choice(CARE_KINDS).format(p=self.place(), t=self.rng.choice(TREES))
