"""Sign-in (OAuth2 password form, so Swagger's Authorize button works) and the current officer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api import security
from api.deps import CurrentOfficer, SessionDep, SettingsDep
from api.models.auth import Me, Token
from api.models.user import UserPublic
from api.ratelimit import client_address
from api.routers.units import unit_public
from api.services import users as user_service

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=Token,
    summary="Đăng nhập, nhận mã truy cập (JWT)",
    responses={
        401: {"description": "Sai tên đăng nhập hoặc mật khẩu"},
        429: {"description": "Quá nhiều lần sai cho tên đăng nhập này"},
    },
)
async def token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> Token:
    client = client_address(request)  # behind a trusted proxy (FORWARDED_ALLOW_IPS), the caller's own
    user = await user_service.authenticate(
        session, request.app.state.passwords, settings, form.username, form.password, client
    )
    access, lifetime = security.create_access_token(settings, str(user.id), version=user.token_version)
    return Token(access_token=access, expires_in=lifetime)


@router.post("/logout", status_code=204, summary="Đăng xuất: mọi mã truy cập đã cấp cho cán bộ này hết hiệu lực")
async def logout(principal: CurrentOfficer, session: SessionDep) -> Response:
    await user_service.sign_out(session, principal.id)
    return Response(status_code=204)


@router.get("/me", response_model=Me, summary="Cán bộ đang đăng nhập")
async def me(principal: CurrentOfficer, session: SessionDep) -> Me:
    user, unit = await user_service.with_unit(session, principal.id)
    return Me(**UserPublic.of(user).model_dump(), unit=unit_public(unit))
