"""The phone itself: a first message gets the welcome, a button can be tapped, and a
camera photo goes through the real download path without being corrupted."""

import hashlib

import requests

from tests.journeys import files


def test_a_hello_gets_the_welcome_and_the_consent_buttons(citizen):
    phone = citizen()
    replies = phone.says("Hello")
    assert replies, "no reply to Hello"
    assert replies[-1].buttons, [str(r) for r in replies]
    replies = phone.taps(replies[-1].buttons[0])
    assert replies and replies[-1].rows  # the menu is a list


def test_the_emulator_keeps_a_camera_photo_byte_for_byte(system):
    photo = files.camera_jpeg()
    media = system.emulator.upload(photo, "IMG_20261207.jpg", "image/jpeg")
    assert media["file_size"] == len(photo)
    stored = system.emulator.graph("GET", media["media_id"]).json()
    assert int(stored["file_size"]) == len(photo)
    body = requests.get(stored["url"], headers=system.emulator.headers, timeout=30).content
    assert hashlib.sha256(body).digest() == hashlib.sha256(photo).digest()
