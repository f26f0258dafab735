"""The query parameters every API list pages with: how many items, and how many to skip."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_LIMIT = 500
# Inside every backend's integer range: a larger offset would be a database error, not a 4xx.
MAX_OFFSET = 2**31 - 1

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]
