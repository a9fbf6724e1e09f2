"""Query parameters every list route shares: the page size and the keyset cursor of api/pagination.py (which
implements the paging below the web layer and so imports no web framework)."""

from typing import Annotated

from fastapi import Query

LimitQuery = Annotated[int, Query(ge=1, le=200, description="Số bản ghi mỗi trang (1–200)")]
CursorQuery = Annotated[str | None, Query(max_length=512, description="Giá trị next_cursor của trang trước")]
