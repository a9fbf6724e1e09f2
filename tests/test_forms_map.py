"""The report forms as declared (workflows/forms.py) and as counted (api/services/stats/counts.py): every form's
columns are numbered 1..n without a gap, and every column is counted by SQL or given by one of the form's identities,
exactly once. No database."""

import random

import pytest

from api.services.stats.counts import COUNTS, DERIVED, QUERIES
from workflows.forms import FORMS, Form


def test_every_form_has_a_map_and_every_map_a_form() -> None:
    assert set(COUNTS) == set(FORMS) == set(DERIVED) == set(QUERIES)


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_column_numbers_run_from_one_without_gaps(form: Form) -> None:
    assert [c.number for c in form.columns] == list(range(1, len(form.columns) + 1))
    keys = form.column_keys()
    assert len(keys) == len(set(keys)), "a column key is used twice"


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_every_column_is_counted_or_derived_exactly_once(form: Form) -> None:
    keys = set(form.column_keys())
    counted = set(COUNTS[form.code])
    derived = [d.column for d in DERIVED[form.code]]
    assert counted <= keys, f"counts for no column of the form: {sorted(counted - keys)}"
    assert len(derived) == len(set(derived))
    assert not counted & set(derived), "a column both counted and derived"
    lacking = keys - counted - set(derived)
    assert not lacking, f"columns with no count: {sorted(lacking)}"


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_derived_columns_satisfy_the_identities_they_come_from(form: Form) -> None:
    rng = random.Random(form.code)
    values: dict[str, float] = {k: rng.randint(0, 1000) for k in COUNTS[form.code]}
    for step in DERIVED[form.code]:
        assert all(k in values for k in (*step.plus, *step.minus)), f"{step.column} needs a column not known yet"
        values[step.column] = step.value(values)
    derived = {d.column for d in DERIVED[form.code]}
    # Every identity a derived column takes part in holds (the others relate counted columns only: the data's job).
    for total, parts in form.identities:
        if derived & {total, *parts}:
            assert round(values[total] - sum(values[p] for p in parts), 6) == 0, (total, parts)


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_the_queries_select_each_counted_column_once(form: Form) -> None:
    sql = " ".join(QUERIES[form.code])
    for key in COUNTS[form.code]:
        assert sql.count(f" AS {key},") + sql.count(f" AS {key} FROM") == 1, key
