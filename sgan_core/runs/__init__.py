"""A training run as the page and the CLI hold it: its thread and its commands, the
snapshots and timeline it publishes, the handle protocol the page uses, the
server's registry of runs, and following a run's progress. Runs never touch files of
their own: storage keeps them.
"""
