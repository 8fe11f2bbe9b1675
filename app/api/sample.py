"""The sample API of the seed design: a calculator, an author setting and its audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.http.inputs import Json, Max, MaxLen, Min, MinLen, Query, Strip
from app.http.openapi import DATETIME, OBJECT_ID, STRING, documented, object_schema
from app.http.security import authenticated, current_identity
from app.http.validation import validate
from app.services.database import get_db
from app.services.request_id import request_id
from controller import calculator, sample

bp = Blueprint("sample", __name__, url_prefix="/sample")

_SAFE = calculator.MAX_SAFE_INTEGER
OPERAND_A = Query(int, rules=[Min(-_SAFE), Max(_SAFE)], example=12)
OPERAND_B = Query(int, rules=[Min(-_SAFE), Max(_SAFE)], example=4)

RESULT = object_schema("CalculationResult", result={"type": "integer"})
AUTHOR = object_schema("Author", name=STRING, updated_at=DATETIME)
LOG_ENTRY = object_schema(
    "LogEntry",
    id=OBJECT_ID,
    event=STRING,
    detail={"type": "object"},
    request_id={"type": ["string", "null"]},
    actor={"type": ["string", "null"]},
    created_at=DATETIME,
)
LOG_PAGE = object_schema("LogPage", items={"type": "array", "items": LOG_ENTRY})


@bp.get("/add")
@documented(schema=RESULT, errors=[422])
@validate
def add_numbers(a: int = OPERAND_A, b: int = OPERAND_B) -> dict[str, Any]:
    """Add two integers; a result beyond ±(2^53-1) is a 422."""
    return {"result": calculator.add(a, b)}


@bp.get("/subtract")
@documented(schema=RESULT, errors=[422])
@validate
def subtract_numbers(a: int = OPERAND_A, b: int = OPERAND_B) -> dict[str, Any]:
    """Subtract b from a; a result beyond ±(2^53-1) is a 422."""
    return {"result": calculator.subtract(a, b)}


@bp.get("/multiply")
@documented(schema=RESULT, errors=[422])
@validate
def multiply_numbers(a: int = OPERAND_A, b: int = OPERAND_B) -> dict[str, Any]:
    """Multiply two integers; a result beyond ±(2^53-1) is a 422."""
    return {"result": calculator.multiply(a, b)}


@bp.get("/divide")
@documented(schema=RESULT)
@validate
def divide_numbers(a: int = OPERAND_A, b: int = OPERAND_B) -> dict[str, Any]:
    """Divide a by b, rounding down; b = 0 is a 400."""
    return {"result": calculator.divide(a, b)}


@bp.get("/author")
@documented(schema=AUTHOR, errors=[404])
@validate
def get_author() -> dict[str, Any]:
    """Show the author setting."""
    return sample.get_author(get_db())


@bp.put("/author")
@documented(schema=AUTHOR)
@authenticated(role="admin")
@validate
def update_author(
    name: str = Json(str, rules=[MinLen(1), MaxLen(100), Strip()], example="Ada Lovelace"),
) -> dict[str, Any]:
    """Change the author setting, as an admin; the change and who made it go to the audit log."""
    actor = str(current_identity().user_id)
    return sample.set_author(get_db(), name=name, request_id=request_id(), actor=actor)


@bp.get("/logs")
@documented(schema=LOG_PAGE)
@authenticated(role="admin")
@validate
def list_logs(limit: int = Query(int, default=20, rules=[Min(1), Max(100)])) -> dict[str, Any]:
    """List the latest audit log entries, newest first, as an admin."""
    return {"items": sample.list_logs(get_db(), limit=limit)}
