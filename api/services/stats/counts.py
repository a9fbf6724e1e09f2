"""Where every report column is counted: per form, `{column: Count}`, the SQL aggregate that gives a unit's figure
and the rows it runs over (a `Source`: the letters, the register, the sittings, ...). A form's columns, numbers and
identities are declared in `workflows/forms.py`; a column that is not counted here is derived from those identities
(`DERIVED`: a total as the sum of its parts, a part as the total less the others), never restated by hand.
`tests/test_forms_map.py` checks that every column is counted or derived, exactly once.

A new report column: its number, label and groups (and any identity it takes part in) in `workflows/forms.py`, its
count here under its key, in the form's map.

Each source becomes one aggregate query per form (`QUERIES`), grouped by unit, with `:start`, `:end` and `:units`
bound; only counts and sums leave it."""

from dataclasses import dataclass

from workflows.cases import INELIGIBLE_REFUSALS
from workflows.forms import FIELD_COLUMNS, FORMS, Derivation


@dataclass(frozen=True)
class Source:
    """The rows some columns count: `rows` is the text after FROM (with its WHERE), `unit` the unit a row's figure
    goes to."""

    rows: str
    unit: str

    def count(self, cond: str | None = None) -> "Count":
        return Count(self, "count(*)" if cond is None else f"count(*) FILTER (WHERE {cond})")

    def sum(self, expr: str, cond: str) -> "Count":
        return Count(self, f"coalesce(sum({expr}) FILTER (WHERE {cond}), 0)")


@dataclass(frozen=True)
class Count:
    source: Source
    sql: str


# ---- 01/TCD: the register and the sittings ----

# A visitor refused under LTCD art. 9 stays in the register (with the refusal and its notice) but is not a visit, a
# person or a matter received.
REGISTER = Source(
    """(
        SELECT e.unit_id, e.people_count, e.visit, e.is_group,
               CASE WHEN s.kind = 'regular' THEN 'reg' WHEN s.in_person THEN 'head' ELSE 'del' END AS cat
        FROM reception_entries e JOIN reception_sessions s ON s.id = e.session_id
        WHERE e.received_on BETWEEN :start AND :end AND e.unit_id = ANY(:units) AND e.handling <> 'refused'
    ) x""",
    "unit_id",
)

# Sessions that took place (LTCD art. 25): held, or with entries in the register whatever their stored status (left
# scheduled, or cancelled as older versions allowed), but never an online one without its recording, which cannot be
# marked held (Decree 154/2026); as the compliance count (reception.took_place).
SITTINGS = Source(
    """reception_sessions s
    WHERE (status = 'held' OR (EXISTS (SELECT 1 FROM reception_entries e WHERE e.session_id = s.id)
                               AND (mode <> 'online' OR COALESCE(recording_ref, '') <> '')))
      AND kind IN ('periodic', 'adhoc') AND day BETWEEN :start AND :end AND unit_id = ANY(:units)""",
    "unit_id",
)


def _visits(cat: str) -> dict[str, Count]:
    """One block of 01/TCD: the visits of one kind of sitting (regular, the head in person, a delegate)."""
    c = f"cat = '{cat}'"
    r = REGISTER
    return {
        f"{cat}_visits": r.count(c),
        f"{cat}_people": r.sum("people_count", c),
        f"{cat}_first": r.count(c + " AND visit = 'first'"),
        f"{cat}_repeat": r.count(c + " AND visit = 'repeat'"),
        f"{cat}_groups": r.count(c + " AND is_group"),
        f"{cat}_group_people": r.sum("people_count", c + " AND is_group"),
        f"{cat}_group_first": r.count(c + " AND is_group AND visit = 'first'"),
        f"{cat}_group_repeat": r.count(c + " AND is_group AND visit = 'repeat'"),
    }


TCD: dict[str, Count] = {
    **_visits("reg"),
    "head_sessions": SITTINGS.count("in_person"),
    **_visits("head"),
    "del_sessions": SITTINGS.count("NOT in_person"),
    **_visits("del"),
}


# ---- 02/XLD: the letters a unit received ----

# A further denunciation (tố cáo tiếp, LTC art. 38.1) about a denunciation decided before it arrived is about a
# matter settled once (02/XLD columns 11–13, "theo tình trạng giải quyết"); one about a denunciation whose period
# passed unresolved is not (the earlier one is looked at one level up only).
_FURTHER_ON_DECIDED = (
    "(kind = 'denunciation' AND previous_case_id IS NOT NULL AND EXISTS (SELECT 1 FROM case_facts p"
    " WHERE p.case_id = case_facts.previous_case_id AND p.outcome IS NOT NULL"
    " AND p.settled_on <= case_facts.received_at)) AS further_on_decided"
)
_XLD_COLUMNS = (
    "receiving_unit_id, received_at, processed_on, processed_as, kind, field, repeat_of_case_id, complaint_round, "
    f"reason_code, {_FURTHER_ON_DECIDED}"
)
LETTERS = Source(
    f"""(
        -- Two disjoint index ranges rather than one scan of every letter ever received.
        SELECT {_XLD_COLUMNS} FROM case_facts WHERE processed_on >= :start AND received_at <= :end
          AND receiving_unit_id = ANY(:units)
        UNION ALL
        SELECT {_XLD_COLUMNS} FROM case_facts WHERE processed_on IS NULL AND received_at <= :end
          AND receiving_unit_id = ANY(:units)
    ) c""",  # noqa: S608 - constant column list; values are bound
    "receiving_unit_id",
)
# Urging notices (đôn đốc) sent in the period, counted for the urging officer's unit.
URGES = Source(
    """case_events ev JOIN users u ON u.id = ev.actor_id
    WHERE ev.action = 'urge' AND ev.effective_date BETWEEN :start AND :end AND u.unit_id = ANY(:units)""",
    "u.unit_id",
)

# Processed with an answer (a stored letter, lưu đơn, is not eligible). A letter refused as not eligible for
# processing (TT 05/2021/TT-TTCP: workflows.cases.INELIGIBLE_REFUSALS) was processed and answered in writing, but is
# neither eligible (02/XLD columns 6–7 and the breakdowns of them) nor within competence (14–17): it is neither.
_ANSWERED = "processed_on <= :end AND processed_as IN ('accept', 'guide', 'transfer', 'reject')"
_INELIGIBLE_CODES = ", ".join(f"'{code}'" for code in sorted(INELIGIBLE_REFUSALS))
_INELIGIBLE_REFUSAL = f"(processed_as = 'reject' AND reason_code IN ({_INELIGIBLE_CODES}))"
_ELIGIBLE = f"{_ANSWERED} AND {_INELIGIBLE_REFUSAL} IS NOT TRUE"
# Within competence: accepted, or refused on a ground other than competence. A letter refused as outside the unit's
# competence (LTCD art. 28; LTC art. 29.1.c) was answered by telling the citizen where to go: outside competence,
# counted with the guided letters, never within competence.
_OUTSIDE_REFUSAL = "reason_code = 'not_competent'"
_COMPETENT = f"(processed_as = 'accept' OR (processed_as = 'reject' AND ({_OUTSIDE_REFUSAL}) IS NOT TRUE))"
_GUIDED = f"(processed_as = 'guide' OR (processed_as = 'reject' AND {_OUTSIDE_REFUSAL}))"
# Times the matter was settled before this letter: a second-round complaint, a repeat of a case, a further
# denunciation about a decided one (each once).
_PRIOR = "((coalesce(complaint_round, 1) = 2)::int + (repeat_of_case_id IS NOT NULL)::int + further_on_decided::int)"

_e = _ELIGIBLE
XLD: dict[str, Count] = {
    "carried": LETTERS.count("received_at < :start"),
    "received": LETTERS.count("received_at >= :start"),
    "processed": LETTERS.count("processed_on <= :end"),
    "eligible_letters": LETTERS.count(_e),
    "eligible_matters": LETTERS.count(_e + " AND repeat_of_case_id IS NULL"),
    "complaint": LETTERS.count(_e + " AND kind = 'complaint'"),
    "denunciation": LETTERS.count(_e + " AND kind = 'denunciation'"),
    "petition": LETTERS.count(_e + " AND kind IN ('petition', 'feedback')"),
    "settled_once": LETTERS.count(_e + f" AND {_PRIOR} = 1"),
    "settled_more": LETTERS.count(_e + f" AND {_PRIOR} >= 2"),
    "competent": LETTERS.count(_e + f" AND {_COMPETENT}"),
    "competent_complaint": LETTERS.count(_e + f" AND {_COMPETENT} AND kind = 'complaint'"),
    "competent_denunciation": LETTERS.count(_e + f" AND {_COMPETENT} AND kind = 'denunciation'"),
    "competent_petition": LETTERS.count(_e + f" AND {_COMPETENT} AND kind IN ('petition', 'feedback')"),
    "guided": LETTERS.count(_e + f" AND {_GUIDED}"),
    "transferred": LETTERS.count(_e + " AND processed_as = 'transfer'"),
    "urged": URGES.count(),
    # Written answers (column 22): every guidance and refusal, a refusal as not eligible included.
    "replies": LETTERS.count(_ANSWERED + " AND processed_as IN ('guide', 'reject')"),
    **{f"field_{k}": LETTERS.count(_e + " AND field = '" + k + "'") for k, _ in FIELD_COLUMNS},
}


# ---- 03/GQKN, 04/GQTC: the matters a unit is competent to settle ----

_SETTLEMENT_COLUMNS = (
    "competent_unit_id, accepted_on, settled_on, outcome, reason_code, resolution_late, remedies, complaint_round, "
    "previous_case_id"
)
_REMEDIES = (
    ("money_to_state", "(remedies->>'money_to_state_vnd')::numeric / 1000000"),
    ("land_to_state", "(remedies->>'land_to_state_m2')::numeric"),
    ("money_to_citizens", "(remedies->>'money_to_citizens_vnd')::numeric / 1000000"),
    ("land_to_citizens", "(remedies->>'land_to_citizens_m2')::numeric"),
    ("organisations_restored", "(remedies->>'organisations_restored')::numeric"),
    ("people_restored", "(remedies->>'people_restored')::numeric"),
    ("people_sanctioned", "(remedies->>'people_sanctioned')::numeric"),
    ("officials_sanctioned", "(remedies->>'officials_sanctioned')::numeric"),
    ("referred_cases", "(remedies->>'referred_cases')::numeric"),
    ("referred_people", "(remedies->>'referred_people')::numeric"),
)


def matters(kind: str) -> Source:
    """The matters of one kind accepted by the end of the period and not settled before its start."""
    return Source(
        f"""(
            SELECT {_SETTLEMENT_COLUMNS} FROM case_facts WHERE settled_on >= :start AND accepted_on <= :end
              AND kind = '{kind}' AND competent_unit_id = ANY(:units)
            UNION ALL
            SELECT {_SETTLEMENT_COLUMNS} FROM case_facts
            WHERE settled_on IS NULL AND accepted_on IS NOT NULL AND accepted_on <= :end
              AND kind = '{kind}' AND competent_unit_id = ANY(:units)
        ) c""",  # noqa: S608 - constant column list and kind; values are bound
        "competent_unit_id",
    )


_SETTLED = "settled_on <= :end"


def _settlement(m: Source, decided: str) -> dict[str, Count]:
    """The columns 03/GQKN and 04/GQTC share: the carried and new matters, how they were settled (`decided`: by a
    decision or a conclusion), on time or late."""
    s = _SETTLED
    return {
        "carried": m.count("accepted_on < :start"),
        "new": m.count("accepted_on >= :start"),
        "settled": m.count(s),
        decided: m.count(s + " AND outcome IS NOT NULL"),
        "withdrawn": m.count(s + " AND outcome IS NULL AND reason_code = 'withdrawn'"),
        "terminated": m.count(s + " AND outcome IS NULL AND reason_code IS DISTINCT FROM 'withdrawn'"),
        "on_time": m.count(s + " AND NOT coalesce(resolution_late, false)"),
        "late": m.count(s + " AND coalesce(resolution_late, false)"),
        **{key: m.sum(expr, s + " AND outcome IS NOT NULL") for key, expr in _REMEDIES},
    }


_COMPLAINTS = matters("complaint")
GQKN: dict[str, Count] = {
    **_settlement(_COMPLAINTS, "by_decision"),
    "first_correct": _COMPLAINTS.count(_SETTLED + " AND complaint_round = 1 AND outcome = 'correct'"),
    "first_partly": _COMPLAINTS.count(_SETTLED + " AND complaint_round = 1 AND outcome = 'partly_correct'"),
    "first_wrong": _COMPLAINTS.count(_SETTLED + " AND complaint_round = 1 AND outcome = 'wrong'"),
    "second_upheld": _COMPLAINTS.count(_SETTLED + " AND complaint_round = 2 AND outcome = 'upheld'"),
    "second_changed": _COMPLAINTS.count(_SETTLED + " AND complaint_round = 2 AND outcome IN ('annulled', 'amended')"),
}

_DENUNCIATIONS = matters("denunciation")
GQTC: dict[str, Count] = {
    **_settlement(_DENUNCIATIONS, "by_conclusion"),
    # Column 4, further denunciations (tố cáo tiếp, LTC art. 38.1): linked to the earlier denunciation they take
    # above its resolver; a repeat letter to the same unit about a decided case is not one.
    "repeat": _DENUNCIATIONS.count("previous_case_id IS NOT NULL"),
    "correct": _DENUNCIATIONS.count(_SETTLED + " AND outcome = 'correct'"),
    "partly": _DENUNCIATIONS.count(_SETTLED + " AND outcome = 'partly_correct'"),
    "false": _DENUNCIATIONS.count(_SETTLED + " AND outcome = 'false'"),
}


# ---- 05/KQTH: the decisions and conclusions a unit must enforce ----

_KQTH_COLUMNS = "competent_unit_id, settled_on, enforced_on, remedies, enforcement"
DECISIONS = Source(
    f"""(
        SELECT {_KQTH_COLUMNS} FROM case_facts
        WHERE enforced_on >= :start AND settled_on <= :end AND outcome IS NOT NULL
          AND kind IN ('complaint', 'denunciation') AND competent_unit_id = ANY(:units)
        UNION ALL
        SELECT {_KQTH_COLUMNS} FROM case_facts
        WHERE enforced_on IS NULL AND outcome IS NOT NULL AND settled_on <= :end
          AND kind IN ('complaint', 'denunciation') AND competent_unit_id = ANY(:units)
    ) c""",  # noqa: S608 - constant column list; values are bound
    "competent_unit_id",
)
_ENFORCED = (
    ("money_to_state", "money_to_state_vnd", 1_000_000),
    ("land_to_state", "land_to_state_m2", 1),
    ("money_to_citizens", "money_to_citizens_vnd", 1_000_000),
    ("land_to_citizens", "land_to_citizens_m2", 1),
)


_DONE = "enforced_on <= :end"


def _due_and_done(key: str, source: str, scale: int) -> dict[str, Count]:
    """What the decisions ordered recovered or returned, and what was by the end of the period."""
    return {
        f"{key}_due": DECISIONS.sum(f"(remedies->>'{source}')::numeric / {scale}", "true"),
        f"{key}_done": DECISIONS.sum(f"(enforcement->>'{source}')::numeric / {scale}", _DONE),
    }


KQTH: dict[str, Count] = {
    "carried": DECISIONS.count("settled_on < :start"),
    "new": DECISIONS.count("settled_on >= :start"),
    "enforced": DECISIONS.count(_DONE),
    **{k: c for key, source, scale in _ENFORCED for k, c in _due_and_done(key, source, scale).items()},
    "sanction_due": DECISIONS.sum("(remedies->>'people_sanctioned')::numeric", "true"),
    "sanction_done": DECISIONS.sum("(enforcement->>'people_sanctioned')::numeric", _DONE),
    "prosecute_due": DECISIONS.sum("(remedies->>'referred_cases')::numeric", "true"),
    "prosecuted_cases": DECISIONS.sum("(enforcement->>'prosecuted_cases')::numeric", _DONE),
    "prosecuted_people": DECISIONS.sum("(enforcement->>'prosecuted_people')::numeric", _DONE),
}


COUNTS: dict[str, dict[str, Count]] = {"tcd": TCD, "xld": XLD, "gqkn": GQKN, "gqtc": GQTC, "kqth": KQTH}
"""Per form, the SQL that counts each counted column."""

DERIVED: dict[str, tuple[Derivation, ...]] = {code: form.derivations(COUNTS[code]) for code, form in FORMS.items()}
"""Per form, the other columns as its identities give them, in an order that computes each from known ones."""


def _query(source: Source, counts: dict[str, Count]) -> str:
    cols = ", ".join(f"{c.sql} AS {key}" for key, c in counts.items())
    return f"SELECT {source.unit} AS unit_id, {cols} FROM {source.rows} GROUP BY {source.unit}"  # noqa: S608


def _queries(counts: dict[str, Count]) -> list[str]:
    """One aggregate query per source, in the order the form's map first uses them."""
    by_source: dict[Source, dict[str, Count]] = {}
    for key, c in counts.items():
        by_source.setdefault(c.source, {})[key] = c
    return [_query(source, cols) for source, cols in by_source.items()]


QUERIES: dict[str, list[str]] = {code: _queries(counts) for code, counts in COUNTS.items()}
"""Per form, the SQL run for its figures (bench/stats.py times them bare)."""
