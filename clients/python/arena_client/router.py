"""Routing decisions from a cached routing table: no round trip per request, and none needed to keep going.

Each model's entry is fetched once, then revalidated in the background with If-None-Match (the gateway
answers 304 while its generation is unchanged). When the gateway is away the last entry keeps serving.
"""
import threading
import time
import urllib.parse
from typing import Dict, Iterable, Mapping, Optional

from ._http import Transport, resolve_config
from .errors import ArenaError
from .routing import Decision, RoutingEntry, decide


class Router:
    def __init__(
        self,
        base_url: Optional[str] = None,
        token: Optional[str] = None,
        models: Iterable[str] = (),
        refresh_seconds: float = 5.0,
        timeout: float = 5.0,
    ):
        url, tok = resolve_config(base_url, token)
        self._http = Transport(url, tok, timeout)
        self._entries: Dict[str, RoutingEntry] = {}
        self._etags: Dict[str, str] = {}
        self._lock = threading.Lock()
        self._stats = {"requests": 0, "not_modified": 0, "errors": 0, "last_error": None, "last_refresh": None}
        self._stop = threading.Event()
        self._refresh_seconds = refresh_seconds
        for model in models:
            self._fetch(model)
        self._thread = threading.Thread(target=self._loop, name="arena-router-refresh", daemon=True)
        self._thread.start()

    def route(
        self, model: str, request_id: str, unit: Optional[str] = None, segments: Optional[Mapping[str, str]] = None
    ) -> Decision:
        """The decision for one request, from the cached entry (fetched once, the first time a model is seen)."""
        entry = self._entries.get(model)
        if entry is None:
            entry = self._fetch(model)
        return decide(entry, request_id, unit, segments)

    def entry(self, model: str) -> Optional[RoutingEntry]:
        return self._entries.get(model)

    def stats(self) -> Dict[str, object]:
        with self._lock:
            return dict(self._stats)

    def refresh(self) -> None:
        """Revalidates every known model now; errors are counted and the cached entries kept."""
        for model in list(self._entries):
            try:
                self._fetch(model)
            except ArenaError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._refresh_seconds + 5)

    def __enter__(self) -> "Router":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fetch(self, model: str) -> RoutingEntry:
        etag = self._etags.get(model)
        try:
            with self._lock:
                self._stats["requests"] = int(self._stats["requests"]) + 1  # type: ignore[call-overload]
            res = self._http.request(
                "GET", f"/v1/routing/{urllib.parse.quote(model, safe='')}", headers={"If-None-Match": etag} if etag else None
            )
        except ArenaError as err:
            with self._lock:
                self._stats["errors"] = int(self._stats["errors"]) + 1  # type: ignore[call-overload]
                self._stats["last_error"] = str(err)
            cached = self._entries.get(model)
            if cached is None:
                raise
            return cached
        with self._lock:
            self._stats["last_refresh"] = time.time()
            if res.status == 304 and model in self._entries:
                self._stats["not_modified"] = int(self._stats["not_modified"]) + 1  # type: ignore[call-overload]
                return self._entries[model]
            entry = RoutingEntry.from_json(res.body)
            self._entries[model] = entry
            self._etags[model] = res.headers.get("etag") or f'"{entry.generation}"'
            return entry

    def _loop(self) -> None:
        while not self._stop.wait(self._refresh_seconds):
            self.refresh()
