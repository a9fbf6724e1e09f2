"""Every benchmark in one command, each printing its table (each figure against its baseline in the same run):

    .venv/bin/python bench/all.py            # full size: 1,000,000 cases where it applies (about 15 minutes here)
    .venv/bin/python bench/all.py --quick    # 100,000 cases: a few minutes, for a first look

1. intake `POST /api/v1/cases` and public submissions vs a bare FastAPI + asyncpg insert (50 and 4 clients), with
   1 and 2 worker processes, and the peak memory of one API process;
2. case list and search over the cases as a commune officer and as the inspector, the duplicates of a case, and
   one case read;
3. the statistics forms for 6 months and the summary vs the same aggregates in SQL; the dashboard page over a
   half-year and a year; every unit's reception compliance over a year;
4. the deadline sweep. Results of the last full run, with the machine: bench/RESULTS.md.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    cases = ["--cases", "100000"] if args.quick else []
    runs = [
        ("intake, 1 worker", ["bench/intake.py"]),
        ("intake, 2 workers", ["bench/intake.py", "--workers", "2"]),
        ("list and search", ["bench/search.py", *cases]),
        ("statistics and dashboard", ["bench/stats.py", *cases, *(["--entries", "10000"] if args.quick else [])]),
        ("deadline sweep", ["bench/bench_sweep.py", *cases]),
    ]
    for title, cmd in runs:
        print(f"\n## {title}\n", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, *cmd], cwd=ROOT, check=False)  # noqa: S603 - our own scripts
        print(f"\n({title}: {time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
