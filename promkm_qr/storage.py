"""Stored files (photos, generated documents) behind a small interface.

The default backend is a directory (its path the STORAGE_DIR setting). Keys are generated
by the caller, never taken from user input, and written atomically (temp file + rename) so
a crash never leaves half a file under a real key.
"""

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from flask import current_app


class StorageError(OSError):
    """Storing a file failed (disk full, not writable)."""


class DirectoryStorage:
    """Files under one root directory, keyed by relative paths like 'photos/ab/cd.jpg'."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or ".." in Path(key).parts:
            raise ValueError(f"invalid storage key: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> str:
        """Write data under key atomically; returns its sha256."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(str(exc)) from exc
        return hashlib.sha256(data).hexdigest()

    def get(self, key: str) -> bytes:
        """The bytes stored under key (FileNotFoundError if absent)."""
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        """Whether a file is stored under key."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file under key, if present."""
        self._path(key).unlink(missing_ok=True)

    def older_than(self, prefix: str, seconds: float) -> Iterator[str]:
        """Keys under a prefix whose files were last written more than `seconds` ago."""
        base = self._path(prefix)
        if not base.is_dir():
            return
        cutoff = time.time() - seconds
        for path in base.rglob("*"):
            # Half-written ".tmp-" files of a process that died are swept as well.
            if path.is_file() and path.stat().st_mtime < cutoff:
                yield path.relative_to(self.root.resolve()).as_posix()

    def path(self, key: str) -> Path:
        """A local path for streaming the file with send_file."""
        return self._path(key)


def get_storage() -> DirectoryStorage:
    """The app's storage backend."""
    return DirectoryStorage(current_app.config["STORAGE_DIR"])
