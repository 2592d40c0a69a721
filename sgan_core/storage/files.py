"""The two ways this project touches a file it keeps: written whole or not at all
(write then rename, so a reader, a killed process or a full disk never leaves half a
file), and read only after its size was checked (a file can be anything a user put
there: a size cap keeps a huge one out of memory)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


class FileTooLarge(Exception):
    """A file over the cap its reader set; nothing of it was read."""

    def __init__(self, path: Path, size: int, cap: int) -> None:
        super().__init__(f"{path} is {size:,} bytes, more than {cap:,}")
        self.path, self.size, self.cap = path, size, cap


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """`write(temporary)` fills a temporary file beside `path`, which then replaces
    `path` in one step; on any failure the temporary file goes and `path` is as it was."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        mask = os.umask(0)  # mkstemp made it private; give it the usual permissions
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_atomic(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def read_capped(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The file's bytes, its size checked before a byte is read: FileTooLarge over
    `max_bytes`, OSError when it cannot be read."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise FileTooLarge(path, size, max_bytes)
    return path.read_bytes()
