"""A conversation's dialogue states and applied events, computed once per event instead
of once per call.

Rasa's rule and memoization policies see a conversation as *states*, one per action taken
so far (``Domain.states_for_tracker_history``). Rasa 3.6 derives them by replaying every
event of the conversation onto an empty tracker, from the first event, on every call:
the rule policy calls it several times per prediction, the augmented memoization policy
once more for each shorter history it tries ("back to the future"), and a turn predicts
two to four actions. Under the realistic load mix this replay was the largest single cost
of a Rasa worker (``make bench-load``, py-spy: ~30 % of its CPU).

The states of a prefix of a conversation never change when events are appended: each
state depends only on the events before it. So the replay is kept, per first event and
options, and continued with the events it has not seen; a history that is not an
extension of the one replayed (an event reverted, a restart, a different first event)
starts a new replay. The loop body is Rasa's own, line for line (``_add_state``), so the
states are the same; ``tests/test_dialogue_states.py`` compares them with Rasa's on real
conversations, every prefix and every truncation the memoization policy tries.

Replays are kept for the most recent ``MAX_REPLAYS`` (history, options) pairs. Each holds
strong references to the events it consumed, so an event object's ``id`` cannot be reused
while a replay keyed by it lives. Callers receive copies they may modify.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core import constants
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

#: replays kept, least recently used first out. A conversation uses one per set of
#: options: with the rule policy alone (config.yml), one; a memoization policy would add
#: one more and one per shorter history it tries. ~45 KB each for a 100-event session.
MAX_REPLAYS = 1024


@dataclass
class _Replay:
    domain: Domain | None  # held, so that its id is not reused while the replay lives
    events: list[Event]  # the applied events consumed, in order
    tracker: DialogueStateTracker  # an empty tracker after those events
    states: list[State] = field(default_factory=list)
    last_ml_action_sub_state: Any = None
    turn_was_hidden: bool = False


_replays: OrderedDict[tuple, _Replay] = OrderedDict()
_rasa_states_for_tracker_history = Domain.states_for_tracker_history
_rasa_applied_events = DialogueStateTracker.applied_events
_APPLIED = "_delhi_sewa_applied_events"


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """``DialogueStateTracker.applied_events``, computed once per change of the events.

    Rasa walks every event (undoing reverted ones and repeated form runs) each time it is
    asked, and a prediction asks several times with the same events. Events are only
    appended, so the same deque with the same length and the same last event is the same
    history (a bounded deque drops its oldest event as it appends: the last one differs).
    """
    events = self.events
    last = events[-1] if events else None
    known = getattr(self, _APPLIED, None)
    if known is not None and known[0] is events and known[1] == len(events) and known[2] is last:
        return list(known[3])
    applied = _rasa_applied_events(self)
    setattr(self, _APPLIED, (events, len(events), last, applied))
    return list(applied)


def _add_state(
    domain: Domain,
    replay: _Replay,
    tracker: DialogueStateTracker,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
) -> None:
    """One iteration of ``Domain.states_for_tracker_history``'s loop (Rasa 3.6.21)."""
    if ignore_rule_only_turns:
        if not replay.turn_was_hidden:
            replay.last_ml_action_sub_state = domain._get_prev_action_sub_state(tracker)
        followup = tracker.followup_action
        if not followup and not tracker.latest_action_name == tracker.active_loop_name:
            replay.turn_was_hidden = hide_rule_turn
        if replay.turn_was_hidden:
            return

    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)

    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if replay.states:
            domain._substitute_rule_only_user_input(state, replay.states[-1])
        if replay.last_ml_action_sub_state:
            state[constants.PREVIOUS_ACTION] = replay.last_ml_action_sub_state

    replay.states.append(domain._clean_state(state))


def _copy(state: State) -> State:
    return {kind: dict(sub_state) for kind, sub_state in state.items()}


def _rule_only_key(rule_only_data: dict[str, Any] | None) -> tuple:
    if not rule_only_data:
        return ()
    return tuple((name, tuple(values)) for name, values in sorted(rule_only_data.items()))


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """``Domain.states_for_tracker_history``, continuing the last replay of this history."""
    applied = tracker.applied_events()
    if not applied:
        return _rasa_states_for_tracker_history(
            self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data
        )
    key = (
        id(self),
        id(applied[0]),
        omit_unset_slots,
        ignore_rule_only_turns,
        _rule_only_key(rule_only_data),
        tracker.is_rule_tracker,
    )
    replay = _replays.get(key)
    if replay is not None and (
        replay.domain is not self
        or len(replay.events) > len(applied)
        or any(seen is not event for seen, event in zip(replay.events, applied))
    ):
        replay = None  # not an extension of what was replayed (an event reverted)
    if replay is None:
        replay = _Replay(domain=self, events=[], tracker=tracker.init_copy())
        _replays[key] = replay
        while len(_replays) > MAX_REPLAYS:
            _replays.popitem(last=False)
    else:
        _replays.move_to_end(key)

    options = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    for event in applied[len(replay.events) :]:
        if isinstance(event, ActionExecuted):
            _add_state(self, replay, replay.tracker, event.hide_rule_turn, *options)
        replay.tracker.update(event)
        replay.events.append(event)

    # the state after the last event: for this call only, the next event may change it
    previous = replay.states[-1:]
    last = _Replay(
        domain=None,
        events=[],
        tracker=replay.tracker,
        states=list(previous),
        last_ml_action_sub_state=replay.last_ml_action_sub_state,
        turn_was_hidden=replay.turn_was_hidden,
    )
    _add_state(self, last, replay.tracker, False, *options)
    return [_copy(state) for state in replay.states + last.states[len(previous) :]]


def _copy_slot(self: Slot) -> Slot:
    """``copy.copy`` of a slot without ``__reduce_ex__``: every tracker copies every slot."""
    new = object.__new__(type(self))
    new.__dict__.update(self.__dict__)
    return new


def clear() -> None:
    """Forgets every replay (tests)."""
    _replays.clear()


def install() -> None:
    Domain.states_for_tracker_history = states_for_tracker_history
    DialogueStateTracker.applied_events = applied_events
    Slot.__copy__ = _copy_slot
