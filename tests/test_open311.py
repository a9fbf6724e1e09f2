"""Open311 GeoReport v2: services, definitions, requests created with an app's key (form-encoded) and read back
in JSON and XML, validated against the GeoReport v2 schemas in shared/open311 and read by an existing client
library (georeport) over real HTTP; the spec's error format; no personal data in listings."""

import asyncio
import json
import socket
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import uvicorn
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.conftest import Api, Live
from tests.helpers import V1, VALID_ID

SCHEMAS = Path(__file__).resolve().parent / "data" / "open311"  # GeoReport v2 schemas (see its README)
O311 = "/open311/v2"


def _registry() -> Registry:
    resources = [
        (p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT7))
        for p in SCHEMAS.glob("*.json")
    ]
    return Registry().with_resources(resources)


def validate(doc: Any, schema: str) -> None:
    registry = _registry()
    main = json.loads((SCHEMAS / schema).read_text())
    jsonschema.Draft7Validator(main, registry=registry, format_checker=jsonschema.FormatChecker()).validate(doc)


async def _key(api: Api) -> str:
    r = await api.http.post(f"{V1}/open311/api-keys", headers=await api.headers("admin"), json={"name": "Lào Cai số"})
    assert r.status_code == 201, r.text
    return str(r.json()["api_key"])


def _form(key: str, **overrides: str) -> dict[str, str]:
    form = {
        "api_key": key,
        "service_code": "complaint.land",
        "lat": "22.3364",
        "long": "104.1446",
        "address_id": "04465",
        "description": "Khiếu nại việc đo đạc lại đất nương của gia đình tôi.",
        "first_name": "Giàng A",
        "last_name": "Dìn",
        "phone": "0912000333",
        "attribute[id_number]": VALID_ID,
        "attribute[consent]": "true",
        "device_id": "app-device-1",
    }
    form.update(overrides)
    return form


async def test_services_and_definitions_follow_the_schemas(api: Api) -> None:
    r = await api.http.get(f"{O311}/services.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    services = r.json()
    validate(services, "services.json")
    assert len(services) == 36
    codes = {s["service_code"] for s in services}
    assert "feedback.other" in codes and "complaint.land" in codes
    d = (await api.http.get(f"{O311}/services/complaint.land.json")).json()
    validate(d, "service-definition.json")
    assert next(a for a in d["attributes"] if a["code"] == "id_number")["required"] is True
    x = await api.http.get(f"{O311}/services.xml")
    root = ET.fromstring(x.content)  # noqa: S314 - our own response
    assert root.tag == "services" and len(root.findall("service")) == 36
    assert root.find("service/metadata").text == "true"  # type: ignore[union-attr]
    missing = await api.http.get(f"{O311}/services/complaint.moon.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404 and missing.json()[0]["description"]


async def test_create_and_read_requests_in_json_and_xml(api: Api) -> None:
    key = await _key(api)
    r = await api.http.post(f"{O311}/requests.json", data=_form(key))
    assert r.status_code == 201, r.text
    made = r.json()[0]
    code = made["service_request_id"]
    assert made["token"] == code and made["access_key"]
    one = (await api.http.get(f"{O311}/requests/{code}.json")).json()
    validate(one, "requests.json")
    req = one[0]
    assert req["status"] == "open" and req["service_code"] == "complaint.land"
    assert req["lat"] is None and req["long"] is None  # a complaint's position is never listed
    assert req["expected_datetime"] and req["status_notes"] == "Đã tiếp nhận, đang xử lý đơn"
    # Nothing the citizen wrote or who they are.
    text = json.dumps(one, ensure_ascii=False)
    assert "Giàng" not in text and "đo đạc" not in text and VALID_ID not in text and req["description"] is None
    listed = (await api.http.get(f"{O311}/requests.json", params={"status": "open"})).json()
    validate(listed, "requests.json")
    assert code in {x["service_request_id"] for x in listed}
    assert code in {
        x["service_request_id"]
        for x in (await api.http.get(f"{O311}/requests.json", params={"service_request_id": code})).json()
    }
    xml = await api.http.get(f"{O311}/requests/{code}.xml")
    root = ET.fromstring(xml.content)  # noqa: S314
    assert root.tag == "service_requests" and root.find("request/service_request_id").text == code  # type: ignore[union-attr]
    posted = await api.http.post(f"{O311}/requests.xml", data=_form(key, device_id="app-device-2"))
    assert ET.fromstring(posted.content).find("request/service_request_id") is not None  # noqa: S314
    token = (await api.http.get(f"{O311}/tokens/{code}.json")).json()
    assert token == [{"service_request_id": code, "token": code}]
    # The citizen follows it with the access key through the public API.
    status = await api.http.get(f"{V1}/public/submissions/{code}", headers={"X-Access-Key": made["access_key"]})
    assert status.status_code == 200 and status.json()["kind"] == "complaint"


async def test_errors_use_the_spec_format(api: Api) -> None:
    key = await _key(api)
    for form, status in (
        (_form("o311_wrong"), 403),
        (_form(key, service_code="complaint.moon"), 400),
        (_form(key, lat="", long="", address_id=""), 400),
        (_form(key, description=""), 400),
        (_form(key, **{"attribute[id_number]": ""}), 400),
    ):
        r = await api.http.post(f"{O311}/requests.json", data=form)
        assert r.status_code == status, (form, r.text)
        body = r.json()
        assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]
    r = await api.http.post(f"{O311}/requests.xml", data=_form("o311_wrong"))
    root = ET.fromstring(r.content)  # noqa: S314
    assert r.status_code == 403 and root.tag == "errors" and root.find("error/code").text == "403"  # type: ignore[union-attr]
    wide = await api.http.get(
        f"{O311}/requests.json", params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    )
    assert wide.status_code == 400
    revoked = await _key(api)
    key_id = (
        await api.http.post(f"{V1}/open311/api-keys", headers=await api.headers("admin"), json={"name": "x"})
    ).json()["id"]
    assert (
        await api.http.post(f"{V1}/open311/api-keys/{key_id}/revoke", headers=await api.headers("admin"))
    ).status_code == 204
    assert revoked
    assert (
        await api.http.post(f"{V1}/open311/api-keys", headers=await api.headers("tinh.chutich"), json={"name": "x"})
    ).status_code == 403


async def test_denunciations_are_never_listed(api: Api) -> None:
    key = await _key(api)
    r = await api.http.post(f"{O311}/requests.json", data=_form(key, service_code="denunciation.corruption"))
    assert r.status_code == 201, r.text
    code = r.json()[0]["service_request_id"]
    assert (await api.http.get(f"{O311}/requests/{code}.json")).status_code == 404
    assert code not in (await api.http.get(f"{O311}/requests.json")).text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_existing_open311_client_reads_us_unchanged(live: Live) -> None:
    from georeport import GeoReport

    r = await live.http.post(f"{V1}/open311/api-keys", headers=await live.headers("admin"), json={"name": "client"})
    key = r.json()["api_key"]
    made = await live.http.post(f"{O311}/requests.json", data=_form(key, device_id="lib-device"))
    assert made.status_code == 201, made.text
    code = made.json()[0]["service_request_id"]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(live.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(100):
            if server.started:
                break
            await asyncio.sleep(0.05)
        for fmt in ("json", "xml"):
            client = GeoReport(f"http://127.0.0.1:{port}{O311}", output_format=fmt)
            services = await asyncio.to_thread(client.get_service_list)
            assert len(services) == 36
            definition = await asyncio.to_thread(client.get_service_definition, "complaint.land")
            assert definition["service_code"] == "complaint.land"
            one = await asyncio.to_thread(client.get_service_request, code)
            assert one["service_request_id"] == code and one["status"] == "open"
            listed = await asyncio.to_thread(client.get_service_requests, service_request_id=code)
            found = listed if isinstance(listed, list) else [listed]
            assert found[0]["service_request_id"] == code
    finally:
        server.should_exit = True
        await task


async def test_openapi_documents_the_form_the_201_the_filters_and_the_errors(api: Api) -> None:
    doc = (await api.http.get("/openapi.json")).json()
    post = doc["paths"]["/open311/v2/requests.{fmt}"]["post"]
    form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"api_key", "service_code", "description", "first_name", "phone", "attribute[consent]"} <= set(
        form["properties"]
    )
    assert form["properties"]["attribute[consent]"]["anyOf"][0]["enum"] == ["true", "false"]
    assert set(form["required"]) == {"api_key", "service_code", "description"}
    created = post["responses"]["201"]["content"]
    assert created["application/json"]["schema"]["items"]["$ref"].endswith("/Open311Created") and "text/xml" in created
    assert "access_key" in doc["components"]["schemas"]["Open311Created"]["properties"]
    listing = doc["paths"]["/open311/v2/requests.{fmt}"]["get"]
    params = {p["name"] for p in listing["parameters"] if p["in"] == "query"}
    assert {"service_request_id", "service_code", "start_date", "end_date", "status", "api_key"} <= params
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"].endswith(
        "/Open311Request"
    )
    for status in ("400", "403", "404", "429"):
        error = post["responses"][status]["content"]["application/json"]["schema"]
        assert error["items"]["$ref"].endswith("/Open311ErrorItem"), status
    fmt = next(p for p in post["parameters"] if p["name"] == "fmt")
    assert fmt["schema"]["enum"] == ["json", "xml"]
    # What the routes answer is what OpenAPI says: the JSON documents validate against the documented schemas.
    key = await _key(api)
    made = await api.http.post(f"{O311}/requests.json", data=_form(key, device_id="doc-device"))
    assert made.status_code == 201
    for doc_item, name in ((made.json()[0], "Open311Created"),):
        assert set(doc_item) == set(doc["components"]["schemas"][name]["properties"])


async def test_a_400_names_each_wrong_attribute_and_why_in_vietnamese(api: Api) -> None:
    key = await _key(api)
    cases = (
        ({"attribute[consent]": "yes"}, "attribute[consent]", "true"),
        ({"attribute[consent]": "1"}, "attribute[consent]", "true"),
        ({"attribute[consent]": ""}, "attribute[consent]", "bắt buộc"),
        ({"attribute[id_number]": "12345"}, "attribute[id_number]", "12 chữ số"),
        ({"attribute[id_number]": ""}, "attribute[id_number]", "số định danh"),
        ({"phone": "gọi tôi"}, "phone", "số điện thoại"),
        ({"description": ""}, "description", "không được để trống"),
        ({"description": "x" * 10_001}, "description", "10000 ký tự"),
        ({"attribute[title]": "t" * 201}, "attribute[title]", "200 ký tự"),
        ({"lat": "bắc", "long": "104.1"}, "lat", "số thập phân"),
        ({"lat": "95", "long": "104.1"}, "lat", "-90 đến 90"),
        ({"lat": "22.3", "long": ""}, "long", "cùng nhau"),
        ({"address_id": "xã <b>"}, "address_id", "mã đơn vị hành chính"),
        ({"address_id": "99999"}, "address_id", "không tồn tại"),
    )
    for overrides, field, why in cases:
        r = await api.http.post(f"{O311}/requests.json", data=_form(key, **overrides))
        assert r.status_code == 400, (overrides, r.text)
        descriptions = [e["description"] for e in r.json()]
        assert any(d.startswith(f"{field}: ") and why in d for d in descriptions), (overrides, descriptions)
        assert "Dữ liệu không hợp lệ: request" not in r.text
    # An attribute the service's definition does not have is named and refused, not silently dropped (the case is
    # not created), in the GeoReport error shape.
    r = await api.http.post(f"{O311}/requests.json", data=_form(key, **{"attribute[bogus]": "1"}))
    assert r.status_code == 400 and r.json()[0]["code"] == 400, r.text
    assert r.json()[0]["description"].startswith("attribute[bogus]: thuộc tính không có trong định nghĩa dịch vụ")
    r = await api.http.post(f"{O311}/requests.json", data=_form(key, **{"attribute[consen]": "true"}))
    assert r.status_code == 400 and "attribute[consen]: " in r.json()[0]["description"]
    assert "attribute[consent]" in r.json()[0]["description"]  # and what the service does take
    # Several wrong fields at once: one error each, in JSON and in XML.
    r = await api.http.post(f"{O311}/requests.xml", data=_form(key, phone="x", email="không-phải-email"))
    root = ET.fromstring(r.content)  # noqa: S314 - our own response
    described = [e.findtext("description") or "" for e in root.findall("error")]
    assert r.status_code == 400 and len(described) == 2
    assert described[0].startswith("phone: ") and described[1].startswith("email: ")


async def test_consent_is_true_or_false_and_false_means_no_contact(api: Api) -> None:
    key = await _key(api)
    anonymous = {"first_name": "", "last_name": "", "phone": "", "service_code": "feedback.other"}
    anonymous["attribute[id_number]"] = ""
    for value in ("false", ""):  # the user said no, or the client left it out: accepted without contact data
        r = await api.http.post(f"{O311}/requests.json", data=_form(key, **anonymous, **{"attribute[consent]": value}))
        assert r.status_code == 201, (value, r.text)
    refused = await api.http.post(
        f"{O311}/requests.json",
        data=_form(key, service_code="feedback.other", **{"attribute[consent]": "false", "attribute[id_number]": ""}),
    )
    assert refused.status_code == 400 and refused.json()[0]["description"].startswith("attribute[consent]: ")
    for value in ("TRUE", "yes", "on", "1", "có"):
        r = await api.http.post(f"{O311}/requests.json", data=_form(key, **{"attribute[consent]": value}))
        assert r.status_code == 400 and "attribute[consent]" in r.json()[0]["description"], value


async def test_a_georeport_client_filling_the_required_attributes_and_contact_is_accepted(live: Live) -> None:
    """As an app built on an existing GeoReport client would: read the service list and each service's definition
    with the client, fill every attribute the definition marks required (and only those) plus the standard name,
    phone and email fields, post the form, and read the request back with the client."""
    import requests
    from georeport import GeoReport

    r = await live.http.post(f"{V1}/open311/api-keys", headers=await live.headers("admin"), json={"name": "app"})
    key = r.json()["api_key"]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(live.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    root = f"http://127.0.0.1:{port}{O311}"
    answers = {"id_number": VALID_ID}  # what the app's user types where a string is asked for
    try:
        for _ in range(100):
            if server.started:
                break
            await asyncio.sleep(0.05)
        client = GeoReport(root, api_key=key)
        services = await asyncio.to_thread(client.get_service_list)
        chosen = [s["service_code"] for s in services if s["service_code"].endswith(".other")]
        assert len(chosen) == 4  # complaint, denunciation, petition, feedback
        for code in chosen:
            definition = await asyncio.to_thread(client.get_service_definition, code)
            validate(definition, "service-definition.json")
            form = {
                "api_key": client.api_key,
                "service_code": code,
                "address_id": "04465",
                "description": f"Phản ánh qua ứng dụng ({code})",
                "first_name": "Lò Văn",
                "last_name": "Pao",
                "phone": "0912000444",
                "email": "pao@example.vn",
                "device_id": f"phone-{code}",
            }
            for attribute in definition["attributes"]:
                if not attribute["required"]:
                    continue
                if attribute["datatype"] == "singlevaluelist":
                    # The user picks the consent offered (the first value, "Đồng ý").
                    assert attribute["values"][0]["name"] == "Đồng ý"
                    form[f"attribute[{attribute['code']}]"] = attribute["values"][0]["key"]
                else:
                    form[f"attribute[{attribute['code']}]"] = answers[attribute["code"]]
            assert "attribute[consent]" in form  # every service that takes contact data asks for consent
            posted = await asyncio.to_thread(requests.post, f"{root}/requests.json", data=form, timeout=10)
            assert posted.status_code == 201, (code, posted.text)
            made = posted.json()[0]
            if code.startswith("denunciation"):
                continue  # never listed
            one = await asyncio.to_thread(client.get_service_request, made["service_request_id"])
            assert one["service_code"] == code and one["status"] == "open"
    finally:
        server.should_exit = True
        await task
