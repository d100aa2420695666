"""Claims as data: what a claim states, which runs test it, and how it is decided.

A claim is an object with descriptive fields (id, title, source, statement, algorithm, regime,
metric, schedule, prediction) and two methods:

* ``configs(scale)`` — the engine run configs that test it at a given :class:`Scale`;
* ``evaluate(records, scale)`` — a :class:`ClaimResult` from the run records ({run id: record},
  see :mod:`theory.runner`).

Claims never run anything themselves, so the runs of a whole suite are deduplicated and spread
over a process pool in one go. Claim kinds are registered by name in ``CLAIM_KINDS``.

See :ref:`math-claims` for what each kind states and how it is decided, and :ref:`guide-own-claim`
for writing a claim of one's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from byzref.errors import check_choice, check_real
from byzref.registry import Registry
from theory.verdicts import FAIL, PASS, Verdict

__all__ = ["BASE_RUN", "CLAIM_KINDS", "Claim", "ClaimResult", "Scale", "Schedule", "problem_L"]

#: the claim-kind registry (a :class:`byzref.registry.Registry`): ``@CLAIM_KINDS.register("kind")``
CLAIM_KINDS = Registry("claim kind")

#: the default rate regime (byzref's choice): homogeneous nonconvex_synthetic, σ² = 1, n = 20, δ = 0.2,
#: Top-k (α = 1/5), CWTM under ALIE on the state.
BASE_RUN: dict[str, Any] = {
    "n": 20, "f": 4,
    "problem": {"name": "nonconvex_synthetic", "d": 20, "sigma2": 1.0, "zeta2": 0.0},
    "compressor": {"name": "top_k", "k": 4},
    "aggregator": "cwtm",
    "attack": {"name": "alie"},
    "record": {"log": 20},
}


@dataclass(frozen=True)
class Scale:
    """Horizons and seeds of a verification run (quick / default / full).

    Parameters
    ----------
    name : str
        The scale's name (``theory.suite.SCALES`` holds "quick", "default" and "full").
    Ts : tuple of int
        The horizons of the rate claims (a geometric grid).
    seeds : tuple of int
        The seeds every experiment is run with.
    T_plateau : int, optional
        Iterations of the constant-parameter plateau runs (default 4000).
    """

    name: str
    Ts: tuple[int, ...]
    seeds: tuple[int, ...]
    T_plateau: int = 4000


@dataclass(frozen=True)
class Schedule:
    r"""Parameters as functions of the horizon T (inferred by byzref; the paper's constants are unknown).

    η = min(1, η₀ T^{p}), η₂ = min(1, η₂₀ T^{p₂}) (η₂ = η when ``eta2`` is None),
    γ = min(γ_max/L, γ₀·s/L) with s = η, η₂ or 1 (``gamma_on``).

    Parameters
    ----------
    eta : tuple of float
        (η₀, p).
    eta2 : tuple of float or None, optional
        (η₂₀, p₂); None (default): η₂ = η.
    gamma : tuple of (float, str), optional
        (γ₀, gamma_on) with gamma_on ∈ {"eta", "eta2", "one"} (default (1, "eta")).
    gamma_max : float, optional
        γ_max > 0, the cap of γL (default 0.2).
    """

    eta: tuple[float, float]
    eta2: tuple[float, float] | None = None
    gamma: tuple[float, str] = (1.0, "eta")
    gamma_max: float = 0.2

    def __post_init__(self):
        check_choice("schedule.gamma_on", self.gamma[1], ("eta", "eta2", "one"))
        check_real("schedule.gamma_max", self.gamma_max, 0.0, lo_open=True)

    def params(self, T: int, L: float) -> dict[str, float]:
        """The constant parameters of a run of horizon T.

        Parameters
        ----------
        T : int
            The horizon.
        L : float
            The problem's smoothness constant.

        Returns
        -------
        dict
            {"gamma": γ, "eta": η, "eta2": η₂}.
        """
        eta = min(1.0, self.eta[0] * T ** self.eta[1])
        eta2 = eta if self.eta2 is None else min(1.0, self.eta2[0] * T ** self.eta2[1])
        s = {"eta": eta, "eta2": eta2, "one": 1.0}[self.gamma[1]]
        return {"gamma": min(self.gamma_max / L, self.gamma[0] * s / L), "eta": eta, "eta2": eta2}

    def describe(self) -> str:
        """The schedule as a formula for reading, e.g. ``η = min(1, 2·T^−0.5), η₂ = η, γ = …``.

        Returns
        -------
        str
        """
        def term(c, p):
            return f"min(1, {c:g}·T^{p:+.3g})" if p else f"{min(1.0, c):g}"
        eta = term(*self.eta)
        eta2 = "η" if self.eta2 is None else term(*self.eta2)
        on = {"eta": "η", "eta2": "η₂", "one": "1"}[self.gamma[1]]
        return f"η = {eta}, η₂ = {eta2}, γ = min({self.gamma_max:g}/L, {self.gamma[0]:g}·{on}/L)"


def problem_L(run: dict) -> float:
    """Exact smoothness constant L of the run's problem instance (seed 0).

    Parameters
    ----------
    run : dict
        A run config with ``problem``, ``n`` and ``f``.

    Returns
    -------
    float
    """
    from byzref.rng import stream
    from problems import PROBLEMS

    prob = PROBLEMS.build(dict(run["problem"]), rng=stream(0, "problem"), n=run["n"], f=run["f"])
    return float(prob.constants.L)


@dataclass
class ClaimResult:
    """A decided claim: its description, the verdict, and plot-ready data.

    Parameters
    ----------
    id : str
        The claim's id (e.g. ``byz_dm21.rate``).
    kind : str
        Its kind (a name in ``CLAIM_KINDS``).
    title : str
        One-line title.
    source : str
        Where the claim comes from (paper, or "inferred by byzref").
    statement : str
        What is claimed, in words.
    verdict : theory.verdicts.Verdict
        The decision with its numbers.
    informational : bool, optional
        Reported but not counted (default False).
    negative_control : bool, optional
        A deliberately wrong claim that must FAIL (default False).
    data : dict, optional
        Plot-ready data for the claim's figure (default empty).
    description : dict, optional
        The claim's descriptive fields (:meth:`Claim.describe`; default empty).
    """

    id: str
    kind: str
    title: str
    source: str
    statement: str
    verdict: Verdict
    informational: bool = False
    negative_control: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    description: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """As required: a negative control must FAIL; an ordinary claim must not FAIL."""
        if self.informational:
            return True
        return (self.verdict.verdict == FAIL) if self.negative_control else (self.verdict.verdict != FAIL)

    @property
    def display(self) -> str:
        """The verdict as shown to a reader: "INFO" for an informational claim (its rule's outcome, when
        not PASS, in parentheses: "INFO (FAIL)"), else the verdict itself. ``verdict`` and ``ok`` stay
        the machine-readable fields."""
        if not self.informational:
            return self.verdict.verdict
        return "INFO" if self.verdict.verdict == PASS else f"INFO ({self.verdict.verdict})"

    def as_dict(self) -> dict:
        """Plain JSON-ready data (non-finite floats as strings), as report.json stores it.

        Returns
        -------
        dict
        """
        return {"id": self.id, "kind": self.kind, "title": self.title, "source": self.source,
                "statement": self.statement, "verdict": self.verdict.verdict, "display": self.display,
                "criterion": self.verdict.criterion, "informational": self.informational,
                "negative_control": self.negative_control, "as_required": self.ok,
                "decision": self.verdict.as_dict(), "description": self.description,
                "data": _clean(self.data)}


def _clean(obj):
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if hasattr(obj, "item") and getattr(obj, "ndim", None) == 0:  # numpy scalars
        return _clean(obj.item())
    return obj


class Claim:
    """Base of every claim kind; subclasses set the fields and implement configs / evaluate.

    A kind is registered with ``@CLAIM_KINDS.register("kind")`` and sets the class attribute ``kind``.
    Instances carry ``id``, ``title``, ``source``, ``statement`` and the flags ``informational`` (reported,
    not counted) and ``negative_control`` (must FAIL). See :ref:`guide-own-claim`.
    """

    kind = "claim"
    id: str = ""
    title: str = ""
    source: str = "Li, Liu, Yi, arXiv:2603.15144 (statement inferred by byzref)"
    statement: str = ""
    informational: bool = False
    negative_control: bool = False

    def configs(self, scale: Scale) -> list[dict]:
        """The engine run configs that test the claim at ``scale`` (the verifier runs them).

        Parameters
        ----------
        scale : Scale
            Horizons and seeds.

        Returns
        -------
        list of dict
            Complete run configs; duplicates across claims are run once.
        """
        raise NotImplementedError

    def evaluate(self, records: dict[str, dict], scale: Scale) -> ClaimResult:
        """Decide the claim from the records of its runs.

        A claim whose :meth:`configs` is empty is decided by :func:`theory.verify` in a thread while
        the other claims' runs go on, with an empty ``records``: it must not read other claims' runs.

        Parameters
        ----------
        records : dict
            {run id: record} with every run of :meth:`configs` (:func:`theory.runner.run_all`).
        scale : Scale
            The scale the configs were made for.

        Returns
        -------
        ClaimResult
        """
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (source, algorithm, regime, metric, schedule, prediction).

        Returns
        -------
        dict
            JSON-able fields, shown in report.md and kept in report.json.
        """
        return {k: getattr(self, k) for k in ("algorithm", "regime", "metric", "schedule_text", "prediction")
                if hasattr(self, k)}

    def result(self, verdict: Verdict, data: dict | None = None) -> ClaimResult:
        """A :class:`ClaimResult` of this claim with ``verdict`` and plot data.

        Parameters
        ----------
        verdict : theory.verdicts.Verdict
            The decision.
        data : dict or None, optional
            Plot-ready data for the figure.

        Returns
        -------
        ClaimResult
        """
        return ClaimResult(self.id, self.kind, self.title, self.source, self.statement, verdict,
                           self.informational, self.negative_control, data or {}, self.describe())


def diverged(records: dict[str, dict], keys: list[str]) -> list[str]:
    """Run ids among ``keys`` whose run diverged."""
    return [k for k in keys if records[k]["status"] == "diverged"]
