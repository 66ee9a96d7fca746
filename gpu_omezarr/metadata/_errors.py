"""One way to say that a metadata field is wrong: name the field and the value."""

from __future__ import annotations

import math
from typing import Any, NoReturn


class ArgumentError(ValueError, TypeError):
    """A bad argument: both a ``ValueError`` and a ``TypeError``, so that code written for
    ome-zarr-py (which raises one where we might say the other) still catches it."""


class MissingKeyError(ArgumentError, KeyError):
    """A required key missing from a metadata dict (ome-zarr-py raises ``KeyError`` there)."""

    __str__ = BaseException.__str__  # the message as written, not KeyError's repr of it


def invalid(field: str, value: Any, why: str) -> NoReturn:
    """Raise a ``ValueError`` (an :class:`ArgumentError`) naming ``field`` and ``value``."""
    raise ArgumentError(f"{field}={value!r}: {why}")


def wrong_type(field: str, value: Any, expected: str) -> NoReturn:
    """Raise a ``TypeError`` (an :class:`ArgumentError`) naming ``field``, its value and the
    expected type."""
    raise ArgumentError(f"{field}={value!r}: expected {expected}, got {type(value).__name__}")


def is_number(value: Any) -> bool:
    """True for int and float but not bool (JSON numbers)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def require_number(field: str, value: Any, *, finite: bool = True) -> float:
    if not is_number(value):
        wrong_type(field, value, "a number")
    if finite and not math.isfinite(value):
        invalid(field, value, "must be finite")
    return value
