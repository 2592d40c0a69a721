"""Which heavy modules a page's first paint imported, checked in a fresh interpreter
(imported by name: tests/ is on sys.path through its conftest)."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")
HEAVY = ("umap", "torch", "sgan_core.runs.training_run", "sgan_core.training.models")


def heavy_modules_after_paint(page: Optional[str] = None,
                              modules: Sequence[str] = HEAVY) -> list[str]:
    """Run the app once (then switch to `page`) and return the `modules` it imported;
    fails the test if the script raised."""
    switch = f"at.switch_page({page!r}).run(); " if page else ""
    script = ("from streamlit.testing.v1 import AppTest; import sys; "
              f"at = AppTest.from_file({APP!r}, default_timeout=30).run(); {switch}"
              "assert not at.exception, at.exception; assert len(at.title) == 1; "
              f"print(sorted(m for m in {tuple(modules)!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, env={**os.environ, "SGAN_PREWARM_UMAP": "0"})
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])  # printed names
