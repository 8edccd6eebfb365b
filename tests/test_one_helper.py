"""One helper per job (issue 16, item 3): digit folding, the districts and grievance
category lists, the paging prefix and background tasks each live in one place, so a
second copy cannot drift from the first."""

import re
from pathlib import Path

import pytest

from indic_nlu.text import ascii_digits
from service_catalogue import CatalogueError
from service_catalogue.lists import districts, grievance_categories

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = (
    "actions",
    "backends",
    "connectors",
    "dashboard",
    "indic_nlu",
    "ops",
    "service_catalogue",
    "whatsapp_emulator",
)


def sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def defining(pattern: str) -> list[str]:
    return sorted(name for name, text in sources().items() if re.search(pattern, text, re.M))


def test_digits_are_folded_by_one_function():
    # a table of Devanagari digits, or a loop over unicodedata.decimal, is a second folder
    assert defining(r"०१२३४५६७८९|unicodedata\.decimal\(") == ["indic_nlu/text.py"]
    assert ascii_digits("पिन ११० ०९२, ੧੨") == "पिन 110 092, 12"
    assert ascii_digits("110092") == "110092"


def test_districts_and_grievance_categories_are_read_only_by_the_catalogue():
    readers = defining(r"""["'/](districts|grievances)\.yml["']""")
    assert readers == ["service_catalogue/lists.py"]


def test_page_prefix_and_background_tasks_are_defined_once():
    assert defining(r"^PAGE_PREFIX\s*=") == ["connectors/whatsapp_format.py"]
    # the services' contexts hold their background loops in ops.background
    contexts = defining(r"^class Context\b")
    assert contexts == ["backends/web.py", "dashboard/web.py"]
    assert not set(contexts) & set(defining(r"def spawn\("))
    assert set(contexts) <= set(defining(r"tasks: BackgroundTasks\b"))


def test_the_lists_hold_every_district_and_category_in_hindi_and_english():
    assert len(districts()) == 11
    assert districts()["north_east"] == {"en": "North East Delhi", "hi": "उत्तर पूर्वी दिल्ली"}
    water = grievance_categories()["water"]
    assert water == {
        "department": "djb",
        "sla_days": 3,
        "title": {"en": "Water supply", "hi": "पानी की आपूर्ति"},
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "version: 1\ncategories:\n  water: {department: nowhere, sla_days: 3, "
            "title: {en: Water, hi: पानी}}\n",
            "categories.water.department",
        ),
        (
            "version: 1\ncategories:\n  water: {department: djb, sla_days: 0, "
            "title: {en: Water, hi: पानी}}\n",
            "categories.water.sla_days",
        ),
        (
            "version: 1\ncategories:\n  water: {department: djb, sla_days: 3, "
            "title: {en: पानी, hi: पानी}}\n",
            "categories.water.title.en",
        ),
        (
            "version: 1\ncategories:\n  water: {department: djb, sla_days: 3, "
            "title: {en: Water supply and sewer problems, hi: पानी}}\n",
            "longer than 24",
        ),
        ("categories: {}\n", "version: 1"),
    ],
)
def test_a_broken_grievance_list_fails_at_load_naming_the_problem(tmp_path, text, problem):
    path = tmp_path / "grievances.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match=re.escape(problem)):
        grievance_categories(path)


def test_a_broken_district_list_fails_at_load_naming_the_problem(tmp_path):
    path = tmp_path / "districts.yml"
    path.write_text("version: 1\ndistricts:\n  east: {en: East Delhi}\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="districts.east: must have exactly"):
        districts(path)
