"""The compiled engine: one jitted loop per combination of component kernels.

For a run, :func:`loop_module` writes (once) a small module that imports the kernels of the run's
problem, compressor, aggregator pipeline, algorithm and attack (see :mod:`byzref.kernels`), binds
the templates among them, and appends the loop of the private module ``byzref._driver``. Numba compiles that
module's functions on first use and caches them on disk, keyed by the module's file, so a
combination compiles once per machine; a fresh process (a sweep worker) loads it from the cache.

Why one module per combination: the loop calls the kernels as global functions, which Numba
links into the compiled loop. Passing the kernels as arguments instead would compile the same
code, but Numba 0.68 does not reuse such a function from its on-disk cache in a new process
(the cache key includes the addresses of the functions passed), so every process would compile
again.

Where: ``$BYZREF_CACHE_DIR`` if set, else ``$NUMBA_CACHE_DIR/byzref_loops`` if that is set, else
``~/.cache/byzref/loops`` (``$XDG_CACHE_HOME`` respected). The module's name is a hash of its text
(the kernels' names, the loop, the versions of byzref and Numba) and of every source file of the
packages that define the kernels, so any change to that code gives a new loop module. Numba's own
cache of a component's kernel, though, notices only changes to the kernel's file: after editing a
jitted helper that another file calls, delete the cache folder.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import inspect
import os
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import numba
import numpy as np

from byzref import _driver

__all__ = ["COMPILE_SECONDS", "CompiledRun", "NotCompiled", "cache_root", "import_generated", "is_compiled",
           "loop_module", "loop_name", "python_seconds"]

_LOCK = threading.Lock()
_MODULES: dict[str, object] = {}
_READY: set[str] = set()

#: seconds a new combination typically takes to compile on a 2-core machine, with margin: under the
#: default policy (:func:`byzref.engine.run` with ``fast=None``) a combination that was never compiled
#: on this machine is compiled only for a run whose Python loop is estimated to take longer than this
COMPILE_SECONDS = 8.0


class NotCompiled(Exception):
    """The combination is not compiled yet and the run is too short to repay compiling it."""


def python_seconds(T: int, n: int, d: int, stages: int, probes: int = 0) -> float:
    """A rough estimate of the Python reference loop's time for T iterations (n workers, dimension d).

    About 100 µs of interpreter work per iteration plus about 5 ns per worker coordinate and
    aggregator stage, times 1 + the aggregations an adaptive attack probes per iteration (measured
    on a 2-core machine; only used to decide whether to compile):

        T · (10⁻⁴ + 5·10⁻⁹ · n · d · (2 + stages)) · (1 + probes)  seconds.

    Parameters
    ----------
    T : int
        Number of iterations.
    n : int
        Number of workers.
    d : int
        Dimension.
    stages : int
        Stages of the aggregator pipeline (pre-aggregators plus the final rule).
    probes : int, optional
        Aggregations an adaptive attack evaluates per iteration (default 0).

    Returns
    -------
    float
        Estimated seconds.
    """
    return T * (1e-4 + 5e-9 * n * d * (2 + stages)) * (1 + probes)


def attack_probes(attack_cls, params: dict) -> int:
    """The aggregations per iteration an attack of this class makes (its ``evals`` when it probes)."""
    if "aggregate" not in getattr(attack_cls, "requires", ()):
        return 0
    evals = params.get("evals", 20)
    return int(evals) if isinstance(evals, int) else 20
_MARK = "# === body ===\n"

#: a block of more than one row streams its messages through a one-row buffer
#: (``AlgorithmKernel.row_messages``) only when it holds at least this many entries (m·d): below it the
#: saved memory is small and a compressor call per row costs more than the arithmetic (at n = 20, d = 20,
#: before this session's other kernel changes, a Byz-DM21 iteration took 7.2 µs streamed, 5.1 µs in one call)
ROW_MESSAGES_MIN_ENTRIES = 1 << 16


def _stream_rows(allowed: bool, m: int, d: int) -> bool:
    """Whether a block of m rows of length d keeps a one-row message buffer (``allowed``: the algorithm
    streams its messages and nothing reads them)."""
    return allowed and m > 1 and m * d >= ROW_MESSAGES_MIN_ENTRIES


def cache_root() -> Path:
    """The folder that holds the generated loop modules (see the module docstring)."""
    if os.environ.get("BYZREF_CACHE_DIR"):
        return Path(os.environ["BYZREF_CACHE_DIR"])
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]) / "byzref_loops"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "byzref" / "loops"


def _ref(fn) -> tuple[str, str]:
    """(module, attribute) under which a kernel function can be imported."""
    py = getattr(fn, "py_func", fn)
    mod, name = py.__module__, py.__name__
    if mod == "__main__" or getattr(sys.modules.get(mod), name, None) is not fn:
        raise NotImplementedError(f"kernel {mod}.{name} is not a module-level function of an importable "
                                  "module, so no compiled loop can import it")
    return mod, name


_DIGESTS: dict[str, str] = {}


def _package_digest(mod: str) -> str:
    """sha256 of every source file of the top-level package that defines ``mod`` (or of ``mod`` alone).

    The whole package counts because a kernel calls helpers of other modules (byzref.gaussian,
    byzref.attacks._kernels, ...) and Numba's own cache does not notice when a helper changes.
    """
    top = mod.split(".")[0]
    if top in _DIGESTS:
        return _DIGESTS[top]
    h = hashlib.sha256()
    pkg = sys.modules.get(top)
    paths = getattr(pkg, "__path__", None)
    files = sorted((p.relative_to(d).as_posix(), p) for d in paths or [] for p in Path(d).rglob("*.py"))
    if not files:  # a plain module
        src = getattr(sys.modules.get(mod), "__file__", None)
        files = [(Path(src).name, Path(src))] if src else []
    for rel, p in files:
        h.update(rel.encode())
        try:
            h.update(p.read_bytes())
        except OSError:  # pragma: no cover - unreadable source
            pass
    _DIGESTS[top] = h.hexdigest()
    return _DIGESTS[top]


_BODY: list[str] = []


def _driver_body() -> str:
    """The loop's source (read once per process, so a running process never mixes two versions)."""
    if not _BODY:
        _BODY.append(inspect.getsource(_driver).split(_MARK, 1)[1])
    return _BODY[0]


def _module_text(kernels: dict[str, object], n_pre: int) -> str:
    """The generated module: imports, the loop's source, the aggregator pipeline and the bindings."""
    from byzref import __version__

    head = ["# generated by byzref.compiled: the loop of byzref._driver over one combination of kernels",
            f"# byzref {__version__}, numba {numba.__version__}", "from byzref.kernels import bind as _bind"]
    for key, fn in kernels.items():
        mod, name = _ref(fn)
        head.append(f"from {mod} import {name} as _k_{key}")
    body = _driver_body()
    agg = ["", "", "@njit(inline=\"always\")",
           "def agg_eval(ak, X, commit, out):  # pragma: no cover - compiled",
           '    """The aggregator pipeline: pre-aggregators in order, then the final rule (one stream)."""',
           "    rng = as_generator(ak[0])", "    Y = X"]
    for i in range(n_pre):
        agg += [f"    pre_{i}(ak[{2 * i + 1}], Y, rng, ak[{2 * i + 2}])", f"    Y = ak[{2 * i + 2}]"]
    agg += [f"    agg_final(ak[{2 * n_pre + 1}], Y, rng, commit, out)", "", "",
            "@njit(inline=\"always\")", "def probe(pk, X, out):  # pragma: no cover - compiled",
            '    """The pipeline without side effects, on a copy of the aggregator stream\'s state."""',
            "    ak, src, dst = pk", "    for i in range(src.shape[0]):", "        dst[i] = src[i]",
            "    agg_eval(ak, X, False, out)", ""]
    names = "stoch=stoch, pair=pair, full=full, scratch=scratch, compress=compress, probe=probe"
    tail = [""] + [f"{key} = _bind(_k_{key}, {names})" for key in kernels] + [""]
    return "\n".join(head) + "\n" + body + "\n".join(agg) + "\n".join(tail)


_NAMES: dict[tuple, tuple[str, str]] = {}


def loop_name(kernels: dict[str, object], n_pre: int) -> tuple[str, str]:
    """(module name, module text) of the loop of this combination of kernel functions.

    Parameters
    ----------
    kernels : dict
        Kernel functions by their slot in the loop (``"prob_draw"``, ``"comp_fn"``, ``"agg_final"``,
        ``"pre_0"``, …), each a module-level function of an importable module.
    n_pre : int
        Number of pre-aggregators in the pipeline.

    Returns
    -------
    tuple of str
        ``("byzref_loop_<24 hex digits>", source text)``; the hash covers the text and the sources
        of the packages that define the kernels.
    """
    key = (tuple(kernels.items()), n_pre)
    if key not in _NAMES:
        text = _module_text(kernels, n_pre)
        h = hashlib.sha256(text.encode())
        for top in sorted({_ref(fn)[0].split(".")[0] for fn in kernels.values()} | {"byzref"}):
            h.update(_package_digest(top).encode())
        _NAMES[key] = ("byzref_loop_" + h.hexdigest()[:24], text)
    return _NAMES[key]


def is_compiled(name: str) -> bool:
    """Whether the loop ``name`` is compiled in this process or was compiled before on this machine.

    Parameters
    ----------
    name : str
        A loop module's name, as :func:`loop_name` gives it.

    Returns
    -------
    bool
        True when the module is loaded here or its ``.ready`` marker is in :func:`cache_root`.
    """
    return name in _MODULES or (cache_root() / f"{name}.ready").exists()


def mark_compiled(name: str) -> None:
    """Record that the loop ``name`` compiled and ran (its Numba cache now holds it)."""
    try:
        (cache_root() / f"{name}.ready").touch()
    except OSError:  # pragma: no cover - an unwritable cache folder: the next process compiles again
        pass


_WARNED: list[bool] = []


def _write_module(root: Path, name: str, text: str) -> Path:
    """``root/name.py`` with ``text``, created once (never replaced: Numba's cache keys on its timestamp)."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{name}.py"
    try:
        if path.read_text() == text:
            return path
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=root, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)  # atomic, and fails when another process created it first
        except FileExistsError:
            if path.read_text() != text:  # a damaged file (the name is a hash of the text): replace it
                os.replace(tmp, path)
                return path
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def loop_module(kernels: dict[str, object], n_pre: int):
    """Import (writing it first if needed) the loop module of this combination of kernel functions.

    The module is written to :func:`cache_root` (or, when that folder cannot be written, to a
    per-user folder in the temporary directory, with a warning).

    Parameters
    ----------
    kernels : dict
        Kernel functions by slot, as for :func:`loop_name`.
    n_pre : int
        Number of pre-aggregators in the pipeline.

    Returns
    -------
    module
        The imported loop module (its ``advance`` is the jitted loop).
    """
    return import_generated(*loop_name(kernels, n_pre))


def import_generated(name: str, text: str):
    """Import the generated module ``name`` with source ``text``, writing it to :func:`cache_root` first.

    A module is written once and never replaced (Numba's on-disk cache keys on the file), so ``name``
    must change whenever ``text`` does. When the cache folder cannot be written, a per-user folder
    in the temporary directory is used, with a warning. Used for the loop modules and for code that a
    component's kernel generates per size.

    Parameters
    ----------
    name : str
        Module name, a valid identifier that encodes a hash of ``text``.
    text : str
        The module's source.

    Returns
    -------
    module
        The imported module (kept for the life of the process).
    """
    with _LOCK:
        if name in _MODULES:
            return _MODULES[name]
        try:
            path = _write_module(cache_root(), name, text)
        except OSError as exc:  # an unwritable cache folder: a fixed per-user folder in the temp dir
            uid = os.getuid() if hasattr(os, "getuid") else 0
            fallback = Path(tempfile.gettempdir()) / f"byzref_loops_{uid}"
            if not _WARNED:
                _WARNED.append(True)
                warnings.warn(f"byzref: cannot write compiled loops to {cache_root()} ({exc.strerror}); "
                              f"using {fallback}", RuntimeWarning, stacklevel=4)
            path = _write_module(fallback, name, text)
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            del sys.modules[name]
            raise
        _MODULES[name] = mod
        return mod


def _state_words(rng: np.random.Generator) -> np.ndarray:
    """The SFC64 state of ``rng`` (s[4], has_uint32, uinteger: 40 bytes) as a uint64[5] view of its memory."""
    bg = rng.bit_generator
    if not isinstance(bg, np.random.SFC64):
        raise TypeError("the compiled engine expects SFC64 streams (byzref.rng)")
    return np.ctypeslib.as_array((ctypes.c_uint64 * 5).from_address(bg.ctypes.state_address))


_ENTRIES: dict[tuple, object] = {}


def _fingerprint(obj):
    """What Numba's typing of ``obj`` depends on, cheaply for the common cases: for arrays the dtype,
    dimensions, contiguity and flags, for tuples their class and items', for NumPy scalars the dtype, for
    ints whether they fit in int64, for floats, bools and None the Python type, for bit generators (one
    Numba type for every kind) a constant; anything else (a jitted function, a list, ...) by its Numba
    type."""
    cls = type(obj)
    if isinstance(obj, tuple):
        return (cls, *(_fingerprint(o) for o in obj))
    if isinstance(obj, np.ndarray):
        fl = obj.flags
        return (cls, obj.dtype, obj.ndim, fl.c_contiguous, fl.f_contiguous, fl.writeable, fl.aligned)
    if isinstance(obj, np.generic):
        return ("scalar", obj.dtype)
    if cls is int:  # int64, or uint64 beyond its range
        return (int, -(2**63) <= obj < 2**63)
    if cls in (float, bool, type(None)):
        return cls
    if isinstance(obj, np.random.BitGenerator):
        return "bit_generator"
    return ("numba", numba.typeof(obj))


class CompiledRun:
    """The arrays and kernels of one run on the compiled loop; advances it between checkpoints.

    Built from the engine's simulation object (streams, server rows G, blocks), so both loops read
    the same streams in the same order.

    Parameters
    ----------
    sim : object
        The engine's private simulation state of the run (its components, streams, rows and
        config); only :func:`byzref.engine.run` builds one.
    compile_new : bool, optional
        Compile the loop if this combination was never compiled on this machine (default True);
        False raises :class:`NotCompiled` instead.

    Raises
    ------
    NotCompiled
        With ``compile_new=False`` for a combination that is not compiled yet.
    NotImplementedError
        When a kernel is not an importable module-level function.
    """

    def __init__(self, sim, compile_new: bool = True):
        spec, cfg = sim.spec, sim.cfg
        n, f, d = sim.n, sim.f, sim.prob.d
        m = n - f
        # the run's own arrays, not the run: a reference back to it would make a cycle that keeps every
        # state array alive until the cyclic garbage collector runs (GBs at d = 10⁶)
        self.G, self._x, self.n, self.f, self.m, self.d = sim.G, sim.x, n, f, m, d
        alg, comp, agg, prob = sim.alg, sim.comp, sim.agg, sim.prob
        attack = sim.attack
        if f == 0:  # the attack is never called; any kernel will do, and "none" compiles everywhere
            from byzref.attacks.base import ATTACKS
            attack = ATTACKS.build({"name": "none"})
        batch = getattr(alg, "batch", 1)
        pk_ = prob.kernel(batch)
        ak_ = alg.kernel(comp, n, d)
        ck_ = comp.kernel(n, d)
        stages = [*list(getattr(agg, "pre", [])), getattr(agg, "final", agg)]
        pre_kernels, rows = [], n
        for st in stages[:-1]:
            pre_kernels.append((st.kernel(rows, d), st.out_rows(rows)))
            rows = st.out_rows(rows)
        final_ = stages[-1].kernel(rows, d)
        att_ = attack.kernel(n, f, d)
        kernels = {"prob_draw": pk_.draw, "prob_stoch": pk_.stoch, "prob_pair": pk_.pair,
                   "prob_full": pk_.full, "prob_grad": pk_.grad, "comp_fn": ck_.fn,
                   "alg_setup": ak_.setup, "alg_init": ak_.init, "alg_step": ak_.step,
                   "alg_apply": ak_.apply_message, "att_fn": att_.fn, "agg_final": final_.fn}
        for i, (k, _) in enumerate(pre_kernels):
            kernels[f"pre_{i}"] = k.fn
        self.name = loop_name(kernels, len(pre_kernels))[0]
        if not (compile_new or is_compiled(self.name)):
            raise NotCompiled(self.name)
        self.mod = loop_module(kernels, len(pre_kernels))
        for k in (ck_, att_, final_, *(k for k, _ in pre_kernels)):
            if getattr(k, "prepare", None) is not None:  # work only a compiled run repays
                k.prepare(compile_new)

        # the aggregator pipeline: (stream, params₀, buffer₀, …, final params), and the probe's copy
        # the streams go in as bit generators (the loop rebuilds each Generator: byzref.kernels.as_generator)
        ak = [sim.rng_agg.bit_generator]
        for k, out_rows in pre_kernels:
            ak += [k.params, np.empty((out_rows, d))]
        ak.append(final_.params)
        self.ak = tuple(ak)
        self._probe_rng = np.random.Generator(np.random.SFC64(0))
        self.pk = ((self._probe_rng.bit_generator, *ak[1:]), _state_words(sim.rng_agg),
                   _state_words(self._probe_rng))

        drawn = np.zeros(1, dtype=np.int64)
        shadow = sim.shadow is not None
        flip = shadow and sim.attack.name == "label_flip"
        message = f > 0 and spec.target == "message"

        def block(rows_arr, lo, hi, rng_c, flip_rows):
            # the block's arrays: per-worker state S, two gradient buffers; the second also receives the
            # block's messages (an algorithm reads its gradients before it compresses), or is one row
            # when the algorithm streams its messages, nothing reads them and the block is large
            nb = hi - lo
            S = np.zeros((ak_.n_state, nb, d))
            b0 = np.zeros((nb, d))
            b1 = np.zeros((1 if _stream_rows(ak_.row_messages and not message, nb, d) else nb, d))
            ok = (pk_.params, pk_.samples, sim.oracle.rng.bit_generator, lo, hi, flip_rows, b0, b1, drawn)
            return (rows_arr, S, b1, ok, drawn, (ck_.params, rng_c.bit_generator))

        self.good = block(sim.G[:m], 0, m, sim.good.rng, False)
        if shadow:
            self.shadow = block(sim.shadow.rows, m, n, sim.shadow.rng, flip)
        else:
            self.shadow = block(np.zeros((0, d)), m, m, sim.good.rng, False)
        self.attack = (att_.params, sim.rng_att.bit_generator, self.pk, np.zeros((f, d)), np.zeros((f, d)))
        self.alg = (ak_.params, sim.rng_alg.bit_generator)
        self.has_shadow = shadow
        self.message = message
        self.pp = pk_.params
        self.g_hat = np.zeros(d)
        self.x_new, self.gx = np.empty(d), np.empty(d)
        self.acc = np.zeros(5)
        self.gamma = float(alg.gamma)
        self.grad_every = int(cfg["record"]["grad_every"])
        self.diverge_at = float(cfg["record"]["diverge_at"])

    _entry = None

    def start(self, down_bits: float) -> None:
        """Set the downlink bits per round (round 0 itself runs in the first :meth:`advance`).

        Parameters
        ----------
        down_bits : float
            Bits the server sends to each worker per round (d · the compressor's float bits).
        """
        self.acc[4] = down_bits
        self.down_bits = down_bits

    def advance(self, x: np.ndarray, t_from: int, t_to: int, T: int) -> tuple[int, bool]:
        """Run iterations t_from..t_to of the loop; ``x`` is updated in place.

        Iteration 0 is round 0 (every worker's init at x⁰); iteration t ≥ 1 steps into xᵗ. The loop
        stops at ``t_to`` (a checkpoint) with ĝ^{t_to} computed, or earlier at the first iterate that
        diverges (non-finite, or ‖∇f‖² above ``record.diverge_at``). The running sums of ‖∇f‖² and
        the bit counts are kept in ``self.acc``.

        Parameters
        ----------
        x : numpy.ndarray
            The iterate (d,), the engine's own array; on return it holds x^t.
        t_from : int
            First iteration to run (0 for round 0).
        t_to : int
            Last iteration to run, ≤ T.
        T : int
            The run's horizon.

        Returns
        -------
        t : int
            The last iteration reached.
        diverged : bool
            Whether the run diverged at ``t``.
        """
        args = (t_from, t_to, T, self.grad_every, self.diverge_at, self.gamma, self.down_bits, x,
                self.x_new, self.gx, self.G, self.m, self.g_hat, self.pp, self.ak, self.good, self.shadow,
                self.attack, self.alg, self.has_shadow, self.message, self.acc)
        if self._entry is None or x is not self._x or type(t_from) is not int or type(t_to) is not int:
            # the first call of a run finds the loop's entry point for these argument types; typing the
            # nested tuples costs milliseconds, so the entry is kept per loop and argument fingerprint
            # (what Numba's typing reads: Python types, dtypes, dimensions, layouts, flags) and later
            # runs of the same combination in this process skip it; later calls of this run reuse it
            fp = (self.name, _fingerprint(args))
            entry = _ENTRIES.get(fp)
            if entry is None:
                disp = self.mod.advance
                t, bad = disp(*args)
                key = tuple(disp.typeof_pyval(a) for a in args)
                if key in disp.overloads:
                    _ENTRIES[fp] = disp.overloads[key].entry_point
                self._entry = _ENTRIES.get(fp, disp)
                if self.name not in _READY:
                    _READY.add(self.name)
                    mark_compiled(self.name)
                return int(t), bool(bad)
            self._entry = entry
        t, bad = self._entry(*args)
        return int(t), bool(bad)
