"""``python -m famplan_core.synthetic``: write a synthetic register to a folder."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from famplan_core.synthetic import SyntheticSpec, generate, write_register

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    defaults = SyntheticSpec()
    parser = argparse.ArgumentParser(
        prog="python -m famplan_core.synthetic",
        description="Write a deterministic synthetic population register (register format v1).",
    )
    parser.add_argument("--persons", type=int, default=defaults.persons, help="persons to make")
    parser.add_argument(
        "--division",
        default=defaults.division,
        help="9-digit township or 6-digit county code (default %(default)s)",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--encoding", choices=("utf-8", "utf-8-sig", "gb18030"), default="utf-8")
    parser.add_argument("--villages", type=int, default=defaults.villages)
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=defaults.as_of,
        help="the register's date, YYYY-MM-DD (default %(default)s)",
    )
    parser.add_argument("--outside-share", type=float, default=defaults.outside_share)
    parser.add_argument("--bad-rows", type=int, default=0, help="bad cases to append")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 for a bad argument.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        spec = SyntheticSpec(
            seed=args.seed,
            persons=args.persons,
            division=args.division,
            villages=args.villages,
            as_of=args.as_of,
            outside_share=args.outside_share,
            bad_rows=args.bad_rows,
        )
        register = generate(spec)
        counts = write_register(register, args.out, fmt=args.format, encoding=args.encoding)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    width = max(len(name) for name in counts)
    for name, rows in counts.items():
        print(f"{name:<{width}}  {rows:>9,}")
    for note in register.bad_row_notes:
        print(f"bad: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
