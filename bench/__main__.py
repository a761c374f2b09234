"""`python -m bench [name ...]`: run the benchmarks (all by default), one line per result.

To add a benchmark, write a module in bench/ with `run() -> list[bench.common.Result]`
and add its name to BENCHMARKS.
"""

import importlib
import signal
import sys
import traceback

from bench.common import info

# Explicit rather than scanned: bench/ also holds helpers, settings and URLs.
BENCHMARKS = (
    "api_orders",
    "customer_page",
    "dashboard",
    "dispatch_throughput",
    "import_orders",
    "rollups",
    "simulator",
    "sweep_claim_cost",
    "topics",
)


def run_one(name: str) -> bool:
    try:
        module = importlib.import_module(f"bench.{name}")
        for result in module.run():
            print(result.line(), flush=True)
    except Exception:
        info(f"{name} failed:\n{traceback.format_exc()}")
        return False
    return True


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SystemExit unwinds the stack, so each benchmark's context managers stop the
    # servers and workers it started; the default action would leave them running.
    sys.exit(128 + signum)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    names = argv or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        info(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    # Run every benchmark even after a failure, and report the failure in the exit code.
    results = [run_one(name) for name in names]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
