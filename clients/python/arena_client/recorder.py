"""Predictions and feedback, batched and sent in the background.

The buffer is bounded and what happens when it is full is the caller's choice (block, drop or raise).
Transient failures are retried with jittered backoff: ingestion is idempotent on each record's natural key,
so a batch sent twice is stored once. Records the gateway refuses are reported one by one; nothing is
dropped without being counted.
"""
import atexit
import random
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Tuple

from ._http import Transport, is_transient, resolve_config
from .errors import ArenaError

Kind = str  # "predictions" or "feedback"
RejectedCallback = Callable[[Kind, Mapping[str, Any], Mapping[str, Any]], None]
FailedCallback = Callable[[Kind, List[Mapping[str, Any]], ArenaError], None]
Sender = Callable[[Kind, List[Mapping[str, Any]]], Mapping[str, Any]]


class BufferFull(RuntimeError):
    """The recorder's buffer is full (on_full="raise", or "block" past its timeout)."""


class Recorder:
    def __init__(
        self,
        base_url: Optional[str] = None,
        token: Optional[str] = None,
        max_buffer: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        on_full: str = "block",
        block_timeout: float = 30.0,
        on_rejected: Optional[RejectedCallback] = None,
        on_failed: Optional[FailedCallback] = None,
        max_retry_seconds: float = 300.0,
        timeout: float = 10.0,
        sender: Optional[Sender] = None,
    ):
        if on_full not in ("block", "drop", "raise"):
            raise ValueError(f'on_full={on_full!r}: use "block", "drop" or "raise"')
        if sender is None:
            url, tok = resolve_config(base_url, token)
            http = Transport(url, tok, timeout)
            sender = lambda kind, batch: http.request("POST", f"/v1/{kind}", batch).body  # noqa: E731
        self._send = sender
        self._max_buffer = max_buffer
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._on_full = on_full
        self._block_timeout = block_timeout
        self._on_rejected = on_rejected
        self._on_failed = on_failed
        self._max_retry_seconds = max_retry_seconds
        self._buffer: Deque[Tuple[Kind, Mapping[str, Any]]] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._flushing = 0  # callers waiting in flush(): send partial batches at once
        self._closed = False
        self._stats: Dict[str, int] = dict.fromkeys(
            ("sent", "accepted", "duplicates", "rejected", "dropped", "retries", "failed_batches", "failed_records"), 0
        )
        self._thread = threading.Thread(target=self._loop, name="arena-recorder-flush", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def record_prediction(self, record: Mapping[str, Any]) -> None:
        self._put("predictions", record)

    def record_feedback(self, record: Mapping[str, Any]) -> None:
        self._put("feedback", record)

    def stats(self) -> Dict[str, int]:
        with self._cond:
            return {**self._stats, "buffered": len(self._buffer) + self._in_flight}

    def flush(self, timeout: float = 30.0) -> bool:
        """Sends what is buffered now; True once everything recorded so far has been answered."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                while self._buffer or self._in_flight:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(min(left, 0.1))
            finally:
                self._flushing -= 1
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Flushes and stops; also run at interpreter exit."""
        if self._closed:
            return
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _put(self, kind: Kind, record: Mapping[str, Any]) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the recorder is closed")
            if len(self._buffer) >= self._max_buffer:
                if self._on_full == "drop":
                    self._stats["dropped"] += 1
                    return
                if self._on_full == "raise":
                    raise BufferFull(f"recorder buffer full ({self._max_buffer} records waiting to be sent)")
                deadline = time.monotonic() + self._block_timeout
                while len(self._buffer) >= self._max_buffer:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise BufferFull(f"recorder buffer still full after {self._block_timeout}s")
                    self._cond.wait(left)
            self._buffer.append((kind, record))
            if len(self._buffer) >= self._batch_size:
                self._cond.notify_all()

    def _take(self) -> Tuple[Kind, List[Mapping[str, Any]]]:
        """The oldest records of one kind, up to a batch (called with the lock held)."""
        kind = self._buffer[0][0]
        batch: List[Mapping[str, Any]] = []
        kept: Deque[Tuple[Kind, Mapping[str, Any]]] = deque()
        while self._buffer and len(batch) < self._batch_size:
            k, record = self._buffer.popleft()
            (batch.append(record) if k == kind else kept.append((k, record)))
        self._buffer.extendleft(reversed(kept))
        self._in_flight += len(batch)
        self._cond.notify_all()
        return kind, batch

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._buffer and not self._closed:
                    self._cond.wait(self._flush_interval)
                if self._closed and not self._buffer:
                    return
                # A partial batch waits one interval for company, unless someone is flushing or closing.
                if len(self._buffer) < self._batch_size and not self._closed and not self._flushing:
                    self._cond.wait(self._flush_interval)
                if not self._buffer:
                    continue
                kind, batch = self._take()
            try:
                self._deliver(kind, batch)
            finally:
                with self._cond:
                    self._in_flight -= len(batch)
                    self._cond.notify_all()

    def _deliver(self, kind: Kind, batch: List[Mapping[str, Any]]) -> None:
        delay, started = 0.2, time.monotonic()
        while True:
            try:
                outcome = self._send(kind, batch)
                break
            except ArenaError as err:
                if is_transient(err) and time.monotonic() - started < self._max_retry_seconds:
                    with self._cond:
                        self._stats["retries"] += 1
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 10.0)
                    continue
                with self._cond:
                    self._stats["failed_batches"] += 1
                    self._stats["failed_records"] += len(batch)
                if self._on_failed:
                    self._on_failed(kind, batch, err)
                return
        rejected = list(outcome.get("rejected") or [])
        with self._cond:
            self._stats["sent"] += len(batch)
            self._stats["accepted"] += int(outcome.get("accepted") or 0)
            self._stats["duplicates"] += int(outcome.get("duplicates") or 0)
            self._stats["rejected"] += len(rejected)
        if self._on_rejected:
            for r in rejected:
                index = int(r.get("index", -1))
                self._on_rejected(kind, batch[index] if 0 <= index < len(batch) else {}, r)
