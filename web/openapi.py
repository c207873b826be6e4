"""The OpenAPI 3.1 document for /api/v1, served at /api/openapi.json.

Generated from the operations the API declares (web/api) and their pydantic
models: the same declarations validate requests, so the document and the server
cannot disagree. Tests validate real answers of every operation against it.
"""
from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kiosk.accounts import PERMISSIONS

from .api import Operation, load_operations

REF = "#/components/schemas/{model}"
_PATH_ARG = re.compile(r"<(?:(\w+):)?(\w+)>")
# Every operation may answer these, whatever it does.
COMMON_ERRORS = {503: ("unavailable",)}
RETRY_AFTER = {
    429: "Too many requests from this device or address (limits in the README); try again after Retry-After",
    503: "Briefly unable to serve; try again after Retry-After",
}
BODY_ERRORS = {400: ("invalid_json",), 413: ("payload_too_large",)}


def _path(rule: str) -> str:
    return _PATH_ARG.sub(lambda m: "{" + m[2] + "}", rule)


def _path_params(rule: str) -> list[dict]:
    params = []
    for converter, name in _PATH_ARG.findall(rule):
        schema = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1} if converter == "id" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _error_schema(codes: tuple[str, ...]) -> dict:
    return {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"enum": sorted(set(codes))}, "message": {"type": "string"},
                           "field": {"type": "string"}, "suggestion": {"type": "string"},
                           "retry_after": {"type": "integer"}},
        }},
    }


def _errors(op: Operation) -> dict[int, tuple[str, ...]]:
    errors: dict[int, set[str]] = {}

    def add(status: int, codes) -> None:
        errors.setdefault(status, set()).update(codes)

    for status, codes in COMMON_ERRORS.items():
        add(status, codes)
    if op.permission is not None:
        add(401, ("unauthorized",))
        add(403, ("forbidden",))
        add(429, ("rate_limited",))  # too many wrong tokens from this address
    if op.limit is not None:
        add(429, ("rate_limited",))
    if op.body is not None:
        for status, codes in BODY_ERRORS.items():
            add(status, codes)
        add(422, ("missing_field", "unknown_field", "invalid_type"))
    if op.request_media:
        add(413, ("payload_too_large",))
    if op.query is not None:
        add(422, ("invalid_query",))
    if "<" in op.rule:
        add(404, ("not_found",))
    for status, codes in op.errors.items():
        add(status, codes)
    return {status: tuple(sorted(codes)) for status, codes in sorted(errors.items())}


def _query_params(schema: dict, defs: dict) -> list[dict]:
    params = []
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        prop.pop("title", None)
        if "anyOf" in prop:  # `X | None`: a query argument is simply left out
            options = [o for o in prop.pop("anyOf") if o.get("type") != "null"]
            prop.update(options[0] if len(options) == 1 else {"anyOf": options})
        params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    return params


@cache
def document() -> dict:
    models: list[tuple[type[BaseModel], str]] = []
    operations = load_operations()
    for op in operations:
        if op.body is not None:
            models.append((op.body, "validation"))
        if op.query is not None:
            models.append((op.query, "validation"))
        models.extend((answer, "serialization") for answer in op.answers.values() if not isinstance(answer, str))
    keys, top = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    defs = top.get("$defs", {})

    paths: dict[str, dict] = {}
    # Query models become parameters, not schemas; one may serve several operations (the list and its CSV).
    query_refs: set[str] = set()
    for op in operations:
        entry: dict = {
            "operationId": op.endpoint, "summary": op.summary, "tags": [op.tag],
            "security": [{"bearer": []}] if op.permission else [],
        }
        if op.permission is not None:
            entry["description"] = f"Roles: {', '.join(sorted(PERMISSIONS[op.permission]))}."
            entry["x-permission"] = op.permission
        params = _path_params(op.rule)
        if op.query is not None:
            ref = keys[(op.query, "validation")]["$ref"].rsplit("/", 1)[1]
            params += _query_params(defs[ref], defs)
            query_refs.add(ref)
        if params:
            entry["parameters"] = params
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": keys[(op.body, "validation")]}}}
        elif op.request_media:
            entry["requestBody"] = {"required": True, "content": op.request_media}
        responses: dict[str, dict] = {}
        for status, answer in op.answers.items():
            if isinstance(answer, str):
                responses[str(status)] = {"description": answer, "content": {
                    answer: {"schema": {"type": "string", "format": "binary"}}}}
            else:
                responses[str(status)] = {"description": answer.__doc__ or answer.__name__, "content": {
                    "application/json": {"schema": keys[(answer, "serialization")]}}}
        for status, codes in _errors(op).items():
            responses[str(status)] = {"description": "Codes: " + ", ".join(codes), "content": {
                "application/json": {"schema": _error_schema(codes)}}}
            if status in RETRY_AFTER:
                responses[str(status)]["description"] += ". " + RETRY_AFTER[status]
                responses[str(status)]["headers"] = {"Retry-After": {
                    "description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}
        entry["responses"] = responses
        paths.setdefault(_path(op.rule), {})[op.method.lower()] = entry
    for ref in query_refs:
        defs.pop(ref)

    return {
        "openapi": "3.1.0",
        "info": {"title": "Lobby custody kiosk", "version": "1",
                 "description": "The front desk's custody ledger. Every error is "
                                "{\"error\": {\"code\", \"message\", …}} with a stable code; the message is in "
                                "the language of Accept-Language (zh-Hans or English)."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "`kiosk token create NAME` or `--kiosk DEVICE`"}},
            "schemas": defs,
        },
        "paths": paths,
    }
