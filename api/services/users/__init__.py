"""Officers' accounts. `lookup`: an account by id or 404 (`get`, `with_unit`); `accounts`: `create`, `update`,
`list_users`; `grants`: two-person grants (what waits for a second administrator, `approve`); `signin`:
`authenticate`, `change_password`, `sign_out`, the attempt counters (`purge_login_attempts`); `system`: the reserved
system accounts; `bootstrap`: the operator's administrators (`ensure_bootstrap_admin`, `ensure_named_admin`).
Routers, the CLI, the app and the jobs import from here."""

from api.services.users.accounts import create, list_users, update
from api.services.users.bootstrap import ensure_bootstrap_admin, ensure_bootstrap_approver, ensure_named_admin
from api.services.users.grants import GUARDED_ROLES, REVEALING_ROLES, approve, has_pending
from api.services.users.lookup import get, with_unit
from api.services.users.signin import authenticate, change_password, purge_login_attempts, sign_out
from api.services.users.system import SYSTEM_PREFIX, is_system

__all__ = [
    "GUARDED_ROLES",
    "REVEALING_ROLES",
    "SYSTEM_PREFIX",
    "approve",
    "authenticate",
    "change_password",
    "create",
    "ensure_bootstrap_admin",
    "ensure_bootstrap_approver",
    "ensure_named_admin",
    "get",
    "has_pending",
    "is_system",
    "list_users",
    "purge_login_attempts",
    "sign_out",
    "update",
    "with_unit",
]
