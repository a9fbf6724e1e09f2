"""`GET /`: where to go from the service's address — the API's documentation, the dashboard, the Open311 services.
JSON for programs; a small page when the client prefers HTML (a browser)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from api.models.root import LinksOut

router = APIRouter(tags=["root"])

API_PREFIX = "/api/v1"


class RootOut(BaseModel):
    name: str
    description: str
    links: LinksOut


LINKS = LinksOut(
    docs="/docs",
    openapi="/openapi.json",
    api=API_PREFIX,
    dashboard="/dashboard",
    open311="/open311/v2/services.json",
    health="/healthz",
)
ROOT = RootOut(
    name="Tiepdan API",
    description="Tiếp công dân, xử lý đơn, giải quyết khiếu nại, tố cáo, kiến nghị, phản ánh — tỉnh Lào Cai",
    links=LINKS,
)
# Static text, nothing from the request: no value to escape.
PAGE = f"""<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tiếp dân &amp; Khiếu nại, Tố cáo</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
a{{color:#0645ad}}li{{margin:.4rem 0}}</style></head>
<body>
<h1>Tiếp dân &amp; Khiếu nại, Tố cáo</h1>
<p>{ROOT.description}.</p>
<ul>
<li><a href="{LINKS.dashboard}">Bảng điều hành</a> — Thanh tra tỉnh, chủ tịch, thủ trưởng đơn vị (đăng nhập)</li>
<li><a href="{LINKS.docs}">Tài liệu API</a> — cho lập trình viên tích hợp (<a href="{LINKS.openapi}">OpenAPI</a>)</li>
<li><a href="{LINKS.open311}">Dịch vụ Open311</a> — cho ứng dụng gửi phản ánh, kiến nghị của công dân</li>
</ul>
</body>
</html>
"""


def prefers_html(accept: str) -> bool:
    """True when the Accept header ranks text/html above application/json (a browser); `*/*` alone is JSON."""
    ranks: dict[str, float] = {}
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranks[media.strip().lower()] = q
    html = ranks.get("text/html", 0.0)
    return html > 0 and html > ranks.get("application/json", 0.0)


@router.get(
    "/",
    response_model=RootOut,
    summary="Địa chỉ gốc: tài liệu API, bảng điều hành, dịch vụ Open311",
    description="JSON by default; a small HTML page when the Accept header prefers text/html.",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def index(request: Request) -> JSONResponse | HTMLResponse:
    if prefers_html(request.headers.get("accept", "")):
        return HTMLResponse(PAGE, headers={"Vary": "Accept"})
    return JSONResponse(ROOT.model_dump(), headers={"Vary": "Accept"})
