"""One rollout of the example weather forecaster, driven from Python over Arena's HTTP API only.

    ARENA_URL=http://127.0.0.1:8080 ARENA_TOKEN=<operator+registrar> ARENA_APPROVER_TOKEN=<approver> \
      python3 examples/serving/run_rollout.py --model seattle-temp --server http://127.0.0.1:8000 \
        --champion champion.json --challenger challenger.json [--policy policy.json]

It registers both artifacts (file:// URI, SHA-256 digest, training lineage and holdout metrics from the
artifact), makes the first the champion, replays real weather through the model server (server.py) as
traffic with feedback, proposes the rollout, approves it as a second person (the approver token: whoever
proposes may not approve), follows it to its end, and prints the outcome as JSON on the last line.
"""
import argparse
import hashlib
import json
import os
import pathlib
import sys
import time
from typing import Any, Dict, Optional

try:
    import arena_client
except ImportError:  # run from a checkout without `pip install ./clients/python`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
    import arena_client

from replay import DEFAULT_DATA, Replay, load_days


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def register(arena: arena_client.Arena, model: str, path: str, parent: Optional[str] = None) -> str:
    file = pathlib.Path(path).resolve()
    raw = file.read_bytes()
    artifact = json.loads(raw)
    version = str(artifact["version"])
    fields: Dict[str, Any] = {
        "artifactUri": file.as_uri(),
        "artifactDigest": hashlib.sha256(raw).hexdigest(),
        "training": {
            "dataSet": "vega-datasets/data/seattle-weather.csv",
            "featureSet": artifact.get("featureSet"),
            "window": artifact.get("trainWindow"),
            "dataSha256": artifact.get("trainingDataSha256"),
        },
        "metrics": {"holdout": artifact.get("holdout")},
    }
    if parent:
        fields["parentVersion"] = parent
    arena.register_version(model, version, **fields)
    say(f"registered {model} {version} ({artifact.get('featureSet')}; holdout MAE {artifact['holdout']['mae']:.2f} °C)")
    return version


def main() -> None:
    p = argparse.ArgumentParser(description="Drive one rollout of the weather forecaster over Arena's HTTP API.")
    p.add_argument("--model", required=True)
    p.add_argument("--server", required=True, help="the model server (server.py) serving --model")
    p.add_argument("--champion", required=True, help="artifact of the current version (train.ts --out)")
    p.add_argument("--challenger", required=True, help="artifact of the candidate version")
    p.add_argument("--policy", help="rollout policy as a JSON file (default: the gateway's default policy)")
    p.add_argument("--gateway", default=os.environ.get("ARENA_URL"))
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--rate", type=float, default=200.0, help="requests per second through the model server")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the rollout to end")
    args = p.parse_args()
    approver_token = os.environ.get("ARENA_APPROVER_TOKEN")
    if not approver_token:
        p.error("ARENA_APPROVER_TOKEN is required: a token of someone with the approver role other than ARENA_TOKEN's person")
    try:
        arena = arena_client.Arena(args.gateway)
        approver = arena_client.Arena(args.gateway, approver_token)
    except arena_client.ConfigurationError as err:
        p.error(str(err))
    policy = None
    if args.policy:
        try:
            policy = json.loads(pathlib.Path(args.policy).read_text())
        except (OSError, ValueError) as err:
            p.error(f"--policy {args.policy!r}: cannot read it as JSON ({err})")

    champion = register(arena, args.model, args.champion)
    challenger = register(arena, args.model, args.challenger, parent=champion)
    arena.set_champion(args.model, champion, reason="bootstrap by run_rollout.py")
    say(f"champion {champion}; replaying 2015 through {args.server} at {args.rate:g} requests/s")
    replay = Replay(args.server, load_days(args.data, "2015-01-01", "2015-12-31"), args.rate, prefix=f"run-{time.time_ns()}").start()
    try:
        started = arena.start_rollout(args.model, challenger, policy)
        rollout_id = started["rolloutId"]
        say(f"rollout {rollout_id} proposed")
        status = arena.wait(rollout_id, until=("awaiting_approval", *arena_client.FINAL_STATES), timeout=60, poll=0.25)
        if status["state"] == "awaiting_approval":
            approver.approve(rollout_id, comment="approved by run_rollout.py's approver token")
        deadline, seen, last_seq = time.monotonic() + args.timeout, "", 0
        while True:
            status = arena.status(rollout_id)
            for event in status.get("events") or []:  # what happened since the last look, in order
                if event["seq"] > last_seq:
                    last_seq = event["seq"]
                    if event["type"] != "transition":
                        say(f"  {event['type']} by {event['actor']}" + (f": {event['reason']}" if event.get("reason") else ""))
            stage = status.get("stage") or {}
            line = f"{status['state']}" + (f" ({stage['mode']} {stage['weightBp'] / 100:g} %)" if stage else "")
            line += " paused" if status.get("paused") else ""
            if line != seen:
                say(f"  {line}" + (f": {status['lastAnalysis']['summary']}" if status.get("lastAnalysis") else ""))
                seen = line
            if status["state"] in arena_client.FINAL_STATES:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"rollout {rollout_id} is still {status['state']} after {args.timeout}s")
            time.sleep(0.5)
    finally:
        replay.stop()
    routing = arena.routing(args.model)
    say(f"{status['state']}: {status.get('decision')}; champion is now {routing.get('champion')}")
    print(json.dumps({
        "rolloutId": rollout_id,
        "state": status["state"],
        "decision": status.get("decision"),
        "champion": routing.get("champion"),
        "traffic": replay.counts,
        "served": replay.versions,
        "lastError": replay.last_error,
    }))


if __name__ == "__main__":
    main()
