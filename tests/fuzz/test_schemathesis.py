"""The API fuzzed from its own OpenAPI document, as an attacker with a token would.

schemathesis generates requests for every operation (valid and invalid ones) and
checks each answer: never a server error, and always the shape the document
declares. Run with a staff token and with a kiosk token, on SQLite and PostgreSQL;
bounded by ``KIOSK_FUZZ_EXAMPLES`` per operation (CI keeps it small).
"""
from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from web.openapi import document

EXAMPLES = int(os.environ.get("KIOSK_FUZZ_EXAMPLES", "25"))


# Loaded from the document itself (no app needed to collect); each case is sent to the
# test's own app through schemathesis' WSGI transport.
schema = schemathesis.openapi.from_dict(document())
fuzz = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def _call(case, app, token: str) -> None:
    case.call_and_validate(app=app, base_url="/api/v1", headers={"Authorization": f"Bearer {token}"},
                           checks=[not_a_server_error, response_schema_conformance])


@schema.parametrize()
@fuzz
def test_no_input_from_staff_breaks_the_api(case, app, tokens):
    _call(case, app, tokens["staff"])


@schema.parametrize()
@fuzz
def test_no_input_from_a_kiosk_breaks_the_api(case, app, tokens):
    _call(case, app, tokens["kiosk"])
