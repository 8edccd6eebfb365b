"""The trained model's graphs run as a plain loop (connectors/rasa_patches.py, 9.): what
the assistant understands of a message and the action it predicts are the ones Rasa's
dask runner gives, for Hindi, English and Hinglish messages and real conversations."""

import copy

import pytest
from rasa.core.agent import Agent
from rasa.core.training import load_data
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.trackers import DialogueStateTracker

from connectors import rasa_patches
from tests.conftest import MODEL

MESSAGES = [
    "Hi",
    "नमस्ते",
    "mujhe income certificate chahiye",
    "आय प्रमाण पत्र के लिए आवेदन करना है",
    "driving licence banwana hai, fees kitni hai?",
    "my application status",
    "shikayat darj karni hai, gali mein kooda pada hai",
    "pachees hazaar rupaye",
    "/affirm",
    "haan ji",
    "",
]


@pytest.fixture(scope="module")
def agent():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    rasa_patches.install()
    return Agent.load(str(MODEL))


def with_dask(function, *args):
    """``function(*args)`` on Rasa's own runner."""
    patched = DaskGraphRunner.run
    DaskGraphRunner.run = rasa_patches._rasa_run_graph
    try:
        return function(*args)
    finally:
        DaskGraphRunner.run = patched


async def test_messages_are_understood_as_the_dask_runner_understands_them(agent):
    for text in MESSAGES:
        ours = await agent.parse_message(text)
        rasas = await with_dask(agent.parse_message, text)
        assert ours == rasas, text
    assert (await agent.parse_message("mujhe income certificate chahiye"))["intent"]["name"]


def test_conversations_get_the_actions_the_dask_runner_predicts(agent):
    domain = agent.domain
    conversations = load_data("tests/stories", domain, augmentation_factor=0)
    predicted = 0
    for conversation in conversations[:40]:
        tracker = DialogueStateTracker(conversation.sender_id, domain.slots)
        for event in conversation.events:
            tracker.update(event)
            if event.type_name != "action":
                continue
            ours = agent.processor._predict_next_with_tracker(copy.deepcopy(tracker))
            rasas = with_dask(agent.processor._predict_next_with_tracker, copy.deepcopy(tracker))
            assert (ours.max_confidence_index, ours.policy_name, ours.probabilities) == (
                rasas.max_confidence_index,
                rasas.policy_name,
                rasas.probabilities,
            )
            assert ours.events == rasas.events and ours.optional_events == rasas.optional_events
            predicted += 1
    assert predicted > 200


def test_an_input_named_like_a_node_is_refused_as_rasa_refuses_it(agent):
    runner = agent.processor.graph_runner
    targets = ["run_RegexMessageHandler"]  # the processor's NLU target
    node = next(iter(runner._graph_schema.minimal_graph_schema(targets).nodes))
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        runner.run({"__message__": node}, targets)
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        with_dask(runner.run, {"__message__": node}, targets)
