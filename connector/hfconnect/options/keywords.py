"""A misspelled keyword of a function taking options as keywords (Daft's `read_huggingface`/`write_huggingface`)
gets the "did you mean" a Spark option gets.

Python's own `TypeError: unexpected keyword argument 'splt'` names no way out; the option table's matching
(`hfconnect.options.closest_name`) does. The error is a TypeError too, so code that caught Python's still does.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import OptionError
from .model import closest_name

__all__ = ["UnknownKeywordError", "checked_keywords"]

F = TypeVar("F", bound=Callable[..., Any])


class UnknownKeywordError(OptionError, TypeError):
    """A keyword the function does not take; the message names the closest one it does."""


def checked_keywords(function: F) -> F:
    """`function` refusing unknown keywords with hfconnect's message, before anything runs."""
    accepted = [name for name, p in inspect.signature(function).parameters.items()
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        unknown = [key for key in kwargs if key not in accepted]
        if unknown:
            key = unknown[0]
            close = closest_name(key, accepted)
            guess = f"; did you mean {close!r}?" if close else f"; it takes {', '.join(accepted)}"
            raise UnknownKeywordError(f"{function.__name__}() got an unknown keyword {key!r}{guess}")
        return function(*args, **kwargs)

    return call  # type: ignore[return-value]
