"""Sign-in (OAuth2 password form, so Swagger's Authorize button works) and the current officer."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api import security
from api.deps import CurrentOfficer, SessionDep, SettingsDep
from api.errors import Code, ErrorBody, catalogue_body
from api.models.auth import MeOut, PasswordChangeIn, TokenOut
from api.models.user import UserOut
from api.ratelimit import client_address
from api.routers.units import unit_public
from api.services import users as user_service

router = APIRouter(prefix="/auth", tags=["auth"])

# The app-wide error responses the sign-in never answers: it reads no resource by id (no *_not_found) and its form
# is a name and a password (the body limit's 413 is the app's, not this route's contract).
_NOT_ANSWERED_BY_SIGN_IN = ("404", "413")


def _error(code: Code, description: str, *, retry: bool = False) -> dict[str, Any]:
    """An OpenAPI response with the shared error body, its code and an example (and Retry-After for a 429)."""
    out: dict[str, Any] = {
        "model": ErrorBody,
        "description": f"`{code.value}`: {description}",
        "content": {"application/json": {"example": catalogue_body(code)}},
    }
    if retry:
        out["headers"] = {
            "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
        }
    return out


def document_sign_in(app: FastAPI) -> None:
    """OpenAPI of `/auth/token` lists only what it answers (401, 403, 422, 429 and the app's 500), not the app-wide
    404 and 413 FastAPI adds to every route (a route can add responses, not remove the app's)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI's, kept once made; taking the two off again is idempotent and cheap
        for path, item in schema.get("paths", {}).items():
            if path.endswith("/auth/token"):
                for status in _NOT_ANSWERED_BY_SIGN_IN:
                    item["post"]["responses"].pop(status, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Đăng nhập, nhận mã truy cập (JWT)",
    responses={
        401: _error(
            Code.invalid_credentials,
            "Sai tên đăng nhập hoặc mật khẩu; một câu trả lời cho tên không có, mật khẩu sai và tài khoản đã khóa",
        ),
        403: _error(
            Code.password_change_required,
            "Mật khẩu đúng nhưng do người khác đặt (dùng một lần): đổi tại POST /auth/password; không cấp mã truy cập",
        ),
        422: _error(Code.validation_error, "Thiếu username hoặc password trong biểu mẫu"),
        429: _error(
            Code.too_many_attempts,
            "Quá nhiều lần thử (cho tên này từ một địa chỉ, hoặc từ một địa chỉ cho mọi tên); đợi Retry-After giây",
            retry=True,
        ),
    },
)
async def token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> TokenOut:
    client = client_address(request)  # behind a trusted proxy (FORWARDED_ALLOW_IPS), the caller's own
    user = await user_service.authenticate(
        session, request.app.state.passwords, settings, form.username, form.password, client
    )
    access, lifetime = security.create_access_token(settings, str(user.id), version=user.token_version)
    return TokenOut(access_token=access, expires_in=lifetime)


@router.post(
    "/password",
    response_model=TokenOut,
    summary="Đổi mật khẩu của chính mình (bắt buộc ở lần đăng nhập đầu khi mật khẩu do người khác đặt); "
    "nhận mã truy cập mới",
    responses={
        401: _error(Code.invalid_credentials, "Sai tên đăng nhập hoặc mật khẩu cũ"),
        422: _error(Code.same_password, "Mật khẩu mới trùng mật khẩu cũ (same_password) hoặc không đủ độ dài"),
        429: _error(Code.too_many_attempts, "Quá nhiều lần thử (chung với đăng nhập)", retry=True),
    },
)
async def change_password(
    data: PasswordChangeIn, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenOut:
    """Every earlier token of the account ends; the answer is a token for the new password."""
    user = await user_service.change_password(
        session,
        request.app.state.passwords,
        settings,
        data.username,
        data.old_password,
        data.new_password,
        client_address(request),
    )
    access, lifetime = security.create_access_token(settings, str(user.id), version=user.token_version)
    return TokenOut(access_token=access, expires_in=lifetime)


@router.post("/logout", status_code=204, summary="Đăng xuất: mọi mã truy cập đã cấp cho cán bộ này hết hiệu lực")
async def logout(principal: CurrentOfficer, session: SessionDep) -> Response:
    await user_service.sign_out(session, principal.id)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut, summary="Cán bộ đang đăng nhập")
async def me(principal: CurrentOfficer, session: SessionDep) -> MeOut:
    user, unit = await user_service.with_unit(session, principal.id)
    return MeOut(**UserOut.of(user).model_dump(), unit=unit_public(unit))
