"""Errors of the gateway as exceptions that carry its message, hint and code."""
from typing import Optional


class ArenaError(Exception):
    """An error answer of the gateway (or a transport failure, with status 0)."""

    def __init__(self, status: int, message: str, hint: Optional[str] = None, code: Optional[str] = None):
        self.status = status
        self.message = message
        self.hint = hint
        self.code = code
        super().__init__(f"{message} ({hint})" if hint else message)


class BadRequest(ArenaError):
    """400: the message names the field and the value."""


class Unauthorized(ArenaError):
    """401: missing or unknown token."""


class Forbidden(ArenaError):
    """403: the token lacks the role."""


class NotFound(ArenaError):
    """404: nothing of that name in the token's tenant."""


class Conflict(ArenaError):
    """409: refused in the current state (separation of duties, a version registered differently, ...)."""


class Unavailable(ArenaError):
    """503 (or the gateway unreachable): nothing was stored; retrying is safe."""


class ConfigurationError(ValueError):
    """The client was built without something it needs (base URL, token)."""


_BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 503: Unavailable}


def error_for(status: int, message: str, hint: Optional[str] = None, code: Optional[str] = None) -> ArenaError:
    return _BY_STATUS.get(status, ArenaError)(status, message, hint, code)
