"""SGAN Studio's library: data, models, losses, training, evaluation (no streamlit)."""
import os

# torch's OpenMP threads spin while they wait for each other. On a 2-core laptop where
# the page, the embedding process or anything else holds a core, a spinning 2-thread
# step was measured 30x slower (2,145 vs 74 ms); passive waiting keeps it at 74 ms.
# libgomp reads this once, when torch is first imported, so it is set before that and
# only where the user has not chosen a policy. bench/README.md has the figures.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
