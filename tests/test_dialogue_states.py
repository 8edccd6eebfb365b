"""Dialogue states continued from the last replay (connectors/dialogue_states.py) are
Rasa's own: on every conversation of the test stories and rules, after every event, with
the options the rule policy uses and those a memoization policy would, and for every
shorter history a memoization policy tries."""

import pytest
from rasa.core.policies.memoization import (
    AugmentedMemoizationPolicy,
    _trim_tracker_by_max_history,
)
from rasa.core.training import load_data
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from connectors import dialogue_states

strip = AugmentedMemoizationPolicy._strip_leading_events_until_action_executed

DOMAIN = Domain.load("domain.yml")
RULE_ONLY = {"slots": ["requested_slot"], "loops": []}
OPTIONS = [
    (False, False, None),  # the rule policy
    (False, True, None),
    (False, True, RULE_ONLY),  # a memoization policy next to rules
    (True, True, RULE_ONLY),
]


def rasas(tracker, *options):
    return dialogue_states._rasa_states_for_tracker_history(DOMAIN, tracker, *options)


def ours(tracker, *options):
    return DOMAIN.states_for_tracker_history(tracker, *options)


@pytest.fixture(scope="module")
def conversations():
    dialogue_states.install()
    dialogue_states.clear()
    trackers = load_data("tests/stories", DOMAIN, augmentation_factor=0)
    trackers += load_data("data/rules", DOMAIN, augmentation_factor=0)
    assert len(trackers) > 150
    return trackers


def test_every_prefix_and_truncation_of_every_conversation_has_rasas_states(conversations):
    compared = 0
    for conversation in conversations:
        growing = DialogueStateTracker(
            conversation.sender_id, DOMAIN.slots, is_rule_tracker=conversation.is_rule_tracker
        )
        for event in conversation.events:
            growing.update(event)
            for options in OPTIONS:
                assert ours(growing, *options) == rasas(growing, *options)
                compared += 1
            for options in OPTIONS[2:]:
                shorter = strip(_trim_tracker_by_max_history(growing, 6))
                while shorter is not None:
                    assert ours(shorter, *options) == rasas(shorter, *options)
                    compared += 1
                    shorter = strip(shorter, again=True)
    assert compared > 10_000


def test_a_reverted_message_starts_a_new_replay():
    dialogue_states.install()
    tracker = DialogueStateTracker.from_events(
        "c1",
        [
            ActionExecuted("action_listen"),
            UserUttered("income certificate", {"name": "apply_service", "confidence": 1.0}),
            ActionExecuted("utter_ask_consent"),
            SlotSet("language", "en"),
            ActionExecuted("action_listen"),
        ],
        DOMAIN.slots,
    )
    assert ours(tracker) == rasas(tracker)
    tracker.update(UserUttered("galti se", {"name": "deny", "confidence": 1.0}))
    assert ours(tracker) == rasas(tracker)
    tracker.update(UserUtteranceReverted())  # the last message no longer counts
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("haan", {"name": "affirm", "confidence": 1.0}))
    assert ours(tracker) == rasas(tracker)
    assert ours(tracker)[-1]["user"]["intent"] == "affirm"


def test_turns_hidden_as_rule_only_are_left_out_as_rasa_leaves_them_out():
    dialogue_states.install()
    tracker = DialogueStateTracker("c3", DOMAIN.slots)
    events = [
        ActionExecuted("action_listen"),
        UserUttered("namaste", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet", hide_rule_turn=True),
        ActionExecuted("action_listen", hide_rule_turn=True),
        UserUttered("income certificate", {"name": "apply_service", "confidence": 1.0}),
        ActionExecuted("utter_ask_consent"),
        SlotSet("language", "en"),
        ActionExecuted("action_listen"),
        UserUttered("haan", {"name": "affirm", "confidence": 1.0}),
        ActionExecuted("utter_greet", hide_rule_turn=True),
        ActionExecuted("utter_ask_consent"),
    ]
    for event in events:
        tracker.update(event)
        for options in OPTIONS:
            assert ours(tracker, *options) == rasas(tracker, *options)


def test_a_caller_changing_the_states_does_not_change_the_next_answer():
    dialogue_states.install()
    tracker = DialogueStateTracker.from_events(
        "c2",
        [
            ActionExecuted("action_listen"),
            UserUttered("namaste", {"name": "greet", "confidence": 1.0}),
        ],
        DOMAIN.slots,
    )
    states = ours(tracker)
    states[-1]["user"].pop("intent")  # as Rasa's featurizer does with the last user input
    states[0].clear()
    assert ours(tracker) == rasas(tracker)


def test_applied_events_follow_every_new_event_even_in_a_bounded_history():
    dialogue_states.install()
    events = [
        ActionExecuted("action_listen"),
        UserUttered("namaste", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
        UserUttered("galti", {"name": "deny", "confidence": 1.0}),
        UserUtteranceReverted(),
        ActionExecuted("action_listen"),
        UserUttered("haan", {"name": "affirm", "confidence": 1.0}),
    ]
    for max_history in (None, 3):
        tracker = DialogueStateTracker("c4", DOMAIN.slots, max_event_history=max_history)
        for event in events:
            tracker.update(event)
            assert tracker.applied_events() == dialogue_states._rasa_applied_events(tracker)
            tracker.applied_events().clear()  # a caller's copy
            assert tracker.applied_events() == dialogue_states._rasa_applied_events(tracker)
