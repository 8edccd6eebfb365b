"""The optional generative layer (actions/generative.py) against local stand-ins that
speak the OpenAI chat-completions API: an honest one, one that makes a fee up (refused),
a slow one (timeout) and a broken one; the citizen then gets the retrieval's answer.
The grounding check also reads numbers and durations written in words, "free", and
document names: a stand-in that adds a document or "three weeks" is refused too."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import generative
from actions.answers import ActionAnswerQuestion
from bench.answers.stand_in import Reply, completion, echo, facts_in, inventor
from bench.answers.stand_in import start as stand_in
from tests.test_knowledge_actions import tracker


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Reply], list[dict[str, Any]]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(reply: Reply) -> list[dict[str, Any]]:
        server, seen = stand_in(reply)
        servers.append(server)
        monkeypatch.setenv("LLM_URL", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("LLM_MODEL", "stand-in")
        monkeypatch.setenv("LLM_API_KEY", "test-key")
        monkeypatch.setenv("LLM_TIMEOUT", "0.5")
        generative.REFUSALS.clear()
        return seen

    yield start
    for server in servers:
        server.shutdown()


async def ask(text: str, **slots: Any) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, tracker(text, **slots), {})
    return dispatcher.messages


def test_numbers_are_compared_as_values() -> None:
    assert generative.numbers("₹1,00,000 in 15 days, १५ दिन") == {"100000", "15"}
    assert generative.grounded("The fee is ₹100, about 15 days.", "fee ₹100; 15 days")
    assert not generative.grounded("The fee is ₹150.", "fee ₹100")


async def test_off_by_default_the_retrieval_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_URL", raising=False)
    messages = await ask("how much does the csc charge")
    assert messages[0]["response"] == "utter_answer_faq"


async def test_a_grounded_rewrite_reaches_the_citizen_with_masked_input(llm: Any) -> None:
    seen = llm(lambda body: (200, completion("A CSC takes ₹50 to fill your form."), 0))
    messages = await ask("how much does the csc charge? my number is 9876543210")
    assert [m["response"] for m in messages] == [
        "utter_answer_generated",
        "utter_answer_indicative",
    ]
    assert messages[0]["answer"] == "A CSC takes ₹50 to fill your form."
    request = seen[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer test-key"
    prompt = json.dumps(request["messages"], ensure_ascii=False)
    assert "9876543210" not in prompt and "XXXXXX3210" in prompt
    assert "₹50" in prompt  # the facts, and only they
    assert not generative.REFUSALS


async def test_a_made_up_fee_is_refused_and_the_retrieval_answer_sent(llm: Any) -> None:
    llm(lambda body: (200, completion("A CSC takes ₹20, and it is done in 2 days."), 0))
    messages = await ask("how much does the csc charge")
    assert messages[0]["response"] == "utter_answer_faq"
    assert "₹20" not in json.dumps(messages, ensure_ascii=False)
    assert generative.REFUSALS["ungrounded"] == 1


async def test_the_bench_stand_ins_echo_is_used_and_the_inventor_refused(llm: Any) -> None:
    llm(echo)
    messages = await ask("how much does the csc charge")
    assert messages[0]["response"] == "utter_answer_generated" and "₹50" in messages[0]["answer"]
    llm(inventor)
    messages = await ask("how much does the csc charge")
    assert messages[0]["response"] == "utter_answer_faq"
    assert generative.REFUSALS["ungrounded"] == 1


async def test_a_made_up_duration_about_a_service_is_refused(llm: Any) -> None:
    llm(lambda body: (200, completion("A marriage certificate takes 3 days."), 0))
    messages = await ask("how many days?", service_in_context="marriage_certificate")
    assert messages[0]["response"] == "utter_service_time"
    assert generative.REFUSALS["ungrounded"] == 1


async def test_a_slow_or_broken_service_falls_back_to_retrieval(llm: Any) -> None:
    llm(lambda body: (200, completion("too late"), 2.0))
    messages = await ask("how much does the csc charge")
    assert messages[0]["response"] == "utter_answer_faq"
    assert generative.REFUSALS["timeout"] == 1
    llm(lambda body: (500, {"error": "down"}, 0))
    messages = await ask("how much does the csc charge")
    assert messages[0]["response"] == "utter_answer_faq"
    assert generative.REFUSALS["error"] == 1


async def test_nothing_relevant_is_never_sent_to_the_model(llm: Any) -> None:
    seen = llm(lambda body: (200, completion("Passports take 10 days."), 0))
    messages = await ask("how do I get a passport")
    assert messages[0]["response"] == "utter_answer_unknown"
    assert seen == []


def adds(made_up: str) -> Reply:
    """A stand-in that says the facts back and adds ``made_up``."""
    return lambda body: (200, completion(f"{facts_in(body)} {made_up}"), 0)


def test_durations_documents_and_fees_in_words_are_compared() -> None:
    assert generative.numbers("पाँच सौ रुपये, two thousand five hundred") == {"500", "2500"}
    assert generative.durations("15 working days, तीन हफ़्ते, a month") == {
        ("15", "day"),
        ("3", "week"),
        ("1", "month"),
    }
    facts = (
        "Fee: ₹50. Time taken: 15 days. Documents: Identity proof (Aadhaar, voter ID, "
        "PAN or passport); Recent passport-size photograph"
    )
    assert generative.grounded("Bring your Aadhaar and a passport-size photograph.", facts)
    assert generative.grounded("It takes fifteen days and costs fifty rupees.", facts)
    assert generative.made_up("It takes three weeks.", facts) == ["number 3", "duration 3 week"]
    assert generative.made_up("It takes a month.", facts) == ["number 1", "duration 1 month"]
    assert generative.made_up("Also bring an affidavit.", facts) == ["document affidavit"]
    assert generative.made_up("साथ में राशन कार्ड भी लाएँ।", facts) == ["document ration card"]
    assert generative.made_up("It is free.", facts) == ["free"]
    assert generative.grounded("It is free.", "Fee: ₹0")


@pytest.mark.parametrize(
    "made_up",
    [
        "You must also bring an affidavit signed by a notary.",
        "Your certificate comes within three weeks.",
        "साथ में राशन कार्ड की कॉपी भी लाएँ।",
        "काम दो हफ़्ते में हो जाता है।",
        "Filling the form at a CSC is free.",
    ],
)
async def test_a_made_up_document_duration_or_free_is_refused(llm: Any, made_up: str) -> None:
    llm(adds(made_up))
    messages = await ask("how much does the csc charge")
    assert messages[0]["response"] == "utter_answer_faq"
    assert made_up not in json.dumps(messages, ensure_ascii=False)
    assert generative.REFUSALS["ungrounded"] == 1


async def test_a_made_up_document_about_a_service_is_refused(llm: Any) -> None:
    llm(adds("You also need a gazette notification and your marksheet."))
    messages = await ask("what documents?", service_in_context="income_certificate")
    assert messages[0]["response"] == "utter_service_documents"
    assert generative.REFUSALS["ungrounded"] == 1
    llm(echo)  # the same facts said back are used
    messages = await ask("what documents?", service_in_context="income_certificate")
    assert messages[0]["response"] == "utter_answer_generated"
