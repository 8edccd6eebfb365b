"""An optional generative layer over the knowledge base's answers (issue 15, item 3).

Off unless ``LLM_URL`` is set: then the retrieved facts (never anything else) and the
citizen's question, with phone and Aadhaar numbers masked, go to an OpenAI-compatible
chat-completions endpoint (``LLM_URL``/v1/chat/completions, ``LLM_MODEL``,
``LLM_API_KEY``), which rewrites the answer conversationally. Its answer is refused
(:func:`made_up`) when it states what the facts do not: a number in digits or in words
(a fee, a count: "₹20", "twenty rupees", "बीस"), a duration ("3 days", "three weeks",
"दो हफ़्ते", "a month": its number and its unit must both be in the facts), "free" for a
service that has a fee, or a document ("affidavit", "राशन कार्ड") the facts do not name;
and on any error or after ``LLM_TIMEOUT`` seconds (default 3): the citizen then gets
the retrieval's answer, and the refusal is logged and counted (``REFUSALS``).
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
# words between which a number or a duration is read: whitespace and punctuation
_TOKEN = re.compile(r"\d+(?:\.\d+)+|[^\s.,;:!?()\[\]{}\"'“”‘’/।|*_-]+")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")

# Number words from two up (English, Hindi, unambiguous Roman Hindi). "one", "a" and
# "एक" count only before a multiplier or a unit of time ("one thousand", "a week").
_WORD_VALUES: dict[str, int] = {
    **dict(
        zip(
            "two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen twenty".split(),
            range(2, 21),
        )
    ),
    **dict(zip("thirty forty fifty sixty seventy eighty ninety".split(), range(30, 100, 10))),
    **dict(
        zip(
            "दो तीन चार पाँच छह सात आठ नौ दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह "
            "उन्नीस बीस".split(),
            range(2, 21),
        )
    ),
    **dict(zip("तीस चालीस पचास साठ सत्तर अस्सी नब्बे".split(), range(30, 100, 10))),
    "पांच": 5,
    "छः": 6,
    "पन्द्रह": 15,
    "paanch": 5,
    "saat": 7,
    "aath": 8,
    "pandrah": 15,
    "bees": 20,
    "tees": 30,
    "pachaas": 50,
}
_ONE = frozenset({"one", "a", "an", "एक", "ek"})
_MULTIPLIERS = {
    "hundred": 100,
    "सौ": 100,
    "sau": 100,
    "thousand": 1000,
    "हज़ार": 1000,
    "हजार": 1000,
    "hazaar": 1000,
    "hazar": 1000,
    "lakh": 100_000,
    "लाख": 100_000,
}
_TIME_UNITS: dict[str, str] = {
    **dict.fromkeys(["day", "days", "दिन", "din", "दिनों"], "day"),
    **dict.fromkeys(["week", "weeks", "सप्ताह", "हफ़्ते", "हफ्ते", "हफ़्ता", "हफ्ता", "hafte"], "week"),
    **dict.fromkeys(["month", "months", "महीने", "महीना", "माह", "mahine", "mahina"], "month"),
    **dict.fromkeys(["year", "years", "साल", "वर्ष", "saal"], "year"),
    **dict.fromkeys(["hour", "hours", "घंटे", "घंटा", "ghante"], "hour"),
}
_BEFORE_UNIT = frozenset({"working", "business", "कार्य", "कामकाजी", "more", "और"})

# Documents a citizen may be asked for: each row one document, in every script. Longer
# names are matched first ("passport-size photograph" is a photo, not a passport).
_DOCUMENTS: tuple[tuple[str, ...], ...] = (
    ("aadhaar", "aadhar", "आधार"),
    ("voter id", "voter card", "वोटर आईडी", "मतदाता पहचान पत्र"),
    ("pan card", "pan", "पैन"),
    ("passport", "पासपोर्ट"),
    ("passport-size photograph", "passport size photo", "photograph", "photo")
    + ("पासपोर्ट साइज़ फोटो", "पासपोर्ट साइज फोटो", "फोटो", "फ़ोटो"),
    ("electricity bill", "बिजली बिल", "बिजली का बिल"),
    ("water bill", "पानी का बिल"),
    ("rent agreement", "किराया अनुबंध", "किरायानामा"),
    ("ration card", "राशन कार्ड"),
    ("birth certificate", "जन्म प्रमाण पत्र"),
    ("death certificate", "मृत्यु प्रमाण पत्र"),
    ("marriage certificate", "विवाह प्रमाण पत्र"),
    ("caste certificate", "जाति प्रमाण पत्र"),
    ("income certificate", "आय प्रमाण पत्र"),
    ("domicile certificate", "residence certificate", "निवास प्रमाण पत्र"),
    ("disability certificate", "विकलांगता प्रमाण पत्र", "दिव्यांगता प्रमाण पत्र"),
    ("medical certificate", "चिकित्सा प्रमाण पत्र"),
    ("affidavit", "हलफ़नामा", "हलफनामा", "शपथ पत्र"),
    ("salary slip", "वेतन पर्ची"),
    ("itr", "income tax return", "आईटीआर"),
    ("bank passbook", "bank statement", "पासबुक", "बैंक स्टेटमेंट"),
    ("driving licence", "driving license", "ड्राइविंग लाइसेंस"),
    ("marksheet", "mark sheet", "मार्कशीट", "अंकतालिका"),
    ("school leaving certificate", "स्कूल छोड़ने का प्रमाण पत्र"),
    ("sale deed", "registry", "रजिस्ट्री", "बैनामा"),
    ("gazette notification", "gazette", "गजट", "राजपत्र"),
    ("fir", "police report", "एफआईआर", "पुलिस रिपोर्ट"),
    ("noc", "no objection certificate", "अनापत्ति प्रमाण पत्र"),
    ("wedding card", "invitation card", "शादी का कार्ड"),
    ("self-declaration", "self declaration", "स्व-घोषणा", "स्वघोषणा"),
)
_FREE = ("free of cost", "free", "no fee", "निःशुल्क", "नि:शुल्क", "मुफ़्त", "मुफ्त", "muft")

SYSTEM_PROMPT = (
    "You answer citizens' questions for the Government of Delhi on WhatsApp. Use ONLY "
    "the facts given; never add a fee, a number of days, a document, a place or any "
    "other fact that is not in them. If the facts do not answer the question, say so. "
    "Reply in {language}, in at most four short sentences."
)


def configured() -> bool:
    return bool(os.environ.get("LLM_URL"))


def _tokens(text: str) -> list[str]:
    return [t.casefold() for t in _TOKEN.findall(to_ascii_digits(text))]


def _quantities(tokens: list[str]) -> list[tuple[int, float]]:
    """(index of the token after it, value) of each number said in words or digits."""
    found: list[tuple[int, float]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if _DIGITS.fullmatch(token):
            found.append((i + 1, float(token)))
            i += 1
            continue
        total, current, j = 0, 0, i
        while j < len(tokens):
            word, after = tokens[j], tokens[j + 1] if j + 1 < len(tokens) else ""
            if word in _WORD_VALUES:
                current += _WORD_VALUES[word]
            elif word in _MULTIPLIERS:
                current = max(current, 1) * _MULTIPLIERS[word]
                if _MULTIPLIERS[word] >= 1000:
                    total, current = total + current, 0
            elif word in _ONE and j == i and (after in _MULTIPLIERS or after in _TIME_UNITS):
                current = 1
            else:
                break
            j += 1
        if j > i:
            found.append((j, float(total + current)))
            i = j
        else:
            i += 1
    return found


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def numbers(text: str) -> set[str]:
    """Every number in ``text`` as a plain value ("₹1,00,000" → "100000", "१५" → "15",
    "fifteen" → "15", "पाँच सौ" → "500")."""
    found = {n.replace(",", "").rstrip(".:") for n in _NUMBER.findall(to_ascii_digits(text))}
    tokens = _tokens(text)
    return found | {
        _plain(v) for end, v in _quantities(tokens) if not _DIGITS.fullmatch(tokens[end - 1])
    }


def durations(text: str) -> set[tuple[str, str]]:
    """Every duration in ``text`` as (value, unit): "15 working days" → ("15", "day"),
    "तीन हफ़्ते" → ("3", "week"), "a month" → ("1", "month")."""
    tokens = _tokens(text)
    found = set()
    for end, value in _quantities(tokens):
        k = end + 1 if end < len(tokens) and tokens[end] in _BEFORE_UNIT else end
        if k < len(tokens) and tokens[k] in _TIME_UNITS:
            found.add((_plain(value), _TIME_UNITS[tokens[k]]))
    return found


def _document_names(text: str) -> set[int]:
    """The documents (rows of ``_DOCUMENTS``) that ``text`` names."""
    text = " " + " ".join(_TOKEN.findall(text.casefold())) + " "
    names = sorted(
        ((name, row) for row, names in enumerate(_DOCUMENTS) for name in names),
        key=lambda pair: -len(pair[0]),
    )
    found = set()
    for name, row in names:
        words = " " + " ".join(_TOKEN.findall(name)) + " "
        if words in text:
            found.add(row)
            text = text.replace(words, " ")
    return found


def made_up(answer: str, facts: str) -> list[str]:
    """What ``answer`` states that ``facts`` do not: numbers, durations, "free" and
    documents (empty when the answer is grounded)."""
    problems = [f"number {n}" for n in sorted(numbers(answer) - numbers(facts))]
    problems += [f"duration {v} {u}" for v, u in sorted(durations(answer) - durations(facts))]
    lowered, facts_lowered = answer.casefold(), facts.casefold()
    if any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", lowered) for w in _FREE) and not (
        any(w in facts_lowered for w in _FREE) or "₹0" in facts.replace(" ", "")
    ):
        problems.append("free")
    problems += [
        f"document {_DOCUMENTS[row][0]}"
        for row in sorted(_document_names(answer) - _document_names(facts))
    ]
    return problems


def grounded(answer: str, facts: str) -> bool:
    """Whether every number, duration, fee and document the answer states is in the facts."""
    return not made_up(answer, facts)


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
    problems = made_up(answer, facts)
    if problems:
        REFUSALS["ungrounded"] += 1
        logger.warning(
            "generative answer refused: %s not in the facts, retrieval answer used",
            ", ".join(problems),
        )
        return None
    return answer
