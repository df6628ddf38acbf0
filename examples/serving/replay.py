"""Real weather as live traffic for the example model server: one request per forecast, feedback after it.

Cycles through the days of a weather CSV (vega-datasets seattle-weather.csv by default): for each day it
asks the server for the maximum temperature from the two days before, then, `feedback_delay` seconds later,
posts what was observed. Used by run_rollout.py; runs alone too:

    python3 examples/serving/replay.py --server http://127.0.0.1:8000 --seconds 30
"""
import argparse
import csv
import heapq
import http.client
import json
import os
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Mapping, Optional, Tuple

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEFAULT_DATA = os.path.join(REPO, "node_modules", "vega-datasets", "data", "seattle-weather.csv")


def load_days(path: str, start: str, end: str) -> List[Dict[str, Any]]:
    """The requests of each day in [start, end] whose two days before are in the file."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = {r["date"]: r for r in csv.DictReader(f)}
    dates = sorted(rows)
    requests = []
    for i, date in enumerate(dates):
        if not start <= date <= end or i < 2:
            continue
        d1, d2 = rows[dates[i - 1]], rows[dates[i - 2]]
        requests.append(
            {
                "date": date,
                "temp_max_1": float(d1["temp_max"]),
                "temp_min_1": float(d1["temp_min"]),
                "precipitation_1": float(d1["precipitation"]),
                "wind_1": float(d1["wind"]),
                "temp_max_2": float(d2["temp_max"]),
                "actual": float(rows[date]["temp_max"]),
            }
        )
    if not requests:
        raise ValueError(f"{path}: no days between {start} and {end} with two days of history")
    return requests


class Replay:
    """Sends requests at a steady rate on one keep-alive connection until stopped; counts what came back."""

    def __init__(self, server: str, days: List[Dict[str, Any]], rate: float = 200.0, feedback_delay: float = 0.5, prefix: str = "r"):
        url = urllib.parse.urlparse(server)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._days = days
        self._interval = 1.0 / rate
        self._delay = feedback_delay
        self._prefix = prefix
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replay", daemon=True)
        self.counts: Dict[str, int] = {"requests": 0, "ok": 0, "failed": 0, "feedback": 0}
        self.versions: Dict[str, int] = {}
        self.last_error: Optional[str] = None

    def start(self) -> "Replay":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = http.client.HTTPConnection(self._host, self._port, timeout=10)
        pending: List[Tuple[float, str, float]] = []  # (due, request id, actual): feedback to post
        n, next_at = 0, time.monotonic()
        while not self._stop.is_set() or pending:
            now = time.monotonic()
            while pending and (pending[0][0] <= now or self._stop.is_set()):
                _, request_id, actual = heapq.heappop(pending)
                if self._post(conn, "/feedback", {"request_id": request_id, "actual": actual})[0] == 202:
                    self.counts["feedback"] += 1
            if self._stop.is_set():
                continue
            if now < next_at:
                time.sleep(min(next_at - now, 0.01))
                continue
            next_at += self._interval
            day = self._days[n % len(self._days)]
            request_id = f"{self._prefix}-{n}"
            n += 1
            body = {k: v for k, v in day.items() if k != "actual"}
            status, answer = self._post(conn, "/forecast", {"request_id": request_id, **body})
            self.counts["requests"] += 1
            if status == 200:
                self.counts["ok"] += 1
                version = str(answer.get("version"))
                self.versions[version] = self.versions.get(version, 0) + 1
            else:
                self.counts["failed"] += 1
                self.last_error = f"{status}: {answer.get('error')}"
            # A failed request still has an outcome: the version that failed is judged on it.
            heapq.heappush(pending, (time.monotonic() + self._delay, request_id, day["actual"]))
        conn.close()

    def _post(self, conn: http.client.HTTPConnection, path: str, body: Mapping[str, Any]) -> Tuple[int, Dict[str, Any]]:
        data = json.dumps(body).encode("utf-8")
        for attempt in (1, 2):  # one reconnect: the server may have closed an idle keep-alive connection
            try:
                conn.request("POST", path, data, {"Content-Type": "application/json"})
                res = conn.getresponse()
                return res.status, json.loads(res.read() or b"{}")
            except (OSError, http.client.HTTPException, ValueError) as err:
                conn.close()
                if attempt == 2:
                    self.last_error = f"{path}: {err}"
        return 0, {}


def main() -> None:
    p = argparse.ArgumentParser(description="Replay real weather as traffic to the example model server.")
    p.add_argument("--server", required=True, help="the model server, e.g. http://127.0.0.1:8000")
    p.add_argument("--data", default=DEFAULT_DATA, help="weather CSV (default: vega-datasets seattle-weather.csv)")
    p.add_argument("--from", dest="start", default="2015-01-01")
    p.add_argument("--to", dest="end", default="2015-12-31")
    p.add_argument("--rate", type=float, default=200.0, help="requests per second")
    p.add_argument("--seconds", type=float, default=30.0)
    args = p.parse_args()
    replay = Replay(args.server, load_days(args.data, args.start, args.end), args.rate).start()
    time.sleep(args.seconds)
    replay.stop()
    print(json.dumps({**replay.counts, "versions": replay.versions, "last_error": replay.last_error}))


if __name__ == "__main__":
    main()
