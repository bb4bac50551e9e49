"""`stembus bench`: the benchmark programs, one after the other, printing their figures.

Runs benchmarks/bench_crypto.py, benchmarks/bench_log.py, benchmarks/bench_flows.py (complete
voter flows against a running server, SQLite and PostgreSQL) and any other
`benchmarks/bench_*.py` that exposes `run(print_fn)`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
FIRST = ("bench_crypto", "bench_log", "bench_flows")


def bench(
    only: Annotated[
        list[str] | None, typer.Option(help="run only these, e.g. --only flows --only log")
    ] = None,
) -> None:
    """Run the benchmarks and print their figures."""
    root = Path(__file__).resolve().parent.parent / "benchmarks"
    # The benchmarks live beside the packages in the checkout, not in the installed ones: an
    # installed `stembus` script does not have the checkout on its path.
    if str(root.parent) not in sys.path:
        sys.path.insert(0, str(root.parent))
    names = list(FIRST) + sorted(p.stem for p in root.glob("bench_*.py") if p.stem not in FIRST)
    for name in names:
        if only and name.removeprefix("bench_") not in only and name not in only:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        if not callable(getattr(module, "run", None)):
            continue
        console.rule(f"[bold]{name}")
        module.run(console.print)


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
