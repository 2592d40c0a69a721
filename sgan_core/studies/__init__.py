"""Label-budget studies: a grid of cells (labels per class x seed), each an SGAN run and
its baseline, run by local worker processes or Ray, and their results.
"""
