"""Citizen reception (tiếp công dân): the units' reception sittings, the register of who was received (form
03/TCD) and the heads' duty to receive. The rules themselves (kinds of sitting, status moves, online notice, groups
and representatives, refusal grounds, required days per level and month) are in `workflows.reception`.

A "sitting" is one reception day or half-day of a unit (the `ReceptionSession` row; `/reception-sessions` and the
`session_*` error codes in HTTP); in this package `session` is always the database session.

- `sittings` — create a sitting, change its status (held, cancelled: not once it has entries) and its conclusion,
  list them, the public schedule of the coming ones, `took_place` (held, or with entries whatever its status, but
  never an online one without its recording).
- `register` — the register's lines: the unit's yearly numbering, writing a line (its group, refusal notice,
  repeat visit, the case it opens or links; the first line marks a started sitting held), changing, reading and
  listing lines.
- `sealing` — which lines are sealed and which fields with them, who sees a sealed line opened, the line as each
  caller is shown it (masked otherwise) and the audited read of the identities opened.
- `scope` — the units in a caller's view, who keeps a unit's sittings and register, which sittings and lines a
  caller finds (a line follows its case's read rules).
- `duty` — the heads' compliance: days required and days received in person or by delegation, per unit and month.

The functions the routers (and the seed and dashboard) call are re-exported here."""

from api.services.reception.duty import compliance, parse_period
from api.services.reception.register import add_entry, list_entries, read_entry, update_entry
from api.services.reception.sealing import present_entries
from api.services.reception.sittings import (
    create_sitting,
    get_sitting,
    list_sittings,
    schedule,
    sitting_out,
    update_sitting,
)

__all__ = [
    "add_entry",
    "compliance",
    "create_sitting",
    "get_sitting",
    "list_entries",
    "list_sittings",
    "parse_period",
    "present_entries",
    "read_entry",
    "schedule",
    "sitting_out",
    "update_entry",
    "update_sitting",
]
