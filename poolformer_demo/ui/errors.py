"""How failures reach the page: the user's own mistakes in words they can act on, anything else
as a generic sentence (the details go to the server's log)."""

from __future__ import annotations

import logging

import gradio as gr

from ..errors import PoolFormerDemoError
from .present import public_message

logger = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong while analysing this image. Please try again, or try another image."


def user_error(exc: BaseException) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, PoolFormerDemoError):
        logger.info("request refused: %s", exc)
        return gr.Error(public_message(exc), print_exception=False)
    logger.exception("analysis failed")
    return gr.Error(GENERIC_ERROR, print_exception=False)
