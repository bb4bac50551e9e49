"""Bounds for the integers a request carries.

Every id, log index and size is a 32-bit INTEGER column on PostgreSQL (SQLite stores 64 bits), so
an unbounded integer from a request would reach the database and fail there, as a 500. Bounded at
the edge, it is a 422 validation problem, and the contract says so (`maximum`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_INT = 2**31 - 1
# The most items one page of a paged list answers (elections, audit trail, mail status).
MAX_PAGE = 500

RowId = Annotated[int, Path(ge=0, le=MAX_INT, description="the row's id")]
"""A path id (voter, member, list, candidate, objection, submitter)."""

RowIdField = Annotated[int, Field(ge=0, le=MAX_INT)]
"""An id in a request body."""
