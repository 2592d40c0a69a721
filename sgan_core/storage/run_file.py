"""A whole run in one file, to take home and open again: the `.sganrun` format.

A run file is a zip of JSON and numpy arrays, never a pickle, so opening one cannot run
code:

  sgan-run.json   what it is: format name and version, when and how it was made (the
                  CLI's command), what it holds
  config.json     the run's TrainConfig
  run.json        the last snapshot (status, figures, progress) and the kept timeline
                  moments, their arrays referred to by name (sgan_core/storage/run_file_codec.py)
  arrays.npz      those arrays (history, sample grids with verdicts, confusion matrices
                  and cells, inspector galleries, map coordinates), read with
                  allow_pickle=False
  weights.npz     the live discriminator's weights (what the page needs to give
                  verdicts on uploads and drawings), float16 with `half`

Reading checks the size before reading anything, then that it is a zip with our
manifest, the format version, the unpacked size (a zip bomb stops there), and that the
contents build a valid config, snapshot and moments. Every refusal is a RunFileError
with a `RunFileProblem` for code and a message saying what to do.
"""
from __future__ import annotations

import dataclasses
import datetime
import enum
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Mapping, Optional, Sequence, Union

import numpy as np

from sgan_core.config import ConfigError, TrainConfig
from sgan_core.storage.run_file_codec import (ArrayStore, CodecError, check_consistent, pack_moment,
                                 pack_snapshot, unpack_moment, unpack_snapshot)
from sgan_core.snapshot import Snapshot
from sgan_core.runs.timeline import DEFAULT_CAPACITY, Moment, thin_fakes
from sgan_core.storage import files

FORMAT_NAME = "sgan-studio-run"
FORMAT_VERSION = 1
SUFFIX = ".sganrun"
MANIFEST = "sgan-run.json"
MAX_FILE_BYTES = 50 * 2**20  # what the page accepts (its upload cap, config.toml)
MAX_UNPACKED_BYTES = 512 * 2**20  # the page's 120-moment MNIST download: about 40 MB
Source = Union[str, Path, bytes, IO[bytes]]


class RunFileProblem(str, enum.Enum):
    TOO_LARGE = "too_large"
    NOT_A_RUN_FILE = "not_a_run_file"
    PICKLE = "pickle"  # a pickle, or a torch checkpoint (pickle inside), or object arrays
    TRUNCATED = "truncated"
    DAMAGED = "damaged"  # a run file whose contents do not check out
    WRONG_VERSION = "wrong_version"


class RunFileError(Exception):
    def __init__(self, problem: RunFileProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class ExportOptions:
    """What goes into a run file (the CLI's --export-* flags and the page's download)."""

    max_moments: int = DEFAULT_CAPACITY  # timeline moments kept, evenly (first and last)
    fakes_per_moment: int = 500  # fakes behind a moment's confusion "fake" row
    half: bool = False  # float16 weights, probabilities and features: about half the size
    weights: bool = True  # the live D's weights, for verdicts on uploads and drawings
    compress_level: int = 6  # zlib: 1 fastest (the page's download), 9 smallest (the CLI)


@dataclass(frozen=True)
class RunRecord:
    """A run file's contents, ready for the page (sgan_core/storage/recorded_run.py)."""

    manifest: Mapping[str, Any]
    snapshot: Snapshot  # the last one the run published
    moments: tuple[Moment, ...]  # oldest first
    weights: Optional[Mapping[str, np.ndarray]]  # live D's state dict, float32


# --- writing --------------------------------------------------------------------------

def write_run_file(target: Union[str, Path, IO[bytes]], snapshot: Snapshot,
                   moments: Sequence[Moment], weights: Optional[Mapping[str, Any]],
                   options: ExportOptions = ExportOptions(),
                   command: Optional[Sequence[str]] = None) -> None:
    """Write a run (its last snapshot, timeline and D's weights) as one run file."""
    if snapshot.confusion is None:
        raise ValueError("nothing to save yet: the run has no evaluation")
    kept = [moments[i] for i in even_indices(len(moments), options.max_moments)]
    store = ArrayStore(half=options.half)
    image_bytes = snapshot.cells.fake_images[0].nbytes if _has_fakes(snapshot) else 1
    run = {"snapshot": pack_snapshot(snapshot, store),
           "moments": [pack_moment(_thinned(m, options.fakes_per_moment * image_bytes), i,
                                   store) for i, m in enumerate(kept)]}
    weight_arrays = _weights(weights, options) if options.weights else {}
    manifest = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                "created_utc": datetime.datetime.now(datetime.timezone.utc)
                .isoformat(timespec="seconds"),
                "command": list(command) if command else None,
                "step": snapshot.step, "elapsed_s": snapshot.elapsed_s,
                "moments": len(kept), "moments_in_run": len(moments),
                "half": options.half, "weights": "discriminator" if weight_arrays else None}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=options.compress_level) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        archive.writestr("config.json", json.dumps(snapshot.config.to_dict(), indent=1))
        archive.writestr("run.json", json.dumps(run))
        archive.writestr("arrays.npz", _npz(store.arrays))
        if weight_arrays:
            archive.writestr("weights.npz", _npz(weight_arrays))


def export_run(run: Any, target: Union[str, Path, IO[bytes]],
               options: ExportOptions = ExportOptions(),
               command: Optional[Sequence[str]] = None) -> None:
    """Write a RunHandle (sgan_core/runs/handle.py) as a run file: its latest snapshot, its
    timeline and (with options.weights) its live D's weights."""
    weights = run.discriminator_weights() if options.weights else None
    write_run_file(target, run.snapshot(), run.timeline().moments(), weights, options,
                   command)


def even_indices(count: int, keep: int) -> list[int]:
    """At most `keep` indices of `count`, evenly spread, the first and last included."""
    if count <= keep:
        return list(range(count))
    return sorted(set(np.linspace(0, count - 1, max(2, keep)).round().astype(int).tolist()))


def _has_fakes(snapshot: Snapshot) -> bool:
    return snapshot.cells is not None and len(snapshot.cells.fake_images) > 0


def _thinned(moment: Moment, max_bytes: int) -> Moment:
    return dataclasses.replace(moment, cells=thin_fakes(moment.cells, max_bytes))


def _weights(weights: Optional[Mapping[str, Any]], options: ExportOptions) -> dict:
    arrays = {}
    for name, value in (weights or {}).items():
        array = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
        half = options.half and array.dtype.kind == "f"
        arrays[name] = array.astype(np.float16) if half else array
    return arrays


def _npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # the zip around it compresses
    return buffer.getvalue()


# --- reading --------------------------------------------------------------------------

def read_run_file(source: Source, name: str = "the file") -> RunRecord:
    """The run in `source` (a path, bytes or a binary file), or RunFileError."""
    data = _bounded_bytes(source, name)
    archive = _open_zip(data, name)
    with archive:
        manifest = _manifest(archive, name)
        try:
            cfg = TrainConfig.from_dict(json.loads(archive.read("config.json")))
            run = json.loads(archive.read("run.json"))
            store = ArrayStore(arrays=_load_npz(archive.read("arrays.npz"), name))
            snapshot = unpack_snapshot(run["snapshot"], cfg, store)
            moments = tuple(unpack_moment(packed, store) for packed in run["moments"])
            weights = (_load_npz(archive.read("weights.npz"), name)
                       if "weights.npz" in archive.namelist() else None)
            check_consistent(snapshot, moments)
        except RunFileError:
            raise
        except (ConfigError, CodecError, KeyError, TypeError, ValueError, AttributeError,
                zipfile.BadZipFile, EOFError, OSError) as error:
            raise RunFileError(RunFileProblem.DAMAGED, _damaged(name, error)) from error
    weights = None if weights is None else {k: v.astype(np.float32) for k, v in weights.items()}
    return RunRecord(manifest, snapshot, moments, weights)


def _bounded_bytes(source: Source, name: str) -> bytes:
    """The file's bytes, its size checked before a byte is read."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise RunFileError(RunFileProblem.NOT_A_RUN_FILE, f"No file at {path}.")
        try:
            return files.read_capped(path, MAX_FILE_BYTES)
        except files.FileTooLarge as error:
            _check_size(error.size, name)  # raises, in the words every source gets
            raise
    if isinstance(source, (bytes, bytearray)):
        _check_size(len(source), name)
        return bytes(source)
    size = getattr(source, "size", None)  # Streamlit's UploadedFile knows it
    if size is None:
        size = source.seek(0, io.SEEK_END)
        source.seek(0)
    _check_size(int(size), name)
    return source.read(MAX_FILE_BYTES + 1)


def _check_size(size: int, name: str) -> None:
    if size > MAX_FILE_BYTES:
        raise RunFileError(RunFileProblem.TOO_LARGE, (
            f"{name} is {size / 2**20:.0f} MB; run files up to {MAX_FILE_BYTES // 2**20} MB "
            "open here. Export it again with fewer timeline moments or half precision "
            "(--export-moments, --export-half)."))


def _open_zip(data: bytes, name: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        if data[:4] == b"PK\x03\x04":
            raise RunFileError(RunFileProblem.TRUNCATED, (
                f"{name} is cut short or damaged (its zip directory is missing): download "
                "or copy it again.")) from error
        if _is_pickle(data):
            raise RunFileError(RunFileProblem.PICKLE, (
                f"{name} is a Python pickle. SGAN Studio never opens pickles (opening one "
                "can run any code in it). Open a run file (.sganrun) made by 'Download "
                "this run' or `python -m sgan_core train ... --export FILE`.")) from error
        raise RunFileError(RunFileProblem.NOT_A_RUN_FILE, (
            f"{name} is not an SGAN Studio run file. Open a .sganrun file made by "
            "'Download this run' or by `python -m sgan_core train ... --export FILE`."
        )) from error
    if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
        raise RunFileError(RunFileProblem.TOO_LARGE, (
            f"{name} unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB, more than any "
            "run file holds: it was not made by SGAN Studio."))
    return archive


def _is_pickle(data: bytes) -> bool:
    """Parses the opcodes only (pickletools executes nothing): a pickle ends in STOP."""
    import pickletools

    try:
        return any(op.name == "STOP" for op, _, _ in pickletools.genops(io.BytesIO(data)))
    except Exception:  # not a pickle: genops stops at the first byte that is no opcode
        return False


def _manifest(archive: zipfile.ZipFile, name: str) -> dict:
    names = archive.namelist()
    if MANIFEST not in names:
        if any(entry.endswith("data.pkl") for entry in names):
            raise RunFileError(RunFileProblem.PICKLE, (
                f"{name} is a PyTorch checkpoint, which holds a pickle; the page never "
                "opens those. Continue it with `python -m sgan_core train --resume FILE`, "
                "or open a .sganrun run file here."))
        raise RunFileError(RunFileProblem.NOT_A_RUN_FILE, (
            f"{name} is a zip file but not an SGAN Studio run file (no {MANIFEST} in it)."))
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (ValueError, zipfile.BadZipFile, EOFError) as error:
        raise RunFileError(RunFileProblem.DAMAGED, _damaged(name, error)) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        said = manifest.get("format") if isinstance(manifest, dict) else None
        raise RunFileError(RunFileProblem.NOT_A_RUN_FILE, f"{name} is not an SGAN Studio "
                           f"run file (its manifest says format {said!r}).")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise RunFileError(RunFileProblem.WRONG_VERSION, (
            f"{name} is a run file of format version {version!r}; this SGAN Studio reads "
            f"version {FORMAT_VERSION}. " + ("Update SGAN Studio to open it." if newer else
                                             "Open it with the SGAN Studio that made it.")))
    return manifest


def _load_npz(data: bytes, name: str) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return {key: arrays[key] for key in arrays.files}
    except ValueError as error:
        if "allow_pickle" in str(error):  # numpy's refusal of object arrays
            raise RunFileError(RunFileProblem.PICKLE, (
                f"{name} holds pickled Python objects among its arrays; SGAN Studio never "
                "opens those (they can run code). Use a run file SGAN Studio made."
            )) from error
        raise


def _damaged(name: str, error: Any) -> str:
    detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return (f"{name} looks like an SGAN Studio run file but its contents do not check out "
            f"({str(detail)[:200]}). Export the run again.")
