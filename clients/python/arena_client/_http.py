"""The one place that speaks HTTP: JSON in and out, bearer token, timeouts, errors mapped to exceptions.

urllib from the standard library, so the client installs anywhere with nothing else.
"""
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from .errors import ArenaError, ConfigurationError, Unavailable, error_for


def resolve_config(base_url: Optional[str], token: Optional[str]) -> Tuple[str, str]:
    """The base URL and token, from the arguments or ARENA_URL / ARENA_TOKEN; names what is missing."""
    url = base_url or os.environ.get("ARENA_URL")
    tok = token or os.environ.get("ARENA_TOKEN")
    missing = [name for name, value in (("base_url (or ARENA_URL)", url), ("token (or ARENA_TOKEN)", tok)) if not value]
    if missing:
        raise ConfigurationError(
            f"arena_client needs {' and '.join(missing)}: the gateway's address, e.g. http://127.0.0.1:8080, "
            "and a bearer token from ARENA_GATEWAY_TOKENS"
        )
    return url.rstrip("/"), tok  # type: ignore[union-attr,return-value]


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: Dict[str, str]


class Transport:
    def __init__(self, base_url: str, token: str, timeout: float = 10.0):
        self.base_url = base_url
        self.token = token
        self.timeout = timeout

    def request(
        self, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None
    ) -> Response:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return Response(res.status, _decode(res.read()), {k.lower(): v for k, v in res.headers.items()})
        except urllib.error.HTTPError as err:
            if err.code == 304:
                return Response(304, None, {k.lower(): v for k, v in err.headers.items()})
            payload = _decode(err.read())
            if isinstance(payload, dict):
                raise error_for(err.code, str(payload.get("error") or f"HTTP {err.code}"), payload.get("hint"), payload.get("code"))
            raise error_for(err.code, f"HTTP {err.code}: {payload!r}"[:300])
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise Unavailable(0, f"cannot reach the gateway at {self.base_url}: {reason}", "Check that it runs; retrying is safe.")


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def is_transient(err: ArenaError) -> bool:
    """Worth retrying: the gateway unreachable, overloaded or its database away (nothing was stored)."""
    return err.status == 0 or err.status == 429 or err.status >= 500
