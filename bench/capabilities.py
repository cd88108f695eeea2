"""The create path before and after each capability: `bench/roundtrips.py` of several trees, alternated.

    .venv/bin/python bench/capabilities.py [--repeat 2] [--cpu-orders 300] [REV[=LABEL] ...]

Each REV (default: the v1.1 tree, the v1.2 branches' common base, each capability's landing commit on
its branch, the tree before and after the last create-path work, and HEAD) is exported with `git archive`
into a temporary directory, and that tree's own `bench/roundtrips.py` runs against PostgreSQL
(DATABASE_URL, default comanda_bench on 127.0.0.1; its `<name>_rt` database is made and dropped by the
script) with this checkout's virtualenv. The trees run in order, then in reverse, `--repeat` passes in all
(ABC CBA ...), so a drift of the machine's load falls on every tree alike. Printed per tree: the round
trips of a 3-line order (plain / with Idempotency-Key), and the medians over the passes of the Python and
PostgreSQL CPU per order, next to the bare psycopg2 app's Python CPU measured in the same run (the
baseline): the ratio to it is the figure that compares across runs and loads.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_TREES = [
    "4c103a6=v1.1 (before v1.2)",
    "d38aede=v1.2 base (unit of work, counters)",
    "a52972b=+ approvals",
    "bf33263=+ tables (on approvals)",
    "2d5dad2=+ cash drawer",
    "d9c4591=+ kitchen",
    "9576bab=+ change feed",
    "6c450a0=all of v1.2 merged",
    "dae23c8=after the create-path round",
    "HEAD=HEAD",
]

ROUND_TRIPS = re.compile(r"POST /api/v1/orders, 3 lines( \+ Idempotency-Key)?: (\d+) round trips")
CPU_ROW = re.compile(r"^\| (POST /api/v1/orders|bench/baseline_app\.py)[^|]*\| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$",
                     re.MULTILINE)


def export(rev: str, into: Path) -> Path:
    """The tree of `rev`, as `git archive` gives it, in `into/<sha>`, with this checkout's .venv beside."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.strip()
    tree = into / sha
    if not tree.exists():
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, check=True, capture_output=True).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
    return tree


def run(tree: Path, cpu_orders: int) -> dict[str, float]:
    """One run of the tree's roundtrips.py: round trips and CPU per order."""
    done = subprocess.run([sys.executable, "bench/roundtrips.py", "--orders", "5", "--cpu-orders", str(cpu_orders)],
                          cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True,
                          timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: roundtrips.py failed\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    found: dict[str, float] = {}
    for keyed, count in ROUND_TRIPS.findall(done.stdout):
        found["keyed" if keyed else "plain"] = float(count)
    for app, _wall, python, postgres in CPU_ROW.findall(done.stdout):
        prefix = "app" if app.startswith("POST") else "bare"
        found[f"{prefix}_py"], found[f"{prefix}_pg"] = float(python), float(postgres)
    return found


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="*", help="REV[=LABEL] (default: the v1.2 capabilities, see the docstring)")
    parser.add_argument("--repeat", type=int, default=2, help="passes over the trees, alternating direction")
    parser.add_argument("--cpu-orders", type=int, default=300)
    args = parser.parse_args()
    specs = [spec.partition("=") for spec in (args.trees or DEFAULT_TREES)]
    results: dict[int, list[dict[str, float]]] = {n: [] for n in range(len(specs))}
    with tempfile.TemporaryDirectory(prefix="comanda-trees-") as tmp:
        trees = [export(rev, Path(tmp)) for rev, _, _ in specs]
        for n_pass in range(args.repeat):
            order = range(len(specs)) if n_pass % 2 == 0 else reversed(range(len(specs)))
            for n in order:
                started = time.monotonic()
                results[n].append(run(trees[n], args.cpu_orders))
                r = results[n][-1]
                print(f"pass {n_pass + 1} {specs[n][0]:>8}: {r.get('plain', 0):.0f}/{r.get('keyed', 0):.0f} round "
                      f"trips, Python {r['app_py']:.2f} ms, PostgreSQL {r['app_pg']:.2f} ms, bare {r['bare_py']:.2f} "
                      f"ms ({time.monotonic() - started:.0f} s, load {load()})", file=sys.stderr, flush=True)
    print("| tree | round trips (plain / keyed) | Python CPU ms/order | PostgreSQL CPU ms/order "
          "| bare app Python CPU ms/order (same runs) | Python ÷ bare |")
    print("|---|---:|---:|---:|---:|---:|")
    for n, (rev, _, label) in enumerate(specs):
        runs = results[n]

        def med(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        ratio = statistics.median(r["app_py"] / r["bare_py"] for r in runs)
        print(f"| `{rev}` {label or ''} | {med('plain'):.0f} / {med('keyed'):.0f} | {med('app_py'):.2f} "
              f"| {med('app_pg'):.2f} | {med('bare_py'):.2f} | {ratio:.1f}× |")


if __name__ == "__main__":
    main()
