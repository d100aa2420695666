"""The verification report: summary table, report.md and report.json (one entry per claim)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theory.claims.base import ClaimResult, Scale, _clean

__all__ = ["Report", "summary_line"]


def _f(v: Any, fmt: str = "+.3f") -> str:
    if isinstance(v, (int, float)) and math.isfinite(v):
        return format(v, fmt)
    return str(v)


def summary_line(r: ClaimResult) -> tuple[str, str]:
    """(measured, predicted) short strings for the summary table."""
    m, v = r.verdict.measured, r.verdict
    if r.kind == "rate" and "slope" in m:
        ci = v.ci or (math.nan, math.nan)
        return (f"slope {_f(m['slope'])} [{_f(ci[0])}, {_f(ci[1])}], top {_f(m.get('slope_upper'))}; "
                f"ε^−{_f(m['eps_exponent'], '.2f')}",
                f"{_f(v.predicted['slope'])} (ε^−{_f(v.predicted['eps_exponent'], '.2f')})")
    if r.kind == "separation" and "difference" in m:
        return (f"Δslope {_f(m['difference'])} [{_f(v.ci[0])}, {_f(v.ci[1])}]", "< 0")
    if r.kind == "neighborhood" and "c" in m:
        return (f"c = {_f(m['c'], '.3g')}, c_sup = {_f(m['c_sup_over_attacks'], '.3g')}; "
                f"slopes ζ² {_f(m['slope_zeta2'], '.2f')}, "
                f"δ {_f(m['slope_delta'], '.2f')}, z {_f(m['slope_attack'], '.2f')}", "ζ² 1, δ > 0, z ≈ 0")
    if r.kind == "comparison" and m:
        return (", ".join(f"{k} {_f(x, '.3g')}" for k, x in m.items()), "first smallest")
    if r.kind == "batch_one" and "ef21_sgd_slope" in m:
        return (f"DM21 {_f(m['dm21_slope'])}, EF21-SGD {_f(m['ef21_sgd_slope'])}, "
                f"floor ×{_f(m['ef21_sgd_floor_ratio'], '.2f')}",
                "−0.5; stalls; × > 1")
    if r.kind == "pl" and "factor" in m:
        return (f"rate/(γμ) {', '.join(_f(x, '.2f') for x in m['rate_over_gamma_mu'])}; "
                f"slope vs γ {_f(m['rate_slope'], '.2f')}, "
                f"floor vs σ² {_f(m['floor_slope'], '.2f')}", "Θ(1); 1; 1")
    if r.kind == "aggregator_kappa" and r.data.get("table"):
        rows = r.data["table"]
        return (", ".join(f"{x['aggregator']} {_f(x['kappa_empirical'], '.3g')}" for x in rows),
                f"worst case κ ≥ {_f(rows[0]['lower_bound'], '.3g')}")
    if r.kind == "bound":
        return (f"{_f(r.data.get('empirical'), '.4g')}", f"≤ {_f(r.data.get('bound'), '.4g')}")
    return (v.reason[:60], "")


@dataclass
class Report:
    """All decided claims of one verification run, as plain data."""

    scale: Scale
    results: list[ClaimResult]
    wall_time: float
    n_runs: int
    versions: dict[str, str] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    figure_note: str = ""

    @property
    def ok(self) -> bool:
        """Every ordinary claim did not FAIL and every negative control FAILed."""
        return all(r.ok for r in self.results)

    def __getitem__(self, claim_id: str) -> ClaimResult:
        for r in self.results:
            if r.id == claim_id:
                return r
        raise KeyError(claim_id)

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        out = []
        for r in self.results:
            meas, pred = summary_line(r)
            tag = "negative control" if r.negative_control else ("informational" if r.informational else "")
            if r.negative_control:
                tag += " (FAIL as required)" if r.ok else " (DID NOT FAIL)"
            out.append((r.id, r.verdict.verdict, meas, pred, tag))
        return out

    def table(self) -> str:
        rows = [("claim", "verdict", "measured", "predicted", "note"), *self.rows()]
        w = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * x for x in w))
        status = "all claims as required" if self.ok else "SOME CLAIMS FAILED"
        lines.append(f"\n{len(self.results)} claims, {self.n_runs} runs, scale {self.scale.name}, "
                     f"{self.wall_time:.1f} s: {status}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """Plain JSON-ready data (non-finite floats as strings, like byzref's run records)."""
        sc = self.scale
        return _clean({"scale": {"name": sc.name, "Ts": list(sc.Ts), "seeds": list(sc.seeds),
                                 "T_plateau": sc.T_plateau},
                "ok": self.ok, "wall_time_s": self.wall_time, "n_runs": self.n_runs,
                "versions": self.versions,
                "figures": self.figures, "claims": [r.as_dict() for r in self.results]})

    def markdown(self) -> str:
        md = ["# byzref verification report", "",
              f"Scale `{self.scale.name}`: horizons T = {', '.join(map(str, self.scale.Ts))}; seeds "
              f"{len(self.scale.seeds)}; plateau runs T = {self.scale.T_plateau}. {self.n_runs} runs in "
              f"{self.wall_time:.1f} s. Overall: **{'as required' if self.ok else 'FAIL'}**.", "",
              "| claim | verdict | measured | predicted | note |", "|---|---|---|---|---|"]
        md += [f"| `{a}` | **{b}** | {c} | {d} | {e} |" for a, b, c, d, e in self.rows()]
        if self.figures or self.figure_note:
            md += ["", "## Figures", ""] + [f"![{Path(p).stem}]({Path(p).name})" for p in self.figures]
            md += [self.figure_note] if self.figure_note else []
        for r in self.results:
            d = r.as_dict()
            md += ["", f"## `{r.id}`: {r.title}", "",
                   f"- **verdict: {r.verdict.verdict}** — {r.verdict.reason}",
                   f"- source: {r.source}", f"- statement: {r.statement}" if r.statement else "",
                   f"- criterion: {r.verdict.criterion}"]
            for p in r.verdict.parts:
                md.append(f"  - {p.verdict}: {p.criterion} — {p.reason}")
            for k, v in d["description"].items():
                md.append(f"- {k}: `{json.dumps(v, default=str, ensure_ascii=False)}`")
            meas = json.dumps(d["decision"]["measured"], default=str, ensure_ascii=False)
            md.append(f"- measured: `{meas}`")
        return "\n".join(x for x in md if x is not None) + "\n"

    def write(self, out: str | Path, figures: bool = True) -> Path:
        """Write report.json, report.md and (``figures``) the PNG figures into ``out``; returns ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        if figures:
            from theory.figures import make_figures

            paths, self.figure_note = make_figures(self, out)
            self.figures = paths
        (out / "report.json").write_text(json.dumps(self.as_dict(), indent=2, default=str,
                                                    ensure_ascii=False, allow_nan=False))
        (out / "report.md").write_text(self.markdown())
        return out
