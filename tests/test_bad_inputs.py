"""Bad inputs: every command refuses them cleanly, before any simulation starts.

A table of cases across ``byzref run``, ``sweep``, ``verify``, ``plot``, ``store check``, TOML config
contents and ``--set`` overrides. Each case differs from a VALID tiny config (nonconvex_synthetic,
d = 5, n = 5, T = 30, with a step size that makes real progress, so the run is "ok" and not "stalled";
see ``test_valid_base_succeeds``) by one thing. For every case:

(a) exit status 2;
(b) stderr is exactly one non-empty line starting with "byzref: error:" (argparse-level cases, a
    minority marked ``argparse=True``, may instead use argparse's "usage: ..." + "byzref ...: error:"
    form);
(c) that line names the offending field and value and states the allowed range/choices or a fix;
(d) no traceback anywhere in stdout/stderr;
(e) nothing is written (every file under the test's tmp dir, and the shared store, unchanged);
(f) no simulation starts: ``_Simulation.__init__``, the sweep worker task ``_run_one``, the process
    pool and theory's ``run_all`` are patched to raise AssertionError("simulation started").

Cases run in-process through ``byzref.cli.main``; a few go through the real entry point
(``python -m byzref``), and the ones that would allocate gigabytes if not refused run in a child
process with a 3 GiB address-space limit and the same patches.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HINTS = ("allowed", "valid", "range", "must", "expected", "needs", "use ")
TRACEBACK = ("Traceback", 'File "')
GB = r"\d\s*(GB|GiB)"
CAP = r"allowed range \[\d+, \d+\]"  # a finite upper bound
TIME = r"(?i)estimat|hours?\b|days?\b|years?\b|\bcap\b|at most|maximum|limit|" + CAP
DEL = object()  # in an edit: remove the key

BASE = {
    "seed": 0,
    "n": 5,
    "f": 1,
    "T": 30,
    "aggregator": "cwtm",
    "problem": {"name": "nonconvex_synthetic", "d": 5, "sigma2": 0.1},
    "algorithm": {"name": "byz_dm21", "gamma": 0.2, "eta": 0.5},
    "compressor": {"name": "top_k", "k": 2},
    "attack": {"name": "sign_flip"},
    "record": {"log": 5},
}
SWEEP_BASE = {**BASE, "seed": [0, 1]}
LIBSVM_TEXT = "".join(f"{1 if i % 2 else -1} 1:{0.1 * (i % 7) - 0.3:.2f} 2:{0.05 * (i % 5):.2f} "
                      f"3:{(-1) ** i * 0.2:.2f}\n" for i in range(40))
LIBSVM_PROBLEM = {"name": "logreg_nonconvex", "data": "libsvm", "path": "@LIBSVM"}


# --- a minimal TOML writer (no tomli_w in the venv) -------------------------------------------------
def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_val(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def toml_dumps(cfg: dict) -> str:
    def tables(v) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)

    lines = [f"{_key(k)} = {_val(v)}" for k, v in cfg.items() if not isinstance(v, dict) and not tables(v)]
    for k, v in cfg.items():
        if isinstance(v, dict):
            lines += ["", f"[{_key(k)}]", *(f"{_key(a)} = {_val(b)}" for a, b in v.items())]
    for k, v in cfg.items():
        if tables(v):
            for part in v:
                lines += ["", f"[[{_key(k)}]]", *(f"{_key(a)} = {_val(b)}" for a, b in part.items())]
    return "\n".join(lines) + "\n"


def edited(base: dict, edits: dict) -> dict:
    """A deep copy of ``base`` with dotted-key edits (``DEL`` removes the key)."""
    cfg = json.loads(json.dumps(base))
    for dotted, value in edits.items():
        *parents, last = dotted.split(".")
        node = cfg
        for p in parents:
            node = node.setdefault(p, {})
        if value is DEL:
            node.pop(last, None)
        else:
            node[last] = json.loads(json.dumps(value)) if isinstance(value, dict | list) else value
    return cfg


# --- the cases --------------------------------------------------------------------------------------
class Ctx:
    """Where a case builds its inputs: ``tmp`` (the test's tmp_path), ``out`` (a brand-new path) and a
    valid results ``store`` (built once, on first use)."""

    def __init__(self, tmp: Path, get_store: Callable[[], Path]):
        self.tmp, self.out = tmp, tmp / "out"
        self._get_store, self.store_used = get_store, False

    @property
    def store(self) -> Path:
        self.store_used = True
        return self._get_store()

    def write(self, name: str, content: str | bytes) -> str:
        p = self.tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content.replace("@LIBSVM", str(self.tmp / "data.svm")), encoding="utf-8")
        return str(p)

    def config(self, cfg: dict, name: str = "config.toml") -> str:
        self.write("data.svm", LIBSVM_TEXT)
        return self.write(name, toml_dumps(cfg))


@dataclass(frozen=True)
class Case:
    id: str
    argv: Callable[[Ctx], list[str]]
    field: tuple[str, ...] = ()  # every token must appear as a word; "a|b" = either
    value: tuple[str, ...] = ()  # one of these must appear (case-insensitive); () = no value check
    extra: str | None = None  # a regex the error line must also match
    argparse: bool = False
    guarded: bool = False  # run in a memory-limited child process
    root_skip: bool = False


def toks(v) -> tuple[str, ...]:
    """How a value may be spelled in the message."""
    if isinstance(v, bool):
        return ("true",)
    if isinstance(v, int):
        out = [str(v)]
        if abs(v) >= 10**6:
            e = len(str(abs(v))) - 1
            out += [f"{v:g}", f"{float(v):e}", f"1e{e}", f"1e+{e:02d}", f"10**{e}", f"10^{e}"]
        return tuple(out)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return (repr(v),)
        return (repr(v), f"{v:g}")
    if isinstance(v, str):
        return (repr(v), json.dumps(v)) if v else ("''", '""', "empty")
    if v == []:
        return ("[]", "empty")
    return (repr(v), _val(v))


def run_cfg(edits: dict, *args: str, base: dict = BASE) -> Callable[[Ctx], list[str]]:
    return lambda c: ["run", c.config(edited(base, edits)), "--out", str(c.out), *args]


def run_set(*sets: str) -> Callable[[Ctx], list[str]]:
    return lambda c: ["run", c.config(BASE), "--out", str(c.out), *[a for s in sets for a in ("--set", s)]]


def run_text(content: str | bytes, name: str = "config.toml") -> Callable[[Ctx], list[str]]:
    return lambda c: ["run", c.write(name, content), "--out", str(c.out)]


def sweep_cfg(edits: dict, *args: str, workers: str = "1") -> Callable[[Ctx], list[str]]:
    return lambda c: ["sweep", c.config(edited(SWEEP_BASE, edits), "sweep.toml"), "--out", str(c.out),
                      "--workers", workers, *args]


def sweep_text(content: str | bytes, name: str = "sweep.toml") -> Callable[[Ctx], list[str]]:
    return lambda c: ["sweep", c.write(name, content), "--out", str(c.out), "--workers", "1"]


def sweep_set(*sets: str) -> Callable[[Ctx], list[str]]:
    return lambda c: ["sweep", c.config(SWEEP_BASE, "sweep.toml"), "--out", str(c.out), "--workers", "1",
                      *[a for s in sets for a in ("--set", s)]]


CASES: list[Case] = []
COMPONENT = {"algorithm": "byz_dm21", "compressor": "top_k", "aggregator": "cwtm", "attack": "sign_flip",
             "problem": "nonconvex_synthetic"}


def fld(dotted: str, component: str | None = None) -> tuple[str, ...]:
    """Field tokens of a component parameter: "algorithm.gamma" is named by the line when it holds
    "algorithm" or the component's name (e.g. "byz_dm21") AND the word "gamma" ("algorithm.gamma = 0",
    "byz_dm21: gamma = 0"); a bare "gamma = 0" does not say where."""
    section, param = dotted.split(".", 1)
    comp = component or COMPONENT.get(section)
    return (f"{section}|{comp}" if comp else section, param)


def add(id_, argv, field=(), value=(), extra=None, **kw):
    CASES.append(Case(id_, argv, tuple(field), tuple(value), extra, **kw))


def param_cases(prefix: str, dotted: str, values, *, base_edits: dict | None = None):
    """One ``run`` case per bad value of ``dotted`` (optionally on a modified base)."""
    edits = base_edits or {}
    section = dotted.split(".")[0]
    table = edited(BASE, edits).get(section)
    comp = table.get("name") if isinstance(table, dict) else table
    for v in values:
        label = "nan" if isinstance(v, float) and math.isnan(v) else repr(v)
        field = fld(dotted, comp) if "." in dotted else (dotted,)
        add(f"{prefix}={label}", run_cfg({**edits, dotted: v}), field, toks(v))


NAN, INF = float("nan"), float("inf")

# top-level fields -----------------------------------------------------------------------------------
param_cases("run-n", "n", [0, -1, 1.5, "x", True])
add("run-n=10**8-memory", run_cfg({"n": 10**8}), ("n",), toks(10**8), GB, guarded=True)
param_cases("run-f", "f", [5, 6, -1, 1.5, "x", True])
param_cases("run-T", "T", [0, -1, 1.5, "x", True, [10, 20]])
add("run-T=10**12-time", run_cfg({"T": 10**12}), ("T",), toks(10**12), TIME)
add("run-T=10**9-every=1-memory", run_cfg({"T": 10**9, "record": {"every": 1}}), ("T|record.every",),
    toks(10**9), f"{GB}|{CAP}", guarded=True)
param_cases("run-seed", "seed", [-1, "a", 1.5, True])
add("run-unknown-key-gama", run_cfg({"gama": 0.1}), ("gama",))
add("run-unknown-key-Seed", run_cfg({"Seed": 1}), ("Seed",))
add("run-unknown-table-problems", run_cfg({"problems": {"name": "quadratic"}}), ("problems",))

# missing required things ---------------------------------------------------------------------------
add("run-no-problem", run_cfg({"problem": DEL}), ("problem",))
add("run-no-algorithm", run_cfg({"algorithm": DEL}), ("algorithm",))
add("run-no-T", run_cfg({"T": DEL}), ("T",))
add("run-problem-without-name", run_cfg({"problem.name": DEL}), ("problem", "name"))
add("run-algorithm-without-name", run_cfg({"algorithm.name": DEL}), ("algorithm", "name"))
add("run-algorithm-without-gamma", run_cfg({"algorithm.gamma": DEL}), fld("algorithm.gamma"))
add("run-byz_dm21-without-eta", run_cfg({"algorithm.eta": DEL}), fld("algorithm.eta"))
add("run-top_k-without-k", run_cfg({"compressor.k": DEL}), fld("compressor.k"))
MARINA_ALG = {"name": "byz_vr_marina", "gamma": 0.2}
add("run-rand_k-without-k", run_cfg({"compressor": {"name": "rand_k"}, "algorithm": MARINA_ALG}),
    fld("compressor.k", "rand_k"))
add("run-qsgd-without-s", run_cfg({"compressor": {"name": "qsgd"}, "algorithm": MARINA_ALG}),
    fld("compressor.s", "qsgd"))
add("run-set-algorithm=byz_dm21", run_set("algorithm=byz_dm21"), fld("algorithm.gamma"))

# algorithm ------------------------------------------------------------------------------------------
add("run-algorithm=byz_dm22", run_cfg({"algorithm.name": "byz_dm22"}), ("algorithm",), toks("byz_dm22"),
    "byz_dm21")
add("run-algorithm=byz-dm21", run_cfg({"algorithm.name": "byz-dm21"}), ("algorithm",), toks("byz-dm21"),
    "byz_dm21")
add("run-algorithm=empty", run_cfg({"algorithm.name": ""}), ("algorithm",), toks(""))
add("run-algorithm=5", run_cfg({"algorithm.name": 5}), ("algorithm",), toks(5))
param_cases("run-gamma", "algorithm.gamma", [0, -0.1, NAN, INF, -INF, "big", True, [0.05]])
param_cases("run-eta", "algorithm.eta", [0, 1.5, -0.1, NAN, INF, "x", True])
param_cases("run-eta2", "algorithm.eta2", [0, 2.0, "x"])
param_cases("run-batch", "algorithm.batch", [0, -1, 1.5, "x"])
param_cases("run-variant", "algorithm.variant", ["foo", 3])
add("run-algorithm-unknown-param", run_cfg({"algorithm.gama": 0.1}), ("algorithm", "gama"))
add("run-byz_vr_dm21-init=foo", run_cfg({"algorithm": {"name": "byz_vr_dm21", "gamma": 0.2, "eta": 0.5,
                                                       "init": "foo"}}), fld("algorithm.init", "byz_vr_dm21"),
    toks("foo"))
MARINA = {"algorithm": {"name": "byz_vr_marina", "gamma": 0.2}, "compressor": {"name": "rand_k", "k": 2}}
param_cases("run-marina-p", "algorithm.p", [0, 1.5, -0.5], base_edits=MARINA)
add("run-byz_dm21-with-rand_k", run_cfg({"compressor.name": "rand_k"}), ("compressor",), toks("rand_k"))
add("run-marina-with-top_k", run_cfg({"algorithm": {"name": "byz_vr_marina", "gamma": 0.2}}),
    ("compressor",), toks("top_k"))
add("run-preset-dm21-with-f=1", run_cfg({"algorithm.name": "dm21"}), ("dm21",), toks("dm21"))

# compressor -----------------------------------------------------------------------------------------
add("run-compressor=topk", run_cfg({"compressor.name": "topk"}), ("compressor",), toks("topk"), "top_k")
add("run-compressor=top-k", run_cfg({"compressor.name": "top-k"}), ("compressor",), toks("top-k"), "top_k")
add("run-compressor=empty", run_cfg({"compressor.name": ""}), ("compressor",), toks(""))
add("run-compressor=5", run_cfg({"compressor": 5}), ("compressor",), toks(5))
param_cases("run-top_k-k", "compressor.k", [0, -1, 6, 2.5, "x", True])
add("run-top_k-k=10**9", run_cfg({"compressor.k": 10**9}), fld("compressor.k"), toks(10**9))
param_cases("run-rand_k-k", "compressor.k", [0, 6], base_edits=MARINA)
param_cases("run-qsgd-s", "compressor.s", [0, -1, 1.5],
            base_edits={**MARINA, "compressor": {"name": "qsgd"}})
add("run-compressor-unknown-param", run_cfg({"compressor.kk": 2}), ("compressor", "kk"))

# aggregator -----------------------------------------------------------------------------------------
for spec, stage, closest in [("krumm", "krumm", "krum"), ("cwtmm", "cwtmm", "cwtm"),
                             ("nnm+cwmedd", "cwmedd", "cwmed"), ("medain", "medain", None), ("", "", None)]:
    add(f"run-aggregator={spec or 'empty'}", run_cfg({"aggregator": spec}), ("aggregator",),
        toks(spec) + toks(stage), closest)
add("run-aggregator=5", run_cfg({"aggregator": 5}), ("aggregator",), toks(5))
# malformed pipelines; the value is the spec, or the stage at fault
for spec, also in [("nnm+", ()), ("+cwtm", ()), ("cwtm(b=)", ()), ("cwtm(", ()), ("cwtm)", ()), ("nnm", ()),
                   ("cwtm+nnm", ("'cwtm'", "'nnm'")), ("cwtm+cwmed", ("'cwtm'",)), ("cwtm(b=1,b=2)", ()),
                   ("cwtm(foo=1)", ("foo",)), ("nnm++cwtm", ()), ("cwtm(1,2,3)", ("got 3",)), ("cw tm", ())]:
    add(f"run-aggregator={spec}", run_cfg({"aggregator": spec}), ("aggregator",), toks(spec) + also)
add("run-aggregator=krum(m_nb=-1)", run_cfg({"aggregator": "krum(m_nb=-1)"}), ("aggregator|krum", "m_nb"),
    ("-1",))
for spec in ["krum", "multikrum", "nnm+krum"]:
    add(f"run-aggregator={spec}-n=7-f=3", run_cfg({"aggregator": spec, "n": 7, "f": 3}),
        ("krum|multikrum",), ("7",))
add("run-aggregator=cwtm(b=3)-too-big", run_cfg({"aggregator": "cwtm(b=3)"}), ("aggregator|cwtm", "b"),
    ("3",))
add("run-aggregator=cwtm(b=-1)", run_cfg({"aggregator": "cwtm(b=-1)"}), ("aggregator|cwtm", "b"), ("-1",))
add("run-aggregator-cclip-centre-length", run_cfg({"aggregator": {"name": "cclip", "center": [0.0, 0.0]}}),
    ("aggregator|cclip", "center|centre"), ("2",))
add("run-aggregator-cclip-tau=0", run_cfg({"aggregator": {"name": "cclip", "tau": 0}}),
    ("aggregator|cclip", "tau"), ("0",))
add("run-aggregator-cclip-tau=-1", run_cfg({"aggregator": "cclip(tau=-1)"}), ("aggregator|cclip", "tau"),
    ("-1",))
for s in ["0", "-1", "1.5"]:
    add(f"run-aggregator=bucketing(s={s})+cwtm", run_cfg({"aggregator": f"bucketing(s={s})+cwtm"}),
        ("aggregator|bucketing", "s"), (s,))
add("run-aggregator-unknown-param", run_cfg({"aggregator": {"name": "cwtm", "q": 1}}), ("aggregator", "q"))
add("run-aggregator-table-without-name", run_cfg({"aggregator": {"b": 1}}), ("aggregator", "name"))

# attack ---------------------------------------------------------------------------------------------
add("run-attack=alei", run_cfg({"attack.name": "alei"}), ("attack",), toks("alei"), "alie")
add("run-attack=signflip", run_cfg({"attack.name": "signflip"}), ("attack",), toks("signflip"), "sign_flip")
add("run-attack=empty", run_cfg({"attack.name": ""}), ("attack",), toks(""))
add("run-attack=7", run_cfg({"attack.name": 7}), ("attack",), toks(7))
param_cases("run-attack.target", "attack.target", ["both", 5, ""])
# z < 0 is valid (with sign it only flips the direction; baruch_z itself can be negative)
param_cases("run-alie-z", "attack.z", [NAN, "foo", INF], base_edits={"attack.name": "alie"})
param_cases("run-alie-sign", "attack.sign", [2], base_edits={"attack.name": "alie"})
param_cases("run-ipm-eps", "attack.eps", [-0.1, NAN], base_edits={"attack.name": "ipm"})
param_cases("run-gaussian-sigma", "attack.sigma", [-1.0], base_edits={"attack.name": "gaussian"})
param_cases("run-mimic-i", "attack.i", [4, -1], base_edits={"attack.name": "mimic"})
add("run-label_flip-without-labels", run_cfg({"attack.name": "label_flip"}), ("attack|label_flip",),
    toks("label_flip"))
add("run-attack-unknown-param", run_cfg({"attack": {"name": "alie", "zz": 1}}), ("attack", "zz"))

# problem --------------------------------------------------------------------------------------------
add("run-problem=nonconvex_synth", run_cfg({"problem.name": "nonconvex_synth"}), ("problem",),
    toks("nonconvex_synth"), "nonconvex_synthetic")
add("run-problem=quadratc", run_cfg({"problem.name": "quadratc"}), ("problem",), toks("quadratc"),
    "quadratic")
add("run-problem=3", run_cfg({"problem.name": 3}), ("problem",), toks(3))
param_cases("run-problem.d", "problem.d", [0, -1, 1.5, "x"])
add("run-problem.d=10**9-memory", run_cfg({"problem.d": 10**9}), ("d",), toks(10**9), GB,
    guarded=True)
param_cases("run-problem.sigma2", "problem.sigma2", [-1.0, NAN, INF, "x"])
param_cases("run-problem.zeta2", "problem.zeta2", [-1.0])
add("run-problem-unknown-param", run_cfg({"problem.dim": 5}), ("problem", "dim"))
add("run-problem-n-inside", run_cfg({"problem.n": 5}), ("n",))
LIB = {"problem": LIBSVM_PROBLEM, "algorithm.gamma": 2.0}  # the valid LIBSVM base (test_valid_base_succeeds)
PATH = fld("problem.path", "logreg_nonconvex")
add("run-libsvm-path=5", run_cfg({**LIB, "problem.path": 5}), PATH, toks(5))
add("run-libsvm-missing-file", run_cfg({**LIB, "problem.path": "/nonexistent/nope.svm"}), PATH,
    ("nope.svm",))


def libsvm_file(name: str, content: str | bytes) -> Callable[[Ctx], list[str]]:
    """A LIBSVM problem whose path is the file ``name`` written with ``content``."""
    return lambda c: (c.write(name, content), run_cfg({**LIB, "problem.path": str(c.tmp / name)})(c))[1]


add("run-libsvm-directory", lambda c: run_cfg({**LIB, "problem.path": str(c.tmp)})(c), PATH,
    ("test_bad_input",))
add("run-libsvm-binary", libsvm_file("bin.svm", bytes(range(256)) * 4), PATH, ("bin.svm",))
add("run-libsvm-empty", libsvm_file("empty.svm", ""), PATH, ("empty.svm",))
add("run-libsvm-malformed", libsvm_file("bad.svm", "1 a:b\n"), PATH, ("bad.svm",))
add("run-libsvm-n_features=10**9-memory", run_cfg({**LIB, "problem.n_features": 10**9}),
    ("n_features",), toks(10**9), GB, guarded=True)
param_cases("run-libsvm-n_features", "problem.n_features", [0, -1], base_edits=LIB)
add("run-libsvm-without-path", run_cfg({**LIB, "problem.path": DEL}), PATH)
add("run-problem.data=a9a", run_cfg({**LIB, "problem.data": "a9a", "problem.path": DEL}),
    fld("problem.data", "logreg_nonconvex"), toks("a9a"))
add("run-path-without-libsvm", run_cfg({**LIB, "problem.data": "breast_cancer"}), PATH)

# record ---------------------------------------------------------------------------------------------
add("run-record=5", run_cfg({"record": 5}), ("record",), toks(5))
add("run-record=log", run_cfg({"record": "log"}), ("record",), toks("log"))
add("run-record=[1]", run_cfg({"record": [1]}), ("record",), ("[1]",))
param_cases("run-record.log", "record.log", [0, -1, 1.5, "x"])
add("run-record.log=10**9-memory", run_cfg({"record.log": 10**9}), ("record.log",), toks(10**9),
    f"{GB}|{CAP}", guarded=True)
param_cases("run-record.every", "record.every", [0, -1, 1.5],
            base_edits={"record": {"every": 1}})
add("run-record-every-and-log", run_cfg({"record.every": 2}), ("record.every|every", "record.log|log"))
param_cases("run-record.grad_every", "record.grad_every", [0, BASE["T"] + 1, "x"])
param_cases("run-record.diverge_at", "record.diverge_at", [0, -1.0, NAN, "x"])
add("run-record-unknown-key", run_cfg({"record.logg": 5}), ("record", "logg"))

# config files for run -------------------------------------------------------------------------------
add("run-file-malformed", run_text("T = = 1\n"), (), ("config.toml",))
add("run-file-duplicate-key", run_text("T = 20\n" + toml_dumps(BASE)), ("T|line 5",), ("config.toml",))
add("run-file-duplicate-table", run_text(toml_dumps(BASE) + "[problem]\nd = 3\n"), ("problem",),
    ("config.toml",))
add("run-file-binary", run_text(bytes(range(256)) * 4, "config.bin"), (), ("config.bin",))
add("run-file-latin1", run_text(b"# caf\xe9\n" + toml_dumps(BASE).encode()), (), ("config.toml",))
add("run-file-json", run_text(json.dumps(BASE), "config.json"), (), ("config.json",))
add("run-file-missing", lambda c: ["run", str(c.tmp / "missing.toml"), "--out", str(c.out)], (),
    ("missing.toml",))
add("run-file-directory", lambda c: ["run", str(c.tmp), "--out", str(c.out)], (), ("test_bad_input",))


def _unreadable(c: Ctx) -> list[str]:
    path = c.config(BASE, "secret.toml")
    os.chmod(path, 0)
    return ["run", path, "--out", str(c.out)]


add("run-file-unreadable", _unreadable, (), ("secret.toml",), root_skip=True)
add("run-file-empty", run_text(""), ("problem",))
add("run-file-comments-only", run_text("# nothing here\n"), ("problem",))
add("run-out-is-a-file", lambda c: ["run", c.config(BASE), "--out", c.write("outfile", "keep\n")],
    ("--out",), ("outfile",))
add("run-out-parent-is-a-file", lambda c: ["run", c.config(BASE), "--out",
                                           str(Path(c.write("outfile", "keep\n")) / "sub")],
    ("--out",), ("outfile",))

# --set ----------------------------------------------------------------------------------------------
add("set-no-equals", run_set("T"), ("--set",), ("'T'", '"T"'))
add("set-empty-key", run_set("=5"), ("--set",), ("'=5'", '"=5"'))
add("set-empty-part", run_set(".gamma=1"), ("--set",), (".gamma",))
add("set-double-dot", run_set("algorithm..gamma=1"), ("--set",), ("algorithm..gamma",))
add("set-unknown-key", run_set("gama=0.1"), ("gama",))
add("set-unknown-algorithm-param", run_set("algorithm.gama=1"), ("algorithm", "gama"))
add("set-T=abc", run_set("T=abc"), ("T",), toks("abc"))
add("set-T=list", run_set("T=[1, 2]"), ("T",), ("[1, 2]",))
add("set-T=table", run_set("T={a=1}"), ("T",))
add("set-T.x=1", run_set("T.x=1"), ("T",))
add("set-record=5", run_set("record=5"), ("record",), toks(5))
add("set-gamma-empty", run_set("algorithm.gamma="), fld("algorithm.gamma"), toks(""))
add("set-gamma=nan", run_set("algorithm.gamma=nan"), fld("algorithm.gamma"), ("nan",))
add("set-eta=inf", run_set("algorithm.eta=inf"), fld("algorithm.eta"), ("inf",))
add("set-problem.d=0", run_set("problem.d=0"), fld("problem.d"), ("0",))
add("set-n=0", run_set("n=0"), ("n",), ("0",))
add("set-seed=-1", run_set("seed=-1"), ("seed",), ("-1",))
add("set-aggregator=krumm", run_set("aggregator=krumm"), ("aggregator",), toks("krumm"), "krum")
add("set-attack.target=both", run_set("attack.target=both"), fld("attack.target"), toks("both"))
add("set-compressor.k=6", run_set("compressor.k=6"), fld("compressor.k"), ("6",))
add("set-record.log=0", run_set("record.log=0"), ("record.log",), ("0",))
add("set-record.every-with-log", run_set("record.every=1"), ("record.every|every", "record.log|log"))

# sweep ----------------------------------------------------------------------------------------------
add("sweep-file-missing", lambda c: ["sweep", str(c.tmp / "nosweep.toml"), "--out", str(c.out)], (),
    ("nosweep.toml",))
add("sweep-file-directory", lambda c: ["sweep", str(c.tmp), "--out", str(c.out)], (), ("test_bad_input",))
add("sweep-file-malformed", sweep_text("seed = [0, 1\n"), (), ("sweep.toml",))
add("sweep-file-binary", sweep_text(bytes(range(256)) * 4, "sweep.bin"), (), ("sweep.bin",))
add("sweep-file-duplicate-key", sweep_text("T = 20\n" + toml_dumps(SWEEP_BASE)), ("T|line 5",),
    ("sweep.toml",))
add("sweep-file-empty", sweep_text(""), ("problem",))
add("sweep-empty-axis", sweep_cfg({"seed": []}), ("seed",), toks([]))
add("sweep-empty-axis-nested", sweep_cfg({"algorithm.gamma": []}), ("algorithm.gamma",), toks([]))
add("sweep-case=5", sweep_cfg({"case": 5}), ("case",), toks(5))
add("sweep-case=empty", sweep_cfg({"case": []}), ("case",), toks([]))
add("sweep-case-bad-gamma", sweep_cfg({"case": [{"algorithm": {"gamma": -1.0}}]}), fld("algorithm.gamma"),
    ("-1",))
add("sweep-case-unknown-key", sweep_cfg({"case": [{"gama": 0.1}]}), ("gama",))
add("sweep-case-algorithm-typo", sweep_cfg({"case": [{"algorithm": {"name": "byz_dm22"}}]}), ("algorithm",),
    toks("byz_dm22"), "byz_dm21")
add("sweep-axis-gamma-negative", sweep_cfg({"algorithm.gamma": [0.05, -1.0]}), fld("algorithm.gamma"),
    ("-1",))
add("sweep-axis-T-zero", sweep_cfg({"T": [10, 0]}), ("T",), ("0",))
add("sweep-axis-n-zero", sweep_cfg({"n": [5, 0]}), ("n",), ("0",))
add("sweep-axis-aggregator-typo", sweep_cfg({"aggregator": ["cwtm", "krumm"]}), ("aggregator",),
    toks("krumm"), "krum")
add("sweep-axis-k-too-big", sweep_cfg({"compressor.k": [2, 6]}), fld("compressor.k"), ("6",))
add("sweep-axis-record-log-memory", sweep_cfg({"record.log": [5, 10**9]}), ("record.log",), toks(10**9),
    f"{GB}|{CAP}",
    guarded=True)
add("sweep-set-empty-axis", sweep_set("seed=[]"), ("seed",), toks([]))
add("sweep-set-no-equals", sweep_set("seed"), ("--set",), ("'seed'", '"seed"'))
add("sweep-set-unknown-key", sweep_set("gama=1"), ("gama",))
add("sweep-set-algorithm=byz_dm21", sweep_set("algorithm=byz_dm21"), fld("algorithm.gamma"))
add("sweep-workers=0", sweep_cfg({}, workers="0"), ("--workers",), ("0",))
add("sweep-workers=-3", sweep_cfg({}, workers="-3"), ("--workers",), ("-3",))
add("sweep-out-is-a-file", lambda c: ["sweep", c.config(SWEEP_BASE, "sweep.toml"), "--out",
                                      c.write("outfile", "keep\n"), "--workers", "1"],
    ("--out",), ("outfile",))
add("sweep-out-parent-is-a-file", lambda c: ["sweep", c.config(SWEEP_BASE, "sweep.toml"), "--out",
                                             str(Path(c.write("outfile", "keep\n")) / "sub"),
                                             "--workers", "1"],
    ("--out",), ("outfile",))

# verify ---------------------------------------------------------------------------------------------
add("verify-workers=0", lambda c: ["verify", "--quick", "--workers", "0", "--out", str(c.out)],
    ("--workers",), ("0",))
add("verify-workers=-3", lambda c: ["verify", "--quick", "--workers", "-3", "--out", str(c.out)],
    ("--workers",), ("-3",))
add("verify-out-is-a-file", lambda c: ["verify", "--quick", "--workers", "1", "--out",
                                       c.write("outfile", "keep\n")], ("--out",), ("outfile",))
add("verify-out-parent-is-a-file", lambda c: ["verify", "--quick", "--workers", "1", "--out",
                                              str(Path(c.write("outfile", "keep\n")) / "sub")],
    ("--out",), ("outfile",))

def mkdir(c: Ctx, name: str) -> str:
    (c.tmp / name).mkdir()
    return str(c.tmp / name)


# plot -----------------------------------------------------------------------------------------------
add("plot-store-missing", lambda c: ["plot", str(c.tmp / "nostore"), "--kind", "curves", "--out",
                                     str(c.tmp / "fig.png")], ("store",), ("nostore",))
add("plot-store-is-a-file", lambda c: ["plot", c.write("storefile", "x\n"), "--kind", "curves", "--out",
                                       str(c.tmp / "fig.png")], ("store",), ("storefile",))
add("plot-store-empty-dir", lambda c: ["plot", mkdir(c, "emptystore"), "--kind", "curves", "--out",
                                       str(c.tmp / "fig.png")],
    ("store",), ("emptystore",))
add("plot-store-no-runs", lambda c: ["plot", str(Path(c.write("nostore2/runs.jsonl", "")).parent), "--kind",
                                     "grid", "--out", str(c.tmp / "fig.png")], ("store",), ("nostore2",))
add("plot-store-garbage", lambda c: ["plot", str(Path(c.write("junk/runs.jsonl", "not json\n")).parent),
                                     "--kind", "curves", "--out", str(c.tmp / "fig.png")],
    ("store|runs.jsonl",), ("junk",))
add("plot-out-jpg", lambda c: ["plot", str(c.store), "--kind", "curves", "--out", str(c.tmp / "fig.jpg")],
    ("--out",), ("fig.jpg",))
add("plot-out-no-suffix", lambda c: ["plot", str(c.store), "--kind", "curves", "--out", str(c.tmp / "fig")],
    ("--out",), ("fig",))
add("plot-out-missing-dir", lambda c: ["plot", str(c.store), "--kind", "curves", "--out",
                                       str(c.tmp / "nodir" / "fig.png")], ("--out",), ("nodir",))
add("plot-out-is-a-dir", lambda c: ["plot", str(c.store), "--kind", "curves", "--out", mkdir(c, "dir.png")],
    ("--out",), ("dir.png",))

# store check ----------------------------------------------------------------------------------------
add("store-check-non-store-dir", lambda c: ["store", "check", mkdir(c, "plain")], ("store",), ("plain",))
add("store-check-missing", lambda c: ["store", "check", str(c.tmp / "nostore")], ("store",), ("nostore",))
add("store-check-file", lambda c: ["store", "check", c.write("storefile", "x\n")], ("store",), ("storefile",))


def index_is_a_dir(c: Ctx) -> str:
    (c.tmp / "odd" / "runs.jsonl").mkdir(parents=True)
    return str(c.tmp / "odd")


# found by a review after the suite was written
add("store-check-index-is-a-dir", lambda c: ["store", "check", index_is_a_dir(c)], ("runs.jsonl",), ("odd",))
add("plot-index-is-a-dir", lambda c: ["plot", index_is_a_dir(c), "--kind", "curves", "--out",
                                      str(c.tmp / "f.png")], ("runs.jsonl",), ("odd",))
add("plot-out-unwritable", lambda c: ["plot", str(c.store), "--kind", "curves", "--out", "/proc/f.png"],
    ("/proc",), ("f.png",))
add("run-config-is-a-device", lambda c: ["run", "/dev/zero", "--out", str(c.out)], ("config",),
    ("/dev/zero",))
add("run-out-empty", lambda c: ["run", c.config(BASE), "--out", ""], ("--out",), ("''",))
add("sweep-workers-too-many", sweep_cfg({}, workers="100000"), ("--workers",), ("100000",))
add("verify-workers-too-many", lambda c: ["verify", "--quick", "--workers", "100000"], ("--workers",),
    ("100000",))

# argparse-level (a minority) ------------------------------------------------------------------------
add("argparse-run-set-without-value", lambda c: ["run", c.config(BASE), "--out", str(c.out), "--set"],
    ("--set",), argparse=True)
add("argparse-plot-kind", lambda c: ["plot", str(c.store), "--kind", "bars", "--out", str(c.tmp / "f.png")],
    ("--kind",), ("'bars'",), argparse=True)
add("plot-x-unknown-curve", lambda c: ["plot", str(c.store), "--kind", "curves", "--x", "time", "--out",
                                      str(c.tmp / "f.png")], ("--x",), ("'time'",))
add("argparse-verify-quick-full", lambda c: ["verify", "--quick", "--full"], ("--full|--quick",),
    argparse=True)
add("argparse-sweep-workers-x", lambda c: ["sweep", c.config(SWEEP_BASE, "sweep.toml"), "--out", str(c.out),
                                           "--workers", "x"], ("--workers",), ("'x'",), argparse=True)
add("argparse-verify-workers-1.5", lambda c: ["verify", "--workers", "1.5"], ("--workers",), ("'1.5'",),
    argparse=True)

assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"

#: cases that also go through the real entry point, ``python -m byzref``
SUBPROCESS_IDS = ["run-gamma=0", "run-file-malformed", "set-no-equals", "sweep-workers=0", "plot-out-jpg"]


# --- the harness ------------------------------------------------------------------------------------
def _snapshot(*roots: Path) -> dict[str, tuple]:
    out = {}
    for root in roots:
        if not root.exists():
            continue
        for p in [root, *root.rglob("*")]:
            try:
                st = p.lstat()
            except OSError:
                continue
            out[str(p)] = (p.is_dir(), st.st_size, st.st_mtime_ns)
    return out


def _boom(*args, **kwargs):
    raise AssertionError("simulation started")


def _no_simulation(monkeypatch) -> None:
    import byzref._sweep_exec as sweep_exec
    import byzref.engine as engine
    import theory  # noqa: F401  (theory.verify the module is shadowed by the function)

    monkeypatch.setattr(engine._Simulation, "__init__", _boom)
    monkeypatch.setattr(sweep_exec, "_run_one", _boom)
    monkeypatch.setattr(sweep_exec, "process_pool", _boom)
    monkeypatch.setattr(sys.modules["theory.verify"], "run_all", _boom)
    monkeypatch.setattr(sys.modules["theory.runner"], "run_all", _boom)


def _invoke(argv: list[str], capsys) -> tuple[int, str, str]:
    from byzref.cli import main

    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            rc = code or 0
        else:
            print(code, file=sys.stderr)
            rc = 1
    except Exception:  # what the real entry point would do: print the traceback, exit 1
        traceback.print_exc()
        rc = 1
    out, err = capsys.readouterr()
    return rc, out, err


GUARD = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
import byzref._sweep_exec, byzref.engine
def boom(*a, **k):
    raise AssertionError("simulation started")
byzref.engine._Simulation.__init__ = boom
byzref._sweep_exec._run_one = boom
byzref._sweep_exec.process_pool = boom
from byzref.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _child(args: list[str], timeout: float) -> tuple[int, str, str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR") or str(ROOT / ".numba_cache"),
           "MPLBACKEND": "Agg"}
    if not Path(env["NUMBA_CACHE_DIR"]).is_absolute():
        env["NUMBA_CACHE_DIR"] = str(ROOT / env["NUMBA_CACHE_DIR"])
    try:
        proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, env=env)
    except subprocess.TimeoutExpired as exc:
        return -9, str(exc.stdout or ""), f"timed out after {timeout} s\n{exc.stderr or ''}"
    return proc.returncode, proc.stdout, proc.stderr


def _word(token: str, line: str) -> bool:
    return any(re.search(rf"(?<![\w-]){re.escape(t)}(?![\w])", line) for t in token.split("|"))


def _problems(case: Case, rc: int, out: str, err: str, before: dict, after: dict) -> list[str]:
    bad = []
    if rc != 2:
        bad.append(f"(a) exit status {rc}, expected 2")
    lines = err.rstrip("\n").split("\n") if err.strip() else []
    if case.argparse:
        ok = (len(lines) >= 2 and lines[0].startswith("usage: byzref")
              and all(x.startswith(" ") for x in lines[1:-1])
              and re.match(r"byzref( \S+)*: error: ", lines[-1]))
        if not ok:
            bad.append(f"(b) not argparse's usage + error form: {lines[:3]}")
        line = lines[-1] if lines else ""
    else:
        if len(lines) != 1:
            bad.append(f"(b) stderr has {len(lines)} lines, expected exactly 1")
        line = lines[0] if lines else ""
        if not line.startswith("byzref: error:"):
            bad.append("(b) the line does not start with 'byzref: error:'")
    missing = [t for t in case.field if not _word(t, line)]
    if missing:
        bad.append(f"(c) does not name the field {' / '.join(missing)}")
    if case.value and not any(v.lower() in line.lower() for v in case.value):
        bad.append(f"(c) does not name the value (one of {case.value})")
    if not any(h in line.lower() for h in HINTS):
        bad.append("(c) states no allowed range/choices or fix (allowed/valid/range/must/expected/needs/use)")
    if case.extra and not re.search(case.extra, line):
        bad.append(f"(c) does not match {case.extra!r}")
    if any(t in out or t in err for t in TRACEBACK):
        bad.append("(d) traceback in the output")
    if "simulation started" in out + err:
        bad.append("(f) a simulation started")
    changed = sorted(set(before.items()) ^ set(after.items()))
    if changed:
        bad.append(f"(e) files written/changed: {sorted({p for p, _ in changed})[:4]}")
    return bad


def _report(case: Case, rc: int, err: str, bad: list[str]) -> str:
    lines = err.rstrip("\n").split("\n")
    first = lines[-1] if case.argparse else lines[0]
    tb_tail = [x for x in lines if x and not x.startswith(" ")][-1:] if "Traceback" in err else []
    return (f"{case.id}: exit {rc}; stderr[0] = {first[:300]!r}"
            + (f"; last = {tb_tail[0][:300]!r}" if tb_tail else "") + "\n  " + "\n  ".join(bad))


@pytest.fixture(scope="session")
def valid_store(tmp_path_factory) -> Path:
    """A results store of two tiny runs, made by a real (unpatched) sweep."""
    d = tmp_path_factory.mktemp("valid_store")
    sweep = d / "sweep.toml"
    sweep.write_text(toml_dumps(SWEEP_BASE), encoding="utf-8")
    from byzref.cli import main

    assert main(["sweep", str(sweep), "--out", str(d / "store"), "--workers", "1"]) == 0
    return d / "store"


def _ctx(tmp_path, request) -> Ctx:
    return Ctx(tmp_path, lambda: request.getfixturevalue("valid_store"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, request, monkeypatch, capsys):
    if case.root_skip and os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    ctx = _ctx(tmp_path, request)
    argv = case.argv(ctx)
    roots = [tmp_path, *([ctx.store] if ctx.store_used else [])]
    before = _snapshot(*roots)
    if case.guarded:
        rc, out, err = _child(["-c", GUARD, *argv], timeout=60)
    else:
        _no_simulation(monkeypatch)
        rc, out, err = _invoke(argv, capsys)
    after = _snapshot(*roots)
    bad = _problems(case, rc, out, err, before, after)
    assert not bad, _report(case, rc, err, bad)


@pytest.mark.parametrize("case_id", SUBPROCESS_IDS)
def test_bad_input_real_entry_point(case_id: str, tmp_path, request):
    """The same refusal through ``python -m byzref`` (no patches: nothing may run anyway)."""
    case = next(c for c in CASES if c.id == case_id)
    ctx = _ctx(tmp_path, request)
    argv = case.argv(ctx)
    roots = [tmp_path, *([ctx.store] if ctx.store_used else [])]
    before = _snapshot(*roots)
    rc, out, err = _child(["-m", "byzref", *argv], timeout=120)
    bad = _problems(case, rc, out, err, before, _snapshot(*roots))
    assert not bad, _report(case, rc, err, bad)


VALID = {
    "base": lambda c: ["run", c.config(BASE), "--out", str(c.out)],
    "aggregator=cwtm()": run_cfg({"aggregator": "cwtm()"}),
    "libsvm": run_cfg(LIB),
    "marina-rand_k": run_cfg(MARINA),
    "sweep": lambda c: ["sweep", c.config(SWEEP_BASE, "sweep.toml"), "--out", str(c.out), "--workers", "1"],
    "plot": lambda c: ["plot", str(c.store), "--kind", "curves", "--out", str(c.tmp / "fig.png")],
    "store-check": lambda c: ["store", "check", str(c.store)],
}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_base_succeeds(name: str, tmp_path, request, capsys):
    """The cases differ from these valid inputs by one thing, so the refusals are meaningful."""
    ctx = _ctx(tmp_path, request)
    rc, out, err = _invoke(VALID[name](ctx), capsys)
    assert rc == 0, f"exit {rc}\n{err[-2000:]}"
    assert not any(t in out + err for t in TRACEBACK)
    if name in ("base", "aggregator=cwtm()", "libsvm", "marina-rand_k", "sweep"):
        assert ctx.out.is_dir() and any(ctx.out.iterdir())
    if name == "plot":
        assert (tmp_path / "fig.png").is_file()


def test_case_table_is_large():
    assert len(CASES) >= 170
    assert sum(c.argparse for c in CASES) * 5 < len(CASES)  # argparse-level cases are a minority
