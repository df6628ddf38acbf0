"""The routing contract of DESIGN.md §4, bit for bit the TypeScript router's (src/routing/table.ts).

bucket = first 8 bytes of SHA-256(UTF-8 "model:salt:unit") as an unsigned big-endian integer, mod 10000.
A matching segment override serves first; otherwise the challenger serves in canary mode when
bucket < weightBp; shadow versions are called as well and their answers discarded.
"""
import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

BUCKETS = 10_000


def bucket_of_key(key: str) -> int:
    """The bucket of a key that is already "model:salt:unit"."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def bucket(model: str, salt: str, unit: str) -> int:
    return bucket_of_key(f"{model}:{salt}:{unit}")


@dataclass(frozen=True)
class SegmentOverride:
    key: str
    value: str
    version: str


@dataclass(frozen=True)
class RoutingEntry:
    model: str
    champion: Optional[str]
    challenger: Optional[str]
    mode: str
    weight_bp: int
    shadow: Tuple[str, ...]
    segment_overrides: Tuple[SegmentOverride, ...]
    salt: str
    generation: int
    tenant_id: str = "default"
    prefix: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The "model:salt:" part is fixed per entry; decisions concatenate only the unit.
        object.__setattr__(self, "prefix", f"{self.model}:{self.salt}:")

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "RoutingEntry":
        return RoutingEntry(
            model=str(data["model"]),
            champion=data.get("champion"),
            challenger=data.get("challenger"),
            mode=str(data.get("mode", "off")),
            weight_bp=int(data.get("weightBp", 0)),
            shadow=tuple(data.get("shadow") or ()),
            segment_overrides=tuple(
                SegmentOverride(str(o["key"]), str(o["value"]), str(o["version"])) for o in data.get("segmentOverrides") or ()
            ),
            salt=str(data.get("salt", "")),
            generation=int(data["generation"]),
            tenant_id=str(data.get("tenantId", "default")),
        )


@dataclass(frozen=True)
class Decision:
    serve: str
    shadow: Tuple[str, ...]
    bucket: int
    generation: int
    via: str  # "champion", "challenger" or "segment"


class NoChampion(LookupError):
    """The model has no champion to serve."""


def decide(
    entry: RoutingEntry,
    request_id: str,
    unit: Optional[str] = None,
    segments: Optional[Mapping[str, str]] = None,
) -> Decision:
    if not entry.champion:
        raise NoChampion(f'model "{entry.model}" has no champion to serve; set one (arena model champion)')
    b = bucket_of_key(entry.prefix + (unit if unit is not None else request_id))
    serve, via = entry.champion, "champion"
    override = _match(entry.segment_overrides, segments) if segments else None
    if override is not None:
        serve, via = override.version, "segment"
    elif entry.mode == "canary" and entry.challenger and b < entry.weight_bp:
        serve, via = entry.challenger, "challenger"
    shadow: List[str] = []
    if entry.mode == "shadow" and entry.challenger and entry.challenger != serve:
        shadow.append(entry.challenger)
    for version in entry.shadow:
        if version != serve and version not in shadow:
            shadow.append(version)
    return Decision(serve, tuple(shadow), b, entry.generation, via)


def _match(overrides: Tuple[SegmentOverride, ...], segments: Mapping[str, str]) -> Optional[SegmentOverride]:
    for o in overrides:
        if segments.get(o.key) == o.value:
            return o
    return None


def decision_json(d: Decision) -> Dict[str, Any]:
    return {"serve": d.serve, "shadow": list(d.shadow), "bucket": d.bucket, "generation": d.generation, "via": d.via}
