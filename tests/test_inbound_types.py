"""Inbound messages are typed: ``kind`` is one of the Kind literal's values, and the media
and location the parser reads carry exactly the keys their TypedDicts declare (they stay
dicts, so the channel stores and reads them back as before)."""

from typing import get_args

from connectors.whatsapp_format import Kind, Location, Media, parse_webhook

CITIZEN = "919810000001"


def parsed(kind, body, **extra):
    raw = {"from": CITIZEN, "id": "wamid.T1", "timestamp": "1760000000", "type": kind, **extra}
    if body is not None:
        raw[kind] = body
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "100001"},
        "messages": [raw],
    }
    change = {"value": value, "field": "messages"}
    inbound, _ = parse_webhook(
        {"object": "whatsapp_business_account", "entry": [{"changes": [change]}]}
    )
    [message] = inbound
    return message


def keys_of(typed):
    return typed.__required_keys__, typed.__required_keys__ | typed.__optional_keys__


def test_every_kind_the_parser_gives_is_a_kind_the_channel_handles():
    got = {
        parsed("text", {"body": "नमस्ते"}).kind,
        parsed(
            "interactive", {"type": "button_reply", "button_reply": {"id": "b1", "title": "Yes"}}
        ).kind,
        parsed("image", {"id": "1", "mime_type": "image/jpeg", "sha256": "x="}).kind,
        parsed("audio", {"id": "2", "mime_type": "audio/ogg", "voice": True}).kind,
        parsed("location", {"latitude": 28.6, "longitude": 77.2}).kind,
        parsed("sticker", {"id": "3"}).kind,
    }
    assert got == set(get_args(Kind))


def test_media_and_location_have_exactly_their_declared_keys():
    required, allowed = keys_of(Media)
    for kind, body in [
        ("image", {"id": "1", "mime_type": "image/jpeg", "sha256": "x=", "caption": "आधार"}),
        ("document", {"id": "2", "mime_type": "application/pdf", "filename": "a.pdf"}),
        ("audio", {"id": "3", "mime_type": "audio/ogg", "voice": True}),
    ]:
        media = parsed(kind, body).media
        assert isinstance(media, dict) and required <= set(media) <= allowed, media
    required, allowed = keys_of(Location)
    location = parsed(
        "location", {"latitude": 28.6, "longitude": 77.2, "name": "India Gate", "address": "Delhi"}
    ).location
    assert isinstance(location, dict) and required <= set(location) <= allowed
    assert set(location) == allowed
