"""The command line: `python -m sgan_core train | study`, the export of a run file, and
the flags every config field gets.
"""
