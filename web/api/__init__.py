"""The JSON API under /api/v1: one blueprint, one module per area.

Every view is declared with ``operation``: its method and route, the permission
it needs, the typed body and query it takes and the answers it gives. The same
declaration drives validation, the transaction boundary and the OpenAPI
document, so none of them can drift from the others.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from flask import Blueprint, Flask, Response, jsonify, request
from pydantic import BaseModel
from werkzeug.routing import IntegerConverter

from kiosk import accounts
from kiosk.db import unit_of_work

from .. import db, limits
from ..auth import current_actor
from ..errors import ApiError
from ..schema import Body, Query, parse_body, parse_query

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class IdConverter(IntegerConverter):
    """A database id: 1 to 2**63-1. Anything else is no such thing (404), never a database error."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**63 - 1)


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    tag: str
    permission: str | None
    body: type[Body] | None
    query: type[Query] | None
    # status -> an Answer model, or a media type for binary answers ("image/png")
    answers: dict[int, type[BaseModel] | str]
    # status -> the error codes it may carry
    errors: dict[int, tuple[str, ...]] = field(default_factory=dict)
    request_media: dict[str, dict] | None = None
    # The rate limit (web.limits) counted before anything else, per device and per client address.
    limit: str | None = None


OPERATIONS: list[Operation] = []


def operation(method: str, rule: str, *, summary: str, answers: dict, permission: str | None,
              body: type[Body] | None = None, query: type[Query] | None = None, errors: dict | None = None,
              tag: str = "items", request_media: dict | None = None, own_transactions: bool = False,
              limit: str | None = None, writes: bool | Callable[[], bool] | None = None) -> Callable:
    """Declare an API view. It is called as ``view(actor, **path_args[, body=…][, query=…])``
    inside the request's one transaction, and returns an answer model, ``(model, status)``,
    ``(model, status, headers)`` or a Response.

    With ``own_transactions`` the view runs after the caller is authenticated and outside
    any transaction, and opens its own units of work (``kiosk.db.unit_of_work``): for work
    that holds no transaction while it computes (decoding a picture), or that records each
    of several scans on its own.

    ``limit`` names a rate limit (web.limits) counted before the database is touched; an
    address that sent too many wrong tokens gets 429 instead of 401.

    ``writes``: whether the view writes; by default every method but GET does. A view that
    does not write reads in a transaction that takes no write lock on SQLite (kiosk.db.begin_reading);
    a GET that writes (an audit row for what it showed) must say ``writes=True``, or give a function
    of the request that says whether this one does."""
    if writes is None:
        writes = method.upper() != "GET"

    def decorate(view):
        OPERATIONS.append(Operation(method=method.upper(), rule=rule, endpoint=view.__name__, summary=summary,
                                    tag=tag, permission=permission, body=body, query=query, answers=answers,
                                    errors={status: tuple(codes) for status, codes in (errors or {}).items()},
                                    request_media=request_media, limit=limit))

        @wraps(view)
        def wrapper(**path):
            kwargs = dict(path)
            if limit is not None:
                limits.check(limit)
            with unit_of_work(db.session(), read_only=not (writes() if callable(writes) else writes)):
                actor = None
                if permission is not None:
                    actor = authenticated()
                    if not accounts.may(actor.role, permission):
                        raise ApiError(403, "forbidden", role=actor.role, action=permission)
                if body is not None:
                    kwargs["body"] = parse_body(body, request.get_data(cache=True))
                if query is not None:
                    kwargs["query"] = parse_query(query, request.args)
                if not own_transactions:
                    return respond(view(actor, **kwargs))
            return respond(view(actor, **kwargs))

        wrapper.permission = permission
        bp.add_url_rule(rule, view.__name__, wrapper, methods=[method.upper()])
        return view

    return decorate


def authenticated():
    """The caller; a wrong token counts against its address, and past that limit the answer is
    429, not 401, so guessing stops (a right token costs the limiter nothing, and so does a
    request that presents no credential at all: it guesses nothing)."""
    try:
        return current_actor()
    except ApiError:
        if limits.credential_key() is not None:
            limits.check("auth_failure", key="")
        raise


def respond(result):
    if isinstance(result, Response):
        return result
    status, headers = 200, {}
    if isinstance(result, tuple):
        result, status, *rest = result
        headers = rest[0] if rest else {}
    if isinstance(result, BaseModel):
        # Fields a view did not set are left out; the document marks them optional.
        response = Response(result.model_dump_json(exclude_unset=True), status=status, mimetype="application/json")
    else:
        response = jsonify(result)
        response.status_code = status
    response.headers.update(headers)
    return response


def load_operations() -> list[Operation]:
    """Import the area modules; each adds its operations to ``bp`` and ``OPERATIONS`` once."""
    from . import (  # noqa: F401
        alerts, calendar, complaint_reports, complaints, handovers, items, keys, mail, meta, notifications,
        printjobs, scans, supervision, unclaimed,
    )

    return OPERATIONS


def init_app(app: Flask) -> None:
    from ..openapi import document

    app.url_map.converters["id"] = IdConverter
    load_operations()

    app.register_blueprint(bp)
    app.add_url_rule("/api/openapi.json", "openapi", lambda: jsonify(document()))
