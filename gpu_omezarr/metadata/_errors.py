"""One way to say that a metadata field is wrong: name the field and the value."""

from __future__ import annotations

import math
from typing import Any, NoReturn


def invalid(field: str, value: Any, why: str) -> NoReturn:
    """Raise a ``ValueError`` that names ``field`` and shows ``value``."""
    raise ValueError(f"{field}={value!r}: {why}")


def wrong_type(field: str, value: Any, expected: str) -> NoReturn:
    """Raise a ``TypeError`` that names ``field``, its value and the expected type."""
    raise TypeError(f"{field}={value!r}: expected {expected}, got {type(value).__name__}")


def is_number(value: Any) -> bool:
    """True for int and float but not bool (JSON numbers)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def require_number(field: str, value: Any, *, finite: bool = True) -> float:
    if not is_number(value):
        wrong_type(field, value, "a number")
    if finite and not math.isfinite(value):
        invalid(field, value, "must be finite")
    return value
