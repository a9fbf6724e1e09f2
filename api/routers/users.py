"""Officer accounts (admin only)."""

from fastapi import APIRouter, Request, status

from api.deps import AdminOfficer, SessionDep
from api.models.user import Role, UserApprovalIn, UserApprovedOut, UserIn, UserOut, UserUpdate
from api.pagination import Page
from api.routers.params import CursorQuery, LimitQuery
from api.services import users as user_service
from api.types import Id32

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=Page[UserOut], summary="Danh sách cán bộ (quản trị)")
async def list_users(
    session: SessionDep,
    _: AdminOfficer,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    unit_id: Id32 | None = None,
    role: Role | None = None,
    active: bool | None = None,
    pending: bool | None = None,
) -> Page[UserOut]:
    rows, next_cursor = await user_service.list_users(
        session,
        limit=limit,
        cursor=cursor,
        unit_id=unit_id,
        role=role.value if role else None,
        active=active,
        pending=pending,
    )
    return Page(items=[UserOut.of(u) for u in rows], next_cursor=next_cursor)


@router.get("/{user_id}", response_model=UserOut, summary="Một cán bộ (quản trị)")
async def get_user(user_id: Id32, session: SessionDep, _: AdminOfficer) -> UserOut:
    return UserOut.of(await user_service.get(session, user_id))


@router.post(
    "",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    summary="Tạo cán bộ (quản trị); vai trò chờ một quản trị viên khác phê duyệt",
)
async def create_user(data: UserIn, request: Request, session: SessionDep, admin: AdminOfficer) -> UserOut:
    return UserOut.of(await user_service.create(session, request.app.state.passwords, admin.id, data))


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    summary="Đổi vai trò, đơn vị, mật khẩu, trạng thái (quản trị); phần mở rộng quyền chờ phê duyệt",
)
async def update_user(
    user_id: Id32, data: UserUpdate, request: Request, session: SessionDep, admin: AdminOfficer
) -> UserOut:
    return UserOut.of(await user_service.update(session, request.app.state.passwords, admin.id, user_id, data))


@router.post("/{user_id}/deactivate", response_model=UserOut, summary="Vô hiệu hoá tài khoản (quản trị)")
async def deactivate_user(user_id: Id32, request: Request, session: SessionDep, admin: AdminOfficer) -> UserOut:
    return UserOut.of(
        await user_service.update(session, request.app.state.passwords, admin.id, user_id, UserUpdate(is_active=False))
    )


@router.post(
    "/{user_id}/approve",
    response_model=UserApprovedOut,
    summary="Phê duyệt việc cấp quyền đang chờ (một quản trị viên khác với người đề nghị)",
    description="Tài khoản chưa đến tay chủ (mật khẩu dùng một lần, hoặc chưa từng được bàn giao): mật khẩu được "
    "thay bằng một mật khẩu dùng một lần mới, trả về một lần duy nhất trong `one_time_password` để người phê duyệt "
    "trao cho cán bộ; mật khẩu người đề nghị đã đặt hết hiệu lực.",
    responses={
        403: {"description": "Người đề nghị, hoặc chính người được cấp, không được phê duyệt"},
        409: {"description": "Không có gì chờ phê duyệt, đề nghị đã đổi (pending_at), hoặc tài khoản hệ thống"},
    },
)
async def approve_user(
    user_id: Id32, request: Request, session: SessionDep, admin: AdminOfficer, seen: UserApprovalIn | None = None
) -> UserApprovedOut:
    user, one_time = await user_service.approve(
        session, request.app.state.passwords, admin.id, user_id, seen.pending_at if seen else None
    )
    return UserApprovedOut(**UserOut.of(user).model_dump(), one_time_password=one_time)
