"""Common machinery of the finite-sum problems (logistic regression, least squares).

f_i(x) = (1/m_i) Σ_{j∈D_i} ℓ(a_jᵀx; y_j) + r(x). Data come from a synthetic generator, a LIBSVM
file or the bundled breast-cancer set (:mod:`problems.datasets`), normalised and split across ALL n
workers (Byzantine shards included) by :func:`problems.splits.split_workers`.
Samples are LOCAL row indices, shape (n, batch), drawn uniformly WITH replacement from each
worker's own m_i rows; the same array evaluated at two points reuses the same rows.

The problems built on it: :class:`problems.logreg_l2.LogregL2`,
:class:`problems.logreg_nonconvex.LogregNonconvex` and :class:`problems.least_squares.LeastSquares`
(see :ref:`math-problems`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from byzref.errors import ConfigError, check_choice, check_int, check_real
from byzref.kernels import ProblemKernel
from problems._fs_kernels import (
    MARGIN_CHUNK,
    fs_draw,
    fs_full,
    fs_full_grads,
    fs_grad,
    fs_pair,
    fs_stoch,
    fs_stoch_grads,
    fs_stoch_grads_pair,
)
from problems._validate import MAX_SCALE, check_problem_memory
from problems.base import Problem, as_generator, check_workers, finite_array
from problems.datasets import load_dataset
from problems.splits import SPLITS, split_workers

__all__ = ["FiniteSumProblem"]


def _fs_bytes(N: int, d: int, n: int) -> float:
    """Peak bytes of a finite-sum problem: the data, its transpose and their copies (6·N·d), the per-worker
    matrices A_iᵀA_i/m_i and their eigenvalue workspace (2·n·d²) and a few d × d matrices, float64."""
    return 8.0 * (6.0 * N * d + 2.0 * n * d * d + 8.0 * d * d)


class FiniteSumProblem(Problem):
    """Base of the finite-sum problems; subclasses set the loss/regulariser kinds and the constants.

    f_i(x) = (1/m_i) Σ_{j∈D_i} ℓ(a_jᵀx; y_j) + r(x), with worker i owning the m_i rows D_i. The
    parameters below are shared by every finite-sum problem.

    Parameters
    ----------
    data : {"synthetic", "breast_cancer", "libsvm"}, optional
        Source (default "synthetic"). "synthetic": :func:`problems.datasets.make_classification` with
        ``samples_per_worker``·n rows, dimension ``d`` and ``margin``; "breast_cancer": the bundled UCI
        set (569 × 30); "libsvm": the file at ``path`` (``n_features`` fixes d).
    path : str or None, optional
        The LIBSVM file ("libsvm" only).
    n_features : int or None, optional
        Dimension of a LIBSVM file ("libsvm" only; default: its largest feature index).
    samples_per_worker : int or None, optional
        Synthetic rows per worker, ≥ 1 (default 50; "synthetic" only).
    d : int or None, optional
        Synthetic dimension, ≥ 1 (default 20; "synthetic" only).
    margin : float or None, optional
        Synthetic logit scale in [0, 1e6] (default 4; "synthetic" only).
    split : {"iid", "label_skew", "dirichlet"}, optional
        Heterogeneity knob (default "iid"), see :func:`problems.splits.split_workers`.
    skew : float, optional
        Fraction sorted by label for "label_skew", in [0, 1] (default 0; checked whatever the split).
    alpha : float, optional
        Dirichlet concentration for "dirichlet", > 0 (default 1).
    normalize : str, optional
        "auto" (default: unit rows; standardised then unit rows for breast_cancer), "none", "rows",
        "standardize", "standardize_rows" (:func:`problems.datasets.normalize`).
    lam : float or None, optional
        Regularisation weight λ ∈ [0, 1e100] (None: the problem's default; > 0 for logreg_l2).
    n : int
        Workers (keyword-only, required).
    f : int, optional
        Byzantine workers, the last f (keyword-only, default 0).
    rng : numpy.random.Generator or int
        Instance randomness: synthetic data and the split (keyword-only).
    """

    loss_kind: ClassVar[int]
    reg_kind: ClassVar[int]
    default_lam: ClassVar[float]
    #: True when λ must be > 0 (logreg_l2: λ is its PL constant), else λ ≥ 0
    lam_positive: ClassVar[bool] = False
    supports_label_flip: ClassVar[bool] = True

    def __init__(self, data="synthetic", path=None, n_features=None, samples_per_worker=None, d=None,
                 margin=None, split="iid", skew=0.0, alpha=1.0, normalize="auto", lam=None, *,
                 n=None, f=0, rng=None):
        n, f = check_workers(n, f)
        rng = as_generator(rng)
        check_choice("split", split, SPLITS)
        check_real("skew", skew, 0.0, 1.0)  # checked whatever the split, so a typo never hides
        check_real("alpha", alpha, 0.0, lo_open=True)
        if lam is not None:
            check_real("lam", lam, 0.0, MAX_SCALE, lo_open=self.lam_positive)

        def on_size(N, dim):
            """Refuse data of N samples × dim features whose problem would not fit in memory."""
            if data == "synthetic":
                sizes = {"n": n, "samples_per_worker": N // n, "d": dim}

                def nbytes(n, samples_per_worker, d):
                    return _fs_bytes(n * samples_per_worker, d, n)

                check_problem_memory(self.name, sizes, nbytes, "n·samples_per_worker × d data with copies, "
                                     "a d × d matrix per worker, float64")
                return
            key = "n_features" if n_features is not None else "d"

            def nbytes_file(n, **dims):
                return _fs_bytes(N, dims[key], n)

            check_problem_memory(self.name, {"n": n, key: dim}, nbytes_file,
                                 f"{N} × {key} data with copies, a {key} × {key} matrix per worker, float64",
                                 extra=f" and {N} samples in the file")

        ds, how = load_dataset(data, rng, n, path=path, n_features=n_features, scaling=normalize,
                               samples_per_worker=samples_per_worker, d=d, margin=margin, on_size=on_size)
        order, counts = split_workers(ds.y, n, rng, split, skew, alpha)
        self._setup(ds.A[order], ds.y[order], counts, f, lam, None)
        self._params = {"data": data, "path": None if path is None else str(path), "n_features": n_features,
                        "samples_per_worker": samples_per_worker, "d": d, "margin": margin, "split": split,
                        "skew": skew, "alpha": alpha, "normalize": how, "lam": self._lam}
        self._params = {k: v for k, v in self._params.items() if v is not None}

    @classmethod
    def from_arrays(cls, A, y, counts, *, f=0, lam=None, x0=None):
        """Build from rows A (N, d) and labels y (N,) stacked by worker, worker i owning counts[i] rows.

        Parameters
        ----------
        A : array_like, shape (N, d)
            Features, used as given (no normalisation).
        y : array_like, shape (N,)
            Labels ({−1, +1} for the logistic problems).
        counts : array_like of int, shape (n,)
            Rows per worker, each ≥ 1, summing to N; n = len(counts).
        f : int, optional
            Byzantine workers, the last f (default 0).
        lam : float or None, optional
            Regularisation weight (None: the problem's default).
        x0 : array_like or None, optional
            Starting point, shape (d,) (default 0).

        Returns
        -------
        FiniteSumProblem
            An instance of the class it is called on.
        """
        A = finite_array("A", A, 2)
        y = finite_array("y", y, 1)
        c = np.asarray(counts)
        if c.ndim != 1 or c.size == 0 or not np.issubdtype(c.dtype, np.integer):
            raise ConfigError(f"counts must be a 1-D integer array (samples per worker), got {counts!r}")
        obj = cls.__new__(cls)
        obj._setup(A, y, c.astype(np.int64), f, lam, x0)
        obj._params = {"from_arrays": True, "d": A.shape[1], "lam": obj._lam}
        return obj

    def _setup(self, A, y, counts, f, lam, x0):
        N, self.d = A.shape
        if y.shape != (N,):
            raise ConfigError(f"y has shape {y.shape}; expected ({N},) to match A {A.shape}")
        if counts.sum() != N:
            raise ConfigError(f"counts sum to {counts.sum()}, but A has {N} rows")
        if (counts < 1).any():
            i = int(np.argmax(counts < 1))
            raise ConfigError(f"counts: worker {i} has no samples (every worker needs ≥ 1)")
        self.n, self.f = check_workers(counts.size, f)
        self._check_labels(y)
        self._A, self._y = np.ascontiguousarray(A), np.ascontiguousarray(y)
        self._AT = np.ascontiguousarray(self._A.T)  # the full gradients' margins read the columns
        self._counts = np.ascontiguousarray(counts, dtype=np.int64)
        self._off = np.concatenate([[0], np.cumsum(self._counts)]).astype(np.int64)
        self._lam = check_real("lam", self.default_lam if lam is None else lam, 0.0, MAX_SCALE,
                               lo_open=self.lam_positive)
        self._x0 = np.zeros(self.d) if x0 is None else finite_array("x0", x0, 1)
        if self._x0.shape != (self.d,):
            raise ConfigError(f"x0 has shape {self._x0.shape}; expected ({self.d},)")
        g = self.n - self.f
        H = np.stack([self._A[a:b].T @ self._A[a:b] / (b - a) for a, b in zip(self._off[:-1], self._off[1:],
                                                                           strict=True)])
        self._H = H  # A_iᵀA_i/m_i per worker
        self._Hbar = H[:g].mean(axis=0)
        self.constants = self._make_constants(np.linalg.eigvalsh(H)[:, -1], np.linalg.eigvalsh(self._Hbar))

    def _check_labels(self, y):
        if self.loss_kind == 0 and not np.isin(y, (-1.0, 1.0)).all():
            raise ConfigError("y: logistic regression needs labels in {−1, +1}")

    def _make_constants(self, top_i, ev_bar):
        raise NotImplementedError

    # --- NumPy evaluations (not on the per-iteration hot path) --------------------------------------
    def _z(self, x):
        return self._A @ x

    def _sample_losses(self, z, ysign=1.0):
        yz = ysign * self._y * z
        return np.logaddexp(0.0, -yz) if self.loss_kind == 0 else 0.5 * (z - ysign * self._y) ** 2

    def _sample_coefs(self, z, ysign=1.0):
        y = ysign * self._y
        return -y * np.exp(-np.logaddexp(0.0, y * z)) if self.loss_kind == 0 else z - y

    def _reg_value(self, x) -> float:
        if self.reg_kind == 1:
            return 0.5 * self._lam * float(x @ x)
        if self.reg_kind == 2:
            return self._lam * float((x * x / (1.0 + x * x)).sum())
        return 0.0

    def worker_losses(self, x) -> np.ndarray:
        """Local objectives f_i(x) of all n workers.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (n,)
        """
        x = self._point(x)
        per = np.add.reduceat(self._sample_losses(self._z(x)), self._off[:-1]) / self._counts
        return per + self._reg_value(x)

    def loss(self, x) -> float:
        """The objective f(x): the mean of :meth:`worker_losses` over the good workers.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        return float(self.worker_losses(x)[: self.n - self.f].mean())

    def sigma2_at(self, x) -> float:
        """Exact batch-1 variance at x: the largest of :meth:`sigma2_workers` over the good workers.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        return float(self.sigma2_workers(x)[: self.n - self.f].max())

    def sigma2_workers(self, x) -> np.ndarray:
        """Exact batch-1 variances (1/m_i) Σ_j ‖∇f_ij(x) − ∇f_i(x)‖² for all n workers.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (n,)
        """
        x = self._point(x)
        Gs = self._sample_coefs(self._z(x))[:, None] * self._A
        means = np.add.reduceat(Gs, self._off[:-1], axis=0) / self._counts[:, None]
        Gs -= np.repeat(means, self._counts, axis=0)
        return np.add.reduceat((Gs * Gs).sum(axis=1), self._off[:-1]) / self._counts

    # --- oracles (numba) ------------------------------------------------------------------------------
    def x0(self) -> np.ndarray:
        """The starting point x⁰ (0 unless ``from_arrays`` was given one).

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        return self._x0.copy()

    def _full(self, x, out, ysign, rows):
        fs_full_grads(self._A, self._AT, self._y, self._off[: rows + 1], x, self._lam, self.loss_kind,
                      self.reg_kind, ysign, out)
        return out

    def grad(self, x) -> np.ndarray:
        """The full gradient ∇f(x) over the good workers.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        g = self.n - self.f
        return self._full(self._point(x), np.empty((g, self.d)), 1.0, g).mean(axis=0)

    def worker_grads(self, x, out=None) -> np.ndarray:
        """All n full local gradients ∇f_i(x).

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.
        out : numpy.ndarray or None, optional
            A C-contiguous float64 (n, d) buffer to write into.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        return self._full(self._point(x), self._out(out), 1.0, self.n)

    def flipped_worker_grads(self, x) -> np.ndarray:
        """Full local gradients with every label flipped (y → −y), for the label-flip attack.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        return self._full(self._point(x), self._out(None), -1.0, self.n)

    def draw(self, rng, batch=1) -> np.ndarray:
        """Local row indices (n, batch), uniform with replacement over each worker's m_i rows.

        Parameters
        ----------
        rng : numpy.random.Generator
            The sample stream.
        batch : int, optional
            Rows per worker, ≥ 1 (default 1).

        Returns
        -------
        numpy.ndarray of int64, shape (n, batch)
        """
        b = check_int("batch", batch, 1)
        return rng.integers(0, self._counts[:, None], size=(self.n, b))

    def _idx(self, samples) -> np.ndarray:
        if not (type(samples) is np.ndarray and samples.dtype == np.int64 and samples.flags.c_contiguous):
            if not np.issubdtype(np.asarray(samples).dtype, np.integer):
                raise ConfigError("samples must be an integer array of row indices (see problem.draw)")
            samples = np.ascontiguousarray(samples, dtype=np.int64)
        if samples.ndim != 2 or samples.shape[0] != self.n or samples.shape[1] < 1:
            raise ConfigError(f"samples has shape {samples.shape}; expected ({self.n}, batch ≥ 1)")
        return samples

    def _status(self, status, samples):
        if status:
            i = status - 1
            raise ConfigError(f"samples[{i}] = {samples[i].tolist()} has a row index outside worker {i}'s "
                              f"range 0..{self._counts[i] - 1}")

    def _stoch(self, x, samples, out, ysign):
        idx = self._idx(samples)
        out = self._out(out)
        self._status(fs_stoch_grads(self._A, self._y, self._off, idx, self._point(x), self._lam,
                                    self.loss_kind, self.reg_kind, ysign, out), idx)
        return out

    def stoch_grads(self, x, samples, out=None) -> np.ndarray:
        """Minibatch gradients (1/b) Σ_{j∈I_i} ∇f_ij(x) of all n workers over the sampled rows.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.
        samples : numpy.ndarray of int, shape (n, b)
            Local row indices from :meth:`draw`.
        out : numpy.ndarray or None, optional
            A C-contiguous float64 (n, d) buffer to write into.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        return self._stoch(x, samples, out, 1.0)

    def flipped_stoch_grads(self, x, samples) -> np.ndarray:
        """Minibatch gradients with every label flipped (y → −y), for the label-flip attack.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.
        samples : numpy.ndarray of int, shape (n, b)
            Local row indices from :meth:`draw`.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        return self._stoch(x, samples, None, -1.0)

    def stoch_grads_pair(self, x_new, x_old, samples, out_new=None, out_old=None):
        """Minibatch gradients at two points over the same sampled rows.

        Parameters
        ----------
        x_new, x_old : numpy.ndarray, shape (d,)
            The two points.
        samples : numpy.ndarray of int, shape (n, b)
            Local row indices from :meth:`draw`.
        out_new, out_old : numpy.ndarray or None, optional
            C-contiguous float64 (n, d) buffers to write into.

        Returns
        -------
        tuple of numpy.ndarray
            The (n, d) gradients at ``x_new`` and at ``x_old``.
        """
        idx = self._idx(samples)
        out_new, out_old = self._out(out_new, "out_new"), self._out(out_old, "out_old")
        self._status(fs_stoch_grads_pair(self._A, self._y, self._off, idx, self._point(x_new, "x_new"),
                                         self._point(x_old, "x_old"), self._lam, self.loss_kind,
                                         self.reg_kind, 1.0, out_new, out_old), idx)
        return out_new, out_old

    # --- compiled engine ------------------------------------------------------------------------------
    def kernel(self, batch=1) -> ProblemKernel:
        """The jitted oracle of the compiled engine (:mod:`byzref.kernels`), bit-identical to the methods.

        Samples: the (n, batch) int64 row indices, drawn in place by ``fs_draw`` exactly as :meth:`draw`
        consumes the generator; the gradients are the kernels the methods call (``fs_*_rows``) on the
        workers lo..hi − 1, with labels flipped (y → −y) when ``flip``. Kernel parameters: the data and
        its transpose, the regulariser and scratch (two vectors of size d, one (n − f, d) array for
        :meth:`grad`, the full gradients' running sums and margins), so no call allocates.

        Parameters
        ----------
        batch : int, optional
            Rows per worker and draw, ≥ 1 (default 1).

        Returns
        -------
        byzref.kernels.ProblemKernel
        """
        b = check_int("batch", batch, 1)
        d = self.d
        params = (self._A, self._y, self._off, self._counts, float(self._lam), int(self.loss_kind),
                  int(self.reg_kind), np.empty(d), np.empty(d), np.empty((self.n - self.f, d)), self._AT,
                  np.empty((4, MARGIN_CHUNK)), np.empty(self._A.shape[0]))
        samples = np.zeros((self.n, b), dtype=np.int64)
        return ProblemKernel(params, samples, fs_draw, fs_stoch, fs_pair, fs_full, fs_grad)
