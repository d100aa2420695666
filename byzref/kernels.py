"""The kernel protocol of the compiled engine: what each component supplies, and how it is bound.

Every registered component carries, next to its Python definition, a *kernel*: a Numba function
that computes the same numbers from plain arrays. The compiled engine (:mod:`byzref.compiled`)
composes the kernels of one run's algorithm, compressor, aggregator pipeline, attack and problem
into one jitted loop; the Python loop of :mod:`byzref.engine` stays the readable reference, and the
two must give the same curves bit for bit.

A component's ``kernel(...)`` method returns a :class:`Kernel` ``(fn, params)``: ``fn`` is a
module-level function and ``params`` a non-empty tuple of scalars and arrays (scratch arrays and
state included) that is passed back to ``fn`` on every call. ``fn`` is either

* an ``@njit(cache=True)`` function that calls only other jitted functions, or
* a *template*: a plain function marked with :func:`template` that also calls free names bound
  per run by :func:`bind` (``probe`` for attacks; ``stoch``, ``pair``, ``full``, ``scratch`` and
  ``compress`` for algorithms). Templates that call other templates of their module are bound recursively.

Random numbers come from the same ``numpy.random.Generator`` objects (the named streams of
:mod:`byzref.rng`) that the Python loop uses: Numba draws from a Generator in place, with NumPy's
algorithms, so a kernel that makes the same calls (``rng.random(k)``, ``rng.integers``,
``rng.permutation``, ``rng.normal`` …) in the same order as the Python method consumes the stream
identically. Calls that draw an array fill it in C order, so ``rng.random((m, k))`` equals m calls
of ``rng.random(k)``.

Signatures (``X`` and ``H`` are read only; outputs are written in full):

compressor ``kernel(n, d)``
    ``fn(params, X, rng, out)``: ``out[r] = C(X[r])`` for every row of the (m, d) array ``X``
    (m ≤ n), consuming ``rng`` as ``_compress(X, rng)`` does.
pre-aggregator ``kernel(n, d)``
    ``fn(params, X, rng, out)``: ``out`` (``out_rows(n)``, d) from the (n, d) input, as ``_apply``.
aggregator ``kernel(n, d)`` (n = the rows it receives)
    ``fn(params, X, rng, commit, out)``: ``out`` (d,) = Agg(X), as ``_aggregate``; with
    ``commit`` true the state held in ``params`` is updated as ``_commit`` does (a server call),
    with ``commit`` false it is only read (an adversary's probe). The state starts as after
    ``reset()``.
attack ``kernel(n, f, d)``
    ``fn(params, H, own, t, rng, pk, out)``: the (f, d) Byzantine rows from the (n − f, d) good
    rows ``H``, as ``attack(H, ctx, rng)`` at iteration ``t``; ``own`` (f, d) holds
    ``ctx.own_rows()`` (the Byzantine workers' protocol rows, also ``ctx.flipped_rows()`` under
    label flip). A template may call ``probe(pk, X, out)``: the run's aggregator pipeline on a full
    (n, d) array without side effects (``ctx.aggregate``).
problem ``kernel(batch)`` returns a :class:`ProblemKernel`
    ``draw(pp, rng, smp)`` consumes ``rng`` as ``draw(rng, batch)`` and keeps what the gradients need
    in the sample buffer ``smp``; ``stoch(pp, x, smp, lo, hi, flip, out)`` writes rows lo..hi−1 of
    ``stoch_grads(x, samples)`` (``flipped_stoch_grads`` when ``flip``) into ``out[:hi − lo]``;
    ``pair(pp, x_new, x_old, smp, lo, hi, flip, out_new, out_old)`` as ``stoch_grads_pair`` (two
    flipped evaluations when ``flip``); ``full(pp, x, lo, hi, flip, out)`` as ``worker_grads``
    (``flipped_worker_grads``); ``grad(pp, x, out)`` as ``grad(x)``.
algorithm ``kernel(comp, n, d)`` returns an :class:`AlgorithmKernel`
    Its functions and their arguments are listed there; the algorithms' side is in
    :mod:`byzref.algorithms.base`.

A kernel that cannot reproduce its Python method bit for bit (an order of summation that must
differ) says why next to its code; the conformance tests then compare within 1e-12 relative.
"""

from __future__ import annotations

import types as pytypes
from typing import Any, NamedTuple

from numba import njit, types
from numba.core import cgutils
from numba.core.registry import CPUDispatcher
from numba.extending import intrinsic

__all__ = ["NUMERIC_METHODS", "AlgorithmKernel", "Kernel", "ProblemKernel", "as_generator", "bind",
           "is_template", "keep_nrt", "kernel_covers", "template"]

#: the methods whose numbers a component's kernel reproduces, per family (base-class names)
NUMERIC_METHODS = {
    "Compressor": ("_compress",),
    "Aggregator": ("_aggregate", "_commit", "reset"),
    "PreAggregator": ("_apply",),
    "Attack": ("_rows", "_vector"),
    "Algorithm": ("init", "step", "iteration_setup", "apply_message"),
    "Problem": ("draw", "stoch_grads", "stoch_grads_pair", "worker_grads", "grad", "flipped_stoch_grads",
                "flipped_worker_grads"),
}


def _definer(cls: type, name: str) -> type | None:
    return next((k for k in cls.__mro__ if name in vars(k)), None)


def kernel_covers(obj) -> bool:
    """Whether ``obj``'s kernel computes what its Python methods compute.

    True when the class that defines ``kernel`` is at least as derived as every class that defines
    one of the family's numeric methods (:data:`NUMERIC_METHODS`): a subclass that changes the maths
    (say ``_compress``) without its own ``kernel`` would otherwise run its parent's kernel.

    Parameters
    ----------
    obj : object
        A component instance (compressor, aggregator, pre-aggregator, attack, algorithm or problem).

    Returns
    -------
    bool
        False also when the class has no ``kernel`` method at all.
    """
    cls = type(obj)
    owner = _definer(cls, "kernel")
    if owner is None:
        return False
    family = next((k.__name__ for k in cls.__mro__ if k.__name__ in NUMERIC_METHODS), None)
    for name in NUMERIC_METHODS.get(family, ()):
        definer = _definer(cls, name)
        if definer is not None and not issubclass(owner, definer):
            return False
    return True


class Kernel(NamedTuple):
    """A component's kernel: the function and the parameters passed back to it on every call.

    Parameters
    ----------
    fn : function
        A module-level ``@njit(cache=True)`` function or a :func:`template`; its signature per
        family is listed in the module docstring.
    params : tuple
        Non-empty tuple of scalars and arrays (scratch arrays and state included), passed as the
        first argument of every call of ``fn``.
    prepare : callable or None, default None
        ``prepare(compile_new)``, called once by the compiled engine when the run really goes compiled,
        before the first call of ``fn``: the place for work that only a compiled run repays (code
        generated for this size, written into ``params``). ``compile_new`` is False when the run goes
        compiled only because its loop already is (a short run under ``auto``): then ``prepare`` must
        not compile anything new. ``fn`` must give the same numbers whether or not ``prepare`` ran.
    """

    fn: Any
    params: tuple
    prepare: Any = None


class ProblemKernel(NamedTuple):
    """A problem's kernels (see the module docstring): parameters, sample buffer and five functions.

    Parameters
    ----------
    params : tuple
        The problem's data (``pp``), passed first to every function.
    samples : object
        The sample buffer ``smp`` that ``draw`` fills and ``stoch``/``pair`` read (arrays, or a
        tuple of them).
    draw : function
        ``draw(pp, rng, smp)``: one iteration's samples, as ``Problem.draw(rng, batch)``.
    stoch : function
        ``stoch(pp, x, smp, lo, hi, flip, out)``: stochastic gradients of workers lo..hi−1, as
        ``stoch_grads`` (``flipped_stoch_grads`` when ``flip``).
    pair : function
        ``pair(pp, x_new, x_old, smp, lo, hi, flip, out_new, out_old)``: the same samples at two
        points, as ``stoch_grads_pair``.
    full : function
        ``full(pp, x, lo, hi, flip, out)``: full local gradients, as ``worker_grads``
        (``flipped_worker_grads``).
    grad : function
        ``grad(pp, x, out)``: the global gradient ∇f(x), as ``grad``.
    """

    params: tuple
    samples: Any
    draw: Any
    stoch: Any
    pair: Any
    full: Any
    grad: Any


class AlgorithmKernel(NamedTuple):
    """An algorithm's kernels: parameters, the number of per-worker state arrays and four functions.

    ``setup(ap, rng)`` draws the iteration's shared randomness (``iteration_setup``);
    ``init(ap, ok, ck, x0, rows, S, msg)`` and ``step(ap, ok, ck, x_new, x_old, g_hat, rows, S, msg)``
    update one block of workers (``rows`` (m, d), state ``S`` (n_state, m, d), the message buffer
    ``msg`` (m, d), which holds the block's message afterwards) and return the uplink bits per worker;
    ``apply_message(ap, rows, B, g_hat)`` is the server side of the "message" attack target.

    Parameters
    ----------
    params : tuple
        The algorithm's parameters and scratch (``ap``), passed first to every function.
    n_state : int
        Number of (m, d) per-worker state arrays a block holds (momenta, previous messages, …).
    setup : function
        ``setup(ap, rng)``, as ``iteration_setup``.
    init : function
        Round 0 of one block, as ``init``; returns the uplink bits per worker.
    step : function
        One iteration t ≥ 1 of one block, as ``step``; returns the uplink bits per worker.
    apply_message : function
        ``apply_message(ap, rows, B, g_hat)``, as ``apply_message``.
    row_messages : bool, default False
        True when ``init``/``step`` never call ``pair`` (so the block's second gradient buffer only
        holds messages) and accept a one-row message buffer: given ``msg`` of shape (1, d) they
        compress and apply the block row by row and keep no block messages. The engine passes such a
        buffer when nothing reads the block's messages (the attack target is not "message") and the
        block holds at least ``byzref.compiled.ROW_MESSAGES_MIN_ENTRIES`` entries, which saves an
        (m, d) array (the d = 10⁶ memory bound).
    """

    params: tuple
    n_state: int
    setup: Any
    init: Any
    step: Any
    apply_message: Any
    row_messages: bool = False


@intrinsic
def as_generator(typingctx, bitgen):  # pragma: no cover - compiled
    """The ``numpy.random.Generator`` over the bit generator ``bitgen``, inside compiled code.

    The compiled loop receives its streams as bit generators (``rng.bit_generator``): Numba's
    unboxing of a Generator allocates a record that only a caller with reference counting releases,
    and the loop has none. This builds the Generator's native value from the bit generator (the same
    state, drawn in place) with no owner record: it must not leave compiled code.
    """
    if not isinstance(bitgen, types.NumPyRandomBitGeneratorType):
        return None
    gen_t = types.NumPyRandomGeneratorType("Generator")

    def codegen(context, builder, signature, args):
        gen = cgutils.create_struct_proxy(gen_t)(context, builder)
        gen.bit_generator = args[0]
        gen.meminfo = cgutils.get_null_value(gen.meminfo.type)
        gen.parent = cgutils.get_null_value(gen.parent.type)
        return gen._getvalue()

    return gen_t(bitgen), codegen


def _names(code) -> set[str]:
    """The global and attribute names a code object uses, nested functions and comprehensions included."""
    out = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, pytypes.CodeType):
            out |= _names(const)
    return out


def _keep_nrt_reached(obj, code, seen=None) -> None:
    """:func:`keep_nrt` on ``obj``, on the jitted attributes ``code`` names of a module ``obj``, and on
    what an ``inline="always"`` jitted function reaches (it is inlined, so its callees are the caller's)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, pytypes.ModuleType):
        for attr in _names(code) if code is not None else ():
            dep = getattr(obj, attr, None)
            if isinstance(dep, CPUDispatcher):
                _keep_nrt_reached(dep, code, seen)
        return
    if not isinstance(obj, CPUDispatcher):
        return
    keep_nrt(obj)
    if obj.targetoptions.get("inline", "never") != "never":
        inner = obj.py_func
        for name in _names(inner.__code__):
            _keep_nrt_reached(inner.__globals__.get(name), inner.__code__, seen)


def keep_nrt(fn) -> None:
    """Make the jitted function ``fn`` compile with Numba's reference counting, whoever calls it first.

    No effect on anything else, or on a function that already chose (``_nrt=`` in its decorator).

    Parameters
    ----------
    fn : object
        Any object; only a ``numba`` CPU dispatcher is changed.
    """
    if isinstance(fn, CPUDispatcher):
        fn.targetoptions.setdefault("_nrt", True)


def template(fn):
    """Mark ``fn`` as a kernel template: compiled only through :func:`bind`, with its free names bound.

    Use as a decorator on a plain (not jitted) module-level function.

    Parameters
    ----------
    fn : function
        The template.

    Returns
    -------
    function
        ``fn`` itself, marked.
    """
    fn.__byzref_template__ = True
    return fn


def is_template(fn) -> bool:
    """Whether ``fn`` is a template (a plain function marked by :func:`template`).

    Parameters
    ----------
    fn : object
        Any object; only functions marked by :func:`template` give True.

    Returns
    -------
    bool
    """
    return bool(getattr(fn, "__byzref_template__", False))


def bind(fn, **names):
    """A jitted copy of the template ``fn`` whose free ``names`` are the given jitted functions.

    Templates that ``fn`` calls from its own module are bound the same way first. A function that is
    already jitted (not a template) is returned unchanged.

    Parameters
    ----------
    fn : function
        A template, or an already jitted function.
    **names : function
        The jitted functions the template's free names stand for (``probe=...``, ``stoch=...``).

    Returns
    -------
    function
        A ``numba.njit(inline="always")`` dispatcher of a copy of ``fn`` with its globals replaced.

    Notes
    -----
    The loop that calls the bound functions is compiled without reference counting (``_nrt=False``,
    see ``byzref/_driver.py``), and Numba lets a jitted function that does not choose inherit that
    setting from the caller that compiles it. So every jitted function the loop calls directly (``fn``
    itself, or the jitted functions a template names) is set to keep reference counting: it then
    compiles the same way whoever calls it first, may allocate, and stays safe to call from Python.
    """
    if isinstance(fn, CPUDispatcher) or not is_template(fn):
        _keep_nrt_reached(fn, None)
        return fn
    glb = dict(fn.__globals__)
    for name in _names(fn.__code__):
        dep = glb.get(name)
        if dep is not fn and is_template(dep):
            glb[name] = bind(dep, **names)
        else:
            _keep_nrt_reached(dep, fn.__code__)
    glb.update(names)
    clone = pytypes.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, fn.__closure__)
    clone.__qualname__ = fn.__qualname__
    return njit(inline="always")(clone)
