"""Commands on a case. `perform` runs `POST /cases/{id}/actions/{action}` through the transition table (`table`),
with each action's rule in `processing` (the one step out of `received`: accept, reject, transfer, guide, store)
or `settlement` (assign, extend, suspend, resume, withdraw, terminate, resolve, close), on the shared `context`.
`decisions` holds the commands outside the table: `decide_complexity`, `record_unlawful_resolution`,
`correct_competence`. A new action: its rule in `processing` or `settlement` and its line in `table.HANDLERS`."""

from api.services.cases.actions.decisions import correct_competence, decide_complexity, record_unlawful_resolution
from api.services.cases.actions.table import perform

__all__ = ["correct_competence", "decide_complexity", "perform", "record_unlawful_resolution"]
