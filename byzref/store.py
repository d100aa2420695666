"""Results store of a sweep: one JSON line per finished run plus its curves (DESIGN.md "Results").

Layout of a store directory ``DIR``::

    DIR/runs.jsonl            one JSON object per finished run (Result.record() + "curves" path)
    DIR/curves/<run_id>.npz   the run's curves (numpy, loadable without pickle)

Writing a run: the .npz is written to a temporary file and renamed (atomic), then the record is
appended to runs.jsonl as ONE write under an exclusive ``fcntl.flock`` lock, so several processes
may append to the same store. A run id already present is never appended again (finished results
are never duplicated or overwritten). A writer killed mid-append can leave a truncated last line:
readers skip lines that do not parse (and count them), and the next append starts a fresh line.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from byzref.results import Result, _atomic_write, _from_record

__all__ = ["ResultStore"]


class ResultStore:
    """Append-only, multi-process-safe store of finished runs in a directory.

    Parameters
    ----------
    directory : path
        Created if missing.
    """

    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        (self.dir / "curves").mkdir(parents=True, exist_ok=True)
        self.index = self.dir / "runs.jsonl"
        self.skipped = 0  # unparseable (truncated) lines seen by the last read
        self._ids: set[str] = set()  # run ids in runs.jsonl up to byte offset self._offset
        self._offset = 0

    # --- reading -----------------------------------------------------------------------------------
    def _parse(self, text: str) -> list[dict]:
        out, skipped = [], 0
        for line in text.split("\n"):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                skipped += 1
                continue
            if isinstance(rec, dict) and "run_id" in rec:
                out.append(rec)
            else:
                skipped += 1
        self.skipped = skipped
        return out

    def records(self) -> list[dict]:
        """Every finished run's record, in append order (a truncated line is skipped)."""
        if not self.index.exists():
            return []
        return self._parse(self.index.read_text(encoding="utf-8"))

    def finished_ids(self) -> set[str]:
        """Ids of the runs already stored."""
        return {r["run_id"] for r in self.records()}

    def __contains__(self, run_id: str) -> bool:
        return run_id in self.finished_ids()

    def __len__(self) -> int:
        return len(self.records())

    def load(self, record: dict | str) -> Result:
        """The full :class:`Result` of a stored run (by record or run id)."""
        if isinstance(record, str):
            matches = [r for r in self.records() if r["run_id"] == record]
            if not matches:
                raise KeyError(f"run {record!r} is not in the store {self.dir}")
            record = matches[0]
        with np.load(self.dir / record["curves"], allow_pickle=False) as z:
            curves = {k: z[k] for k in z.files}
        return _from_record(record, curves)

    def results(self) -> Iterator[Result]:
        """Every stored run as a :class:`Result`."""
        for rec in self.records():
            yield self.load(rec)

    # --- writing -----------------------------------------------------------------------------------
    def _catch_up(self, fh) -> None:
        """Parse the complete lines appended since the last look (call with the lock held)."""
        fh.seek(self._offset)
        chunk = fh.read()
        end = chunk.rfind(b"\n") + 1  # a partial last line is left for later
        if end:
            self._ids.update(r["run_id"] for r in self._parse(chunk[:end].decode("utf-8", errors="replace")))
            self._offset += end

    def append(self, result: Result) -> bool:
        """Store a finished run; return False (and write nothing new) when its id is already stored.

        Under the lock only the lines added since this instance's last append are parsed, so the
        cost of an append does not grow with the size of the store.
        """
        rel = f"curves/{result.run_id}.npz"

        def write_npz(tmp):
            with open(tmp, "wb") as fh:
                np.savez(fh, **result.curves)

        rec = {**result.record(), "curves": rel}
        line = json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n"
        with open(self.index, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                self._catch_up(fh)
                if result.run_id in self._ids:
                    return False
                _atomic_write(self.dir / rel, write_npz)
                size = fh.seek(0, os.SEEK_END)
                prefix = b"\n" if size > self._offset else b""  # after a truncated line
                fh.write(prefix + line.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
                self._ids.add(result.run_id)
                self._offset = fh.tell()
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return True
