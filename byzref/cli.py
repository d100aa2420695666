"""The single front door: ``byzref <command>`` and ``python -m byzref <command>``.

Commands
--------
info    list every registered component with its theory constants (``--json`` for JSON)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

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

    table = {
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
    print(f"byzref components (constants at d = {args.d}, n = {args.n}, f = {args.f})")
    skip = {"name", "summary", "params"}
    for family, entries in table.items():
        print(f"\n{family}:")
        for e in entries:
            consts = ", ".join(f"{k}={_fmt(v)}" for k, v in e.items() if k not in skip)
            params = ", ".join(f"{k}={_fmt(v)}" for k, v in e["params"].items())
            print(f"  {e['name']:<16} {e['summary']}")
            print(f"  {'':<16} params: {params or '-'}; {consts}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="byzref", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="list registered components and their theory constants")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.add_argument("--d", type=int, default=100, help="dimension for d-dependent constants")
    info.add_argument("--n", type=int, default=20, help="number of workers for n-dependent constants")
    info.add_argument("--f", type=int, default=4, help="number of Byzantine workers")
    info.set_defaults(func=_cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = _parser().parse_args(argv)
    from byzref.errors import ConfigError

    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"byzref: error: {exc}", file=sys.stderr)
        return 2
