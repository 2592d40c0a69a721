"""Shared helpers of tests/, bench/ and scripts/ (not part of the product)."""
