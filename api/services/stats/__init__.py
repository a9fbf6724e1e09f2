"""Statistics for the inspectorate: the report forms, submitted reports, oversight and the spreadsheets.

- `counts` — where every report column is counted: per form `{column: Count}` (the SQL aggregate and the rows it
  runs over), the queries built from it, and the columns the form's identities give (`DERIVED`). A form's columns,
  numbers and identities are declared in `workflows/forms.py`.
- `forms` — the figures: who may read which units (`scope_units`), the period and the form asked for
  (`parse_period`, `get_form`), each unit's figures (`figures`), the official table's rows with subtotals and the
  total (`arrange`) and the document the JSON, CSV and XLSX are written from (`build`, `document`).
- `reports` — a form frozen for a period (`submit`, `get_report`), its `diff` with the live figures, and who has
  and has not submitted (`submissions`).
- `oversight` — the `summary` (with citizens' `satisfaction`), the `watchlist` and urging a unit (`urge`).
- `exports` — the document as CSV and XLSX (`to_csv`, `to_xlsx`), no text cell readable as a formula.
- `pdf` — the document as the print-ready form (`to_pdf`: A4 landscape, title and signature blocks, page numbers).
- `cache` — answers kept under the versions of the data they count (migration 0030), in PostgreSQL and a process
  layer; what a computation costs the caller (`Use`). `forms.answer` serves a form in any format through it.

Only counts and sums leave the figures: no name, title or content. Modules are imported by name
(`from api.services.stats import forms`); this package re-exports nothing."""
