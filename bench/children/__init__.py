"""Programs the benchmarks start in fresh processes, one per measurement, so that each
starts cold (libgomp reads its spin setting once, when torch loads) and one run's state
cannot leak into the next; and timed_app.py, the page bench_dashboard.py serves.

Each is a script with a `main()`, run by path (`python bench/children/step.py TREE
PAYLOAD ...`): the path, not `-m`, so that a child started with its working folder in
another tree (a reference commit's worktree) is still this tree's program, measuring
that tree's sgan_core. common.py holds what they share."""
