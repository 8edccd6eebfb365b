"""STOP / START preferences in the backends, over real HTTP."""

import pytest
import requests

from tests.support.backends import running_backend


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    with running_backend(tmp_path_factory.mktemp("citizens")) as running:
        yield running


def test_stop_and_start(backend):
    url = f"{backend.url}/citizens/919800000201/preferences"
    me = backend.citizen("919800000201")
    assert requests.get(url, headers=me, timeout=5).json()["broadcasts"] is True

    stopped = requests.put(
        url, json={"broadcasts": False, "reminders": False}, headers=me, timeout=5
    )
    assert stopped.ok and stopped.json()["reminders"] is False
    # what a broadcast sender (officer token) reads before sending
    seen = requests.get(url, headers=backend.officer(), timeout=5).json()
    assert (seen["broadcasts"], seen["reminders"]) == (False, False)

    requests.put(url, json={"broadcasts": True}, headers=me, timeout=5)
    assert requests.get(url, headers=me, timeout=5).json()["broadcasts"] is True

    events = requests.get(f"{backend.url}/events", headers=backend.officer(), timeout=5).json()
    mine = [e for e in events["events"] if e["subject_id"] == "919800000201"]
    assert [e["type"] for e in mine].count("citizen.preferences_changed") == 2


def test_bad_input_and_other_citizens(backend):
    url = f"{backend.url}/citizens/919800000202/preferences"
    me = backend.citizen("919800000202")
    bad = requests.put(url, json={"broadcasts": "no"}, headers=me, timeout=5)
    assert bad.status_code == 400 and bad.json()["details"]["fields"] == {
        "broadcasts": "not_boolean"
    }
    assert requests.put(url, json={}, headers=me, timeout=5).status_code == 400
    other = backend.citizen("919800000203")
    assert requests.get(url, headers=other, timeout=5).status_code == 404
    assert (
        requests.put(url, json={"broadcasts": False}, headers=other, timeout=5).status_code == 404
    )
    assert requests.get(url, timeout=5).status_code == 401


def test_departments_district_language_and_status_updates(backend):
    url = f"{backend.url}/citizens/919800000204/preferences"
    me = backend.citizen("919800000204")
    fresh = requests.get(url, headers=me, timeout=5).json()
    assert (fresh["status_updates"], fresh["departments"], fresh["district"]) == (
        True,
        [],
        None,
    )

    chosen = requests.put(
        url,
        json={"departments": ["transport", "djb", "djb"], "district": "south_west"},
        headers=me,
        timeout=5,
    )
    assert chosen.status_code == 200
    # consent withdrawn: no status updates either; the rest is kept
    withdrawn = requests.put(url, json={"status_updates": False}, headers=me, timeout=5).json()
    assert withdrawn["departments"] == ["djb", "transport"]
    assert (withdrawn["district"], withdrawn["status_updates"]) == ("south_west", False)
    assert withdrawn["broadcasts"] is True

    bad = requests.put(
        url,
        json={"departments": ["djb", "nasa"], "district": "gotham", "language": "fr"},
        headers=me,
        timeout=5,
    )
    assert bad.status_code == 400
    assert bad.json()["details"]["fields"] == {
        "departments": "unknown_department",
        "district": "unknown_district",
        "language": "invalid_choice",
    }
    requests.put(url, json={"language": "en", "district": None}, headers=me, timeout=5)
    seen = requests.get(url, headers=backend.officer(), timeout=5).json()
    assert (seen["language"], seen["district"]) == ("en", None)
