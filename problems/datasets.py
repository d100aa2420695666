"""Binary-classification data for the finite-sum problems: LIBSVM files, a bundled real dataset and
a synthetic generator. Labels are always ±1; data are held dense (float64).
"""

from __future__ import annotations

import bz2
import gzip
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from byzref.errors import ConfigError, check_choice, check_int, check_real, show
from problems._validate import check_path, check_problem_memory
from problems.base import finite_array

__all__ = ["DATA_SOURCES", "NORMALIZE", "Dataset", "load_breast_cancer", "load_dataset", "load_libsvm",
           "make_classification", "normalize"]

NORMALIZE = ("none", "rows", "standardize", "standardize_rows")
#: largest logit scale of the synthetic labels: beyond about 40 they are already deterministic
MAX_MARGIN = 1e6
DATA_SOURCES = ("synthetic", "breast_cancer", "libsvm")


@dataclass(frozen=True)
class Dataset:
    """Features A (N, d), labels y (N,) in {−1, +1}, a name and a provenance/citation string.

    Parameters
    ----------
    A : numpy.ndarray, shape (N, d)
        Features, float64, one sample per row.
    y : numpy.ndarray, shape (N,)
        Labels in {−1, +1}.
    name : str
        Short name ("synthetic", "breast_cancer" or the file name).
    source : str, optional
        Provenance and citation (default empty).
    """

    A: np.ndarray
    y: np.ndarray
    name: str
    source: str = ""


def _labels_pm1(raw: np.ndarray, field: str) -> np.ndarray:
    """Map two distinct label values to ±1 (the larger → +1): covers ±1, 0/1 and 1/2 encodings."""
    vals = np.unique(raw)
    if vals.size != 2:
        raise ConfigError(f"{field} must hold exactly two distinct labels for binary classification, "
                          f"found {vals.size}; allowed: two label values such as ±1, 0/1 or 1/2")
    return np.where(raw == vals[1], 1.0, -1.0)


def _libsvm_entry(tok: str, lineno: int, where: str) -> tuple[int, float] | None:
    """(0-based column, value) of one ``index:value`` token, None for ``qid:``; else a ConfigError.

    The message says where and what was expected, never the token itself (file content stays out
    of error messages).
    """
    if ":" not in tok:
        raise ConfigError(f"{where}, line {lineno}: malformed LIBSVM entry; expected index:value pairs "
                          "after the label")
    k, v = tok.split(":", 1)
    if k == "qid":
        return None
    try:
        j = int(k)
    except ValueError:
        raise ConfigError(f"{where}, line {lineno}: malformed LIBSVM entry; expected an integer feature "
                          "index before ':'") from None
    if j < 1:
        raise ConfigError(f"{where}, line {lineno}: feature index {j} < 1; LIBSVM indices are 1-based "
                          "(allowed: integers ≥ 1)")
    try:
        x = float(v)
    except ValueError:
        raise ConfigError(f"{where}, line {lineno}: malformed LIBSVM entry; expected a real number after "
                          "':'") from None
    if not math.isfinite(x):
        raise ConfigError(f"{where}, line {lineno}: non-finite feature value (NaN or inf); allowed: finite "
                          "real numbers")
    return j - 1, x


def _dense_bytes(N: int, d: int) -> float:
    return 8.0 * N * d


def load_libsvm(path, n_features=None, *, field="path", on_size=None) -> Dataset:
    """Parse a LIBSVM/SVMlight text file ``label idx:val idx:val ...`` (1-based indices) into dense arrays.

    Labels with two distinct values (±1, 0/1, 1/2, ...) map to ±1, the larger to +1. ``n_features``
    fixes d (needed when a test file lacks the last features); otherwise d = the largest index.
    ``.gz`` and ``.bz2`` files are read transparently. Comments after ``#`` and ``qid:`` tokens are ignored.

    Every failure is a one-line ConfigError naming ``field`` and the path: a non-string path, a
    missing file, a directory, an unreadable or binary (non-text) file, a malformed line (file and
    line number and what was expected, never the line itself). ``on_size(N, d)`` is called after
    parsing and before the dense (N, d) array is allocated (default: refuse when N·d floats exceed
    the available memory, see :mod:`byzref.resources`).

    Parameters
    ----------
    path : str or os.PathLike
        The LIBSVM file (``.gz`` / ``.bz2`` decompressed on the fly).
    n_features : int or None, optional
        The dimension d ≥ the largest index in the file; None (default): that largest index.
    field : str, optional
        The config field named in error messages (default "path").
    on_size : callable or None, optional
        ``on_size(N, d)``, called before the dense array is allocated; it raises to refuse the size.

    Returns
    -------
    Dataset
        Dense features and ±1 labels; ``name`` is the file name.

    Raises
    ------
    byzref.errors.ConfigError
        For every unreadable, malformed or too large file (one line, naming ``field``).
    """
    text = check_path(field, path)
    p = Path(text)
    where = f"{field} = {text!r}"
    if n_features is not None:
        n_features = check_int("n_features", n_features, 1)
    if p.is_dir():
        raise ConfigError(f"{where} is a directory; allowed: a LIBSVM file")
    if not p.is_file():
        raise ConfigError(f"{where}: no such LIBSVM file; allowed: the path of an existing LIBSVM file"
                          if not p.exists() else f"{where} is not a regular file; allowed: a LIBSVM file")
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(p.suffix, open)
    labels, rows, cols, vals = [], [], [], []
    lineno = 0
    try:
        with opener(p, "rt", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if "\0" in line:
                    raise ConfigError(f"{where}, line {lineno}: NUL byte (a binary file?); allowed: a LIBSVM "
                                      "text file, optionally .gz or .bz2 compressed")
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                toks = line.split()
                try:
                    label = float(toks[0])
                except ValueError:
                    raise ConfigError(f"{where}, line {lineno}: malformed LIBSVM entry; expected a numeric "
                                      "label first") from None
                if not math.isfinite(label):
                    raise ConfigError(f"{where}, line {lineno}: non-finite label; allowed: two distinct "
                                      "finite label values")
                labels.append(label)
                for t in toks[1:]:
                    entry = _libsvm_entry(t, lineno, where)
                    if entry is not None:
                        rows.append(len(labels) - 1)
                        cols.append(entry[0])
                        vals.append(entry[1])
    except UnicodeError:  # raised while decoding the line after the last one read
        raise ConfigError(f"{where}, near line {lineno + 1}: not UTF-8 text (a binary file?); allowed: a "
                          "LIBSVM text file, optionally .gz or .bz2 compressed") from None
    except (OSError, EOFError) as exc:  # unreadable, or a corrupt .gz/.bz2 stream
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"{where} cannot be read ({reason}); allowed: a readable LIBSVM text file, "
                          "optionally .gz or .bz2 compressed") from None
    if not labels:
        raise ConfigError(f"{where}: the LIBSVM file holds no samples; allowed: a file with at least one "
                          "sample line")
    d = (max(cols) + 1) if cols else 1
    if n_features is not None:
        if n_features < d:
            raise ConfigError(f"n_features = {n_features} is below the largest index in the file ({d}); "
                              f"allowed range [{d}, inf]", field="n_features")
        d = n_features
    if on_size is None:
        N = len(labels)
        check_problem_memory("libsvm", {"n_features": d}, lambda n_features: _dense_bytes(N, n_features),
                             f"a dense {N} × n_features float64 matrix", extra=f" and {N} samples")
    else:
        on_size(len(labels), d)
    A = np.zeros((len(labels), d))
    np.add.at(A, (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)), vals)
    A = finite_array("LIBSVM features", A, 2)
    y = _labels_pm1(np.asarray(labels), f"{where}: the labels")
    return Dataset(A, y, p.name, source=f"LIBSVM file {p}")


def load_breast_cancer() -> Dataset:
    """The bundled UCI Breast Cancer Wisconsin (Diagnostic) data, 569 × 30, benign = +1 (data/README.md).

    Street, Wolberg, Mangasarian, "Nuclear feature extraction for breast tumor diagnosis", 1993;
    CC BY 4.0. The features are raw (not normalised).

    Returns
    -------
    Dataset
    """
    text = resources.files("problems").joinpath("data/breast_cancer.csv").read_text(encoding="ascii")
    lines = text.strip().splitlines()
    n_rows, n_cols = (int(v) for v in lines[0].split(",")[:2])
    M = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:]])
    if M.shape != (n_rows, n_cols + 1):
        raise ConfigError(f"breast_cancer.csv is corrupt: header says {n_rows}×{n_cols}, got {M.shape}")
    y = np.where(M[:, -1] == 1.0, 1.0, -1.0)
    return Dataset(np.ascontiguousarray(M[:, :-1]), y, "breast_cancer",
                   source="UCI Breast Cancer Wisconsin (Diagnostic), CC BY 4.0; "
                   "Street, Wolberg, Mangasarian 1993")


def make_classification(rng: np.random.Generator, n_samples: int, d: int, margin: float = 4.0,
                        offset: float = 1.0) -> Dataset:
    """Synthetic logistic-model data with nonzero-mean features.

    a_j = m + ε_j, ε_j ~ N(0, I/d), ‖m‖ = ``offset`` (random direction); y_j = +1 with probability
    σ(margin·√d·ε_jᵀw), w uniform on the sphere, so ``margin`` is the standard deviation of the
    logit (larger = cleaner labels; never exactly separable, so the logistic loss has a minimiser)
    and the classes are balanced. The common mean m makes y_j a_j differ between the classes (as
    in real data with nonnegative features): without it a label-skewed split would give every
    worker the same expected gradient, by the symmetry (a, y) → (−a, −y).

    Parameters
    ----------
    rng : numpy.random.Generator
        The randomness of every draw (features, directions, labels).
    n_samples : int
        N ≥ 1 rows.
    d : int
        Dimension ≥ 1.
    margin : float, optional
        Standard deviation of the logit, in [0, 1e6] (default 4).
    offset : float, optional
        ‖m‖ ≥ 0, the norm of the common feature mean (default 1).

    Returns
    -------
    Dataset
        N × d features and balanced ±1 labels.
    """
    n_samples = check_int("n_samples", n_samples, 1)
    d = check_int("d", d, 1)
    margin = check_real("margin", margin, 0.0, MAX_MARGIN)
    offset = check_real("offset", offset, 0.0)
    E = rng.standard_normal((n_samples, d)) / math.sqrt(d)
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    m = rng.standard_normal(d)
    m *= offset / np.linalg.norm(m)
    with np.errstate(over="ignore"):  # exp(+large) = inf gives p = 0 exactly, as intended
        p = 1.0 / (1.0 + np.exp(-margin * math.sqrt(d) * (E @ w)))
    y = np.where(rng.random(n_samples) < p, 1.0, -1.0)
    return Dataset(E + m, y, "synthetic", source=f"make_classification(margin={margin}, offset={offset})")


def normalize(A: np.ndarray, how: str) -> np.ndarray:
    """Feature scaling: 'none'; 'rows' (unit ℓ2 rows, zero rows kept); 'standardize' (zero-mean,
    unit-variance columns, constant columns left at 0); 'standardize_rows' (both, in that order).

    Parameters
    ----------
    A : numpy.ndarray, shape (N, d)
        Features (not modified).
    how : {"none", "rows", "standardize", "standardize_rows"}
        The scaling (``NORMALIZE``).

    Returns
    -------
    numpy.ndarray, shape (N, d)
        A scaled C-contiguous float64 copy.
    """
    check_choice("normalize", how, NORMALIZE)
    A = np.array(A, dtype=np.float64, copy=True)
    if how.startswith("standardize"):
        sd = A.std(axis=0)
        A -= A.mean(axis=0)
        A /= np.where(sd > 0, sd, 1.0)
    if how.endswith("rows"):
        nrm = np.linalg.norm(A, axis=1, keepdims=True)
        A /= np.where(nrm > 0, nrm, 1.0)
    return np.ascontiguousarray(A)


def load_dataset(data, rng, n, *, path=None, n_features=None, scaling="auto", samples_per_worker=None,
                 d=None, margin=None, on_size=None) -> tuple[Dataset, str]:
    """The dataset of a finite-sum problem config, normalised; returns it and the scaling used.

    "synthetic": :func:`make_classification` with ``samples_per_worker``·n rows (default 50 per
    worker), dimension ``d`` (default 20) and ``margin`` (default 4); "breast_cancer": the bundled
    UCI set; "libsvm": the file at ``path``. ``scaling`` is a ``NORMALIZE`` mode or "auto": unit
    rows, and standardised-then-unit rows for breast_cancer (raw features span five orders of magnitude).
    ``on_size(N, d)`` (optional) is called with the data size before a synthetic or LIBSVM data
    matrix is allocated, so a caller can refuse a size that does not fit in memory.

    Parameters
    ----------
    data : {"synthetic", "breast_cancer", "libsvm"}
        The source (``DATA_SOURCES``).
    rng : numpy.random.Generator
        Randomness of the synthetic data (unused otherwise).
    n : int
        Number of workers; the synthetic set has ``samples_per_worker``·n rows.
    path : str or os.PathLike or None, optional
        The LIBSVM file; required for "libsvm" and refused otherwise.
    n_features : int or None, optional
        The dimension of a LIBSVM file (see :func:`load_libsvm`); "libsvm" only.
    scaling : str, optional
        "auto" (default) or one of ``NORMALIZE`` (see :func:`normalize`).
    samples_per_worker : int or None, optional
        Synthetic rows per worker, ≥ 1 (default 50); "synthetic" only.
    d : int or None, optional
        Synthetic dimension, ≥ 1 (default 20); "synthetic" only.
    margin : float or None, optional
        Synthetic logit scale in [0, 1e6] (default 4, see :func:`make_classification`); "synthetic" only.
    on_size : callable or None, optional
        ``on_size(N, d)``, called before a data matrix is allocated.

    Returns
    -------
    dataset : Dataset
        The normalised data.
    scaling : str
        The scaling applied ("auto" resolved).
    """
    check_choice("data", data, DATA_SOURCES)
    check_choice("normalize", scaling, ("auto", *NORMALIZE))
    synth = {"samples_per_worker": samples_per_worker, "d": d, "margin": margin}
    if data != "synthetic":
        for key, value in synth.items():
            if value is not None:
                raise ConfigError(f"problem.{key} = {show(value)} applies only to data = 'synthetic' "
                                  f"(data = {data!r}); allowed: leave it unset", field=key)
    if data != "libsvm":
        for key, value in (("path", path), ("n_features", n_features)):
            if value is not None:
                raise ConfigError(f"problem.{key} = {show(value)} applies only to data = 'libsvm' "
                                  f"(data = {data!r}); allowed: leave it unset", field=key)
    if data == "synthetic":
        m = check_int("samples_per_worker", 50 if samples_per_worker is None else samples_per_worker, 1)
        d = check_int("d", 20 if d is None else d, 1)
        margin = check_real("margin", 4.0 if margin is None else margin, 0.0, MAX_MARGIN)
        if on_size is not None:
            on_size(m * n, d)
        ds = make_classification(rng, m * n, d, margin)
    elif data == "breast_cancer":
        ds = load_breast_cancer()
    else:
        if path is None:
            raise ConfigError("problem.path = None: a path is required when data = 'libsvm'; allowed: a "
                              "string naming a LIBSVM file", field="path")
        ds = load_libsvm(path, n_features, field="problem.path", on_size=on_size)
    how = scaling
    if how == "auto":
        how = "standardize_rows" if data == "breast_cancer" else "rows"
    return Dataset(normalize(ds.A, how), ds.y, ds.name, ds.source), how
