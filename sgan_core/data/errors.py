"""Errors the user can fix; each message says how."""


class DataError(Exception):
    """A data problem the user can fix; the message says how."""
