"""Arena's Python client: local routing from a cached table, batched recording, the rollout lifecycle."""
from .arena import FINAL_STATES, Arena
from .errors import (
    ArenaError,
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    Unavailable,
)
from .recorder import BufferFull, Recorder
from .router import Router
from .routing import Decision, NoChampion, RoutingEntry, bucket, decide

__all__ = [
    "Arena",
    "ArenaError",
    "BadRequest",
    "BufferFull",
    "ConfigurationError",
    "Conflict",
    "Decision",
    "FINAL_STATES",
    "Forbidden",
    "NoChampion",
    "NotFound",
    "Recorder",
    "Router",
    "RoutingEntry",
    "Unauthorized",
    "Unavailable",
    "bucket",
    "decide",
]
