"""Who is calling, as plain types with no framework import: services take these, and only the
dependency that builds them (api/deps.py) knows about HTTP and tokens.

- `Officer`: a signed-in officer with their roles and unit (the only principal that reaches the
  case workflow).
- `Citizen`: the person behind one case, reached by tracking code + access key.
- `App`: a client application (mobile app, Open311 client) holding an API key issued by an admin.
"""

from dataclasses import dataclass

from workflows.cases import Role


@dataclass(frozen=True, slots=True)
class Officer:
    id: int
    username: str
    unit_id: int
    unit_path: str  # materialised path of the unit, for subtree scopes
    unit_remote_area: bool
    roles: frozenset[str]

    def has(self, *roles: Role) -> bool:
        return any(r.value in self.roles for r in roles)


@dataclass(frozen=True, slots=True)
class Citizen:
    case_id: int
    tracking_code: str


@dataclass(frozen=True, slots=True)
class App:
    key_id: int
    name: str


Principal = Officer | Citizen | App
