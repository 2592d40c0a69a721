"""The Compare runs page: 2 to 6 runs side by side, and Start both.
"""
