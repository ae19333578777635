"""Errors a user can act on. Each message says what went wrong and what to do about it."""


class PoolFormerDemoError(Exception):
    """Base class: its message is safe to show to the person using the app."""


class UnknownVariantError(PoolFormerDemoError, ValueError):
    pass


class UnknownTargetError(PoolFormerDemoError, ValueError):
    pass


class WeightsUnavailableError(PoolFormerDemoError, RuntimeError):
    pass


class ImageInputError(PoolFormerDemoError, ValueError):
    pass
