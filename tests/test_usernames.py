"""Usernames follow their documented pattern (OpenAPI: 3–64 of A–Z a–z 0–9 _ . @ -): POST /users refuses any
other with a Vietnamese 422 naming the field; every demo account's name passes."""

import re

from api.models.user import USERNAME_PATTERN
from api.seed import DEMO_OFFICERS
from tests.conftest import Api
from tests.helpers import V1


async def test_usernames_follow_the_documented_pattern(api: Api) -> None:
    documented = (await api.http.get("/openapi.json")).json()["components"]["schemas"]["UserIn"]
    assert documented["properties"]["username"]["pattern"] == USERNAME_PATTERN
    assert all(re.fullmatch(USERNAME_PATTERN, o.username) for o in DEMO_OFFICERS)
    h = await api.headers("admin")
    unit_id = (await api.user("tinh.tiepdan")).unit_id
    base = {"password": "Mat-Khau-Rat-Dai-2026", "full_name": "Cán bộ", "unit_id": unit_id, "roles": ["handler"]}
    for bad in ("Nguyễn.Văn", "co dau cach", "ab", "x" * 65, "a/b", "<script>", "tên", "a\u200bb", ""):
        r = await api.http.post(f"{V1}/users", headers=h, json={**base, "username": bad})
        assert r.status_code == 422, (bad, r.text)
        error = r.json()["error"]
        assert error["code"] == "validation_error" and error["details"][0]["field"] == "username", bad
        assert "Tên đăng nhập gồm 3–64 ký tự" in error["details"][0]["message"], bad
    for good in ("can.bo_01", "xa-tiepdan", "hoa@laocai", "ABC"):
        r = await api.http.post(f"{V1}/users", headers=h, json={**base, "username": good})
        assert r.status_code == 201, (good, r.text)
        assert r.json()["username"] == good
