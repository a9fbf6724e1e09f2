"""The one table of Vietnamese names covers every code the service speaks: each enum of workflows/ and api/models/,
each string Literal of a schema field, each timer, outcome and reason code; periods read as a person says them."""

import importlib
import pkgutil
import typing
from enum import Enum
from types import ModuleType, UnionType

import pytest
from pydantic import BaseModel

import api.models
import workflows
from workflows import cases, deadlines, periods, vocabulary


def _modules(package: ModuleType) -> list[ModuleType]:
    found = [package]
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        found.append(importlib.import_module(info.name))
    return found


MODULES = _modules(workflows) + _modules(api.models)


def _enums() -> dict[str, type[Enum]]:
    out: dict[str, type[Enum]] = {}
    for module in MODULES:
        for obj in vars(module).values():
            is_enum = isinstance(obj, type) and issubclass(obj, Enum) and obj.__module__ == module.__name__
            if is_enum and all(isinstance(m.value, str) for m in obj):
                out[f"{module.__name__}.{obj.__name__}"] = obj
    return out


def _literals(annotation: object) -> list[str]:
    """String values of the Literal types inside an annotation (through Optional, unions, lists, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [a for a in typing.get_args(annotation) if isinstance(a, str)]
    if origin is None and not isinstance(annotation, UnionType):
        return []
    return [v for arg in typing.get_args(annotation) for v in _literals(arg)]


def _literal_fields() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for module in _modules(api.models):
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                for field_name, info in obj.model_fields.items():
                    values = _literals(info.annotation)
                    if values:
                        out[(f"{obj.__module__}.{obj.__name__}", field_name)] = values
    return out


def test_the_walk_finds_the_enums_it_must_cover() -> None:
    """The derivation is not vacuous: the enums every page shows are among those found."""
    names = {qual.rsplit(".", 1)[1] for qual in _enums()}
    assert {"Status", "Kind", "Action", "Role", "TimerStatus", "CaseField", "Channel", "PartyRole"} <= names
    assert _literal_fields(), "no Literal field found in api/models"


@pytest.mark.parametrize("qual", sorted(_enums()))
def test_every_enum_value_has_a_vietnamese_name(qual: str) -> None:
    enum = _enums()[qual]
    table = vocabulary.TABLES.get(enum.__name__)
    assert table is not None, f"{qual} has no table in workflows/vocabulary.py TABLES"
    missing = [m.value for m in enum if m.value not in table]
    assert not missing, f"{qual}: no Vietnamese name for {missing}"
    assert all(table[m.value].strip() for m in enum)


def test_every_literal_of_a_schema_has_a_vietnamese_name() -> None:
    problems = []
    for (model, field), values in sorted(_literal_fields().items()):
        model_name = model.rsplit(".", 1)[1]
        table = vocabulary.LITERAL_FIELDS.get(f"{model_name}.{field}") or vocabulary.LITERAL_FIELDS.get(field)
        if table is None:
            problems.append(f"{model}.{field}: no table in LITERAL_FIELDS")
            continue
        problems += [f"{model}.{field}={v!r}" for v in values if v not in table]
    assert not problems, problems


def test_every_timer_the_engine_creates_is_named() -> None:
    timers = deadlines.NOTICE_TIMERS | deadlines.PERIOD_TIMERS
    assert timers - set(vocabulary.TIMER) == set()
    assert vocabulary.name(vocabulary.TIMER, "send_decision") == "Gửi quyết định giải quyết"


def test_every_outcome_and_author_role_is_named() -> None:
    outcomes = {o for values in cases.OUTCOMES.values() for o in values}
    assert outcomes - set(vocabulary.OUTCOME) == set()
    assert set(cases.AUTHOR_ROLES.values()) <= set(vocabulary.PARTY_ROLE)
    assert vocabulary.outcome_name("complaint", "partly_correct") == "Khiếu nại đúng một phần"
    assert vocabulary.outcome_name("denunciation", "false") == "Tố cáo sai sự thật"
    assert vocabulary.outcome_name("complaint", "upheld") == "Công nhận quyết định lần đầu"


def test_every_reason_code_reads_from_the_legal_tables() -> None:
    """Reason labels are not copied: each code of workflows/cases.py resolves to the label that sits there."""
    for kind in cases.Kind:
        for code, refusal in cases.refusals_for(kind).items():
            assert vocabulary.reason_name(code, kind.value) == refusal.text
        for code, label in cases.store_reasons_for(kind).items():
            assert vocabulary.reason_name(code, kind.value, "store") == label
        for code, label in cases.TERMINATE_REASONS.get(kind, {}).items():
            assert vocabulary.reason_name(code, kind.value, "terminate") == label
    for code, label in cases.WITHDRAWAL_EXCEPTIONS.items():
        assert vocabulary.reason_name(code) == label
    assert vocabulary.reason_name("anonymous") == "Đơn nặc danh, mạo danh"
    # one code, two tables: the action says which
    assert vocabulary.reason_name("time_barred", "complaint", "store") == cases.STORE_REASONS["time_barred"]
    assert vocabulary.reason_name("time_barred", "complaint", "reject") == cases.COMPLAINT_REFUSALS["time_barred"].text
    assert vocabulary.reason_name("no_such_reason") == "no_such_reason"


@pytest.mark.parametrize(
    ("label", "spoken"),
    [
        ("2026-12", "Tháng 12/2026"),
        ("2026-01", "Tháng 01/2026"),
        ("2026-Q1", "Quý I/2026"),
        ("2026-Q4", "Quý IV/2026"),
        ("2026-H1", "6 tháng đầu năm 2026"),
        ("2026-9M", "9 tháng năm 2026"),
        ("2026", "Năm 2026"),
        ("2026-01-01..2026-03-31", "Từ 01/01/2026 đến 31/03/2026"),
        ("2026-13", "2026-13"),
        ("2026-Q5", "2026-Q5"),
        ("2026-H2", "2026-H2"),
        ("soon", "soon"),
    ],
)
def test_period_names_read_as_a_person_says_them(label: str, spoken: str) -> None:
    assert vocabulary.period_name(label) == spoken


def test_every_period_form_the_api_accepts_has_a_name() -> None:
    for label in ("2026-05", "2026-Q2", "2026-H1", "2026-9M", "2026"):
        form = periods.form_of(label)
        assert form in vocabulary.PERIOD_FORM
        assert vocabulary.period_name(label) != label


def test_allowed_actions_read_in_vietnamese() -> None:
    actions = cases.allowed_actions(cases.Status.received, {"unit_head"})
    text = vocabulary.actions_text(actions)
    assert "Thụ lý" in text and "Không thụ lý" in text and "accept" not in text


def _name_tables() -> dict[str, set[str]]:
    """The one table's code sets: every module-level {code: Vietnamese name} dict of workflows/vocabulary.py."""
    return {
        table: set(values)
        for table, values in vars(vocabulary).items()
        if table.isupper() and isinstance(values, dict) and values
        if all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
    }


def test_no_module_under_api_keeps_a_second_name_table() -> None:
    """A dict literal under api/ whose keys are all codes of one vocabulary table and whose values are strings
    names those codes a second time (the citizen's `OUTCOMES` once read "Sai sự thật" where the table read "Sai"):
    read the names from workflows/vocabulary.py instead."""
    import ast
    from pathlib import Path

    tables = _name_tables()
    root = Path(__file__).resolve().parent.parent
    found = []
    for path in sorted((root / "api").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Dict) or len(node.keys) < 2:
                continue
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            names = [v for v in node.values if isinstance(v, (ast.JoinedStr, ast.Constant))]
            if len(keys) != len(node.keys) or len(names) != len(node.values):
                continue
            if any(isinstance(v, ast.Constant) and not isinstance(v.value, str) for v in names):
                continue
            twins = sorted(table for table, codes in tables.items() if set(keys) <= codes)
            if twins:
                found.append(f"{path.relative_to(root)}:{node.lineno} names the codes of {', '.join(twins)}")
    assert not found, found
