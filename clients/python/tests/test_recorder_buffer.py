"""The recorder's buffer rules and retries, with the sending function injected (no network)."""
import threading
import time
import unittest

from arena_client import Arena, BufferFull, ConfigurationError, Recorder, Router, Unavailable, BadRequest


def record(i):
    return {"requestId": f"r{i}", "model": "m", "version": "1.0.0", "prediction": i}


class Gate:
    """A sender that holds every batch until released, answering all accepted."""

    def __init__(self):
        self.released = threading.Event()
        self.batches = []

    def __call__(self, kind, batch):
        self.released.wait(10)
        self.batches.append((kind, list(batch)))
        return {"accepted": len(batch), "duplicates": 0, "rejected": []}


class BufferPolicies(unittest.TestCase):
    def test_drop_counts_what_it_drops(self):
        gate = Gate()
        r = Recorder(sender=gate, max_buffer=5, batch_size=5, flush_interval=0.05, on_full="drop")
        for i in range(30):
            r.record_prediction(record(i))
        gate.released.set()
        self.assertTrue(r.flush(5))
        s = r.stats()
        self.assertGreater(s["dropped"], 0)
        self.assertEqual(s["accepted"] + s["dropped"], 30)
        r.close()

    def test_raise_refuses_at_once(self):
        gate = Gate()
        r = Recorder(sender=gate, max_buffer=3, batch_size=100, flush_interval=10, on_full="raise")
        for i in range(3):
            r.record_prediction(record(i))
        with self.assertRaises(BufferFull):
            r.record_prediction(record(3))
        gate.released.set()
        r.close()

    def test_block_waits_for_room_then_gives_up_with_buffer_full(self):
        gate = Gate()
        r = Recorder(sender=gate, max_buffer=2, batch_size=100, flush_interval=10, on_full="block", block_timeout=0.3)
        r.record_prediction(record(0))
        r.record_prediction(record(1))
        started = time.monotonic()
        with self.assertRaises(BufferFull):
            r.record_prediction(record(2))
        self.assertGreaterEqual(time.monotonic() - started, 0.25)
        gate.released.set()
        r.close()

    def test_batches_keep_kinds_apart_and_order(self):
        sent = []
        r = Recorder(sender=lambda k, b: sent.append((k, [x.get("requestId") for x in b])) or {"accepted": len(b)},
                     batch_size=3, flush_interval=0.02)
        r.record_prediction(record(1))
        r.record_feedback({"model": "m", "requestId": "r1", "actual": 2})
        r.record_prediction(record(2))
        self.assertTrue(r.flush(5))
        r.close()
        self.assertEqual(sorted(sent), [("feedback", ["r1"]), ("predictions", ["r1", "r2"])])


class Retries(unittest.TestCase):
    def test_transient_failures_are_retried_and_batch_errors_reported(self):
        calls = {"n": 0}

        def flaky(kind, batch):
            calls["n"] += 1
            if calls["n"] < 3:
                raise Unavailable(503, "database unavailable")
            return {"accepted": len(batch), "duplicates": 0, "rejected": [{"index": 0, "field": "latencyMs", "reason": "must be ≥ 0"}]}

        rejected = []
        r = Recorder(sender=flaky, flush_interval=0.01, on_rejected=lambda k, rec, rej: rejected.append((rec["requestId"], rej["field"])))
        r.record_prediction(record(1))
        self.assertTrue(r.flush(10))
        r.close()
        self.assertEqual(r.stats()["retries"], 2)
        self.assertEqual(rejected, [("r1", "latencyMs")])

        failed = []

        def refuses(kind, batch):
            raise BadRequest(400, "body must be a JSON array of records")

        r2 = Recorder(sender=refuses, flush_interval=0.01, on_failed=lambda k, b, e: failed.append((len(b), e.status)))
        r2.record_prediction(record(1))
        self.assertTrue(r2.flush(5))
        r2.close()
        self.assertEqual(failed, [(1, 400)])
        self.assertEqual(r2.stats()["failed_records"], 1)


class Configuration(unittest.TestCase):
    def test_each_client_names_what_is_missing(self):
        import os

        saved = {k: os.environ.pop(k, None) for k in ("ARENA_URL", "ARENA_TOKEN")}
        try:
            with self.assertRaisesRegex(ConfigurationError, r"base_url \(or ARENA_URL\) and token \(or ARENA_TOKEN\)"):
                Arena()
            with self.assertRaisesRegex(ConfigurationError, r"needs token \(or ARENA_TOKEN\)"):
                Router(base_url="http://127.0.0.1:9")
            with self.assertRaisesRegex(ConfigurationError, r"needs base_url \(or ARENA_URL\):"):
                Recorder(token="t" * 20)
        finally:
            for k, v in saved.items():
                if v is not None:
                    os.environ[k] = v

    def test_unknown_full_policy_is_refused(self):
        with self.assertRaisesRegex(ValueError, "on_full='spill'"):
            Recorder(sender=lambda k, b: {}, on_full="spill")


if __name__ == "__main__":
    unittest.main()
