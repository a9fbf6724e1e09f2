"""Thanh tra tỉnh's own work (plan 13/KH-UBND section IV.5): it plans inspections of the units' reception and
complaint work, evaluates each unit from the record, concludes, follows its recommendations to their deadline, and
reports every six months and every year to Sở Nội vụ.

- `access` — who is acting: an inspector, the chief inspector (the `unit_head` of the inspectorate's unit), the
  head of the inspected unit, Sở Nội vụ (the report's recipient); the inspections and recommendations each reads.
- `plans` — plans per year, their approval by decision and amendments after it.
- `conduct` — inspections of one unit: the team decision and members, the course, the lists.
- `evaluation` — the pre-filled figures of the unit and period (from the statistics services, never re-counted
  where a form counts them) and the findings per area.
- `conclusions` — the conclusion drafted, signed once, and its recommendations.
- `recommendations` — their timers, the unit's reports, the inspector's decision, urging.
- `report` — the six-month and annual report to Sở Nội vụ, frozen with a diff; `documents` writes it as XLSX
  and PDF.

Every change is written to the audit log in the transaction that makes it. Modules are imported by name."""
