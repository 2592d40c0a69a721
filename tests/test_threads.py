"""Thread settings: importing the library changes nothing in the process; the entry
points call `configure_threads()`, which sets OpenMP's spin count before torch loads
(never over the user's choice) and gives numpy's BLAS one thread.

Each check runs in a fresh interpreter: this test process has configured itself already
(tests/conftest.py), and libgomp reads its spin count only when torch first loads.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARIABLES = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")
# The numpy BLAS pools' thread counts, as threadpoolctl reports them.
NUMPY_BLAS_THREADS = ("[i['num_threads'] for i in __import__('threadpoolctl').threadpool_info()"
                      " if i['user_api'] == 'blas' and 'numpy' in i['filepath']]")
# Records GOMP_SPINCOUNT at the moment torch is first imported.
WATCH_TORCH = """
import json, os, sys
seen = {}
class WatchTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and "torch" not in seen:
            seen["torch"] = os.environ.get("GOMP_SPINCOUNT", "unset")
sys.meta_path.insert(0, WatchTorch())
"""


def run_fresh(code: str, **environment: str) -> Any:
    """Run `code` in a fresh interpreter whose environment has no thread variables but
    `environment`; return the JSON its last printed line holds."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, env={**env, **environment}, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_library_changes_nothing_in_the_process():
    changed = run_fresh(
        "import json, os, sys\n"
        "before = dict(os.environ)\n"
        "import sgan_core, sgan_core.config, sgan_core.snapshot, sgan_core.data.datasets\n"
        "import sgan_core.data.splitting, sgan_core.cli.main, sgan_core.studies.backends\n"
        "print(json.dumps({'env': sorted(k for k in set(before) | set(os.environ)\n"
        "                                if before.get(k) != os.environ.get(k)),\n"
        "                  'threadpoolctl': 'threadpoolctl' in sys.modules}))")
    assert changed == {"env": [], "threadpoolctl": False}


def test_the_entry_modules_load_no_torch_before_their_first_call():
    # The CLI's main(), a study cell and the page's main() configure the threads first
    # thing; that is early enough only while importing them does not load torch.
    loaded = run_fresh("import json, sys\n"
                       "import sgan_core.cli.main, sgan_core.studies.cell, dashboard.app\n"
                       "print(json.dumps('torch' in sys.modules))")
    assert loaded is False


def test_configure_threads_sets_the_spin_count_and_one_numpy_blas_thread():
    settings = run_fresh(
        "import json, os\n"
        "from sgan_core.threads import configure_threads\n"
        "configure_threads(); configure_threads()\n"
        f"print(json.dumps([os.environ.get('GOMP_SPINCOUNT'), {NUMPY_BLAS_THREADS}]))")
    spin, blas_threads = settings
    assert spin == "1000"
    assert blas_threads and all(threads == 1 for threads in blas_threads)


@pytest.mark.parametrize("environment, spin", [
    ({"GOMP_SPINCOUNT": "42"}, "42"),  # the user's spin count stays
    ({"OMP_WAIT_POLICY": "PASSIVE"}, None),  # a chosen wait policy gets no spin count
], ids=["user-spin-count", "user-wait-policy"])
def test_configure_threads_keeps_the_users_openmp_choice(environment, spin):
    code = ("import json, os\n"
            "from sgan_core.threads import configure_threads\n"
            "configure_threads()\n"
            "print(json.dumps(os.environ.get('GOMP_SPINCOUNT')))")
    assert run_fresh(code, **environment) == spin


@pytest.mark.parametrize("entry", [
    ("from sgan_core.cli.main import main\n"
     "assert main(['train', '--steps', '1', '--dataset', 'no-such-set']) == 2\n"),
    ("from sgan_core.studies.cell import run_cell\n"
     "row = run_cell({'num_threads': 1, 'labels_per_class': 1, 'seed': 0,\n"
     "                'dataset': 'no-such-set'})\n"
     "assert row['status'] == 'crashed', row\n"),
], ids=["cli", "study-cell"])
def test_the_entry_points_set_the_spin_count_before_torch_loads(entry):
    seen = run_fresh(WATCH_TORCH + entry + "print(json.dumps(seen))")
    assert seen == {"torch": "1000"}
