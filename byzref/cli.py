"""The single front door: ``byzref <command>`` and ``python -m byzref <command>``.

The commands (``byzref <command> --help`` lists each one's options):

``info``
    List every registered component with its theory constants (``--json`` for JSON).
``run``
    Run one config: ``byzref run CONFIG.toml --out DIR [--set key=value ...]``.
``verify``
    Decide the paper's claims empirically:
    ``byzref verify --out DIR [--quick | --full] [--negative-controls] [--no-fail-exit]``
    (the ``theory`` package).
``sweep``
    Run a grid of configs into a resumable results store (:mod:`byzref.sweep`; :ref:`guide-sweeps`).
``plot``
    Draw figures from a results store (:mod:`plots.cli`; :ref:`guide-figures`).
``table``
    Write finished runs as CSV or Parquet (:mod:`byzref.table`).
``store check``
    Verify every run's curves in a results store (:mod:`byzref.store_cli`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from byzref.errors import ConfigError

__all__ = ["main"]


def _component_table(d: int, n: int, f: int) -> dict[str, list[dict[str, Any]]]:
    """Every registered component, built from its ``test_config``, described as plain data."""
    from byzref.aggregators import AGGREGATORS, PRE_AGGREGATORS
    from byzref.attacks import ATTACKS
    from byzref.compressors import COMPRESSORS

    def entries(registry, describe):
        out = []
        for name in registry.names():
            cls = registry.get(name)
            doc = (cls.__doc__ or "").strip().splitlines()
            entry = describe(registry.build({"name": name, **cls.test_config}, f=f))
            entry["summary"] = doc[0] if doc else ""
            out.append(entry)
        return out

    from byzref.algorithms import ALGORITHMS
    from byzref.rng import stream
    from problems import PROBLEMS

    def describe_algorithm(a):
        # init_batch = 1 stays out of canonical configs (params()), but info lists it
        params = {**a.params(), **({"init_batch": a.init_batch} if hasattr(a, "init_batch") else {})}
        return {"name": a.name, "params": params, "compressor_class": a.compressor_class,
                "stochastic": a.stochastic, "preset_of": a.preset_of}

    def problems():
        out = []
        for name in PROBLEMS.names():
            cls = PROBLEMS.get(name)
            prob = PROBLEMS.build({"name": name}, rng=stream(0, "problem"), n=n, f=f)
            entry = prob.describe()
            entry["summary"] = ((cls.__doc__ or "").strip().splitlines() or [""])[0]
            entry["constants"] = {k: entry.pop(k) for k in
                                  ("L", "L_i_max", "L_tilde", "mu", "f_star", "sigma2", "zeta2", "B")}
            for k in ("extra", "notes", "exact", "f_star_exact", "n", "f"):
                entry.pop(k, None)
            out.append(entry)
        return out

    def claims():
        from theory.suite import builtin_claims, negative_controls

        return [{"name": c.id, "summary": c.title, "params": {}, "kind": c.kind, "source": c.source,
                 "informational": c.informational, "negative_control": c.negative_control}
                for c in [*builtin_claims(), *negative_controls()]]

    table = {
        "claims": claims(),
        "problems": problems(),
        "algorithms": entries(ALGORITHMS, describe_algorithm),
        "compressors": entries(COMPRESSORS, lambda c: c.describe(d)),
        "aggregators": entries(AGGREGATORS, lambda a: a.describe(n)),
        "pre_aggregators": entries(PRE_AGGREGATORS, lambda p: p.describe(n)),
        "attacks": entries(ATTACKS, lambda a: a.describe()),
    }
    return table


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _cmd_info(args: argparse.Namespace) -> int:
    table = _component_table(args.d, args.n, args.f)
    if args.json:
        json.dump({"reference_sizes": {"d": args.d, "n": args.n, "f": args.f}, **table},
                  sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    print(f"byzref components (constants at d = {args.d}, n = {args.n}, f = {args.f}; "
          "problems at their default sizes with seed 0)")
    skip = {"name", "summary", "params"}
    for family, entries in table.items():
        print(f"\n{family}:")
        for e in entries:
            flat = {**e, **e.get("constants", {})}
            consts = ", ".join(f"{k}={_fmt(v)}" for k, v in flat.items() if k not in skip | {"constants"})
            params = ", ".join(f"{k}={_fmt(v)}" for k, v in e["params"].items())
            print(f"  {e['name']:<16} {e['summary']}")
            print(f"  {'':<16} params: {params or '-'}; {consts}")
    return 0


def _parse_value(text: str) -> Any:
    """A ``--set`` value: a TOML literal (number, bool, string, array, inline table) or a bare string."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(cfg: dict, overrides: list[str]) -> dict:
    """Apply ``key.sub=value`` overrides to a config dict (in place); returns it."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r} has no '='; expected key=value, e.g. algorithm.gamma=0.1")
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        if not all(p.strip() for p in parts):
            raise ConfigError(f"--set {item!r}: the key must be a dotted field name such as algorithm.gamma")
        node = cfg
        for p in parts[:-1]:
            child = node.get(p)
            if isinstance(child, str):  # e.g. aggregator = "cwtm" then --set aggregator.b=2
                child = {"name": child}
            node[p] = child if isinstance(child, dict) else {}
            node = node[p]
        node[parts[-1]] = _parse_value(text.strip())
    return cfg


#: the largest config or sweep file read (a TOML config is a few kB)
MAX_CONFIG_BYTES = 16 * 2**20


def read_toml(path: str, what: str = "config") -> dict:
    """Parse the TOML file at ``path``; every way it can fail is one ConfigError line naming the file."""
    import os
    import stat
    import tomllib

    where = f"{what} file {path!r}"
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode) and st.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{where} has {st.st_size} bytes; allowed: at most {MAX_CONFIG_BYTES} for a "
                              "TOML config")
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"{where} is not a regular file (a device, pipe or socket); expected a "
                              "TOML file")
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise ConfigError(f"{where} does not exist; expected the path of a TOML file") from None
    except IsADirectoryError:
        raise ConfigError(f"{where} is a directory; expected the path of a TOML file") from None
    except PermissionError:
        raise ConfigError(f"{where} cannot be read (permission denied)") from None
    except OSError as exc:
        raise ConfigError(f"{where} cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where} is not a text file (byte {exc.start} is not UTF-8); expected TOML") \
            from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {str(exc).splitlines()[0]}") from None


def check_workers(value: int | None, option: str = "--workers") -> None:
    """A worker count must be in [1, 4 × cores] (None: the command's default)."""
    import os

    hi = 4 * (os.cpu_count() or 1)
    if value is not None and not 1 <= value <= hi:
        raise ConfigError(f"{option} = {value} is outside the allowed range [1, {hi}] (4 × this machine's "
                          f"{os.cpu_count() or 1} cores; each worker is a process)")


def check_out(value: str, option: str = "--out") -> None:
    """An output path must not be empty."""
    if not str(value).strip():
        raise ConfigError(f"{option} = {value!r} is empty; expected a directory path")


def _cmd_run(args: argparse.Namespace) -> int:
    from byzref.config import build, run_id
    from byzref.engine import STALL_RATIO, run
    from byzref.results import prepare_run_dir

    check_out(args.out)
    cfg = read_toml(args.config)
    apply_overrides(cfg, args.set or [])
    spec = build(cfg)  # every check, before any work
    prepare_run_dir(args.out, run_id(spec.cfg))  # a record already there, or an unwritable --out
    res = run(spec)
    path = res.save(args.out)
    c, s = res.config, res.summary
    print(f"run {res.run_id}: {c['algorithm']['name']} on {c['problem']['name']} "
          f"(n={c['n']}, f={c['f']}, T={c['T']}, seed={c['seed']})")
    print(f"  compressor {c['compressor']['name']}, aggregator {c['aggregator']['name']}, "
          f"attack {c['attack']['name']} ({c['attack']['target']})")
    status = res.status if res.diverged_at is None else f"{res.status} at iteration {res.diverged_at}"
    if res.status == "stalled":
        status += (f" (second-half median ‖∇f‖² = {s['progress_ratio']:.3g} × ‖∇f(x⁰)‖², "
                   f"stalled from {STALL_RATIO:g})")
    print(f"  status        {status}")
    print(f"  avg ‖∇f‖²     {s['avg_grad_sq']:.6g}   (1/T Σ_t ‖∇f(x^t)‖²)")
    print(f"  final ‖∇f‖²   {s['final_grad_sq']:.6g}")
    print(f"  final f − f*  {s['final_f_gap']:.6g}")
    print(f"  bits/worker   up {s['bits_up_per_worker']:.4g}, down {s['bits_down_per_worker']:.4g}")
    print(f"  wall time     {res.wall_time:.2f} s")
    print(f"  written       {path} (+ .npz curves)")
    if res.status != "ok":
        print(f"byzref: warning: the run {res.status}"
              + (" (no real progress: try a smaller step size or a larger momentum parameter)"
                 if res.status == "stalled" else ""), file=sys.stderr)
    return 0 if res.status == "ok" else 3


def _cmd_verify(args: argparse.Namespace) -> int:
    import os
    import time

    from byzref.progress import Progress
    from theory import verify

    check_workers(args.workers)
    if args.out is not None:
        _check_out_dir(args.out)
    scale = "quick" if args.quick else ("full" if args.full else "default")
    bar = Progress("runs")

    t0 = time.perf_counter()
    print(f"byzref verify: scale {scale}{' + negative controls' if args.negative_controls else ''}, "
          f"{args.workers} worker(s)", flush=True)
    # with --out the runs are kept in OUT/runs (a results store), so a rerun or an interrupted verify
    # resumes: finished runs are read back, not recomputed
    store = os.path.join(args.out, "runs") if args.out else None
    try:
        report = verify(scale=scale, workers=args.workers, negative_controls=args.negative_controls,
                        progress=lambda done, total: bar(done, total), store_dir=store)
    finally:
        bar.close()
    kept = _keep_earlier_report(args.out) if args.out else []
    if args.out:
        report.write(args.out, figures=not args.no_figures, workers=args.workers)
    print(report.table())
    if args.out:
        print(f"written: {args.out}/report.md, {args.out}/report.json"
              + (f", {len(report.figures)} figure(s)" if report.figures else "")
              + (f" ({report.figure_note})" if report.figure_note else ""))
        if kept:
            print(f"the earlier report was kept as {', '.join(kept)}")
    print(f"wall time {time.perf_counter() - t0:.1f} s")
    if report.not_observed:  # an ordering of upper bounds not seen: reported, not a failure (exit 0)
        print(f"NOT OBSERVED (not a failure): {', '.join(report.not_observed)}")
    if not report.ok:
        bad = [r.id for r in report.results if not r.ok]
        print(f"not as required: {', '.join(bad)}", file=sys.stderr)
        return 0 if args.no_fail_exit else 1
    return 0


def _check_out_dir(out: str) -> None:
    """An output directory must be a directory (or creatable) and writable; checked before any work."""
    from byzref.results import _probe_writable, ensure_dir

    _probe_writable(ensure_dir(out, "verify output folder"), "verify output folder")


def _keep_earlier_report(out: str) -> list[str]:
    """Rename an earlier report.md/report.json in ``out`` to report-<its UTC time>.*; return the new names."""
    import datetime
    import os

    kept = []
    for name in ("report.md", "report.json"):
        path = os.path.join(out, name)
        if os.path.isfile(path):
            stamp = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.UTC)
            base, ext = os.path.splitext(name)
            new = os.path.join(out, f"{base}-{stamp:%Y%m%dT%H%M%SZ}{ext}")
            k = 1
            while os.path.lexists(new):
                new = os.path.join(out, f"{base}-{stamp:%Y%m%dT%H%M%SZ}-{k}{ext}")
                k += 1
            os.replace(path, new)
            kept.append(new)
    return kept


def _cmd_sweep(args: argparse.Namespace) -> int:
    from byzref.sweep import main_sweep

    return main_sweep(args)


def _cmd_plot(args: argparse.Namespace) -> int:
    from plots.cli import main_plot

    return main_plot(args)


def _cmd_table(args: argparse.Namespace) -> int:
    from byzref.table import main_table

    return main_table(args)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="byzref", description=__doc__.split("\n\n")[0].replace("``", ""))
    sub = p.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="list registered components and their theory constants")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.add_argument("--d", type=int, default=100, help="dimension for d-dependent constants")
    info.add_argument("--n", type=int, default=20, help="number of workers for n-dependent constants")
    info.add_argument("--f", type=int, default=4, help="number of Byzantine workers")
    info.set_defaults(func=_cmd_info)
    runp = sub.add_parser("run", help="run one configuration (TOML) and write its record and curves")
    runp.add_argument("config", help="run config (TOML)")
    runp.add_argument("--out", required=True, help="output directory")
    runp.add_argument("--set", action="append", metavar="KEY=VALUE",
                      help="override a config value, e.g. --set algorithm.gamma=0.1 (repeatable)")
    runp.set_defaults(func=_cmd_run)
    ver = sub.add_parser("verify", help="verify the paper's claims empirically and write a report")
    ver.add_argument("--out", help="output directory for report.md, report.json, figures and the runs "
                     "(OUT/runs: a rerun resumes from them)")
    size = ver.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="small horizons and seeds (CI; about 20 s once its loops are compiled)")
    size.add_argument("--full", action="store_true", help="paper-scale horizons and seeds (slow)")
    ver.add_argument("--negative-controls", action="store_true",
                     help="also run deliberately broken variants that must FAIL")
    ver.add_argument("--no-fail-exit", action="store_true", help="exit 0 even when a claim fails")
    ver.add_argument("--no-figures", action="store_true", help="do not draw figures")
    ver.add_argument("--workers", type=int, default=2, help="processes for the runs (default 2)")
    ver.set_defaults(func=_cmd_verify)
    sw = sub.add_parser("sweep", help="run a grid of configurations (TOML) into a resumable results store")
    sw.add_argument("sweep", help="sweep file (TOML); list-valued fields are grid axes")
    sw.add_argument("--out", required=True, help="results store directory (resumes when it exists)")
    sw.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    sw.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="run on a dask.distributed cluster at ADDRESS (needs the 'dask' extra)")
    sw.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a sweep value (repeatable)")
    sw.set_defaults(func=_cmd_sweep)
    pl = sub.add_parser("plot", help="draw figures from a results store (FIG.json beside FIG says what)")
    pl.add_argument("store", help="results store (byzref sweep --out), verify --out or run --out folder")
    pl.add_argument("--kind", required=True, choices=("curves", "rates", "grid"))
    pl.add_argument("--out", required=True, help="figure file (.pdf .png .svg .pgf .eps)")
    pl.add_argument("--where", action="append", metavar="KEY=VALUE",
                    help="keep runs with this value, e.g. --where attack=alie (repeatable; OR within a "
                    "key)")
    for role, what in (("hue", "colour"), ("style", "linestyle"), ("col", "panel column"),
                       ("row", "panel row")):
        pl.add_argument(f"--{role}", metavar="KEY", help=f"{what} by KEY[,KEY] (method, attack, "
                        "aggregator, compressor or a config path like algorithm.gamma; none: empty)")
    pl.add_argument("--x", default=None, help="x: iteration (default), bits_up or bits_down; "
                    "rates: T")
    pl.add_argument("--y", default=None, help="y: grad_sq (default), grad_sq_avg, f_gap, dist, agg_err or "
                    "any curve; rates: avg_grad_sq (default), final_grad_sq, final_f_gap")
    pl.add_argument("--band", default="minmax", choices=("minmax", "iqr", "none"),
                    help="band over seeds around the median (default minmax)")
    pl.add_argument("--sharey", default=None, choices=("none", "row", "col", "all"),
                    help="y-axis sharing of panels (default: per column for --kind grid, whose columns "
                    "are the attacks; per row otherwise)")
    pl.add_argument("--size", metavar="W,H", help="figure size in inches, e.g. 7,3")
    pl.add_argument("--font-size", type=float, default=None, help="base font size in points")
    pl.add_argument("--usetex", action="store_true", help="typeset text with LaTeX (needs latex, dvipng)")
    pl.add_argument("--title", default=None, help="figure title")
    pl.add_argument("--labels", default=None, metavar="FILE.toml", help="display names ([attack] alie = ...)")
    pl.add_argument("--label", action="append", metavar="NAME=Display",
                    help="display name, e.g. --label byz_dm21=Ours or attack.alie=ALIE (repeatable)")
    pl.set_defaults(func=_cmd_plot)
    tb = sub.add_parser("table", help="write finished runs as a table (CSV or Parquet), one row per "
                        "checkpoint or, with --summary, per run")
    tb.add_argument("source", help="results store, byzref verify --out folder or byzref run --out folder")
    tb.add_argument("--summary", action="store_true", help="one row per run (summary and constants)")
    tb.add_argument("--where", action="append", metavar="KEY=VALUE",
                    help="keep runs with this value, e.g. --where attack=alie (repeatable; OR within a key)")
    tb.add_argument("-o", "--output", required=True, metavar="OUT",
                    help="output file .csv or .parquet (needs byzref[table]); - for CSV on stdout")
    tb.set_defaults(func=_cmd_table)
    from byzref.store_cli import main_store_check

    st = sub.add_parser("store", help="inspect a results store")
    st = st.add_subparsers(dest="store_command", required=True)
    chk = st.add_parser("check", help="verify every run's curves; exit 0 clean, 1 damaged, 2 not a store")
    chk.add_argument("dir", help="results store directory")
    chk.set_defaults(func=main_store_check)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit status.

    Parameters
    ----------
    argv : list of str or None, optional
        The arguments after the program name; None (default) reads ``sys.argv``.

    Returns
    -------
    int
        0: done (for verify: no claim FAILs and every negative control FAILs; NOT OBSERVED claims,
        orderings of upper bounds that the measurements do not show, are named but exit 0); 1: verify
        found a claim not as required, or some sweep runs raised; 2: bad input (one line on stderr
        naming the field, the value and the allowed range, before any work); 3: the run diverged or
        stalled; 130: interrupted; 141: the output pipe was closed (``| head``).
    """
    args = _parser().parse_args(argv)
    try:
        rc = int(args.func(args))
        sys.stdout.flush()  # inside the try: a reader that went away shows here
        return rc
    except (ConfigError, FileExistsError) as exc:
        print(f"byzref: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        import os

        # the reader went away (``byzref info | head``): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:  # a path the system refuses (permissions, a full disk, a missing folder)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"byzref: error: {where}{exc.strerror or exc}; expected a readable input and a writable "
              "output path", file=sys.stderr)
        return 2
