"""The one error type the local hub raises: an HTTP status plus the Hub's `X-Error-Code`."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["HubError"]


class HubError(Exception):
    """A request the hub refuses; rendered with the status, `X-Error-Code` and message the real Hub uses."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def __reduce__(self) -> tuple[Callable[..., HubError], tuple[int, str, str, dict[str, str]]]:  # pickling
        return (_rebuild, (self.status, self.code, self.message, self.headers))


def _rebuild(status: int, code: str, message: str, headers: dict[str, str]) -> HubError:
    return HubError(status, code, message, headers=headers)
