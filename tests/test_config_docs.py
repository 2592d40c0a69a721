"""TrainConfig's field docs: one per field, in its dataclass metadata, the same words in
`--help` and the sidebar's tooltips (tests/test_controls.py checks the tooltips)."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sgan_core.config import TrainConfig, field_docs

ROOT = Path(__file__).resolve().parents[1]
# Words of a tuning story, which belongs in bench/README.md, not in what a setting does.
TUNING_STORY = ("session", "bench/README", "measured", "was ", "beat ", "chosen")


def test_every_field_has_one_doc_that_says_what_it_does():
    docs = field_docs()
    assert list(docs) == [f.name for f in dataclasses.fields(TrainConfig)]
    for name, doc in docs.items():
        assert doc.strip(), f"{name} has no doc"
        assert not any(word in doc for word in TUNING_STORY), f"{name}: {doc}"


def test_the_config_stays_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().seed = 1  # type: ignore[misc]


def test_train_help_shows_every_fields_doc():
    # A wide terminal, so argparse does not wrap a doc across lines.
    out = subprocess.run([sys.executable, "-m", "sgan_core", "train", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True,
                         env={**os.environ, "COLUMNS": "1000"})
    for name, doc in field_docs().items():
        assert doc in out.stdout, name
