"""Randomised property test of the record: any sequence of actions with random effective dates, tried by the
officers who may or may not take them, never yields a 5xx, a step dated before its predecessor, or a timer
completed before it started. Seeded, so a failure names the sequence that broke it."""

import random
from datetime import date, timedelta
from typing import Any

from tests.conftest import Api
from tests.helpers import TODAY, V1, act_raw, get, intake

SEQUENCES = 30
STEPS = 10
ENDINGS = {"reject", "transfer", "guide", "store", "withdraw", "terminate", "close"}


def _body(action: str, kind: str, rng: random.Random, ids: dict[str, int]) -> dict[str, Any]:
    return {
        "accept": {"decision_number": "1/QĐ"},
        "reject": {"reason_code": "unsigned" if kind == "complaint" else "no_basis_to_identify", "reason": "Lý do"},
        "transfer": {"to_unit_id": ids["commune"], "reason": "Thẩm quyền"},
        "guide": {"reason": "Hướng dẫn"},
        "store": {"reason_code": "duplicate"},
        "assign": {"handler_ids": [ids["handler"]]},
        "extend": {"decision_number": "2/QĐ", "reason": "Phức tạp", "complexity": "complex"},
        "suspend": {"reason": "Chờ kết quả giám định", "decision_number": "3/QĐ"},
        "resume": {},
        "withdraw": {"party_id": ids.get("party", 0), "scope": "full"},
        "terminate": {"reason_code": "withdrawn", "decision_number": "4/QĐ"},
        "resolve": {"outcome": rng.choice(["correct", "false", "addressed"]), "decision_number": "5/QĐ"},
        "close": {},
    }[action]


async def test_random_histories_stay_lawful(api: Api) -> None:
    handler = await api.user("tinh.xacminh")
    h = await api.headers("tinh.tiepdan")
    commune = (await api.http.get(f"{V1}/units", headers=h, params={"q": "Khao Mang"})).json()["items"][0]
    ids = {"commune": commune["id"], "handler": handler.id}
    taken: list[str] = []
    for seed in range(SEQUENCES):
        rng = random.Random(seed)
        kind = rng.choice(["complaint", "denunciation", "petition"])
        parties = [{"role": "denouncer", "full_name": "Lò Văn Pha"}] if kind == "denunciation" else []
        case = (
            await intake(
                api,
                kind=kind,
                received_at=(TODAY - timedelta(days=rng.randrange(5, 60))).isoformat(),
                parties=parties or None,
            )
            if parties
            else await intake(api, kind=kind, received_at=(TODAY - timedelta(days=rng.randrange(5, 60))).isoformat())
        )
        last = date.fromisoformat(case["received_at"])
        ids["party"] = case["parties"][0]["id"] if case["parties"] else 0
        for _ in range(STEPS):
            allowed = (await get(api, "tinh.chutich", case["id"])).json()["allowed_actions"]
            if not allowed:
                break
            # Mostly steps that keep the case open, so that histories grow long.
            action = rng.choices(allowed, weights=[1 if a in ENDINGS else 5 for a in allowed])[0]
            who = "tinh.chutich" if rng.random() < 0.85 else "tinh.tiepdan"
            on = min(last + timedelta(days=rng.randrange(-4, 6)), TODAY + timedelta(days=rng.choice([0, 0, 0, 1])))
            r = await act_raw(api, who, case, action, effective_date=on.isoformat(), **_body(action, kind, rng, ids))
            assert r.status_code < 500, (seed, action, r.text)
            if on < last or on > TODAY:
                assert r.status_code >= 400, (seed, action, on, last)
            if r.status_code != 200:
                continue
            case, last = r.json(), on
            taken.append(action)
            for t in case["timers"]:
                assert t["completed_on"] is None or t["completed_on"] >= t["start_date"], (seed, action, t)
        events = await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers("tinh.chutich"))
        steps = [
            e["effective_date"]
            for e in events.json()["items"]
            if e["actor_id"] is not None and e["action"] != "identity_viewed" and e["effective_date"]
        ]
        assert steps == sorted(steps), (seed, steps)
    # The walk did explore: accepted cases, verification, suspension and decisions all happened.
    assert {"accept", "assign", "resolve"} <= set(taken) and len(taken) > SEQUENCES, taken
