"""The shapes of requests and answers, declared once.

Validation and the OpenAPI document (web/openapi.py) both come from these
pydantic models, so the document and the server cannot disagree on a limit.
Domain rules (refusals, the disclaimer, the storeroom, ID last-4) stay in kiosk/;
here is only shape: types, lengths, characters, vocabularies.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from kiosk import policy

from .errors import ApiError

MAX_JSON_DEPTH = 32

# --- what may never be kept: ID and passport numbers -------------------------------------

_ID18 = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{5})((?:19|20)[0-9]{2})([01][0-9])([0-3][0-9])([0-9]{3})([0-9Xx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{5})([0-9]{2})([01][0-9])([0-3][0-9])([0-9]{3})(?![0-9A-Za-z])")
# Mainland passports (E12345678, G12345678, …) and the newer EA1234567 form.
_PASSPORT = re.compile(r"(?<![0-9A-Za-z])(?:[EGDSP][0-9]{8}|E[A-HJ-NP-Z][0-9]{7})(?![0-9A-Za-z])")
_LONG_DIGITS = re.compile(r"[0-9]{11,}")


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def looks_like_id_number(text: str) -> bool:
    """An 18-digit resident ID (17 digits and a check character, with a real birth date), a
    15-digit old-style one (a real birth date), or a passport number. The check character is
    not verified: a mistyped ID number is still someone's ID number."""
    for match in _ID18.finditer(text):
        if _valid_date(int(match[2]), int(match[3]), int(match[4])):
            return True
    for match in _ID15.finditer(text):
        if _valid_date(1900 + int(match[2]), int(match[3]), int(match[4])):
            return True
    return bool(_PASSPORT.search(text))


def _control_free(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\n\t" or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise PydanticCustomError("invalid_text", "contains control characters")
    return value


def _no_id_numbers(value: str) -> str:
    if looks_like_id_number(value):
        raise PydanticCustomError("id_number_not_allowed", "looks like an ID number")
    return value


def _name_like(value: str) -> str:
    if _LONG_DIGITS.search(value):
        raise PydanticCustomError("id_number_not_allowed", "a name holds no long numbers")
    return value


def _single_line(value: str) -> str:
    if "\n" in value or "\t" in value:
        raise PydanticCustomError("invalid_text", "contains control characters")
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def Text(limit: int, *, multiline: bool = False, required: bool = True):
    """Text of 1..limit characters (trimmed), no control characters, no ID numbers."""
    checks = [AfterValidator(_control_free)] + ([] if multiline else [AfterValidator(_single_line)])
    return Annotated[str, BeforeValidator(_strip), Field(strict=True, min_length=1 if required else 0,
                                                          max_length=limit),
                     *checks, AfterValidator(_no_id_numbers)]


def Name(limit: int = policy.TEXT_LIMITS["name"]):
    """A person's name: text that also holds no run of 11 or more digits."""
    return Annotated[Text(limit), AfterValidator(_name_like)]


def Choice(values: tuple[str, ...], code: str = "invalid_choice"):
    """One of a vocabulary the domain owns (kiosk.policy); its own error code where the API had one."""
    allowed = frozenset(values)

    def check(value: str) -> str:
        if value not in allowed:
            raise PydanticCustomError(code, "not one of the allowed values", {"choices": ", ".join(values)})
        return value

    return Annotated[str, Field(strict=True), AfterValidator(check),
                     WithJsonSchema({"type": "string", "enum": list(values)})]


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_time", "an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PydanticCustomError("invalid_time", "an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise PydanticCustomError("invalid_time", "needs a time zone")
    return parsed


Timestamp = Annotated[datetime, BeforeValidator(_timestamp),
                      WithJsonSchema({"type": "string", "format": "date-time"})]
def Pattern(regex: str, code: str, limit: int, *, too_long: bool = True):
    """Text that must match ``regex`` whole; ``code`` names the error (invalid_phone, …).
    With ``too_long=False`` an over-long value is refused with ``code`` too (a full ID
    number typed where only its last four characters belong is not merely "too long")."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError(code, "does not match the expected form")
        return value

    length = Field(strict=True, max_length=limit) if too_long else Field(strict=True)
    return Annotated[str, BeforeValidator(_strip), length, AfterValidator(check),
                     WithJsonSchema({"type": "string", "maxLength": limit, "pattern": f"^{regex}$"})]


Phone = Pattern(policy.PHONE_PATTERN, "invalid_phone", policy.TEXT_LIMITS["phone"])
Flag = StrictBool


class Body(BaseModel):
    """A request body: unknown fields refused, nothing coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Query(BaseModel):
    """Query arguments: strings from the URL, so numbers are read from text."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Answer(BaseModel):
    """An answer's shape, for the document and for serialising."""

    model_config = ConfigDict(frozen=True)


# --- reading a request ------------------------------------------------------------------

_TYPE_NAMES = {
    "string_type": "a string", "bool_type": "true or false", "int_type": "a whole number",
    "model_type": "an object", "dict_type": "an object", "list_type": "a list", "model_attributes_type": "an object",
    "int_from_float": "a whole number", "bool_parsing": "true or false", "int_parsing": "a whole number",
}
_CODES = {
    "missing": "missing_field", "extra_forbidden": "unknown_field", "string_too_long": "too_long",
    "too_long": "too_long", "string_too_short": "missing_field", "too_short": "missing_field",
    "less_than_equal": "invalid_type", "greater_than_equal": "invalid_type",
}


def _field(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "body"


def validation_error(error: ValidationError, *, query: bool = False) -> ApiError:
    """The first problem, as the API's error: a stable code and the field named."""
    first = error.errors(include_url=False)[0]
    kind, field = first["type"], _field(first["loc"])
    ctx = first.get("ctx") or {}
    if query:
        choices = ctx.get("choices") or ctx.get("expected")
        return ApiError(422, "invalid_query", field=field, **({"choices": choices} if choices else {}))
    if kind in _TYPE_NAMES:
        return ApiError(422, "invalid_type", field=field, expected=_TYPE_NAMES[kind])
    code = _CODES.get(kind, kind if kind.startswith("invalid_") or kind == "id_number_not_allowed" else "invalid_type")
    extra = {}
    if code == "too_long":
        extra["limit"] = ctx.get("max_length")
    if code == "unknown_field" or code == "missing_field":
        return ApiError(422, code, field=field)
    if "choices" in ctx:
        extra["choices"] = ctx["choices"]
    if code == "invalid_type":
        extra["expected"] = _TYPE_NAMES.get(kind, "a valid value")
    return ApiError(422, code, field=field, **extra)


def _depth_ok(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return True


def read_json(raw: bytes) -> dict:
    """A JSON object of sane depth, or 400 invalid_json."""
    try:
        data = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or not _depth_ok(data):
        raise ApiError(400, "invalid_json", limit=MAX_JSON_DEPTH)
    return data


def parse_body(model: type[Body], raw: bytes) -> Body:
    try:
        return model.model_validate(read_json(raw))
    except ValidationError as error:
        raise validation_error(error) from None


def parse_query(model: type[Query], args) -> Query:
    data = {key: args.get(key) for key in args}
    for key, value in data.items():
        if isinstance(value, str) and any(ord(ch) < 32 for ch in value):
            raise ApiError(422, "invalid_query", field=key)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_error(error, query=True) from None
