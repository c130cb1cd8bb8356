"""The model directory: what ships, and the check that it is what was shipped.

A directory holds ``model.txt`` (LightGBM's native text; absent for a rules-only bundle),
``metadata.json`` (feature names and order, category codes, feature-set version,
calibration, review bands, reason templates, training-data fingerprint, metrics,
parameters, seed, kind) and ``checksums.json`` (sha256 of every other file). Nothing is
pickled: reading a bundle runs no code from it.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from ..features.errors import BundleError, FeatureSetMismatch
from ..features.registry import FEATURE_SET_VERSION
from ._lightgbm import lightgbm

MODEL_FILE = "model.txt"
METADATA_FILE = "metadata.json"
CHECKSUMS_FILE = "checksums.json"
FORMAT_VERSION = 1
KINDS = ("model", "rules")
Kind = Literal["model", "rules"]


@dataclass
class Bundle:
    """A verified model directory: its metadata and, for kind "model", the booster."""

    path: Path
    metadata: dict[str, Any]
    booster: Any = None

    @property
    def kind(self) -> Kind:
        return cast(Kind, str(self.metadata["kind"]))  # one of KINDS: checked on reading

    @property
    def features(self) -> list[str]:
        return list(self.metadata["features"])

    @property
    def prior(self) -> Any:
        """The model's rule prior (:class:`~.prior.RulePrior`), or None."""
        from .prior import RulePrior

        return RulePrior.from_json(self.metadata.get("prior"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plain(value: Any) -> Any:
    """JSON-safe copy: numpy scalars and arrays to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):
        return plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_bundle(directory: str | Path, metadata: dict[str, Any],
                 model_text: str | None = None) -> Path:
    """Write a model directory (replacing one already there) and return its path."""
    kind = metadata.get("kind")
    if kind not in KINDS:
        raise BundleError(f"bundle kind must be one of {KINDS}, not {kind!r}")
    if (kind == "model") != (model_text is not None):
        raise BundleError("a 'model' bundle needs model text and a 'rules' bundle has none")
    path = Path(directory)
    if path.exists():
        if not path.is_dir():
            raise BundleError(f"{path} exists and is not a directory; choose another "
                              "--model-dir")
        for name in (MODEL_FILE, METADATA_FILE, CHECKSUMS_FILE):
            (path / name).unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    metadata = plain({**metadata, "format_version": FORMAT_VERSION})
    files = []
    if model_text is not None:
        (path / MODEL_FILE).write_text(model_text, encoding="utf-8")
        files.append(MODEL_FILE)
    (path / METADATA_FILE).write_text(
        json.dumps(metadata, indent=1, sort_keys=True, allow_nan=False) + "\n",
        encoding="utf-8")
    files.append(METADATA_FILE)
    checksums = {name: _sha256(path / name) for name in files}
    (path / CHECKSUMS_FILE).write_text(
        json.dumps({"algorithm": "sha256", "files": checksums}, indent=1, sort_keys=True)
        + "\n", encoding="utf-8")
    return path


def verify_bundle(directory: str | Path) -> dict[str, str]:
    """Check every listed file's sha256; return the listing. Raises :class:`BundleError`."""
    path = Path(directory)
    listing_path = path / CHECKSUMS_FILE
    if not listing_path.is_file():
        raise BundleError(f"{path} is not a model directory: {CHECKSUMS_FILE} is missing; "
                          "point at a directory written by `accountrisk train`")
    try:
        files = json.loads(listing_path.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError):
        raise BundleError(f"{listing_path} is not a valid checksum list; the model "
                          "directory is damaged: retrain or restore it") from None
    if METADATA_FILE not in files:
        raise BundleError(f"{listing_path} does not list {METADATA_FILE}; the model "
                          "directory is damaged: retrain or restore it")
    for name, expected in sorted(files.items()):
        file = path / name
        if not file.is_file():
            raise BundleError(f"{file} is missing from the model directory; retrain or "
                              "restore the directory")
        if _sha256(file) != expected:
            raise BundleError(f"{file} was changed after the model was written (sha256 "
                              "differs from checksums.json); do not edit model directories, "
                              "retrain or restore it")
    return dict(files)


def read_bundle(directory: str | Path, *, check_feature_set: bool = True) -> Bundle:
    """Verify and load a model directory (LightGBM is imported only for kind "model").

    Raises :class:`BundleError` on a missing or changed file and
    :class:`FeatureSetMismatch` when the bundle was trained on another feature set.
    """
    path = Path(directory)
    files = verify_bundle(path)
    metadata = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
    kind = metadata.get("kind")
    if kind not in KINDS:
        raise BundleError(f"{path} has unknown kind {kind!r}; expected one of {KINDS}")
    version = str(metadata.get("feature_set_version"))
    if check_feature_set and version != FEATURE_SET_VERSION:
        raise FeatureSetMismatch(
            f"{path} was trained on feature-set version {version} but this installation "
            f"computes version {FEATURE_SET_VERSION}; retrain the model with "
            "`accountrisk train`, or install the accountrisk version it was trained with")
    booster = None
    if kind == "model":
        if MODEL_FILE not in files:
            raise BundleError(f"{path} is a 'model' bundle without {MODEL_FILE} in its "
                              "checksums; the directory is damaged: retrain it")
        lgb = lightgbm()

        booster = lgb.Booster(model_str=(path / MODEL_FILE).read_text(encoding="utf-8"))
        if booster.feature_name() != metadata["features"]:
            raise BundleError(f"{path}: {MODEL_FILE} and {METADATA_FILE} disagree on the "
                              "feature order; the directory is damaged: retrain it")
    return Bundle(path=path, metadata=metadata, booster=booster)


def copy_bundle(source: str | Path, target: str | Path) -> Path:
    """Copy a verified model directory (only its listed files) to ``target``."""
    files = verify_bundle(source)
    target_path = Path(target)
    target_path.mkdir(parents=True, exist_ok=True)
    for name in [*files, CHECKSUMS_FILE]:
        shutil.copyfile(Path(source) / name, target_path / name)
    return target_path
