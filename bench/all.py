"""Every benchmark in one command, each printing its table (each figure against its baseline in the same run):

    .venv/bin/python bench/all.py            # full size: 1,000,000 cases where it applies (about 20 minutes here)
    .venv/bin/python bench/all.py --quick    # 100,000 cases: a few minutes, for a first look

1. intake `POST /api/v1/cases` vs a bare FastAPI + asyncpg insert (50 and 4 clients), 1 and 2 worker processes;
2. case list and search over the cases as a commune officer and as the inspector, and one case read;
3. the statistics forms for 6 months, the summary and the dashboard page vs the same aggregates in SQL;
4. the deadline sweep. Results of the last full run: bench/RESULTS.md.
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
