"""Print jobs staff must watch: queued, stuck, failed; and a retry."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kiosk import printjobs

from .. import db
from ..schema import Answer, Query
from . import operation
from .answers import PrintJobView, print_job_view


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
