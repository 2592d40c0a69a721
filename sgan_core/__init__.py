"""SGAN Studio's library: data, models, losses, training, evaluation (no streamlit).

Importing it changes nothing in the process: entry points call
`sgan_core.threads.configure_threads()` first, before torch loads.
"""
