"""How results become plain JSON data, for every result's `to_json()`: arrays as nested lists of
rounded floats and times in seconds rounded alike, so a program reads the same numbers from the
API, the command line and the exports."""

from __future__ import annotations

import numpy as np

# A map or a curve is read to far fewer digits than this; full float precision would triple the text.
ARRAY_DIGITS = 6
SECONDS_DIGITS = 4


def nested_list(values, digits: int = ARRAY_DIGITS) -> list:
    """An array as nested lists of Python floats rounded to `digits` decimals."""
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


def rounded_seconds(value: float) -> float:
    """A duration as the JSON outputs give it."""
    return round(float(value), SECONDS_DIGITS)
