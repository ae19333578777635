"""How failures reach the page: the user's own mistakes in words they can act on, anything else
as a generic sentence (the details go to the server's log)."""

from __future__ import annotations

import logging

import gradio as gr

from ...errors import PoolFormerDemoError, WeightsUnavailableError
from .view import public_message

logger = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong while analysing this image. Please try again, or try another image."


def failure_message(exc: BaseException) -> str:
    """What the page says about a failed request; the server's log gets the rest."""
    if isinstance(exc, gr.Error):
        return exc.message
    if isinstance(exc, WeightsUnavailableError):
        # The page gets one sentence; whoever runs the server gets what was tried and the fix.
        logger.warning("weights unavailable: %s", exc.details)
        return public_message(exc)
    if isinstance(exc, PoolFormerDemoError):
        logger.info("request refused: %s", exc)
        return public_message(exc)
    logger.exception("analysis failed", exc_info=exc)
    return GENERIC_ERROR


def user_error(exc: BaseException) -> gr.Error:
    """The failure as the error a Gradio endpoint raises, for programs calling the API."""
    if isinstance(exc, gr.Error):
        return exc
    return gr.Error(failure_message(exc), print_exception=False)
