"""Errors a user can act on. Each message says what went wrong and what to do about it."""

import re

# An absolute path (not the path part of a URL): only its last component is worth showing.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.$:/])/(?:[\w.~+-]+/)+([\w.~+-]*)")


def without_paths(text: str) -> str:
    """The text with absolute file paths cut to their last component: messages reach browsers,
    and a server's folder layout is nobody's business."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "…", text)


class PoolFormerDemoError(Exception):
    """Base class: its message is safe to show to the person using the app."""


class UnknownVariantError(PoolFormerDemoError, ValueError):
    pass


class UnknownTargetError(PoolFormerDemoError, ValueError):
    pass


class WeightsUnavailableError(PoolFormerDemoError, RuntimeError):
    """Its message is one sentence for a visitor (which model, why); `details` tells whoever runs
    the server what was tried and how to fix it."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details or message


class ImageInputError(PoolFormerDemoError, ValueError):
    pass


class SelectionError(PoolFormerDemoError, ValueError):
    """A stage, block or feature-map position the model does not have."""


class KnockoutSpecError(PoolFormerDemoError, ValueError):
    """A knockout that names no part of the block, or stages the model does not have."""


class UnknownMethodError(PoolFormerDemoError, ValueError):
    pass


class ComputationCancelled(PoolFormerDemoError):
    """The person who asked for a long computation stopped it."""


class InvalidSettingError(PoolFormerDemoError, ValueError):
    pass


class DeviceUnavailableError(PoolFormerDemoError, RuntimeError):
    """The device asked for ($POOLFORMER_DEVICE) does not exist here."""
