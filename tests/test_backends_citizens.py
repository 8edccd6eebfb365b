"""STOP / START preferences in the backends, over real HTTP."""

import requests

from backends.testing import running_backend


def test_stop_and_start(tmp_path):
    with running_backend(tmp_path) as backend:
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
        assert [e["type"] for e in events["events"]].count("citizen.preferences_changed") == 2


def test_bad_input_and_other_citizens(tmp_path):
    with running_backend(tmp_path) as backend:
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
            requests.put(url, json={"broadcasts": False}, headers=other, timeout=5).status_code
            == 404
        )
        assert requests.get(url, timeout=5).status_code == 401
