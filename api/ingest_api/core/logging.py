"""Structured logging for the API and the worker (structlog).

One pipeline for our own lines and for the standard library's (uvicorn,
SQLAlchemy, botocore): JSON in production with timestamp, level, message,
module and whatever is bound in the context (request_id, job_id), and the
trace and span ids while tracing is on (core.tracing); readable
lines in development. Request ids reach every line through contextvars.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from ingest_api.core.config import LogFormat
from ingest_api.core.tracing import add_trace_ids

Processor = Any  # structlog's processors are plain callables


def _drop_color_message(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    # uvicorn adds an ANSI-coloured copy of its message; one copy is enough.
    event.pop("color_message", None)
    return event


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.CallsiteParameterAdder(
            [structlog.processors.CallsiteParameter.MODULE]
        ),
        structlog.stdlib.ExtraAdder(),
        add_trace_ids,
        _drop_color_message,
    ]


def configure_logging(level: str = "info", fmt: LogFormat = LogFormat.JSON) -> None:
    """Route structlog and the standard library through one renderer."""
    renderer: Processor
    if fmt is LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer()
        final: list[Processor] = [
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            renderer,
        ]
    else:
        final = [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]

    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        # Below the level, a call returns at once: no processor runs, which
        # matters for the per-request access line.
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # We log each request ourselves, with its request id; uvicorn's own
    # access line would say it twice without one.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
