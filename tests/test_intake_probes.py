"""An earlier case named at intake (`previous_case_id`: a second round, a further denunciation) is looked up only
among the cases the caller may see or the first rounds settled directly below; an officer named as accused cannot
use it to learn whether the denunciation against him exists, its status or its due date (issue 21: an audit found
the 409 `further_denunciation_premature` with the case's status and due date answered to the accused)."""

from tests.conftest import Api
from tests.helpers import V1, case_body, create_officer, days_ago, intake


async def test_the_accused_cannot_probe_the_case_against_him_through_previous_case_id(api: Api) -> None:
    accused = await create_officer(api, "tinh.tiepdan3", ["desk_officer"], "tinh.tiepdan")
    case = await intake(
        api,
        "xa.tiepdan",
        kind="denunciation",
        field="corruption",
        title="Tố cáo cán bộ tỉnh",
        content="Tố cáo cán bộ tỉnh nhận tiền của dân.",
        parties=[
            {"role": "denouncer", "full_name": "Lý Thị Mai", "id_number": "015190004321"},
            {"role": "accused", "full_name": "Cán bộ tỉnh", "officer_id": accused["id"]},
        ],
    )
    h = await api.headers("tinh.tiepdan3")
    assert (await api.http.get(f"{V1}/cases/{case['id']}", headers=h)).status_code == 404
    denouncer = [{"role": "denouncer", "full_name": "Hà Văn B", "id_number": "015190004322"}]
    answers = []
    for earlier in (case["id"], case["id"] + 100_000):  # the case against him, and an id that does not exist
        r = await api.http.post(
            f"{V1}/cases",
            headers=h,
            json=case_body(kind="denunciation", field="corruption", previous_case_id=earlier, parties=denouncer),
        )
        answers.append((r.status_code, r.json()["error"]["code"], r.json()["error"].get("details")))
        r = await api.http.post(
            f"{V1}/cases",
            headers=h,
            json=case_body(complaint_round=2, previous_case_id=earlier, decision_known_date=days_ago(1)),
        )
        answers.append((r.status_code, r.json()["error"]["code"], r.json()["error"].get("details")))
    assert answers[:2] == answers[2:], answers
    assert answers[0][1] == "earlier_denunciation_not_found" and "status" not in str(answers[0][2])
    # A desk officer of the province who is not accused still finds the commune's case (the first resolver's
    # superior receives the further denunciation): the answer says it is premature, with its due date.
    r = await api.http.post(
        f"{V1}/cases",
        headers=await api.headers("tinh.tiepdan"),
        json=case_body(kind="denunciation", field="corruption", previous_case_id=case["id"], parties=denouncer),
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "further_denunciation_premature"
