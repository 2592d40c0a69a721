"""SGAN Studio's library: data, models, losses, training, evaluation (no streamlit)."""
import os

# How long torch's OpenMP threads spin before they sleep while waiting for each other
# (libgomp reads this once, when torch is loaded, so it is set before that and only
# where the user has not chosen). Measured per 2-thread step on 2 cores (bench/README.md):
#   libgomp default (300k spins): 43 ms idle, but 2,145 ms when another process holds a core
#   OMP_WAIT_POLICY=PASSIVE (no spin): 65 ms idle (no faster than 1 thread), 71 ms contended
#   GOMP_SPINCOUNT=1000: 44 ms idle, 87 ms contended -- near-best in both cases.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "1000")
