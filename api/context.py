"""What a request carries through the code below the web layer, as context variables (no framework import): the
request id that logs and audit rows share."""

import contextvars

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
