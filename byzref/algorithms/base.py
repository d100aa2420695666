"""Common structure of the algorithms.

The server holds x^t and one row per worker, G^t ∈ ℝ^{n×d} (the EF21 states g_i^t, or whatever
the method aggregates). Each iteration

    ĝ^t = Agg(G^t);   x^{t+1} = x^t − γ ĝ^t;   every good worker updates its row at x^{t+1};
    the attack writes the Byzantine rows.

An algorithm is written once as an update of a *block* of workers
(:class:`~byzref.algorithms.base.Block`): the good workers' block, whose rows are a view into the
server's array G (an honest worker's copy equals the server's), and, when the attack needs it, a
*shadow* block in which the Byzantine workers run the protocol on their own data (``none``,
``bit_flip``, ``label_flip``).

The definitions of every method, with their sources and the constants of their analyses, are on
:ref:`math-algorithms`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from byzref.compressors.base import CONTRACTIVE, UNBIASED, Compressor
from byzref.errors import ConfigError, check_int, check_real
from byzref.kernels import AlgorithmKernel, template
from byzref.registry import Registry

__all__ = ["ALGORITHMS", "Algorithm", "Block", "Oracle"]

ALGORITHMS = Registry("algorithm")


class Oracle:
    """Per-iteration gradient oracle shared by all blocks (common random numbers).

    Samples for all n workers are drawn once per iteration from the ``samples`` stream, the first
    time a stochastic gradient is requested; every block reads its rows of the same (n, d) result.
    Rows listed in ``flip`` (label-flip attack) are computed with flipped labels.

    Parameters
    ----------
    problem : problems.base.Problem
        The objective; its ``draw``, ``stoch_grads``, ``stoch_grads_pair`` and ``worker_grads`` are
        evaluated for all n workers at once.
    rng : numpy.random.Generator
        The "samples" stream (:ref:`math-streams`).
    batch : int
        Samples per worker and iteration, b ≥ 1.
    flip : slice or None, default None
        Worker rows whose gradients are computed on label-flipped data (the Byzantine rows under the
        ``label_flip`` attack); None: no row is flipped.

    Attributes
    ----------
    grad_evals : int
        Gradient evaluations per worker, counted for the records.
    """

    def __init__(self, problem, rng: np.random.Generator, batch: int, flip: slice | None = None):
        self.problem, self.rng, self.batch, self.flip = problem, rng, batch, flip
        self._bufs: list[np.ndarray] = []  # output buffers, allocated on first use
        self._samples = None
        self._drawn_batch = batch
        self._cache: dict[str, tuple] = {}
        self.grad_evals = 0  # stochastic/full gradient evaluations per worker, for accounting

    def _buf(self, i: int) -> np.ndarray:
        while len(self._bufs) <= i:
            self._bufs.append(np.empty((self.problem.n, self.problem.d)))
        return self._bufs[i]

    def new_iteration(self) -> None:
        """Forget the samples and results of the previous iteration."""
        self._samples = None
        self._cache.clear()

    def _draw(self, batch: int | None = None):
        b = self.batch if batch is None else batch
        if self._samples is None:
            self._samples = self.problem.draw(self.rng, b)
            self._drawn_batch = b
        elif self._drawn_batch != b:  # one draw per iteration: its size cannot change within it
            raise RuntimeError(f"this iteration's samples were drawn with batch {self._drawn_batch}, not {b}")
        return self._samples

    def _flip_rows(self, out: np.ndarray, x: np.ndarray, samples) -> None:
        if self.flip is not None:
            out[self.flip] = self.problem.flipped_stoch_grads(x, samples)[self.flip]

    def stoch(self, x: np.ndarray, rows: slice, batch: int | None = None) -> np.ndarray:
        """∇f_i(x; ξ_i^t) for the workers in ``rows`` (one draw per iteration).

        Parameters
        ----------
        x : numpy.ndarray
            The (d,) point.
        rows : slice
            The workers whose gradients are returned.
        batch : int or None, default None
            Samples per worker of this iteration's draw; None: the run's b. Round 0 may draw
            ``init_batch`` times more (:meth:`~byzref.algorithms.base.Algorithm.round0_stoch`).
            Within one iteration every call must ask for the same size (RuntimeError otherwise).

        Returns
        -------
        numpy.ndarray
            The (len(rows), d) gradients, a view of a buffer the oracle reuses: read it before the
            oracle's next call.
        """
        key = "stoch"
        s = self._draw(batch)
        if key not in self._cache:
            g = self.problem.stoch_grads(x, s, out=self._buf(0))
            self._flip_rows(g, x, s)
            self._cache[key] = (g,)
        return self._cache[key][0][rows]

    def pair(self, x_new: np.ndarray, x_old: np.ndarray, rows: slice) -> tuple[np.ndarray, np.ndarray]:
        """(∇f_i(x_new; ξ), ∇f_i(x_old; ξ)) with the SAME sample ξ_i^t for the workers in ``rows``.

        Parameters
        ----------
        x_new, x_old : numpy.ndarray
            The two (d,) points, x^{t+1} and x^t.
        rows : slice
            The workers whose gradients are returned.

        Returns
        -------
        tuple of numpy.ndarray
            The two (len(rows), d) arrays (views of the oracle's buffers).
        """
        key = "pair"
        if key not in self._cache:
            s = self._draw()
            a, b = self.problem.stoch_grads_pair(x_new, x_old, s, out_new=self._buf(0), out_old=self._buf(1))
            self._flip_rows(a, x_new, s)
            self._flip_rows(b, x_old, s)
            self._cache[key] = (a, b)
        a, b = self._cache[key]
        return a[rows], b[rows]

    def full(self, x: np.ndarray, rows: slice) -> np.ndarray:
        """Full local gradients ∇f_i(x) for the workers in ``rows`` (no samples drawn).

        Parameters
        ----------
        x : numpy.ndarray
            The (d,) point.
        rows : slice
            The workers whose gradients are returned.

        Returns
        -------
        numpy.ndarray
            The (len(rows), d) gradients (a view of the oracle's buffer).
        """
        key = "full"
        if key not in self._cache:
            g = self.problem.worker_grads(x, out=self._buf(0))
            if self.flip is not None:
                g[self.flip] = self.problem.flipped_worker_grads(x)[self.flip]
            self._cache[key] = (g,)
        return self._cache[key][0][rows]


@dataclass
class Block:
    """A contiguous block of workers running the protocol.

    Parameters
    ----------
    rows : numpy.ndarray
        The (m, d) rows this block contributes to the server's array (a view into G for the good
        block).
    workers : slice
        Worker indices of the block (rows of the oracle's (n, d) results).
    oracle : Oracle
        The iteration's shared gradient oracle.
    rng : numpy.random.Generator
        Compressor randomness of this block.
    state : dict of numpy.ndarray, optional
        Method-specific per-worker arrays (momenta, shifts, ...); empty at first.
    msg : numpy.ndarray or None, default None
        The (m, d) messages sent this iteration (for the "message" attack target); may be a view of
        ``rows`` when the message is the row itself, so it is read right after the step.
    """

    rows: np.ndarray
    workers: slice
    oracle: Oracle
    rng: np.random.Generator
    state: dict[str, Any] = field(default_factory=dict)
    msg: np.ndarray | None = None


class Algorithm:
    """Base class of the methods; subclasses implement ``init``, ``step`` and (optionally) ``kernel``.

    The server step x^{t+1} = x^t − γ ĝ^t, ĝ^t = Agg(G^t), is the engine's; a method defines what a
    worker's row (and its message) is. See :ref:`math-algorithms`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.
    batch : int, default 1
        Samples per worker and iteration, b ≥ 1 (methods with ``stochastic = False`` drop it).

    Attributes
    ----------
    name : str
        The registered name (set by the registry).
    compressor_class : "contractive", "unbiased" or None
        The class the method's analysis needs (contractive 𝔹(α) or unbiased 𝕌(ω)); None for methods
        without compression (the compressor must be ``identity``).
    stochastic : bool
        Whether the method uses stochastic gradients (and so a batch size).
    message_kind : "increment", "replace" or "marina"
        How the server turns a message into a row: g_j += msg (EF21 family), row = msg, or
        Byz-VR-MARINA's coin-dependent rule (:meth:`~byzref.algorithms.base.Algorithm.apply_message`).
    param_ranges : dict of str to str
        Descriptions of the parameters' allowed values, for the registry's messages.
    preset_of : str or None
        For the non-Byzantine presets (``dm21``, ``ef21_sgdm``, ``ef21``): the Byzantine method they
        specialise; a preset forces mean aggregation, f = 0 and no attack. None otherwise.
    released_round0 : "dead", "live" or None
        Round 0 under the run-level protocol "released" (the Byz-DM21 authors' released simulator):
        "dead" when its messages are zeros (the workers only initialise, x¹ = x⁰, and a second round
        at x⁰ with a new batch makes the first rows), "live" when round 0's messages are the first
        rows, None when the method is not part of that protocol.
    """

    name: ClassVar[str] = "?"
    # descriptions of the parameters' allowed values, for the registry's messages
    param_ranges: ClassVar[dict[str, str]] = {"gamma": "a real number in (0, inf)",
                                              "batch": "an integer in [1, inf]"}
    compressor_class: ClassVar[str | None] = CONTRACTIVE
    stochastic: ClassVar[bool] = True
    message_kind: ClassVar[str] = "increment"
    test_config: ClassVar[dict[str, Any]] = {}
    # presets force mean aggregation, f = 0 and no attack (e.g. "dm21" = EF21-SGD2M).
    preset_of: ClassVar[str | None] = None
    # round 0 of the Byz-DM21 authors' released simulator (protocol "released"); see the class
    # docstring.
    released_round0: ClassVar[str | None] = None

    def __init__(self, gamma: float, batch: int = 1):
        self.gamma = check_real("gamma", gamma, 0.0, None, lo_open=True)
        self.batch = check_int("batch", batch, 1)

    def params(self) -> dict[str, Any]:
        """Hyper-parameters as a plain dict.

        ``init_batch`` = 1 (the default round 0) is left out, so canonical configs and run ids of runs
        without it are unchanged.

        Returns
        -------
        dict
            Parameter name to value, the keyword arguments that rebuild the instance.
        """
        out = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        if out.get("init_batch") == 1:
            del out["init_batch"]
        return out

    def _check_init_batch(self, init_batch) -> int:
        """Validate and store ``init_batch`` (methods whose round 0 is one stochastic gradient)."""
        self.init_batch = check_int("init_batch", init_batch, 1)
        return self.init_batch

    def round0_stoch(self, blk: Block, x0: np.ndarray) -> np.ndarray:
        r"""Round 0's stochastic gradients s_i = (1/(b·b₀)) Σ_{j<b·b₀} ∇f_i(x⁰; ξ_ij), b₀ = ``init_batch``.

        One draw of b·b₀ samples per worker from the "samples" stream
        (:meth:`~byzref.algorithms.base.Oracle.stoch` with ``batch = b·b₀``), so the noise variance
        is σ²/(b·b₀); with b₀ = 1 the same draw as every later iteration's.

        Parameters
        ----------
        blk : Block
            The block of workers.
        x0 : numpy.ndarray
            The (d,) starting point x⁰.

        Returns
        -------
        numpy.ndarray
            The block's (m, d) gradients (a view of the oracle's buffer).
        """
        return blk.oracle.stoch(x0, blk.workers, batch=self.batch * getattr(self, "init_batch", 1))

    def python_only(self) -> str | None:
        """Why this instance runs only in the Python loop (the compiled engine refuses it), or None.

        A round-0 batch (``init_batch`` > 1) has no kernel: the problems' compiled oracles are built for
        one batch size per run.

        Returns
        -------
        str or None
            The reason, or None when the compiled engine can run this instance.
        """
        b0 = getattr(self, "init_batch", 1)
        if b0 > 1:
            return (f"algorithm {self.name!r} with init_batch = {b0} (a round-0 batch) runs only in the "
                    "Python loop")
        return None

    def _check_kernel(self) -> None:
        """Raise NotImplementedError when :meth:`python_only` gives a reason (called by ``kernel``)."""
        why = self.python_only()
        if why is not None:
            raise NotImplementedError(why)

    def check_compressor(self, comp: Compressor) -> None:
        """Raise ConfigError when the compressor's declared class does not fit the method.

        Parameters
        ----------
        comp : byzref.compressors.base.Compressor
            The run's compressor: it must declare ``compressor_class`` among its ``classes``, or be
            ``identity`` when the method does not compress.

        Raises
        ------
        byzref.errors.ConfigError
            When it does not fit.
        """
        need = self.compressor_class
        if need is None:
            if comp.name != "identity":
                raise ConfigError(f"algorithm {self.name!r} does not compress; use compressor 'identity'")
            return
        if need not in comp.classes:
            have = ", ".join(comp.classes) or "none"
            hint = ("a contractive compressor in 𝔹(α) such as top_k or rand_k_biased"
                    if need == CONTRACTIVE else
                    "an unbiased compressor in 𝕌(ω) such as rand_k, natural or qsgd")
            raise ConfigError(
                f"algorithm {self.name!r} needs {hint}; compressor {comp.name!r} is declared {have}"
            )

    def init(self, blk: Block, x0: np.ndarray, comp: Compressor) -> float:
        """Initialise the block at x⁰: write ``blk.rows`` (and ``blk.msg``, ``blk.state``).

        Parameters
        ----------
        blk : Block
            The block of workers (good workers, or the Byzantine workers' shadow block).
        x0 : numpy.ndarray
            The (d,) starting point x⁰.
        comp : byzref.compressors.base.Compressor
            The run's compressor.

        Returns
        -------
        float
            Uplink bits per worker.
        """
        raise NotImplementedError

    def released_init(self, blk: Block, x0: np.ndarray, comp: Compressor) -> float:
        """The workers' state after round 0 of the authors' released simulator (protocol "released").

        Default: :meth:`~byzref.algorithms.base.Algorithm.init`. With ``released_round0 == "dead"``
        the rows written here are the workers' own g (the server's rows stay zero in that round) and the
        returned bits are ignored.

        Parameters
        ----------
        blk : Block
            The block of workers (good workers, or the Byzantine workers' shadow block).
        x0 : numpy.ndarray
            The (d,) starting point x⁰.
        comp : byzref.compressors.base.Compressor
            The run's compressor.

        Returns
        -------
        float
            Uplink bits per worker.
        """
        return self.init(blk, x0, comp)

    def step(self, blk: Block, x_new, x_old, g_hat, comp: Compressor) -> float:
        """Update the block at x^{t+1}: write ``blk.rows`` and ``blk.msg``.

        Parameters
        ----------
        blk : Block
            The block of workers.
        x_new : numpy.ndarray
            The (d,) new point x^{t+1}.
        x_old : numpy.ndarray
            The (d,) previous point x^t (methods with gradient differences evaluate both).
        g_hat : numpy.ndarray
            The (d,) aggregate ĝ^t that moved x^t to x^{t+1} (read by Byz-VR-MARINA).
        comp : byzref.compressors.base.Compressor
            The run's compressor.

        Returns
        -------
        float
            Uplink bits per worker.
        """
        raise NotImplementedError

    def apply_message(self, rows: np.ndarray, msg: np.ndarray, g_hat: np.ndarray) -> None:
        """Server side of the "message" attack target: turn Byzantine messages into rows.

        ``message_kind`` "increment": rows += msg; otherwise rows = msg.

        Parameters
        ----------
        rows : numpy.ndarray
            The (f, d) Byzantine rows of the server's array, updated in place.
        msg : numpy.ndarray
            The (f, d) messages the attack wrote.
        g_hat : numpy.ndarray
            The (d,) previous aggregate ĝ^t (used by Byz-VR-MARINA).
        """
        if self.message_kind == "increment":
            rows += msg
        else:
            rows[...] = msg

    def iteration_setup(self, rng: np.random.Generator) -> None:
        """Draw per-iteration shared randomness (e.g. MARINA's coin) from the "algorithm" stream.

        The default draws nothing.

        Parameters
        ----------
        rng : numpy.random.Generator
            The run's "algorithm" stream (:ref:`math-streams`).
        """

    def kernel(self, comp: Compressor, n: int, d: int) -> AlgorithmKernel:
        """The compiled engine's form of this method (see :class:`byzref.kernels.AlgorithmKernel`).

        ``init``/``step`` are templates that call the bound names ``stoch(ok, x)`` (the block's
        stochastic gradients at x, samples drawn once per iteration), ``pair(ok, x_new, x_old)``
        (both with the same samples), ``full(ok, x)``, ``scratch(ok)`` (the buffer that ``stoch``,
        ``full`` and the first half of ``pair`` return, free once the gradients are read) and
        ``compress(ck, X, out)`` (the run's compressor with the block's stream), and perform the
        same floating-point operations as :meth:`~byzref.algorithms.base.Algorithm.init` and
        :meth:`~byzref.algorithms.base.Algorithm.step`. The message buffer ``msg`` is the buffer of
        ``pair``'s second half: it is written only after the gradients have been read.

        Parameters
        ----------
        comp : byzref.compressors.base.Compressor
            The run's compressor (its message size enters the bit counts).
        n : int
            Number of workers.
        d : int
            Dimension.

        Returns
        -------
        byzref.kernels.AlgorithmKernel
            The parameters, the number of per-worker state arrays and the four functions.

        Raises
        ------
        NotImplementedError
            When the method has no kernel, or this instance runs only in the Python loop
            (:meth:`~byzref.algorithms.base.Algorithm.python_only`).
        """
        raise NotImplementedError(f"algorithm {self.name!r} has no kernel")

    def _bits(self, comp: Compressor, d: int) -> tuple[float, float]:
        """(bits of an uncompressed d-vector, bits of one compressed message)."""
        return float_bits(comp, d), float(comp.bits(d))


@template
def no_setup(ap, rng):  # pragma: no cover - compiled
    """No shared randomness per iteration."""
    return 0


@template
def increment_message(ap, rows, B, g_hat):  # pragma: no cover - compiled
    """Server side of a message for the EF21 family: g_j += m_j."""
    for i in range(rows.shape[0]):
        for j in range(rows.shape[1]):
            rows[i, j] += B[i, j]


@template
def replace_message(ap, rows, B, g_hat):  # pragma: no cover - compiled
    """Server side of a message that replaces the row."""
    for i in range(rows.shape[0]):
        for j in range(rows.shape[1]):
            rows[i, j] = B[i, j]


def float_bits(comp: Compressor, d: int) -> float:
    """Bits of one uncompressed d-vector."""
    return float(d * comp.float_bits)


def compress_into(comp: Compressor, X: np.ndarray, rng) -> np.ndarray:
    """C applied to every row of the C-contiguous (m, d) array X, bypassing per-call validation."""
    return comp._compress(X, rng)


UNBIASED_ = UNBIASED  # re-exported for algorithm modules
