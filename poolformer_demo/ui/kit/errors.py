"""How failures reach the page: the user's own mistakes in words they can act on, anything else
as a generic sentence (the details go to the server's log). A failure is kept as what was said (a
`Said`, which remembers its catalog key), so the page can say it again in another language."""

from __future__ import annotations

import logging

import gradio as gr

from ...errors import PoolFormerDemoError, WeightsUnavailableError
from ...i18n import Messages, Said
from .view import failure_text

logger = logging.getLogger(__name__)


def generic_error() -> Said:
    return Said("error.generic")


def failure_said(exc: BaseException) -> str:
    """What the page says about a failed request, before it is put in a language (a `Said` where the
    message has a key); the server's log gets the rest, once."""
    if isinstance(exc, gr.Error):
        return exc.message
    if isinstance(exc, WeightsUnavailableError):
        # The page gets one sentence; whoever runs the server gets what was tried and the fix.
        logger.warning("weights unavailable: %s", exc.details)
        return exc.args[0] if exc.args else str(exc)
    if isinstance(exc, PoolFormerDemoError):
        logger.info("request refused: %s", exc)
        return exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    logger.exception("analysis failed", exc_info=exc)
    return generic_error()


def failure_message(exc: BaseException, t: Messages | None = None) -> str:
    """What the page says about a failed request, in language `t` (English by default)."""
    return failure_text(failure_said(exc), t)


def page_error(key: str, **params) -> gr.Error:
    """A refusal raised by a page handler: said in English to programs, by its key to the page."""
    return gr.Error(Said(key, **params), print_exception=False)


def user_error(exc: BaseException) -> gr.Error:
    """The failure as the error a Gradio endpoint raises, for programs calling the API (in English)."""
    if isinstance(exc, gr.Error):
        return exc
    return gr.Error(failure_message(exc), print_exception=False)
