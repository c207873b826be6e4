"""gunicorn settings of `kiosk serve` (and of the ledger bench's floor, which is served the same way).

After a worker has made its app, everything alive then (modules, the app, SQLAlchemy's mappers and
compiled statements, pydantic's validators: some 120,000 objects that live as long as the
process) is moved out of the cyclic garbage collector's reach (``gc.freeze``). A full collection
otherwise walks all of them every few thousand requests: measured in one process on PostgreSQL,
8-15 % of the CPU of a deposit, scan or release (issue 9). Only objects made later are collected;
those frozen could not have been freed anyway, being alive for as long as the app is."""
import gc


def freeze() -> None:
    """Keep what is alive now out of the collector's walks (waitress's one process calls it too)."""
    gc.collect()
    gc.freeze()


def post_worker_init(worker) -> None:
    freeze()
