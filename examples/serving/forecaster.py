"""The example weather forecaster (examples/weather-model) in Python: load an artifact, forecast one day.

Bit for bit the TypeScript `forecast` of examples/weather-model/model.ts: the same features (the calendar's
first two harmonics, and for `seasonal+lags` yesterday's and the day before's weather), standardised with
the artifact's means and scales, then a linear combination.
"""
import datetime
import hashlib
import json
import math
import os
import urllib.parse
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

ARTIFACT_KIND = "arena.example.weather-forecast"

# What a forecast for day D needs to know from the days before it, by input name.
LAG_INPUTS = ("temp_max_1", "temp_min_1", "precipitation_1", "wind_1", "temp_max_2")


class ArtifactError(ValueError):
    """An artifact that cannot be served: unreadable, not matching its digest, or not this model's format."""


class InputError(ValueError):
    """A request the model cannot answer; the message names the field and the value."""


@dataclass(frozen=True)
class Forecaster:
    version: str
    feature_set: str
    features: Tuple[str, ...]
    means: Tuple[float, ...]
    scales: Tuple[float, ...]
    intercept: float
    coefficients: Tuple[float, ...]

    @staticmethod
    def from_artifact(data: Mapping[str, Any], source: str) -> "Forecaster":
        if data.get("kind") != ARTIFACT_KIND or data.get("formatVersion") != 1:
            raise ArtifactError(f"{source}: not a weather forecast artifact (kind={data.get('kind')!r}, formatVersion={data.get('formatVersion')!r})")
        try:
            features = tuple(str(f) for f in data["features"])
            parts = [tuple(float(x) for x in data[k]) for k in ("means", "scales", "coefficients")]
            intercept = float(data["intercept"])
        except (KeyError, TypeError, ValueError) as err:
            raise ArtifactError(f"{source}: malformed artifact ({err!r})") from err
        if any(len(p) != len(features) for p in parts):
            raise ArtifactError(f"{source}: means, scales and coefficients must have one entry per feature")
        return Forecaster(str(data.get("version")), str(data.get("featureSet")), features, parts[0], parts[1], intercept, parts[2])

    def forecast(self, date: str, inputs: Mapping[str, Any]) -> float:
        x = feature_vector(date, inputs, needs_lags=self.feature_set != "seasonal")
        y = self.intercept
        for k, name in enumerate(self.features):
            y += self.coefficients[k] * (x[name] - self.means[k]) / self.scales[k]
        return y


def day_of_year(date: str) -> int:
    try:
        return datetime.date.fromisoformat(date).timetuple().tm_yday
    except (TypeError, ValueError):
        raise InputError(f"date={date!r}: must be a real date YYYY-MM-DD") from None


def feature_vector(date: str, inputs: Mapping[str, Any], needs_lags: bool) -> Dict[str, float]:
    w = 2 * math.pi * day_of_year(date) / 365.25
    x = {"sin1": math.sin(w), "cos1": math.cos(w), "sin2": math.sin(2 * w), "cos2": math.cos(2 * w)}
    if needs_lags:
        for name in LAG_INPUTS:
            value = inputs.get(name)
            # bool is an int in Python; a forecast from True would be nonsense.
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(f"{name}={value!r}: must be a finite number")
            x[name] = float(value)
    return x


def load_artifact(uri: str, digest: Optional[str], store_dir: Optional[str] = None) -> Forecaster:
    """Reads an artifact by its registered URI and refuses bytes that do not hash to the registered digest.

    file:///path reads a file; arena-artifact://sha256/<digest> reads Arena's local content-addressed store
    (`store_dir`, laid out as <dir>/sha256/<first two hex digits>/<digest>).
    """
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "file":
        path = urllib.parse.unquote(parsed.path)
    elif parsed.scheme == "arena-artifact" and parsed.netloc == "sha256":
        if not store_dir:
            raise ArtifactError(f"{uri}: an arena-artifact URI needs the store directory (--artifact-store)")
        name = parsed.path.lstrip("/")
        path = os.path.join(store_dir, "sha256", name[:2], name)
    else:
        raise ArtifactError(f"{uri}: this example serves file:// and arena-artifact:// URIs only")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as err:
        raise ArtifactError(f"{uri}: cannot read {path} ({err.strerror})") from err
    if digest:
        actual = hashlib.sha256(raw).hexdigest()
        expected = digest[len("sha256:"):] if digest.startswith("sha256:") else digest
        if actual != expected:
            raise ArtifactError(f"{uri}: sha256 {actual} does not match the registered {expected}; refusing to serve it")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ArtifactError(f"{uri}: not JSON ({err})") from err
    if not isinstance(data, dict):
        raise ArtifactError(f"{uri}: not a JSON object")
    return Forecaster.from_artifact(data, uri)
