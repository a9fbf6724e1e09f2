"""The transition table, exhaustively: every (status, action) pair for every role."""

import itertools
from datetime import date

import pytest

from workflows.cases import (
    PREVIOUS,
    TERMINAL,
    TRANSITIONS,
    Action,
    Kind,
    Role,
    Status,
    allowed_actions,
    outcomes_for,
    transition,
)
from workflows.confidentiality import (
    MULTI_PERSON_SIGNERS,
    holding_unit,
    is_multi_person,
    is_protected,
    may_see_identity,
)
from workflows.deadlines import rules_on
from workflows.diagram import mermaid

# The contract, written out independently of the table: (status, action) → (next, roles).
H, D = {"unit_head"}, {"desk_officer", "unit_head"}
EXPECTED = {
    ("received", "accept"): ("accepted", H),
    ("received", "reject"): ("rejected", H),
    ("received", "transfer"): ("transferred", D),
    ("received", "guide"): ("guided", D),
    ("received", "store"): ("stored", D),
    ("received", "withdraw"): ("terminated", D),
    ("accepted", "assign"): ("in_progress", H),
    ("accepted", "extend"): ("accepted", H),
    ("accepted", "suspend"): ("suspended", H),
    ("accepted", "withdraw"): ("accepted", D),  # recorded; ended by the head's terminate (LKN art. 10, 11a)
    ("accepted", "terminate"): ("terminated", H),
    ("accepted", "resolve"): ("resolved", H),
    ("in_progress", "assign"): ("in_progress", H),
    ("in_progress", "extend"): ("in_progress", H),
    ("in_progress", "suspend"): ("suspended", H),
    ("in_progress", "withdraw"): ("in_progress", D),
    ("in_progress", "terminate"): ("terminated", H),
    ("in_progress", "resolve"): ("resolved", H),
    ("suspended", "resume"): (PREVIOUS, H),
    ("suspended", "withdraw"): ("suspended", D),
    ("suspended", "terminate"): ("terminated", H),
    ("resolved", "close"): ("closed", D),
}


@pytest.mark.parametrize(("status", "action", "role"), list(itertools.product(Status, Action, Role)))
def test_every_pair_for_every_role(status: Status, action: Action, role: Role) -> None:
    t = transition(status, action, {role.value})
    expected = EXPECTED.get((status.value, action.value))
    if expected is None or role.value not in expected[1]:
        assert t is None
        assert action.value not in allowed_actions(status, {role.value})
    else:
        assert t is not None and t.to == expected[0]
        assert action.value in allowed_actions(status, {role.value})


def test_table_has_exactly_the_contract_pairs() -> None:
    assert {(s.value, a.value) for s, a in TRANSITIONS} == set(EXPECTED)


def test_terminal_statuses_allow_nothing() -> None:
    for status in TERMINAL:
        assert allowed_actions(status, {r.value for r in Role}) == []


def test_admin_and_inspector_take_no_case_action() -> None:
    for status in Status:
        assert allowed_actions(status, {"admin", "inspector", "handler"}) == []


def test_every_status_is_reachable_from_received() -> None:
    seen, frontier = {Status.received.value}, [Status.received.value]
    while frontier:
        current = frontier.pop()
        for (s, _), t in TRANSITIONS.items():
            if s.value == current and t.to != PREVIOUS and t.to not in seen:
                seen.add(t.to)
                frontier.append(t.to)
    assert seen == {s.value for s in Status}


def test_outcomes_by_kind_and_round() -> None:
    assert outcomes_for(Kind.complaint, 1) == {"correct", "partly_correct", "wrong"}
    assert outcomes_for(Kind.complaint, 2) == {"upheld", "annulled", "amended"}
    assert outcomes_for(Kind.denunciation, 1) == {"correct", "partly_correct", "false"}


def test_extension_caps_are_versioned_rules() -> None:
    for on in (date(2025, 1, 2), date(2026, 9, 1)):
        rules = rules_on(on)
        assert rules.max_extensions("normal") == 0 and rules.max_extensions("complex") == 1
        assert rules.max_extensions("especially_complex") == 2


def test_protected_parties_and_who_sees_them() -> None:
    assert is_protected("denouncer", "complaint") and is_protected("representative", "denunciation")
    assert not is_protected("accused", "denunciation") and not is_protected("complainant", "complaint")
    desk, head = frozenset({"desk_officer"}), frozenset({"unit_head"})
    facts = {
        "officer_id": 7,
        "officer_unit_id": 3,
        "received_by_id": 7,
        "received_by_system": False,
        "holding_unit_id": 4,
    }
    assert may_see_identity(roles=desk, **facts)  # the desk officer who received it
    assert not may_see_identity(roles=desk, **{**facts, "received_by_id": 8})
    assert not may_see_identity(roles=head, **facts)  # a head of another unit
    assert may_see_identity(roles=head, **{**facts, "holding_unit_id": 3})
    assert not may_see_identity(roles=frozenset({"inspector", "handler"}), **{**facts, "received_by_id": 8})
    assert holding_unit("received", 1, 2) == 1 and holding_unit("accepted", 1, 2) == 2
    assert not is_multi_person(MULTI_PERSON_SIGNERS - 1) and is_multi_person(MULTI_PERSON_SIGNERS)


def test_docs_diagram_is_generated_from_the_table() -> None:
    from pathlib import Path

    page = (Path(__file__).parent.parent / "docs" / "cases.md").read_text(encoding="utf-8")
    assert mermaid() in page, "regenerate with: python -m workflows.diagram"
