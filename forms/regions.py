"""Guizhou's administrative divisions (GB/T 2260): its 市州 and their 区县, shipped as data in
`forms/data/guizhou_regions.json`. An institution's region is chosen from these and checked
against them."""

import json
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DATA_FILE = Path(__file__).parent / "data" / "guizhou_regions.json"


@cache
def regions() -> dict:
    """The province as the data file gives it: code, name, cities (each with counties)."""
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


@cache
def region_names() -> dict[str, str]:
    """{code: full name}: each city (e.g. 520100 贵阳市) and each county with its city."""
    names = {}
    for city in regions()["cities"]:
        names[city["code"]] = city["name"]
        for county in city["counties"]:
            names[county["code"]] = f"{city['name']}{county['name']}"
    return names


def region_choices() -> list:
    """Choices grouped by 市州 for a select: the city itself (市本级, 州本级) then its 区县."""
    groups = []
    for city in regions()["cities"]:
        own = _("%(city)s（州本级）") if city["name"].endswith("州") else _("%(city)s（市本级）")
        options = [(city["code"], own % {"city": city["name"]})]
        options += [(county["code"], county["name"]) for county in city["counties"]]
        groups.append((city["name"], options))
    return groups


def region_clean(value: str) -> str:
    value = (value or "").strip()
    if value not in region_names():
        raise ValidationError(
            _("请从列表中选择贵州省的市州和区县（GB/T 2260 行政区划代码）。"), code="invalid_region"
        )
    return value
