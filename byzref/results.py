"""Run records: config, seeds, versions, status and summary as JSON; curves as .npz (no pickle).

Files of a run with id ``RID`` in directory ``DIR``: ``DIR/RID.json`` and ``DIR/RID.npz``.

What :meth:`Result.save` guarantees, and the order in which it writes (under an exclusive
``fcntl.flock`` on ``DIR``, so two saves of one run into one folder cannot interleave):

1. ``RID.json`` must not exist (nor a symlink of that name): a finished result is never replaced.
2. ``RID.npz`` is written to a temporary file ``.RID.npz.<pid>.<tag>.tmp``, flushed and fsynced,
   renamed onto ``RID.npz`` (a leftover of a save killed before step 3 is replaced; a symlink there is
   replaced, never followed), then ``DIR`` is fsynced.
3. ``RID.json`` (the record, with the size and sha256 of the .npz bytes) is written the same way to a
   temporary file and then hard-linked to its name, which fails when the name exists: the record is
   created exclusively, never renamed over an existing one. ``DIR`` is fsynced again.

So a ``RID.json`` exists only when its curves were durable before it, and :func:`load_result` checks the
curves against the recorded size and hash (records written before byzref 0.2.1 carry no hash: their
curves are checked by reading every array). Files are created with mode ``0o666 & ~umask`` (as by
``open``). A temporary file is named after the writer's pid; one left by a killed writer is removed
by the next writer that opens the folder once that pid is gone and the file is older than
:data:`STALE_AFTER` seconds. :func:`prepare_run_dir` makes the checks of a save before a run is computed.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import json
import math
import os
import platform
import re
import secrets
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from byzref.errors import ConfigError

__all__ = ["STALE_AFTER", "DamagedCurves", "Result", "load_result", "prepare_run_dir", "versions"]

#: seconds after which a temporary file of a writer whose pid is gone counts as stale
STALE_AFTER = 60.0

# ".<target>.<pid>.<8 hex>.tmp" (this module) or ".<target>.<8 chars>.tmp" (tempfile.mkstemp, byzref
# ≤ 0.2.0); target: a result file or the writability probe
_TMP = re.compile(r"^\.(?P<target>.+?(?:\.npz|\.json|\.jsonl)|byzref-probe)"
                  r"\.(?:(?P<pid>\d+)\.[0-9a-f]{8}|[a-z0-9_]{8})\.tmp$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]+$")


class DamagedCurves(ConfigError):
    """A run's curve file is missing, a symlink, or differs from what its record says.

    A :class:`~byzref.errors.ConfigError`, raised by :func:`byzref.results.load_result`.

    Parameters
    ----------
    message : str
        One line naming the .npz path and what is wrong with it.
    field : str or None, optional
        Unused here (default None); inherited from ConfigError.
    """


def versions() -> dict[str, str]:
    """Versions of the software a result was produced with.

    Returns
    -------
    dict of str
        ``byzref``, ``numerics`` (:data:`byzref.config.NUMERICS`), ``python``, ``numpy``, ``numba``
        and ``platform``.
    """
    import numba

    import byzref
    from byzref.config import NUMERICS

    return {"byzref": byzref.__version__, "numerics": str(NUMERICS), "python": sys.version.split()[0],
            "numpy": np.__version__, "numba": numba.__version__, "platform": platform.platform()}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)  # JSON has no inf/nan
    return obj


# --- files -----------------------------------------------------------------------------------------
def _tmp_name(name: str) -> str:
    """A temporary file name for ``name``, unique to this process (its pid) and call."""
    return f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    except (OverflowError, ValueError):
        return False
    return True


def _tmp_files(directory: str | os.PathLike, remove: bool = False) -> list[str]:
    """Names of the stale temporary files in ``directory`` (see :data:`STALE_AFTER`); removed with ``remove``.

    Parameters
    ----------
    directory : path
        Folder to look in (a store, its curves folder or a run folder); missing: none.
    remove : bool
        Unlink the stale ones (a live writer's temporary files are never touched).
    """
    d = Path(directory)
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return []
    out, now = [], time.time()
    for name in names:
        m = _TMP.match(name)
        if not m:
            continue
        try:
            st = os.lstat(d / name)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode) or now - st.st_mtime < STALE_AFTER:
            continue
        if m["pid"] is not None and _pid_alive(int(m["pid"])):
            continue
        if remove:
            try:
                os.unlink(d / name)
            except FileNotFoundError:
                continue
        out.append(name)
    return out


def _open_dir(path: str | os.PathLike, follow: bool = True) -> int:
    """A file descriptor of the directory ``path`` (with ``follow=False`` a symlink there is refused)."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        return os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (not follow and os.path.islink(path)):
            raise ConfigError(f"{path} is a symlink; byzref does not follow symlinks inside a results "
                              "folder (replace it by a real folder)") from exc
        if exc.errno == errno.ENOTDIR:
            raise ConfigError(f"{path} is not a directory") from exc
        raise


def _read_file(name: str, dir_fd: int | None = None) -> bytes:
    """The bytes of the regular file ``name`` (relative to ``dir_fd``), never through a symlink.

    Raises OSError: FileNotFoundError, ELOOP for a symlink, EINVAL for anything but a regular file.
    """
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", name)
        return _read_all(fd)
    finally:
        os.close(fd)


def _read_all(fd: int) -> bytes:
    """Everything left to read from the open file ``fd``."""
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_durable(dir_fd: int, name: str, data: bytes, exclusive: bool) -> None:
    """Write ``data`` to ``name`` in the directory ``dir_fd``: temporary file, fsync, then rename (or,
    with ``exclusive``, hard link: FileExistsError when ``name`` exists), then fsync the directory.

    Parameters
    ----------
    dir_fd : int
        Descriptor of the target directory.
    name : str
        File name in it (no slash).
    data : bytes
        The whole content.
    exclusive : bool
        Never replace an existing ``name``.
    """
    tmp = _tmp_name(name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666,
                 dir_fd=dir_fd)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if not exclusive:
            os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        else:
            try:
                os.link(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK):
                    raise
                # a filesystem without hard links: check, then rename (the caller holds the folder lock)
                if _lexists(name, dir_fd):
                    raise FileExistsError(errno.EEXIST, "exists", name) from exc
                os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    finally:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
    os.fsync(dir_fd)


def _lexists(name: str, dir_fd: int | None = None) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _npz_bytes(curves: dict[str, np.ndarray]) -> bytes:
    """The .npz file of ``curves`` as bytes (what is written, hashed and sized)."""
    buf = io.BytesIO()
    np.savez(buf, **curves)
    return buf.getvalue()


def _load_npz(data: bytes) -> dict[str, np.ndarray]:
    """Every array of an .npz file given as bytes (no pickle); raises on a damaged file."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _curves_problem(data: bytes, rec: dict) -> str | None:
    """Why the curve file bytes ``data`` do not match the record ``rec`` (None when they do).

    With ``curves_size`` / ``curves_sha256`` in the record (byzref ≥ 0.2.1) the size and hash decide;
    an older record's curves are checked by reading every array.
    """
    size, sha = rec.get("curves_size"), rec.get("curves_sha256")
    if sha is not None or size is not None:
        if size is not None and len(data) != size:
            return f"{len(data)} bytes, the record says {size}"
        if sha is not None and hashlib.sha256(data).hexdigest() != sha:
            return "content differs from the recorded sha256"
        return None
    try:
        _load_npz(data)
    except Exception as exc:  # any failure to read means the file is damaged
        return f"unreadable .npz ({type(exc).__name__}: {exc})"
    return None


def _os_problem(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "missing"
    if exc.errno == errno.ELOOP:
        return "a symlink (not followed)"
    return f"unreadable ({exc.strerror or exc})"


def _check_id(run_id: str) -> None:
    if not isinstance(run_id, str) or not _SAFE_ID.match(run_id):
        raise ConfigError(f"run id {run_id!r} is not a file name (letters, digits, '_', '-')")


def prepare_run_dir(out_dir: str | os.PathLike, run_id: str) -> None:
    """Check, before a run is computed, that its result can be saved to ``out_dir``; create the folder.

    Refused with a :class:`~byzref.errors.ConfigError` naming the path: ``out_dir`` exists and is not a
    directory (a symlink to a directory is accepted: it is the folder the user named), cannot be
    created, is not writable (a temporary file is created and removed), or ``out_dir/RID.json`` exists
    (finished results are never overwritten). Stale temporary files of killed writers are removed.

    Parameters
    ----------
    out_dir : path
        The output folder of ``byzref run``.
    run_id : str
        Id of the run about to be computed.
    """
    _check_id(run_id)
    out = ensure_dir(out_dir)
    js = out / f"{run_id}.json"
    if os.path.lexists(js):
        raise ConfigError(f"{js} exists; finished results are never overwritten (use another --out)")
    _probe_writable(out, "output folder")
    _tmp_files(out, remove=True)


def ensure_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """The folder ``path``, created if missing; a ConfigError naming ``--out`` when it is something
    else or cannot be created (``what``: the folder's role in the message)."""
    out = Path(path)
    if os.path.lexists(out) and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a directory; --out must name a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot create the {what} ({exc.strerror or exc}); "
                          "--out must be a folder that can be created") from exc
    return out


def _probe_writable(directory: Path, what: str) -> None:
    """Create and remove a temporary file in ``directory``; a ConfigError naming it when that fails."""
    name = directory / _tmp_name("byzref-probe")
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise ConfigError(f"--out {directory}: the {what} is not writable ({exc.strerror or exc}); "
                          "--out must be a writable folder") from exc


@dataclass
class Result:
    """The outcome of one run, as :func:`byzref.engine.run` returns it and :func:`load_result` reads it.

    The constructor's parameters are kept as attributes of the same names.

    Parameters
    ----------
    config : dict
        The normalized config (defaults filled in; :func:`byzref.config.normalize`).
    run_id : str
        Hash of the canonical config (:func:`byzref.config.run_id`).
    status : str
        ``"ok"``, ``"stalled"`` (finished, but its progress ratio is at least
        :data:`byzref.engine.STALL_RATIO`) or ``"diverged"``.
    diverged_at : int or None
        Iteration at which the run diverged; None otherwise.
    curves : dict of numpy.ndarray
        Per checkpoint: ``iteration``, ``bits_up`` / ``bits_down`` (cumulative per worker),
        ``grad_sq`` = ‖∇f(xᵗ)‖², ``grad_sq_avg`` (running average over the iterates whose gradient
        was evaluated, every ``record.grad_every``-th: the ε-stationarity metric E‖∇f(x̂)‖² with x̂
        uniform over the iterates), ``f_gap`` = f(xᵗ) − f*, ``dist`` = ‖xᵗ − x*‖ (NaN when x* is
        unknown), ``agg_err`` = ‖ĝᵗ − mean of the good rows‖² (NaN at the last checkpoint).
    summary : dict
        ``avg_grad_sq`` = (1/T) Σ_{t<T} ‖∇f(xᵗ)‖² (over the iterates before divergence for a diverged
        run), ``final_grad_sq``, ``final_f_gap``, ``bits_up_per_worker``, ``bits_down_per_worker``,
        ``iterations`` (T, or the divergence iteration) and ``progress_ratio``
        (:func:`byzref.engine.progress_ratio`, NaN unless the run finished).
    constants : dict, optional
        The problem's theory constants (L, Lᵢ, L̃, μ, f*, σ², B, ζ² where it has them;
        :class:`problems.base.Constants`); default empty.
    versions : dict, optional
        :func:`versions` of the producing software; default empty.
    wall_time : float, optional
        Seconds the run took (default 0.0).
    """

    config: dict
    run_id: str
    status: str
    diverged_at: int | None
    curves: dict[str, np.ndarray]
    summary: dict[str, Any]
    constants: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    wall_time: float = 0.0

    def record(self) -> dict[str, Any]:
        """The JSON record (everything but the curves).

        Returns
        -------
        dict
            JSON-ready values (non-finite floats as the strings ``"inf"``, ``"nan"``), with a
            top-level ``seed``.
        """
        return _jsonable({"run_id": self.run_id, "status": self.status, "diverged_at": self.diverged_at,
                          "config": self.config, "seed": self.config.get("seed"),
                          "summary": self.summary, "constants": self.constants,
                          "versions": self.versions, "wall_time": self.wall_time})

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``RID.npz`` then ``RID.json`` into ``out_dir`` (module docstring); return the JSON path.

        Parameters
        ----------
        out_dir : path
            Output folder (created if missing; see :func:`prepare_run_dir` for what is refused).

        Returns
        -------
        pathlib.Path
            The path of ``RID.json``.

        Raises
        ------
        FileExistsError
            When ``RID.json`` exists (finished results are never overwritten).
        ConfigError
            When the folder cannot hold the result.
        """
        _check_id(self.run_id)
        out = ensure_dir(out_dir)
        js, npz = f"{self.run_id}.json", f"{self.run_id}.npz"
        data = _npz_bytes(self.curves)
        rec = {**self.record(), "curves": npz, "curves_size": len(data),
               "curves_sha256": hashlib.sha256(data).hexdigest()}
        text = json.dumps(rec, indent=1, sort_keys=True).encode("utf-8")
        exists = FileExistsError(f"{out / js} exists; finished results are never overwritten")
        dfd = _open_dir(out)
        try:
            fcntl.flock(dfd, fcntl.LOCK_EX)
            if _lexists(js, dfd):
                raise exists
            _tmp_files(out, remove=True)
            try:
                _write_durable(dfd, npz, data, exclusive=False)
                _write_durable(dfd, js, text, exclusive=True)
            except FileExistsError:
                raise exists from None
            except PermissionError as exc:
                raise ConfigError(f"--out {out}: the output folder is not writable ({exc.strerror}); "
                                  "--out must be a writable folder") from exc
        finally:
            os.close(dfd)  # releases the lock
        return out / js


def _from_record(rec: dict, curves: dict[str, np.ndarray]) -> Result:
    """A :class:`Result` from its JSON record and its curves."""
    summary = {k: (float(v) if v in ("inf", "-inf", "nan") else v) for k, v in rec["summary"].items()}
    return Result(config=rec["config"], run_id=rec["run_id"], status=rec["status"],
                  diverged_at=rec["diverged_at"], curves=curves, summary=summary,
                  constants=rec.get("constants", {}), versions=rec.get("versions", {}),
                  wall_time=rec.get("wall_time", 0.0))


def load_result(path: str | os.PathLike) -> Result:
    """Load a result from its ``.json`` path (curves from the sibling ``.npz``, checked, without pickle).

    Parameters
    ----------
    path : path
        The ``RID.json`` file written by :meth:`Result.save`.

    Returns
    -------
    Result

    Raises
    ------
    DamagedCurves
        When the .npz is missing, a symlink, or does not match the record.
    """
    js = Path(path)
    rec = json.loads(js.read_text())
    npz = js.with_suffix(".npz")
    try:
        data = _read_file(str(npz))
    except OSError as exc:
        raise DamagedCurves(f"{npz}: curves {_os_problem(exc)}") from exc
    problem = _curves_problem(data, rec)
    if problem:
        raise DamagedCurves(f"{npz}: {problem}")
    return _from_record(rec, _load_npz(data))
