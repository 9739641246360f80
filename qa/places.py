"""The gazetteer: country, city and region names (qa/data/places.txt) and the capitals and
demonyms that stand for countries (qa/data/place_aliases.txt). Loaded once, on first use."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def _sections() -> tuple[frozenset[str], ...]:
    """(countries and territories, cities and towns, regions and seas), as the file has them."""
    path = _DATA / "places.txt"
    if not path.exists():
        return frozenset(), frozenset(), frozenset()
    sections: list[set[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            sections.append(set())
        elif line.strip() and sections:
            sections[-1].add(line.strip())
    return tuple(frozenset(section) for section in sections)


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """Every country, city and region name."""
    return frozenset().union(*_sections())


def countries() -> frozenset[str]:
    """Country and territory names: what "which country" asks for."""
    sections = _sections()
    return sections[0] if sections else frozenset()


def cities() -> frozenset[str]:
    """City and town names: what "which city" asks for (not Russia, not Nagorno-Karabakh)."""
    sections = _sections()
    return sections[1] if len(sections) > 1 else frozenset()


@lru_cache(maxsize=1)
def aliases() -> dict[str, str]:
    """Lowercase capital or demonym → lowercase country ("tehran" → "iran", "turkmen" → …)."""
    path = _DATA / "place_aliases.txt"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "|" in line and not line.startswith("#"):
            word, country = line.split("|", 1)
            out[word.strip().lower()] = country.strip().lower()
    return out
