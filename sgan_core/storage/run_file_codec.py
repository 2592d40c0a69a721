"""Snapshots and timeline moments to JSON plus named arrays, and back (the run file's
inside; sgan_core/storage/run_file.py holds the file itself). Numpy only, no torch, no pickle.

Every array goes into one `ArrayStore` under a path-like name; the JSON refers to it as
{"array": name, "dtype": original dtype}. An array several parts share (the test
subset's images, one array for every moment) is stored once. Integer arrays are stored
in the smallest integer type that holds them (lossless); floats as they are, or with
`half` (the history aside) as float16: probabilities and map coordinates lose nothing a
chart shows. Reading gives every array back in its original dtype, read-only.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

import numpy as np

from sgan_core.config import TrainConfig
from sgan_core.snapshot import (CellMembers, ErrorKind, Features, Inspection, RunStatus,
                                Samples, Snapshot, StartStage, frozen_array)
from sgan_core.runs.timeline import Moment

PARTS = {cls.__name__: cls for cls in (Samples, Inspection, CellMembers, Features)}
ALLOWED_KINDS = "biuf"  # numeric dtypes only: a file cannot ask for object arrays
SPECIAL = ("config", "history", "run_status", "error_kind",  # snapshot fields with codecs
           "start_stage")


class CodecError(ValueError):
    """The JSON or the arrays do not describe a run; the message says what is wrong."""


class ArrayStore:
    """Named arrays on their way into (or out of) an .npz; shared arrays stored once."""

    def __init__(self, half: bool = False, arrays: Optional[Mapping[str, np.ndarray]] = None):
        self.half = half
        self.arrays: dict[str, np.ndarray] = dict(arrays or {})
        # id(array) -> (its name, the array): holding the array keeps its id from being
        # reused by another one while the store lives.
        self._names: dict[int, tuple[str, np.ndarray]] = {}
        self._loaded: dict[tuple[str, str], np.ndarray] = {}  # shared again when read

    def put(self, array: np.ndarray, name: str, exact: bool = False) -> dict:
        if id(array) not in self._names:
            self.arrays[name] = array if exact else _compact(array, self.half)
            self._names[id(array)] = (name, array)
        return {"array": self._names[id(array)][0], "dtype": str(array.dtype)}

    def get(self, ref: Any) -> np.ndarray:
        if not isinstance(ref, dict) or ref.get("array") not in self.arrays:
            raise CodecError(f"an array it refers to is missing ({_short(ref)})")
        dtype = np.dtype(str(ref.get("dtype")))
        if dtype.kind not in ALLOWED_KINDS:
            raise CodecError(f"an array has the type {dtype}, which no run holds")
        key = (ref["array"], dtype.str)
        if key not in self._loaded:
            self._loaded[key] = frozen_array(self.arrays[ref["array"]], dtype)
        return self._loaded[key]


def _compact(array: np.ndarray, half: bool) -> np.ndarray:
    if array.dtype.kind in "iu" and array.dtype != np.uint8 and array.size:
        for small in (np.int8, np.int16, np.int32):
            info = np.iinfo(small)
            if info.min <= array.min() and array.max() <= info.max:
                return array.astype(small)
    if half and array.dtype.kind == "f":
        return array.astype(np.float16)
    return array


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


# --- parts (Samples, Inspection, CellMembers, Features) -------------------------------

def pack_part(part: Any, prefix: str, store: ArrayStore) -> Optional[dict]:
    if part is None:
        return None
    fields = {}
    for field in dataclasses.fields(part):
        value = getattr(part, field.name)
        fields[field.name] = (store.put(value, f"{prefix}/{field.name}")
                              if isinstance(value, np.ndarray) else value)
    return {"type": type(part).__name__, "fields": fields}


def unpack_part(packed: Any, store: ArrayStore) -> Any:
    if packed is None:
        return None
    cls = PARTS.get(packed.get("type")) if isinstance(packed, dict) else None
    if cls is None or not isinstance(packed.get("fields"), dict):
        raise CodecError(f"a part of unknown type ({_short(packed)})")
    values = {name: store.get(value) if isinstance(value, dict) else value
              for name, value in packed["fields"].items()}
    return cls(**values)


# --- snapshots and moments ------------------------------------------------------------

def pack_snapshot(snapshot: Snapshot, store: ArrayStore) -> dict:
    """Every Snapshot field but the config (the file keeps it in config.json)."""
    packed: dict[str, Any] = {
        "run_status": RunStatus(snapshot.run_status).value,
        "error_kind": (None if snapshot.error_kind is None
                       else ErrorKind(snapshot.error_kind).value),
        "start_stage": StartStage(snapshot.start_stage).value,
        "history": {name: store.put(values, f"history/{name}", exact=True)
                    for name, values in snapshot.history.items()}}
    for field in dataclasses.fields(Snapshot):
        if field.name not in SPECIAL:
            packed[field.name] = _pack_value(getattr(snapshot, field.name),
                                             f"latest/{field.name}", store)
    return packed


def unpack_snapshot(packed: dict, cfg: TrainConfig, store: ArrayStore) -> Snapshot:
    from types import MappingProxyType

    values = {name: _unpack_value(value, store) for name, value in packed.items()
              if name not in SPECIAL}
    values["class_names"] = tuple(str(name) for name in values.get("class_names", ()))
    values["history"] = MappingProxyType({str(name): store.get(ref) for name, ref
                                          in dict(packed.get("history", {})).items()})
    kind = packed.get("error_kind")
    # Files written before start-up stages were recorded hold runs past it: READY.
    stage = StartStage(packed.get("start_stage", StartStage.READY.value))
    return Snapshot(config=cfg, run_status=RunStatus(packed["run_status"]),
                    error_kind=None if kind is None else ErrorKind(kind), start_stage=stage,
                    **values)


def pack_moment(moment: Moment, index: int, store: ArrayStore) -> dict:
    return {field.name: _pack_value(getattr(moment, field.name),
                                    f"moments/{index}/{field.name}", store)
            for field in dataclasses.fields(Moment)}


def unpack_moment(packed: dict, store: ArrayStore) -> Moment:
    return Moment(**{name: _unpack_value(value, store) for name, value in packed.items()})


def _pack_value(value: Any, name: str, store: ArrayStore) -> Any:
    if isinstance(value, np.ndarray):
        return {"array_field": store.put(value, name)}
    if type(value).__name__ in PARTS:
        return pack_part(value, name, store)
    if isinstance(value, tuple):
        return list(value)
    return value


def _unpack_value(value: Any, store: ArrayStore) -> Any:
    if isinstance(value, dict) and "array_field" in value:
        return store.get(value["array_field"])
    if isinstance(value, dict):
        return unpack_part(value, store)
    return value


def check_consistent(snapshot: Snapshot, moments: tuple[Moment, ...]) -> None:
    """What the panels rely on: an (N+1)-square confusion matrix per moment for the
    dataset's N classes, moments in order; CodecError naming what is wrong."""
    from sgan_core.data.datasets import DATASETS

    size = len(snapshot.class_names) + 1
    problems = ([f"{size - 1} class names for {snapshot.config.dataset}"]
                if size - 1 != DATASETS[snapshot.config.dataset].num_classes else [])
    for shown in (snapshot, *moments):
        if shown.confusion is None or shown.confusion.shape != (size, size):
            problems.append(f"a confusion matrix at step {shown.step} is not {size}x{size}")
    versions = [moment.evaluation_version for moment in moments]
    if versions != sorted(set(versions)):
        problems.append("its timeline moments are out of order")
    if problems:
        raise CodecError("; ".join(problems[:3]))
