"""The rollout lifecycle over HTTP: register, champion, start, approve, follow."""
import time
import urllib.parse
from typing import Any, Dict, Iterable, List, Mapping, Optional

from ._http import Transport, resolve_config

FINAL_STATES = ("promoted", "rolled_back", "rejected", "expired", "aborted")


def _seg(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class Arena:
    """Each call answers the gateway's JSON, or raises an ArenaError subclass with its message and hint."""

    def __init__(self, base_url: Optional[str] = None, token: Optional[str] = None, timeout: float = 10.0):
        url, tok = resolve_config(base_url, token)
        self._http = Transport(url, tok, timeout)

    def register_version(self, model: str, version: str, **fields: Any) -> Dict[str, Any]:
        """Registers a version (artifactUri, artifactDigest, metrics, training, parentVersion, description).

        The same version with the same details again is fine; different details raise Conflict.
        """
        return self._http.request("POST", f"/v1/models/{_seg(model)}/versions", {"version": version, **fields}).body

    def model(self, model: str) -> Dict[str, Any]:
        """The model's routing and every version."""
        return self._http.request("GET", f"/v1/models/{_seg(model)}").body

    def version(self, model: str, version: str) -> Dict[str, Any]:
        """One version: status, artifactUri and artifactDigest, training lineage, metrics."""
        return self._http.request("GET", f"/v1/models/{_seg(model)}/versions/{_seg(version)}").body

    def set_champion(self, model: str, version: str, reason: Optional[str] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"version": version}
        if reason:
            body["reason"] = reason
        return self._http.request("POST", f"/v1/models/{_seg(model)}/champion", body).body

    def routing(self, model: str) -> Dict[str, Any]:
        return self._http.request("GET", f"/v1/routing/{_seg(model)}").body

    def start_rollout(self, model: str, challenger: str, policy: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"model": model, "challenger": challenger}
        if policy is not None:
            body["policy"] = dict(policy)
        return self._http.request("POST", "/v1/rollouts", body).body

    def status(self, rollout_id: str) -> Dict[str, Any]:
        return self._http.request("GET", f"/v1/rollouts/{_seg(rollout_id)}").body

    def rollouts(self, model: Optional[str] = None, state: Optional[str] = None) -> List[Dict[str, Any]]:
        query = urllib.parse.urlencode({k: v for k, v in (("model", model), ("state", state)) if v})
        return self._http.request("GET", "/v1/rollouts" + (f"?{query}" if query else "")).body

    def approve(self, rollout_id: str, comment: Optional[str] = None) -> Dict[str, Any]:
        return self._act(rollout_id, "approve", {"comment": comment} if comment else {})

    def reject(self, rollout_id: str, reason: Optional[str] = None) -> Dict[str, Any]:
        return self._act(rollout_id, "reject", {"reason": reason} if reason else {})

    def pause(self, rollout_id: str, reason: Optional[str] = None) -> Dict[str, Any]:
        return self._act(rollout_id, "pause", {"reason": reason} if reason else {})

    def resume(self, rollout_id: str) -> Dict[str, Any]:
        return self._act(rollout_id, "resume", {})

    def abort(self, rollout_id: str, reason: str, reject: bool = False) -> Dict[str, Any]:
        """Traffic back to the champion; the version stays retryable unless `reject`."""
        body: Dict[str, Any] = {"reason": reason}
        if reject:
            body["reject"] = True
        return self._act(rollout_id, "abort", body)

    def retry(self, rollout_id: str, reason: Optional[str] = None) -> Dict[str, Any]:
        """Starts a new rollout of an ended (not promoted) rollout's version: {rolloutId, workflowId, retryOf}."""
        return self._act(rollout_id, "retry", {"reason": reason} if reason else {})

    def promote(self, rollout_id: str, reason: Optional[str] = None) -> Dict[str, Any]:
        return self._act(rollout_id, "promote", {"reason": reason} if reason else {})

    def wait(
        self, rollout_id: str, until: Iterable[str] = FINAL_STATES, timeout: float = 600.0, poll: float = 1.0
    ) -> Dict[str, Any]:
        """Polls the status until its state is one of `until`; TimeoutError names the last state."""
        wanted = set(until)
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(rollout_id)
            if status.get("state") in wanted:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"rollout {rollout_id} is still {status.get('state')} after {timeout}s")
            time.sleep(poll)

    def _act(self, rollout_id: str, action: str, body: Dict[str, Any]) -> Dict[str, Any]:
        return self._http.request("POST", f"/v1/rollouts/{_seg(rollout_id)}/{action}", body).body
