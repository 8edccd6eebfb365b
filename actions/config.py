"""Every setting of the action server, read from the environment in one place."""

from __future__ import annotations

import os

# Version of the DPDP privacy notice shown by utter_consent_notice; change it whenever
# that text changes, so each recorded consent says which notice it was given to.
CONSENT_NOTICE_VERSION = os.environ.get("CONSENT_NOTICE_VERSION", "2026-11")

# A message whose language is only weakly indicated (one word such as "ok" or "yes")
# does not switch an established reply language.
LANGUAGE_SWITCH_MIN_EVIDENCE = int(os.environ.get("LANGUAGE_SWITCH_MIN_EVIDENCE", "2"))

# Consecutive misunderstood messages before the assistant offers an officer.
FALLBACKS_BEFORE_HUMAN = int(os.environ.get("FALLBACKS_BEFORE_HUMAN", "2"))
