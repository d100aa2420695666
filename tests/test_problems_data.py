"""Data paths of the finite-sum problems: LIBSVM reader, bundled breast-cancer set, splits (issue 3)."""

import gzip
from importlib import resources

import numpy as np
import pytest
from reference import problems as ref

from byzref.errors import ConfigError
from problems import build_problem
from problems.datasets import load_breast_cancer, load_libsvm, make_classification, normalize
from problems.splits import split_workers

ROWS = [{1: 0.5, 3: -2.0}, {2: 1.0}, {}, {1: 1.0, 2: 2.0, 3: 3.0}, {3: 0.25}]


@pytest.mark.parametrize("labels,want", [([1, -1, -1, 1, 1], [1, -1, -1, 1, 1]),
                                         ([1, 0, 0, 1, 1], [1, -1, -1, 1, 1]),
                                         ([2, 1, 1, 2, 2], [1, -1, -1, 1, 1])])
def test_libsvm_reader_dense_values_and_labels(tmp_path, labels, want):
    path = tmp_path / "tiny.svm"
    ref.write_libsvm(path, ROWS, labels)
    ds = load_libsvm(path)
    dense = np.zeros((5, 3))
    for i, row in enumerate(ROWS):
        for k, v in row.items():
            dense[i, k - 1] = v  # 1-based indices
    np.testing.assert_array_equal(ds.A, dense)
    np.testing.assert_array_equal(ds.y, want)
    assert load_libsvm(path, n_features=5).A.shape == (5, 5)


def test_libsvm_reader_gzip_comments_and_errors(tmp_path):
    gz = tmp_path / "t.svm.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write("# header comment\n+1 1:1.5 2:2 # trailing\n\n-1 qid:3 2:-1\n")
    ds = load_libsvm(gz)
    np.testing.assert_array_equal(ds.A, [[1.5, 2.0], [0.0, -1.0]])
    np.testing.assert_array_equal(ds.y, [1.0, -1.0])
    bad = tmp_path / "bad.svm"
    for text, match in [("1 0:1.0\n-1 1:2\n", "line 1.*1-based"), ("1 1:x\n-1 1:2\n", "line 1"),
                        ("1 1:1\n1 1:2\n", "two distinct labels"), ("1 1:nan\n-1 1:2\n", "non-finite"),
                        ("", "no samples"), ("1 3:1\n-1 1:1\n", None)]:
        bad.write_text(text)
        if match is None:
            with pytest.raises(ConfigError, match="n_features"):
                load_libsvm(bad, n_features=2)
            continue
        with pytest.raises(ConfigError, match=match):
            load_libsvm(bad)
    with pytest.raises(ConfigError, match="no such"):
        load_libsvm(tmp_path / "missing.svm")


def test_libsvm_problem_end_to_end(tmp_path):
    rng = np.random.default_rng(0)
    rows = [{int(k) + 1: float(rng.standard_normal()) for k in rng.choice(6, 3, replace=False)}
            for _ in range(40)]
    labels = [int(v) for v in rng.choice([0, 1], 40)]
    path = tmp_path / "d.svm"
    ref.write_libsvm(path, rows, labels)
    p = build_problem({"name": "logreg_nonconvex", "data": "libsvm", "path": str(path)}, rng, n=4, f=1)
    assert p.d == 6 and p._A.shape == (40, 6)
    np.testing.assert_allclose(np.linalg.norm(p._A, axis=1), 1.0)  # "auto" → unit rows
    assert p.params()["path"] == str(path)


def test_breast_cancer_bundled_and_readable_as_package_data():
    assert resources.files("problems").joinpath("data/breast_cancer.csv").is_file()
    assert resources.files("problems").joinpath("data/README.md").is_file()
    ds = load_breast_cancer()
    assert ds.A.shape == (569, 30) and np.isfinite(ds.A).all()
    assert (ds.y == 1).sum() == 357 and (ds.y == -1).sum() == 212  # benign +1, malignant −1 (UCI counts)
    assert ds.A[0, 0] == 17.99 and ds.y[0] == -1.0  # first record of the UCI file: malignant, radius 17.99
    p = build_problem({"name": "logreg_l2", "data": "breast_cancer"}, np.random.default_rng(0), n=10, f=2)
    assert p.d == 30 and p.n == 10
    Z = normalize(ds.A, "standardize")
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-12)


def test_normalize_rejects_unknown_mode():
    with pytest.raises(ConfigError, match="normalize"):
        normalize(np.ones((2, 2)), "l1")


@pytest.mark.parametrize("split,kw", [("iid", {}), ("label_skew", {"skew": 0.5}),
                                      ("dirichlet", {"alpha": 0.5})])
def test_splits_partition_every_sample_once(split, kw):
    y = np.where(np.random.default_rng(1).random(200) < 0.4, 1.0, -1.0)
    order, counts = split_workers(y, 7, np.random.default_rng(2), split, **kw)
    np.testing.assert_array_equal(np.sort(order), np.arange(200))
    assert counts.sum() == 200 and (counts >= 1).all() and counts.size == 7
    if split == "iid":
        assert counts.max() - counts.min() <= 1


def test_label_skew_knob_increases_heterogeneity():
    y = np.repeat([-1.0, 1.0], 100)
    rng = np.random.default_rng(3)
    fracs = []
    for skew in (0.0, 1.0):
        order, counts = split_workers(y, 4, rng, "label_skew", skew=skew)
        pos = np.add.reduceat(y[order] > 0, np.concatenate([[0], np.cumsum(counts)[:-1]])) / counts
        fracs.append(np.abs(pos - 0.5).mean())
    assert fracs[0] < 0.2 and fracs[1] == 0.5  # fully sorted: every worker holds one class
    cfg = {"name": "logreg_nonconvex", "split": "label_skew", "samples_per_worker": 40}
    p0, p1 = (build_problem({**cfg, "skew": s}, np.random.default_rng(4), n=4) for s in (0.0, 1.0))
    assert p1.zeta2_at(p1.x0()) > 3 * p0.zeta2_at(p0.x0())


def test_split_errors_name_the_problem():
    y = np.ones(5)
    with pytest.raises(ConfigError, match=r"no samples|fewer than"):
        split_workers(y, 6, np.random.default_rng(0))
    y = np.repeat([-1.0, 1.0], 10)
    with pytest.raises(ConfigError, match=r"worker \d+ with no samples"):
        split_workers(y, 19, np.random.default_rng(0), "dirichlet", alpha=0.01)
    with pytest.raises(ConfigError, match="skew"):
        split_workers(y, 2, np.random.default_rng(0), "label_skew", skew=1.5)
    with pytest.raises(ConfigError, match="split"):
        split_workers(y, 2, np.random.default_rng(0), "sorted")


def test_make_classification_is_not_separable_and_has_both_labels():
    ds = make_classification(np.random.default_rng(0), 2000, 5, margin=4.0)
    assert 0.3 < (ds.y > 0).mean() < 0.7
    with pytest.raises(ConfigError, match="margin"):
        make_classification(np.random.default_rng(0), 10, 2, margin=-1.0)
