"""Against a real gateway, which test/e2e/python-client.test.ts starts (with `npm test`).

ARENA_TEST_URL, ARENA_TEST_TOKEN (roles ingest, registrar, operator) and ARENA_TEST_MODEL (champion 1.0.0,
challenger 1.1.0 in canary) are set by that harness; ARENA_TEST_CONTROL_URL stops and starts the gateway.
"""
import json
import os
import time
import unittest
import urllib.request

from arena_client import Arena, Conflict, NotFound, Recorder, Router, Unauthorized

URL = os.environ.get("ARENA_TEST_URL")
TOKEN = os.environ.get("ARENA_TEST_TOKEN")
MODEL = os.environ.get("ARENA_TEST_MODEL", "")
CONTROL = os.environ.get("ARENA_TEST_CONTROL_URL")
MISSING = ", ".join(n for n, v in (("ARENA_TEST_URL", URL), ("ARENA_TEST_TOKEN", TOKEN), ("ARENA_TEST_MODEL", MODEL)) if not v)
needs_gateway = unittest.skipUnless(not MISSING, f"no gateway to test against: {MISSING} not set")


def control(action):
    req = urllib.request.Request(f"{CONTROL}/gateway/{action}", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=60) as res:
        assert res.status == 200


def server_route(request_id):
    req = urllib.request.Request(
        f"{URL}/v1/route",
        data=json.dumps({"model": MODEL, "requestId": request_id}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def prediction(i, tag, **extra):
    return {"requestId": f"{tag}-{i}", "model": MODEL, "version": "1.0.0", "prediction": float(i), "latencyMs": 5, **extra}


@needs_gateway
class RouterAgainstGateway(unittest.TestCase):
    def test_local_decisions_equal_the_gateways(self):
        with Router(URL, TOKEN, models=[MODEL], refresh_seconds=60) as router:
            for i in range(2000):
                local = router.route(MODEL, f"req-{i}")
                remote = server_route(f"req-{i}")
                self.assertEqual((local.serve, local.bucket, local.via, list(local.shadow)),
                                 (remote["serve"], remote["bucket"], remote["via"], remote["shadow"]), i)

    def test_revalidation_answers_304_and_is_counted(self):
        with Router(URL, TOKEN, models=[MODEL], refresh_seconds=60) as router:
            router.refresh()
            router.refresh()
            s = router.stats()
            self.assertEqual(s["requests"], 3)
            self.assertEqual(s["not_modified"], 2)

    @unittest.skipUnless(CONTROL, "ARENA_TEST_CONTROL_URL not set: cannot stop the gateway")
    def test_keeps_routing_from_its_cache_while_the_gateway_restarts(self):
        with Router(URL, TOKEN, models=[MODEL], refresh_seconds=0.2) as router:
            before = [router.route(MODEL, f"u-{i}") for i in range(100)]
            control("stop")
            try:
                time.sleep(1.0)
                during = [router.route(MODEL, f"u-{i}") for i in range(100)]
                self.assertEqual(during, before)
                self.assertGreater(router.stats()["errors"], 0)
                self.assertIn("cannot reach the gateway", str(router.stats()["last_error"]))
            finally:
                control("start")
            errors = router.stats()["errors"]
            time.sleep(1.0)
            self.assertEqual(router.stats()["errors"], errors)  # refreshing again, without errors
            self.assertGreater(router.stats()["not_modified"], 0)


@needs_gateway
class RecorderAgainstGateway(unittest.TestCase):
    def test_thousands_accepted_then_bad_records_reported_one_by_one_and_repeats_counted_once(self):
        tag = f"py-{time.time_ns()}"
        rejected = []
        with Recorder(URL, TOKEN, batch_size=500, flush_interval=0.05,
                      on_rejected=lambda kind, rec, rej: rejected.append((rej["field"], rej["reason"]))) as rec:
            for i in range(5000):
                rec.record_prediction(prediction(i, tag))
            self.assertTrue(rec.flush(60))
            self.assertEqual(rec.stats()["accepted"], 5000)
            rec.record_prediction(prediction(1, f"{tag}-bad", latencyMs=-1))
            rec.record_prediction({"model": MODEL, "version": "1.0.0", "prediction": 1})
            rec.record_prediction(prediction(2, f"{tag}-bad", colour="red"))
            rec.record_prediction(prediction(3, f"{tag}-bad"))
            for i in range(10):  # already stored: duplicates, accepted once
                rec.record_prediction(prediction(i, tag))
            self.assertTrue(rec.flush(30))
            s = rec.stats()
        fields = dict(rejected)
        self.assertEqual(sorted(fields), ["(record)", "latencyMs", "requestId"])
        self.assertIn("colour", fields["(record)"])  # an unknown field is named in the reason
        self.assertEqual(s["rejected"], 3)
        self.assertEqual(s["duplicates"], 10)
        self.assertEqual(s["accepted"], 5000 + 1 + 10)

    @unittest.skipUnless(CONTROL, "ARENA_TEST_CONTROL_URL not set: cannot stop the gateway")
    def test_buffers_and_retries_while_the_gateway_is_down_then_stores_each_record_once(self):
        tag = f"py-down-{time.time_ns()}"
        rec = Recorder(URL, TOKEN, batch_size=100, flush_interval=0.05)
        control("stop")
        try:
            for i in range(300):
                rec.record_prediction(prediction(i, tag))
            time.sleep(1.5)
            self.assertGreater(rec.stats()["retries"], 0)
            self.assertEqual(rec.stats()["accepted"], 0)
        finally:
            control("start")
        self.assertTrue(rec.flush(60))
        s = rec.stats()
        rec.close()
        self.assertEqual(s["accepted"], 300)
        self.assertEqual(s["failed_records"], 0)


@needs_gateway
class ArenaAgainstGateway(unittest.TestCase):
    def test_register_is_idempotent_and_a_different_digest_conflicts(self):
        arena = Arena(URL, TOKEN)
        version = f"3.{time.time_ns() % 100000}.0"
        digest = "c" * 64
        first = arena.register_version(MODEL, version, artifactDigest=digest, metrics={"mae": 1.0})
        self.assertEqual(first["version"], version)
        self.assertEqual(arena.register_version(MODEL, version, artifactDigest=digest, metrics={"mae": 1.0})["version"], version)
        with self.assertRaises(Conflict) as caught:
            arena.register_version(MODEL, version, artifactDigest="d" * 64, metrics={"mae": 1.0})
        self.assertEqual(caught.exception.status, 409)
        self.assertIn("different", caught.exception.message)
        self.assertIn("new version", caught.exception.hint or "")
        shown = arena.version(MODEL, version)
        self.assertEqual((shown["artifactDigest"], shown["metrics"]), (digest, {"mae": 1.0}))
        self.assertIn(version, [v["version"] for v in arena.model(MODEL)["versions"]])

    def test_unknown_things_and_bad_tokens_raise_with_the_servers_words(self):
        with self.assertRaises(NotFound):
            Arena(URL, TOKEN).routing("no-such-model-anywhere")
        with self.assertRaises(Unauthorized) as caught:
            Arena(URL, "not-a-token-at-all-0000").routing(MODEL)
        self.assertIn("bearer token", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
