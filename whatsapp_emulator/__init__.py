"""A local emulator of Meta's WhatsApp Cloud API for developing and testing the connector.

It plays both of Meta's roles: the Graph API the connector calls (send messages, media,
templates) and the webhook delivery to the connector (signed, retried, optionally
duplicated, batched and shuffled), plus a phone-simulator page and a simulator/control
API for tests and benchmarks. Run it with ``python -m whatsapp_emulator``; every setting
is read from the environment in :mod:`whatsapp_emulator.config`.
"""
