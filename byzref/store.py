"""Results store of a sweep: one JSON line per finished run plus its curves.

Layout of a store directory ``DIR``::

    DIR/runs.jsonl            one JSON object per stored run: Result.record() plus "curves" (the path
                              below), "curves_size" and "curves_sha256" (of the .npz file's bytes)
    DIR/curves/<run_id>.npz   the run's curves (numpy, loadable without pickle)
    DIR/failures.jsonl        runs that raised and are not stored (diagnostics; see below)

What is guaranteed
------------------
*No result is lost silently.* :meth:`ResultStore.append` writes, in this order, holding an exclusive
``fcntl.flock`` on runs.jsonl (several processes may append to one store):

1. the lines other writers appended since this one last looked are read; when the store holds runs
   of another numerics version than the new record's, :class:`~byzref.errors.ConfigError` (below);
   when a record of this run id whose curves verify is present, nothing is written (False);
2. the .npz bytes go to ``curves/.<run_id>.npz.<pid>.<tag>.tmp``, which is flushed and fsynced, renamed
   onto ``curves/<run_id>.npz`` (atomic), and ``curves/`` is fsynced;
3. the record line, with the size and sha256 of those bytes, is appended as ONE write (after a
   newline when the last line is torn) and runs.jsonl is fsynced;
4. after the lock is released, failures.jsonl is rewritten (temporary file, fsync, rename) without
   that run id, so it lists only runs that raised and are still not stored.

So a record line on disk means its curves were durable before it. A crash leaves at most a torn last
line (readers skip it; the next append starts a fresh line), an .npz without a line (replaced when
the run is recomputed), or a temporary file (removed by a later writer once its pid is gone and it is
older than :data:`~byzref.results.STALE_AFTER` seconds).

*Nothing damaged is used.* Every read verifies each record's curve file: its size and sha256 (a
record written before byzref 0.2.1 has neither: its .npz is read in full instead). A record whose
curve file is missing, truncated, altered or a symlink is never yielded: :meth:`ResultStore.records`
gives, per run id, the LAST record that verifies. :meth:`ResultStore.finished_ids` (what a sweep skips
on resume) uses the same check, so such a run is recomputed and its new record appended.
:meth:`ResultStore.check` reports all of it.

*No duplicates.* An append writes only when no verifying record of its id exists, and readers
yield one record per run id.

*Numerics versions never mix.* Every run id hashes :data:`byzref.config.NUMERICS`, and each record
keeps it as ``versions["numerics"]`` (records written before byzref 0.2.0 have none: version "1").
A store refuses to append a record of another version than the ones it holds, and opening a store
for writing refuses one that holds runs of another version than this byzref's (a sweep fails before
computing anything). Readers that pool runs (``byzref plot``) use :func:`same_numerics`.

*Symlinks are not followed.* runs.jsonl, failures.jsonl, curves/ and the curve files are opened with
``O_NOFOLLOW``: a symlink in their place is refused with a ConfigError naming it (a symlinked curve
file makes its record damaged). The store directory itself may be a symlink.

Files are created with mode ``0o666 & ~umask``. See :ref:`guide-sweeps` and
:ref:`guide-reproducibility`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import stat
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from byzref.errors import ConfigError
from byzref.results import (
    _SAFE_ID,
    DamagedCurves,
    Result,
    _curves_problem,
    _from_record,
    _load_npz,
    _npz_bytes,
    _open_dir,
    _os_problem,
    _probe_writable,
    _read_all,
    _read_file,
    _tmp_files,
    _write_all,
    _write_durable,
    ensure_dir,
)

__all__ = ["Damaged", "DamagedCurves", "ResultStore", "StoreReport", "record_numerics", "same_numerics"]

_ID_IN_LINE = re.compile(r'\{\s*"run_id"\s*:\s*"([A-Za-z0-9_-]+)"')  # a line that starts with its id


def _line_run_id(raw: bytes) -> str | None:
    """The run id of a JSON line, also of a torn one when its start survived."""
    try:
        rec = json.loads(raw)
    except ValueError:
        m = _ID_IN_LINE.match(raw.decode("utf-8", errors="replace").lstrip())
        return m[1] if m else None
    return rec.get("run_id") if isinstance(rec, dict) and isinstance(rec.get("run_id"), str) else None


def _current_numerics() -> str:
    from byzref.config import NUMERICS

    return str(NUMERICS)


def record_numerics(rec: dict) -> str:
    """The numerics version of a run record (``versions["numerics"]``; "1" when absent, byzref < 0.2.0).

    Parameters
    ----------
    rec : dict
        A run record (:meth:`byzref.results.Result.record`, or a line of runs.jsonl).

    Returns
    -------
    str
        The version, as text.
    """
    v = rec.get("versions")
    return str(v.get("numerics", "1")) if isinstance(v, dict) else "1"


def same_numerics(records: list[dict], current: str | None = None) -> tuple[list[dict], dict[str, int]]:
    """The records of ONE numerics version, and how many of each other version were left out.

    A store holding a single version gives all its records (whatever the version); one holding several
    gives those of this byzref's version, and a ConfigError when it holds none of those.

    Parameters
    ----------
    records : list of dict
        Run records (e.g. :meth:`ResultStore.records`).
    current : str, optional
        The version to prefer (default :data:`byzref.config.NUMERICS`).

    Returns
    -------
    records : list of dict
        The kept records, in input order.
    left_out : dict
        Version → number of records of that version left out (empty when there was one version).

    Raises
    ------
    ConfigError
        When the records hold several versions and none of ``current``.
    """
    current = _current_numerics() if current is None else str(current)
    held = Counter(record_numerics(r) for r in records)
    if len(held) <= 1:
        return list(records), {}
    if current not in held:
        raise ConfigError(f"the runs are of numerics versions {', '.join(sorted(held))} and none of "
                          f"version {current} (this byzref): runs of two versions are never pooled; "
                          "read them with the byzref that wrote them")
    return [r for r in records if record_numerics(r) == current], {v: n for v, n in held.items()
                                                                   if v != current}


def _foreign(path, held, version: str) -> ConfigError:
    return ConfigError(f"results store {path} holds runs of numerics version {', '.join(sorted(held))}, "
                       f"these are of version {version}: a store never mixes numerics versions; "
                       "give a new --out")


@dataclass
class Damaged:
    """A record whose curve file fails verification (an entry of a :class:`StoreReport`).

    The parameters are kept as attributes of the same names.

    Parameters
    ----------
    line : int
        Line number in runs.jsonl (from 1).
    run_id : str
        The record's run id.
    path : str
        The recorded curve path.
    reason : str
        Why it fails (missing, size, hash, unreadable, symlink, bad path).
    """

    line: int
    run_id: str
    path: str
    reason: str

    @property
    def kind(self) -> str:
        """The reason in a word or two: missing, symlink, wrong size, wrong hash, unreadable, bad path."""
        for key, kind in (("missing", "missing"), ("symlink", "symlink"), ("the record says", "wrong size"),
                          ("sha256", "wrong hash"), ("curve path", "bad path")):
            if key in self.reason:
                return kind
        return "unreadable"


@dataclass
class StoreReport:
    """What a look at a store found (:meth:`ResultStore.scan`, :meth:`ResultStore.check`).

    The parameters are kept as attributes of the same names; every one but ``directory`` defaults
    to empty (``current`` to ``""``).

    Parameters
    ----------
    directory : pathlib.Path
        The store.
    records : list of dict
        Per run id, the last record whose curves verify, in the order of their lines.
    damaged : list of Damaged
        Failing records of run ids that have no verifying record (those runs are not stored).
    repaired : list of Damaged
        Failing records of run ids that have a verifying one (recomputed since).
    unparseable : list of (line number, run id or None)
        Lines that are not a JSON run record (a torn append); the run id when it can be read.
    numerics : dict
        Verified runs per numerics version.
    current : str
        This byzref's numerics version.
    orphans : list of str
        Curve files of no record (a writer killed between the curves and the line; harmless).
    stale_tmp : list of str
        Temporary files of writers that are gone.
    """

    directory: Path
    records: list[dict] = field(default_factory=list)
    damaged: list[Damaged] = field(default_factory=list)
    repaired: list[Damaged] = field(default_factory=list)
    unparseable: list[tuple[int, str | None]] = field(default_factory=list)
    numerics: dict[str, int] = field(default_factory=dict)
    current: str = ""
    orphans: list[str] = field(default_factory=list)
    stale_tmp: list[str] = field(default_factory=list)

    @property
    def ids(self) -> set[str]:
        """Run ids of the verified records."""
        return {r["run_id"] for r in self.records}

    @property
    def lost_lines(self) -> list[tuple[int, str | None]]:
        """Unparseable lines whose run is not stored by a later line (a run to recompute)."""
        ids = self.ids
        return [(i, rid) for i, rid in self.unparseable if rid is None or rid not in ids]

    @property
    def clean(self) -> bool:
        """No damaged record, no lost line, at most one numerics version."""
        return not self.damaged and not self.lost_lines and len(self.numerics) <= 1

    @property
    def exit_code(self) -> int:
        """0 when clean, 1 when damage was found."""
        return 0 if self.clean else 1

    def lines(self) -> list[str]:
        """The report as text lines (``byzref store check``)."""
        n = len(self.records)
        versions = ", ".join(f"{v} ({c} runs)" for v, c in sorted(self.numerics.items())) or "-"
        out = [f"results store {self.directory}: {n} run(s) stored with verified curves; "
               f"numerics version {versions} (this byzref: {self.current})"]
        if self.damaged:
            out.append(f"DAMAGED: {len(self.damaged)} record(s) whose curves fail verification; those runs "
                       "count as not stored (rerunning the sweep recomputes them):")
            out += [f"  line {d.line}, run {d.run_id}: {d.path}: {d.reason}" for d in self.damaged]
        lost = self.lost_lines
        if lost:
            out.append(f"DAMAGED: {len(lost)} unparseable line(s) of runs not stored (a torn append; "
                       "rerunning the sweep recomputes them):")
            out += [f"  line {i}" + (f" (run {rid})" if rid else "") for i, rid in lost]
        if len(self.numerics) > 1:
            out.append(f"DAMAGED: runs of {len(self.numerics)} numerics versions are mixed; they are never "
                       f"pooled (plots read version {self.current} only)")
        elif self.numerics and self.current not in self.numerics:
            out.append(f"note: the runs are of numerics version {next(iter(self.numerics))}, this byzref "
                       f"computes {self.current}: the store can be read but not resumed with this byzref")
        if self.repaired:
            out.append(f"note: {len(self.repaired)} damaged record(s) superseded by a verified record of "
                       "the same run")
        torn = len(self.unparseable) - len(lost)
        if torn:
            out.append(f"note: {torn} torn line(s) of runs stored by a later line")
        if self.orphans:
            out.append(f"note: {len(self.orphans)} curve file(s) without a record (a writer killed before "
                       "its line; harmless): " + ", ".join(self.orphans[:5])
                       + (" ..." if len(self.orphans) > 5 else ""))
        if self.stale_tmp:
            out.append(f"note: {len(self.stale_tmp)} stale temporary file(s) (removed by the next writer)")
        out.append("clean" if self.clean else "damage found")
        return out


class ResultStore:
    """Append-only, multi-process-safe store of finished runs in a directory (module docstring).

    Parameters
    ----------
    directory : path
        The store. For writing (default) it is created if missing, and a ConfigError naming the path
        is raised at once when it is not a directory, cannot be created or written, holds symlinks in
        place of its files, or holds runs of another numerics version than this byzref's; stale
        temporary files of killed writers are removed.
    readonly : bool
        Only read: nothing is created, probed or removed (``byzref plot``, ``byzref store check``).
    """

    def __init__(self, directory: str | os.PathLike, readonly: bool = False):
        self.dir = Path(directory)
        self.index = self.dir / "runs.jsonl"
        self.failures_path = self.dir / "failures.jsonl"
        self.curves_dir = self.dir / "curves"
        self.readonly = readonly
        self.skipped = 0  # unparseable lines seen by the last read
        self._seen: dict[str, list[dict]] = {}  # records by run id, lines up to byte self._offset
        self._numerics: Counter[str] = Counter()
        self._offset = 0
        self._dir_synced = False
        if readonly:
            self._check_links()
        else:
            self._open_for_writing()

    # --- opening -----------------------------------------------------------------------------------
    def _check_links(self) -> None:
        for p in (self.index, self.failures_path, self.curves_dir):
            if p.is_symlink():
                raise ConfigError(f"{p} is a symlink; byzref does not follow symlinks inside a results "
                                  "store (replace it by the real file or folder)")

    def _open_for_writing(self) -> None:
        d = ensure_dir(self.dir, "results store")
        self._check_links()
        if os.path.lexists(self.curves_dir) and not self.curves_dir.is_dir():
            raise ConfigError(f"{self.curves_dir} is not a directory; a results store must hold a curves "
                              "folder")
        _probe_writable(d, "results store")
        try:
            self.curves_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--out {d}: cannot create {self.curves_dir} ({exc.strerror or exc}); --out "
                              "must be a writable folder") from exc
        _probe_writable(self.curves_dir, "results store folder")
        _tmp_files(d, remove=True)
        _tmp_files(self.curves_dir, remove=True)
        try:
            fd = self._open_index(os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            self._catch_up(fd)
        finally:
            os.close(fd)
        foreign = set(self._numerics) - {_current_numerics()}
        if foreign:
            raise _foreign(d, foreign, _current_numerics())

    def _open_nofollow(self, path: Path, flags: int) -> int:
        try:
            return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            if path.is_symlink():
                raise ConfigError(f"{path} is a symlink; byzref does not follow symlinks inside a results "
                                  "store (replace it by the real file)") from exc
            raise

    def _open_index(self, flags: int) -> int:
        return self._open_nofollow(self.index, flags)

    def _open_locked(self, path: Path, flags: int) -> int:
        """``path`` opened (no symlink) and exclusively flocked, the very file now at that path."""
        while True:
            fd = self._open_nofollow(path, flags)
            fcntl.flock(fd, fcntl.LOCK_EX)
            st = os.fstat(fd)
            try:
                now = os.lstat(path)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_ino, now.st_dev) == (st.st_ino, st.st_dev):
                return fd
            os.close(fd)  # replaced (failures.jsonl rewritten) while waiting: take the new file

    def _curves_fd(self) -> int | None:
        try:
            return _open_dir(self.curves_dir, follow=False)
        except FileNotFoundError:
            return None

    # --- reading -----------------------------------------------------------------------------------
    @staticmethod
    def _parse_line(raw: bytes) -> dict | None:
        try:
            rec = json.loads(raw)
        except ValueError:  # JSONDecodeError, UnicodeDecodeError
            return None
        if not isinstance(rec, dict):
            return None
        return rec if isinstance(rec.get("run_id"), str) and isinstance(rec.get("curves"), str) else None

    def _read_index(self) -> bytes:
        try:
            fd = self._open_index(os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return b""
        except IsADirectoryError:
            raise ConfigError(f"{self.index} is a directory; a results store's runs.jsonl must be a "
                              "regular file") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"{self.index} is not a regular file; a results store's runs.jsonl "
                                  "must be one")
            return _read_all(fd)
        finally:
            os.close(fd)

    @staticmethod
    def _fetch(rec: dict, dfd: int | None) -> tuple[bytes | None, str | None]:
        """The bytes of ``rec``'s curve file and why they fail verification (None when they verify)."""
        rid, rel = rec["run_id"], rec.get("curves")
        if not isinstance(rid, str) or not _SAFE_ID.match(rid) or rel != f"curves/{rid}.npz":
            return None, f"the curve path {rel!r} is not curves/<run id>.npz"
        if dfd is None:
            return None, "missing (no curves folder)"
        try:
            data = _read_file(f"{rid}.npz", dfd)
        except OSError as exc:
            return None, _os_problem(exc)
        return data, _curves_problem(data, rec)

    def _problem(self, rec: dict, dfd: int | None) -> str | None:
        """Why ``rec``'s curve file fails verification (None when it verifies)."""
        return self._fetch(rec, dfd)[1]

    def scan(self) -> StoreReport:
        """Read runs.jsonl and verify every record's curves; see :class:`StoreReport`."""
        report = StoreReport(self.dir, current=_current_numerics())
        entries = []
        for lineno, raw in enumerate(self._read_index().split(b"\n"), 1):
            if not raw.strip():
                continue
            rec = self._parse_line(raw)
            if rec is None:
                report.unparseable.append((lineno, _line_run_id(raw)))
            else:
                entries.append((lineno, rec))
        valid: dict[str, tuple[int, dict]] = {}
        failing = []
        dfd = self._curves_fd()
        try:
            for lineno, rec in entries:
                problem = self._problem(rec, dfd)
                if problem is None:
                    valid.pop(rec["run_id"], None)  # the last verifying record, at its own position
                    valid[rec["run_id"]] = (lineno, rec)
                else:
                    failing.append(Damaged(lineno, rec["run_id"], rec["curves"], problem))
        finally:
            if dfd is not None:
                os.close(dfd)
        report.records = [rec for _, rec in valid.values()]
        for d in failing:
            (report.repaired if d.run_id in valid else report.damaged).append(d)
        report.numerics = dict(Counter(record_numerics(r) for r in report.records))
        self.skipped = len(report.unparseable)
        return report

    def check(self) -> StoreReport:
        """:meth:`scan` plus curve files of no record and stale temporary files (nothing is changed)."""
        report = self.scan()
        named = {f"{rid}.npz" for rid in report.ids}
        named |= {f"{d.run_id}.npz" for d in report.damaged + report.repaired}
        try:
            files = sorted(n for n in os.listdir(self.curves_dir)
                           if n.endswith(".npz") and not n.startswith("."))
        except OSError:
            files = []
        report.orphans = [n for n in files if n not in named]
        report.stale_tmp = _tmp_files(self.dir) + _tmp_files(self.curves_dir)
        return report

    def records(self) -> list[dict]:
        """Per run id the last record whose curves verify, in line order (damaged ones never)."""
        return self.scan().records

    def finished_ids(self) -> set[str]:
        """Ids of the runs stored with verified curves (what a resumed sweep skips)."""
        return self.scan().ids

    def __contains__(self, run_id: str) -> bool:
        return run_id in self.finished_ids()

    def __len__(self) -> int:
        return len(self.records())

    def load(self, record: dict | str) -> Result:
        """The full :class:`~byzref.results.Result` of a stored run (by record or run id), curves verified.

        Parameters
        ----------
        record : dict or str
            A record from :meth:`records`, or a run id.

        Returns
        -------
        Result
            The run with its curves.

        Raises
        ------
        KeyError
            When ``record`` is a run id that no verified record has.
        DamagedCurves
            A ConfigError naming the file, when the curves fail verification.
        """
        if isinstance(record, str):
            matches = [r for r in self.records() if r["run_id"] == record]
            if not matches:
                raise KeyError(f"run {record!r} is not in the store {self.dir}")
            record = matches[-1]
        dfd = self._curves_fd()
        try:
            data, problem = self._fetch(record, dfd)  # the very bytes loaded are the verified ones
        finally:
            if dfd is not None:
                os.close(dfd)
        if problem:
            raise DamagedCurves(f"{self.dir / str(record.get('curves'))}: curves {problem}")
        return _from_record(record, _load_npz(data))

    def results(self) -> Iterator[Result]:
        """Every stored run as a :class:`~byzref.results.Result`.

        Yields
        ------
        Result
            One per run id, in line order, curves verified.
        """
        for rec in self.records():
            yield self.load(rec)

    def failures(self) -> list[dict]:
        """The last failure entry of each run that raised and is still not stored."""
        try:
            fd = self._open_nofollow(self.failures_path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return []
        try:
            data = b"".join(iter(lambda: os.read(fd, 1 << 20), b""))
        finally:
            os.close(fd)
        last: dict[str, dict] = {}
        for raw in data.split(b"\n"):
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("run_id"), str):
                last.pop(rec["run_id"], None)
                last[rec["run_id"]] = rec
        stored = self.finished_ids() if last else set()
        return [r for rid, r in last.items() if rid not in stored]

    # --- writing -----------------------------------------------------------------------------------
    def _writable(self) -> None:
        if self.readonly:
            raise ConfigError(f"the results store {self.dir} was opened read-only; use ResultStore(dir) to "
                              "write")

    def _catch_up(self, fd: int) -> None:
        """Parse the complete lines appended since the last look (call with the lock held)."""
        os.lseek(fd, self._offset, os.SEEK_SET)
        chunk = b"".join(iter(lambda: os.read(fd, 1 << 20), b""))
        end = chunk.rfind(b"\n") + 1  # a partial last line is left for later
        for raw in chunk[:end].split(b"\n"):
            rec = self._parse_line(raw) if raw.strip() else None
            if rec is not None:
                self._seen.setdefault(rec["run_id"], []).append(rec)
                self._numerics[record_numerics(rec)] += 1
        self._offset += end

    def append(self, result: Result) -> bool:
        """Store a finished run (module docstring, steps 1–4); False when it is already stored.

        Under the lock only the lines added since this instance's last append are parsed, and only the
        records of this run id are verified, so the cost of an append does not grow with the store.

        Parameters
        ----------
        result : Result
            The run; stored again only when every earlier record of its id fails verification.

        Returns
        -------
        bool
            True when the run was written, False when a verified record of it was already there.

        Raises
        ------
        ConfigError
            When the store was opened read-only, or holds runs of another numerics version.
        """
        self._writable()
        rid = result.run_id
        if not _SAFE_ID.match(rid):
            raise ConfigError(f"run id {rid!r} is not a file name (letters, digits, '_', '-')")
        version = record_numerics(result.record())
        data = _npz_bytes(result.curves)
        body = {**result.record(), "curves": f"curves/{rid}.npz", "curves_size": len(data),
                "curves_sha256": hashlib.sha256(data).hexdigest()}
        body.pop("run_id")
        # run_id first, so that even a torn line names its run (StoreReport.unparseable)
        line = ('{"run_id":' + json.dumps(rid) + ","
                + json.dumps(body, sort_keys=True, separators=(",", ":"))[1:] + "\n").encode("utf-8")
        fd = self._open_locked(self.index, os.O_RDWR | os.O_APPEND | os.O_CREAT)
        try:
            if not self._dir_synced:  # runs.jsonl may have just been created
                dfd = _open_dir(self.dir)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
                self._dir_synced = True
            self._catch_up(fd)
            foreign = set(self._numerics) - {version}
            if foreign:
                raise _foreign(self.dir, foreign, version)
            if rid in self._seen:
                dfd = self._curves_fd()
                try:
                    if any(self._problem(rec, dfd) is None for rec in self._seen[rid]):
                        return False
                finally:
                    if dfd is not None:
                        os.close(dfd)
            try:
                dfd = _open_dir(self.curves_dir, follow=False)
            except FileNotFoundError:  # deleted under us: its records are damaged, the new one is not
                self.curves_dir.mkdir()
                dfd = _open_dir(self.curves_dir, follow=False)
            try:
                _write_durable(dfd, f"{rid}.npz", data, exclusive=False)
            finally:
                os.close(dfd)
            size = os.lseek(fd, 0, os.SEEK_END)
            prefix = b"\n" if size > self._offset else b""  # after a torn line
            _write_all(fd, prefix + line)
            os.fsync(fd)
            self._seen.setdefault(rid, []).append(json.loads(line))
            self._numerics[version] += 1
            self._offset = size + len(prefix) + len(line)
        finally:
            os.close(fd)  # releases the lock
        self._forget_failure(rid)
        return True

    def log_failure(self, run_id: str, entry: dict) -> None:
        """Append a run that raised to failures.jsonl (one line, under its lock, fsynced).

        Parameters
        ----------
        run_id : str
            The failed run's id.
        entry : dict
            What to keep (config, error, traceback, time); values JSON-encoded with ``str`` as fallback.
        """
        self._writable()
        line = (json.dumps({**entry, "run_id": run_id}, sort_keys=True, default=str) + "\n").encode("utf-8")
        fd = self._open_locked(self.failures_path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
        try:
            size = os.lseek(fd, 0, os.SEEK_END)
            torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
            _write_all(fd, (b"\n" if torn else b"") + line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _forget_failure(self, run_id: str) -> None:
        """Rewrite failures.jsonl without ``run_id`` (atomically, under its lock) when it is listed."""
        if not os.path.lexists(self.failures_path):
            return
        try:
            fd = self._open_locked(self.failures_path, os.O_RDWR)
        except (OSError, ConfigError) as exc:  # gone meanwhile, or a symlink put there: left alone
            if not isinstance(exc, FileNotFoundError):
                print(f"byzref: warning: {self.failures_path} left as it is: {exc}", file=sys.stderr)
            return
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            data = b"".join(iter(lambda: os.read(fd, 1 << 20), b""))
            lines = [ln for ln in data.split(b"\n") if ln.strip()]
            keep = [ln for ln in lines if _line_run_id(ln) != run_id]
            if len(keep) == len(lines):
                return
            dfd = _open_dir(self.dir)
            try:
                text = b"".join(ln + b"\n" for ln in keep)
                _write_durable(dfd, self.failures_path.name, text, exclusive=False)
            finally:
                os.close(dfd)
        except OSError as exc:  # the run is stored; a stale failure entry is only a diagnostic
            print(f"byzref: warning: could not update {self.failures_path}: {exc}", file=sys.stderr)
        finally:
            os.close(fd)  # after the rename: a writer waiting on the old file then reopens the new one
