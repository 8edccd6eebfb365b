"""An optional generative layer over the knowledge base's answers (issue 15, item 3).

Off unless ``LLM_URL`` is set: then the retrieved facts (never anything else) and the
citizen's question, with phone and Aadhaar numbers masked, go to an OpenAI-compatible
chat-completions endpoint (``LLM_URL``/v1/chat/completions, ``LLM_MODEL``,
``LLM_API_KEY``), which rewrites the answer conversationally. Its answer is refused
when it states a number (a fee, a duration, a count) that the facts do not hold, and
on any error or after ``LLM_TIMEOUT`` seconds (default 3): the citizen then gets the
retrieval's answer, and the refusal is logged and counted (``REFUSALS``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections import Counter
from typing import Any

import aiohttp

from privacy import mask_personal_numbers, to_ascii_digits

logger = logging.getLogger(__name__)

#: why generated answers were not used, by reason (ungrounded, timeout, error)
REFUSALS: Counter[str] = Counter()

_NUMBER = re.compile(r"\d[\d,.:]*")

SYSTEM_PROMPT = (
    "You answer citizens' questions for the Government of Delhi on WhatsApp. Use ONLY "
    "the facts given; never add a fee, a number of days, a document, a place or any "
    "other fact that is not in them. If the facts do not answer the question, say so. "
    "Reply in {language}, in at most four short sentences."
)


def configured() -> bool:
    return bool(os.environ.get("LLM_URL"))


def numbers(text: str) -> set[str]:
    """Every number in ``text`` as a plain value ("₹1,00,000" → "100000", "१५" → "15")."""
    found = _NUMBER.findall(to_ascii_digits(text))
    return {n.replace(",", "").rstrip(".:") for n in found}


def grounded(answer: str, facts: str) -> bool:
    """Whether every number the answer states is one the facts state."""
    return numbers(answer) <= numbers(facts)


async def rewrite(question: str, facts: str, language: str) -> str | None:
    """The generated answer, or None (not configured, refused, failed or too slow)."""
    url = os.environ.get("LLM_URL")
    if not url or not facts.strip():
        return None
    timeout = float(os.environ.get("LLM_TIMEOUT") or 3)
    headers = {"Content-Type": "application/json"}
    if os.environ.get("LLM_API_KEY"):
        headers["Authorization"] = f"Bearer {os.environ['LLM_API_KEY']}"
    body: dict[str, Any] = {
        "model": os.environ.get("LLM_MODEL") or "default",
        "temperature": 0,
        "messages": [
            {
                "role": "system",
                "content": SYSTEM_PROMPT.format(
                    language="Hindi" if language == "hi" else "English"
                ),
            },
            {
                "role": "user",
                "content": f"Facts:\n{facts}\n\nQuestion: {mask_personal_numbers(question)}",
            },
        ],
    }
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.post(
                url.rstrip("/") + "/v1/chat/completions", json=body, headers=headers
            ) as response:
                response.raise_for_status()
                data = await response.json()
        answer = str(data["choices"][0]["message"]["content"]).strip()
    except asyncio.TimeoutError:
        REFUSALS["timeout"] += 1
        logger.warning("generative answer: no reply within %.1f s, retrieval answer used", timeout)
        return None
    except (aiohttp.ClientError, KeyError, IndexError, TypeError, ValueError) as exc:
        REFUSALS["error"] += 1
        logger.warning("generative answer failed (%s), retrieval answer used", type(exc).__name__)
        return None
    if not answer:
        REFUSALS["error"] += 1
        return None
    if not grounded(answer, facts):
        REFUSALS["ungrounded"] += 1
        logger.warning(
            "generative answer refused: numbers %s are not in the facts, retrieval answer used",
            sorted(numbers(answer) - numbers(facts)),
        )
        return None
    return answer
