"""``make bench-answers``: the free-question answerer on bench/answers/questions.yml.

Every question goes through the action code a citizen's question goes through
(``actions.answers``: retrieval over the knowledge base, then the responses), with the
reply language chosen as the assistant chooses it for a first message; the responses
are rendered from domain.yml as the citizen reads them. Printed:

* correct-fact rate: of the facts the answerable questions' answers must contain, the
  share they contain (case-insensitive; ``a|b`` accepts either);
* wrong-fact rate: the share of answers stating a fact the knowledge base does not
  hold (a number or amount found in none of services.yml, faq.yml, domain.yml) or
  answering about another service than the question's;
* "I don't know" rate: the share of unanswerable questions answered "I don't know"
  (and nothing else);
* p50 / p95 latency of one answer (retrieval + responses), with the machine's load.

Then again with the generative layer (actions/generative.py) against two local
stand-ins (bench/answers/stand_in.py): one that says the facts back, and one that adds a
fee and a duration nobody said, all of whose answers must be refused ("refused").
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from tqdm import tqdm

from actions import generative
from actions.answers import ActionAnswerQuestion
from bench.answers import stand_in
from indic_nlu.text import detect_language, normalize
from service_catalogue import load as load_catalogue
from service_catalogue.knowledge import retriever

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = Path(__file__).with_name("questions.yml")
_NUMBER = re.compile(r"\d[\d,:.]*\d|\d")
UNKNOWN = "utter_answer_unknown"


def responses() -> dict[str, list[dict[str, Any]]]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return dict(domain["responses"])


def render(message: dict[str, Any], language: str, texts: dict[str, Any]) -> str:
    """A dispatched message as the citizen reads it (text and button titles)."""
    variants = texts[message["response"]]
    hindi = [v for v in variants if v.get("condition")]
    plain = [v for v in variants if not v.get("condition")]
    variant = (hindi if language == "hi" and hindi else plain)[0]
    text = str(variant.get("text") or "")
    for name, value in message.items():
        text = text.replace("{" + name + "}", str(value))
    titles = [str(b.get("title")) for b in variant.get("buttons") or []]
    return "\n".join([text, *titles])


def tracker_for(text: str, language: str, context: str | None) -> Tracker:
    return Tracker(
        sender_id="bench",
        slots={"language": language, "service_in_context": context, "service": None},
        latest_message={"text": text, "intent": {"name": "ask_question"}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def knowledge_numbers() -> set[str]:
    """Every number and amount written anywhere in the knowledge base's texts."""
    corpus = "\n".join(
        (ROOT / p).read_text(encoding="utf-8")
        for p in ("service_catalogue/services.yml", "service_catalogue/faq.yml", "domain.yml")
    )
    return {_plain(n) for n in _NUMBER.findall(corpus)}


def _plain(number: str) -> str:
    """A number as a value: "1,00,000" and "100000" are one fact."""
    return number.replace(",", "")


async def answer(question: dict[str, Any], texts: dict[str, Any]) -> tuple[str, list[str], float]:
    text = str(question["q"])
    language = detect_language(normalize(text).text).code or "en"
    dispatcher = CollectingDispatcher()
    started = time.perf_counter()
    await ActionAnswerQuestion().run(
        dispatcher, tracker_for(text, language, question.get("context")), {}
    )
    rendered = "\n".join(render(m, language, texts) for m in dispatcher.messages)
    elapsed = time.perf_counter() - started
    return rendered, [str(m.get("response")) for m in dispatcher.messages], elapsed


ANSWERERS = {
    "retrieval": None,
    "retrieval + stand-in LLM (echoes the facts)": stand_in.echo,
    "retrieval + stand-in LLM (makes facts up)": stand_in.inventor,
}


def evaluate(questions: list[dict[str, Any]], show: bool, label: str = "answers") -> dict[str, Any]:
    """Every question through the action; the figures of one answerer."""
    texts = responses()
    known = knowledge_numbers()
    services = load_catalogue().services
    facts_total = facts_found = wrong = idk_total = idk_right = 0
    latencies: list[float] = []
    # a progress bar on a terminal only (disable=None), on stderr: stdout is the table
    for question in tqdm(questions, desc=label, unit="question", leave=False, disable=None):
        reply, sent, elapsed = asyncio.run(answer(question, texts))
        latencies.append(elapsed)
        said_unknown = UNKNOWN in sent
        if question.get("unanswerable"):
            idk_total += 1
            idk_right += said_unknown
            wrong += not said_unknown
            if show and not said_unknown:
                print(f"ANSWERED {question['q']!r}\n  {reply!r}")
            continue
        folded = reply.casefold()
        missing = []
        for fact in question.get("facts") or []:
            facts_total += 1
            if any(alt.casefold() in folded for alt in str(fact).split("|")):
                facts_found += 1
            else:
                missing.append(fact)
        invented = [n for n in _NUMBER.findall(reply) if _plain(n) not in known]
        other = [
            s.id
            for s in services.values()
            if question.get("service")
            and s.id != question["service"]
            and (f"*{s.title('en')}*" in reply or f"*{s.title('hi')}*" in reply)
        ]
        wrong += bool(invented or other)
        if show and (missing or invented or other):
            print(f"MISS {question['q']!r} missing={missing} invented={invented} other={other}")
            print("  " + reply.replace("\n", " | ")[:300])
    latencies.sort()
    return {
        "facts": (facts_found, facts_total),
        "wrong": (wrong, len(questions)),
        "idk": (idk_right, idk_total),
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, int(round(0.95 * len(latencies))) - 1)],
        "refused": sum(generative.REFUSALS.values()),
    }


def rate(pair: tuple[int, int]) -> str:
    return f"{pair[0] / pair[1]:.3f} ({pair[0]}/{pair[1]})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every miss")
    parser.add_argument("--retrieval-only", action="store_true", help="no stand-in LLM rows")
    args = parser.parse_args(argv)
    logging.getLogger("actions.generative").setLevel(logging.ERROR)  # the refusals are counted
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    retriever()  # built once per process, as in the action server
    unanswerable = sum(1 for q in questions if q.get("unanswerable"))
    print(
        f"bench/answers: {len(questions)} questions "
        f"({len(questions) - unanswerable} answerable, {unanswerable} not)"
    )
    print("| answerer | correct-fact | wrong-fact | I don't know | p50 ms | p95 ms | refused |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    ok = True
    for label, model in ANSWERERS.items():
        if model is not None and args.retrieval_only:
            continue
        generative.REFUSALS.clear()
        server = None
        if model is None:
            os.environ.pop("LLM_URL", None)
        else:
            server, _ = stand_in.start(model)
            os.environ["LLM_URL"] = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            r = evaluate(questions, args.show and model is None, label)
        finally:
            os.environ.pop("LLM_URL", None)
            if server is not None:
                server.shutdown()
        print(
            f"| {label} | {rate(r['facts'])} | {rate(r['wrong'])} | {rate(r['idk'])} "
            f"| {r['p50'] * 1000:.2f} | {r['p95'] * 1000:.2f} | {r['refused']} |"
        )
        ok = ok and r["wrong"][0] == 0  # a made-up fact never reaches a citizen
        if model is None:
            ok = ok and (
                r["facts"][0] / r["facts"][1] >= 0.90
                and r["idk"][0] / r["idk"][1] >= 0.90
                and r["p95"] <= 0.150
            )
    load1, load5, _ = os.getloadavg()
    print(f"load average {load1:.2f} / {load5:.2f} (1 / 5 min), {os.cpu_count()} CPUs")
    print(
        "targets (retrieval: correct-fact ≥ 0.90, wrong-fact 0, I don't know ≥ 0.90, "
        "p95 ≤ 150 ms; with an LLM: wrong-fact 0):",
        "met" if ok else "NOT met",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
