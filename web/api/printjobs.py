"""Print jobs staff must watch: queued, stuck, failed, in doubt; a retry, and what staff decide
about a label that may already be on paper."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kiosk import printjobs, policy

from .. import db
from ..labels import printer
from ..schema import Answer, Body, Query, Text
from . import operation
from .answers import PrintJobView, print_job_view

PrinterName = Annotated[str, Field(strict=True, min_length=1, max_length=64)]
SHAPE = ("missing_field", "unknown_field", "invalid_type", "too_long", "invalid_text", "id_number_not_allowed")


class PrintJobsQuery(Query):
    state: Literal[("open",) + printjobs.STATES] = "open"
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class PrintJobList(Answer):
    print_jobs: list[PrintJobView]


@operation("GET", "/print-jobs", summary="Print jobs not yet printed (or by state)", permission="print",
           query=PrintJobsQuery, answers={200: PrintJobList}, tag="printing", errors={422: ("invalid_query",)})
def print_jobs(actor, query: PrintJobsQuery):
    jobs = printjobs.list_jobs(db.session(), state=query.state, limit=query.limit)
    return PrintJobList(print_jobs=[print_job_view(job) for job in jobs])


@operation("POST", "/print-jobs/<id:job_id>/retry", summary="Send a failed job again now", permission="print",
           answers={200: PrintJobView}, tag="printing",
           errors={404: ("not_found",), 409: ("print_job_not_retryable",)})
def retry_print_job(actor, job_id):
    return print_job_view(printjobs.retry(db.session(), job_id))


@operation("POST", "/print-jobs/<id:job_id>/confirm", summary="A label in doubt did print: mark it printed",
           permission="print", answers={200: PrintJobView}, tag="printing",
           errors={404: ("not_found",), 409: ("print_job_not_in_doubt",)})
def confirm_print_job(actor, job_id):
    return print_job_view(printjobs.confirm(db.session(), actor, job_id))


class ReprintInDoubtRequest(Body):
    reason: Text(policy.TEXT_LIMITS["note"])
    printer: PrinterName | None = None


@operation("POST", "/print-jobs/<id:job_id>/reprint",
           summary="A label in doubt: revoke the stub it carried and print a new one, marked REPRINT",
           permission="print", body=ReprintInDoubtRequest, answers={202: PrintJobView}, tag="printing",
           errors={400: ("invalid_json",), 404: ("not_found",),
                   409: ("print_job_not_in_doubt", "already_released"), 422: SHAPE + ("unknown_printer",)})
def reprint_print_job(actor, job_id, body: ReprintInDoubtRequest):
    target = printer(body.printer)
    job = printjobs.reprint_in_doubt(db.session(), actor, job_id, target.name, target.url, body.reason)
    return print_job_view(job), 202
