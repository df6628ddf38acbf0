"""A small HTTP model server for the example weather forecaster, taking part in Arena rollouts.

    ARENA_URL=http://127.0.0.1:8080 ARENA_TOKEN=… python3 examples/serving/server.py --model seattle-temp

Per request it asks Arena's routing (from arena_client's cached table, no round trip) which version serves,
answers with that version's forecast, runs any shadow version on the same inputs, and records every
prediction; `POST /feedback` records the observed temperature when it is known. Versions are loaded from
their registered artifact the first time they are routed to, and refused when the bytes do not match the
registered digest. The token needs `ingest` (routing, predictions, feedback) and `registrar` (reading a
version's artifact URI).

Standard library and arena_client only.

  POST /forecast  {"request_id", "unit"?, "date": "YYYY-MM-DD", "temp_max_1", "temp_min_1",
                   "precipitation_1", "wind_1", "temp_max_2"}   → {"request_id", "forecast", "version", "via"}
  POST /feedback  {"request_id", "actual"}                      → 202 {"recorded": true}
  GET  /healthz   routing and recorder counters
"""
import argparse
import json
import math
import os
import random
import signal
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Mapping, Optional, Tuple

try:
    import arena_client
except ImportError:  # run from a checkout without `pip install ./clients/python`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
    import arena_client

from forecaster import LAG_INPUTS, ArtifactError, Forecaster, InputError, load_artifact

MAX_BODY = 64 * 1024
# The observed weather the forecast starts from: what Arena's drift checks compare with the training data.
MONITORED = ("temp_max_1", "temp_min_1", "precipitation_1", "wind_1")


class ServingFault(RuntimeError):
    """An injected failure of a version (--fault), to watch a rollout roll a broken build back."""


class ModelServer:
    def __init__(
        self,
        model: str,
        arena: arena_client.Arena,
        router: arena_client.Router,
        recorder: arena_client.Recorder,
        artifact_store: Optional[str] = None,
        faults: Optional[Mapping[str, float]] = None,
    ):
        self.model = model
        self._arena = arena
        self._router = router
        self._recorder = recorder
        self._store = artifact_store
        self._faults = dict(faults or {})
        self._versions: Dict[str, Forecaster] = {}
        self._lock = threading.Lock()
        self._rng = random.Random()
        self.counts = {"forecasts": 0, "shadow": 0, "errors": 0, "feedback": 0, "rejected": 0}

    def forecaster(self, version: str) -> Forecaster:
        with self._lock:
            cached = self._versions.get(version)
        if cached:
            return cached
        # Outside the lock: a first load reads the gateway and a file; two threads loading the same version
        # at once both get equal results.
        info = self._arena.version(self.model, version)
        if not info.get("artifactUri"):
            raise ArtifactError(f"{self.model} {version} has no artifact registered; register it with artifactUri and artifactDigest")
        loaded = load_artifact(info["artifactUri"], info.get("artifactDigest"), self._store)
        with self._lock:
            return self._versions.setdefault(version, loaded)

    def forecast(self, body: Mapping[str, Any]) -> Tuple[int, Dict[str, Any]]:
        request_id = _text(body, "request_id")
        unit = _text(body, "unit", required=False)
        date = _text(body, "date")
        decision = self._router.route(self.model, request_id, unit)
        inputs = {name: body.get(name) for name in LAG_INPUTS}
        features = {k: v for k, v in inputs.items() if k in MONITORED and _finite(v)}
        served = self._predict(decision.serve, date, inputs)
        if isinstance(served, InputError):
            raise served
        for version in decision.shadow:
            shadow = self._predict(version, date, inputs)
            self._record(request_id, unit, version, "shadow", shadow, features)
        self._record(request_id, unit, decision.serve, "served", served, features)
        if isinstance(served, Exception):
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": f"{decision.serve} failed: {served}", "request_id": request_id}
        return HTTPStatus.OK, {"request_id": request_id, "forecast": served[0], "version": decision.serve, "via": decision.via}

    def feedback(self, body: Mapping[str, Any]) -> Tuple[int, Dict[str, Any]]:
        request_id = _text(body, "request_id")
        actual = body.get("actual")
        if not _finite(actual):
            raise InputError(f"actual={actual!r}: must be a finite number (the observed maximum temperature, °C)")
        self._recorder.record_feedback({"model": self.model, "requestId": request_id, "actual": actual})
        with self._lock:
            self.counts["feedback"] += 1
        return HTTPStatus.ACCEPTED, {"recorded": True}

    def health(self) -> Dict[str, Any]:
        with self._lock:
            counts = dict(self.counts)
        return {"model": self.model, "counts": counts, "routing": self._router.stats(), "recorder": self._recorder.stats()}

    def on_rejected(self, kind: str, record: Mapping[str, Any], rejection: Mapping[str, Any]) -> None:
        with self._lock:
            self.counts["rejected"] += 1
        print(f"arena refused a {kind} record {record.get('requestId')!r}: {rejection.get('field')}: {rejection.get('reason')}", file=sys.stderr)

    def _predict(self, version: str, date: str, inputs: Mapping[str, Any]) -> Any:
        """(forecast, latency ms), an InputError for a bad request, or the exception the version raised."""
        started = time.perf_counter()
        try:
            model = self.forecaster(version)
            rate = self._faults.get(version, 0.0)
            if rate and self._rng.random() < rate:
                raise ServingFault(f"injected fault (--fault {version}={rate})")
            value = model.forecast(date, inputs)
        except InputError as err:
            return err
        except Exception as err:  # noqa: BLE001 - whatever a version raises is that version's error, recorded
            return err
        return value, (time.perf_counter() - started) * 1000

    def _record(self, request_id: str, unit: Optional[str], version: str, role: str, result: Any, features: Dict[str, Any]) -> None:
        record: Dict[str, Any] = {"requestId": request_id, "model": self.model, "version": version, "role": role}
        if unit is not None:
            record["unitId"] = unit
        if isinstance(result, Exception):
            record.update(prediction=None, error=True, errorCode=type(result).__name__)
        else:
            record.update(prediction=result[0], latencyMs=result[1], features=features)
        self._recorder.record_prediction(record)
        with self._lock:
            self.counts["shadow" if role == "shadow" else "forecasts"] += 1
            if isinstance(result, Exception):
                self.counts["errors"] += 1


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(body: Mapping[str, Any], field: str, required: bool = True) -> Any:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise InputError(f"{field}={value!r}: must be a non-empty string of at most 200 characters")
    return value


def make_handler(server: ModelServer) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client sends many requests on one connection
        # Headers and body leave in two writes; with Nagle's algorithm the second waits for the client's
        # delayed ACK (40 ms), which held a keep-alive client to about 25 requests/s.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._answer(HTTPStatus.OK, server.health())
            else:
                self._answer(HTTPStatus.NOT_FOUND, {"error": f"no route GET {self.path}"})

        def do_POST(self) -> None:
            routes = {"/forecast": server.forecast, "/feedback": server.feedback}
            handler = routes.get(self.path)
            raw_length = self.headers.get("Content-Length") or "0"
            if not raw_length.isdigit():
                self.close_connection = True
                self._answer(HTTPStatus.BAD_REQUEST, {"error": f"Content-Length={raw_length!r}: must be a number of bytes"})
                return
            length = int(raw_length)
            if length > MAX_BODY:
                self.close_connection = True
                self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"body of {length} bytes; at most {MAX_BODY}"})
                return
            raw = self.rfile.read(length)
            if handler is None:
                self._answer(HTTPStatus.NOT_FOUND, {"error": f"no route POST {self.path}"})
                return
            try:
                body = json.loads(raw.decode("utf-8"))
                if not isinstance(body, dict):
                    raise InputError("body: must be a JSON object")
                status, answer = handler(body)
            except (ValueError, UnicodeDecodeError) as err:  # InputError is a ValueError
                status, answer = HTTPStatus.BAD_REQUEST, {"error": str(err)}
            except arena_client.NoChampion as err:
                status, answer = HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(err)}
            except arena_client.ArenaError as err:
                status, answer = HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(err), "hint": err.hint}
            self._answer(status, answer)

        def _answer(self, status: int, body: Mapping[str, Any]) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # one line per request would drown the output
            pass

    return Handler


def parse_fault(text: str) -> Tuple[str, float]:
    version, _, rate = text.partition("=")
    try:
        value = float(rate)
    except ValueError:
        value = -1.0
    if not version or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"--fault {text!r}: use VERSION=RATE with RATE between 0 and 1")
    return version, value


def main(argv: Optional[list] = None) -> None:
    p = argparse.ArgumentParser(description="Serve the example weather forecaster under Arena's routing.")
    p.add_argument("--model", required=True, help="the Arena model this server serves")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed on the first line)")
    p.add_argument("--gateway", default=os.environ.get("ARENA_URL"), help="Arena's gateway (default: ARENA_URL)")
    p.add_argument("--artifact-store", help="directory of Arena's local artifact store, for arena-artifact:// URIs")
    p.add_argument("--refresh-seconds", type=float, default=2.0, help="how often the routing table is revalidated")
    p.add_argument("--fault", type=parse_fault, action="append", default=[], metavar="VERSION=RATE",
                   help="fail this share of a version's requests (to watch a rollback)")
    args = p.parse_args(argv)
    try:
        arena = arena_client.Arena(args.gateway)
        router = arena_client.Router(args.gateway, refresh_seconds=args.refresh_seconds)
    except arena_client.ConfigurationError as err:
        p.error(str(err))
    holder: Dict[str, ModelServer] = {}
    recorder = arena_client.Recorder(
        args.gateway,
        flush_interval=0.25,
        on_rejected=lambda kind, record, rejection: holder["server"].on_rejected(kind, record, rejection),
    )
    server = ModelServer(args.model, arena, router, recorder, args.artifact_store, dict(args.fault))
    holder["server"] = server
    httpd = ThreadingHTTPServer((args.host, args.port), make_handler(server))
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM ends like Ctrl-C: what was recorded is flushed first

    signal.signal(signal.SIGTERM, stop)
    print(json.dumps({"listening": f"http://{host}:{port}", "model": args.model}), flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        router.close()
        recorder.close()  # what was recorded is sent before the process ends


if __name__ == "__main__":
    main()
