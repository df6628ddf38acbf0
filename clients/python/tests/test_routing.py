"""The routing contract against vectors computed independently (test/fixtures/routing-buckets.json)."""
import hashlib
import json
import os
import random
import unittest
from pathlib import Path

from arena_client import NoChampion, RoutingEntry, bucket, decide

VECTORS = Path(os.environ.get("ARENA_ROUTING_VECTORS") or Path(__file__).parents[3] / "test/fixtures/routing-buckets.json")


def entry(**kw):
    base = {"model": "m", "champion": "1.0.0", "challenger": "2.0.0", "mode": "canary", "weightBp": 2500,
            "shadow": [], "segmentOverrides": [], "salt": "s", "generation": 7}
    base.update(kw)
    return RoutingEntry.from_json(base)


class BucketVectors(unittest.TestCase):
    def test_every_vector(self):
        cases = json.loads(VECTORS.read_text("utf-8"))["cases"]
        self.assertGreater(len(cases), 10)
        for c in cases:
            key = f"{c['model']}:{c['salt']}:{c['unit']}"
            self.assertEqual(len(key.encode("utf-8")), c["utf8_bytes"], key)
            self.assertEqual(hashlib.sha256(key.encode("utf-8")).hexdigest(), c["sha256"], key)
            self.assertEqual(bucket(c["model"], c["salt"], c["unit"]), c["bucket"], key)

    def test_random_unicode_against_a_plain_reading_of_the_contract(self):
        rng = random.Random(7)
        alphabet = "abcXYZ019:-_ éß€中文😀\U0001F9EA"
        for _ in range(3000):
            parts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3)]
            digest = hashlib.sha256(":".join(parts).encode("utf-8")).digest()
            expected = sum(byte << (8 * (7 - i)) for i, byte in enumerate(digest[:8])) % 10_000
            self.assertEqual(bucket(*parts), expected)


class Decisions(unittest.TestCase):
    def test_canary_serves_the_challenger_exactly_below_the_weight(self):
        e = entry()
        for i in range(2000):
            d = decide(e, f"req-{i}")
            self.assertEqual(d.serve, "2.0.0" if d.bucket < 2500 else "1.0.0")
            self.assertEqual(d.via, "challenger" if d.bucket < 2500 else "champion")
            self.assertEqual(d.generation, 7)

    def test_unit_not_request_id_is_bucketed(self):
        e = entry()
        self.assertEqual(decide(e, "a", unit="user-1").bucket, decide(e, "b", unit="user-1").bucket)
        self.assertEqual(decide(e, "user-1").bucket, bucket("m", "s", "user-1"))

    def test_shadow_mode_and_extra_shadow_versions_without_repeats(self):
        e = entry(mode="shadow", shadow=["3.0.0", "2.0.0", "1.0.0", "3.0.0"])
        d = decide(e, "r")
        self.assertEqual(d.serve, "1.0.0")
        self.assertEqual(d.shadow, ("2.0.0", "3.0.0"))

    def test_first_matching_segment_override_wins(self):
        e = entry(weightBp=10_000, segmentOverrides=[{"key": "store", "value": "42", "version": "1.5.0"},
                                                      {"key": "store", "value": "42", "version": "9.9.9"}])
        self.assertEqual(decide(e, "r", segments={"store": "42"}).serve, "1.5.0")
        self.assertEqual(decide(e, "r", segments={"store": "42"}).via, "segment")
        self.assertEqual(decide(e, "r", segments={"store": "7"}).serve, "2.0.0")

    def test_off_mode_serves_the_champion(self):
        self.assertEqual(decide(entry(mode="off", weightBp=10_000), "r").serve, "1.0.0")

    def test_no_champion_is_an_error_naming_the_model(self):
        with self.assertRaisesRegex(NoChampion, '"m" has no champion'):
            decide(entry(champion=None), "r")


if __name__ == "__main__":
    unittest.main()
