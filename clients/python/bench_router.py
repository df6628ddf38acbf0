"""Routing figures of the Python client, one JSON line each (bench/clients.ts calls this).

  python3 bench_router.py local N                       decisions per second from a loaded entry, no network
  python3 bench_router.py gateway URL TOKEN MODEL N S   N decisions spread over S seconds through a Router that
                                                        revalidates every second: how many round trips it made
"""
import json
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from arena_client import Router, RoutingEntry, decide  # noqa: E402

ENTRY = RoutingEntry.from_json({
    "model": "bench-routing", "champion": "1.0.0", "challenger": "1.1.0", "mode": "canary", "weightBp": 500,
    "shadow": [], "segmentOverrides": [], "salt": "bench", "generation": 1,
})


def local(n: int) -> None:
    ids = [f"req-{i}" for i in range(n)]
    best = 0.0
    for _ in range(3):
        to_challenger = 0
        t0 = time.perf_counter()
        for rid in ids:
            if decide(ENTRY, rid).serve == "1.1.0":
                to_challenger += 1
        rate = n / (time.perf_counter() - t0)
        assert 0 < to_challenger < n
        best = max(best, rate)
    print(json.dumps({"name": "python_route_decisions_per_s", "value": best, "unit": "decisions/s"}))


def gateway(url: str, token: str, model: str, n: int, seconds: float) -> None:
    with Router(url, token, models=[model], refresh_seconds=1.0) as router:
        pause = seconds / n
        for i in range(n):
            router.route(model, f"req-{i}")
            if i % 1000 == 0:
                time.sleep(pause * 1000)
        stats = router.stats()
    print(json.dumps({"name": "python_router_round_trips", "value": stats["requests"], "decisions": n,
                      "not_modified": stats["not_modified"], "errors": stats["errors"]}))


if __name__ == "__main__":
    if sys.argv[1] == "local":
        local(int(sys.argv[2]))
    else:
        gateway(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]))
