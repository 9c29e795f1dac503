"""Apply under faults: every change recorded once and truthfully, never carried out twice.

Run: ``.venv/bin/python bench/apply_faults.py [--runs N] [--seed S]``.  In one process,
``N`` applies (100 → 400 WCU on the simulated account) each under a random schedule of up to
four faults on UpdateTable — the answer lost after the service acted, lost before it did,
throttled, rejected, busy — and up to eight failing DescribeTable reads after it, drawn from
``tests/support/faulty.py`` (the same schedules the property test draws).  Each run checks
(:func:`tests.support.faulty.run_schedule`): the apply returns and never raises; the audit log
holds one intent and one outcome agreeing with the result; the service carried the request
out at most once; ``applied`` and ``failed`` match the table; reconciling an ``unknown`` finds
the truth.  Prints the runs per outcome and the promises broken (the figures of issue 15:
"wrong changes 0, records lost 0").
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.faulty import READ_FAULTS, SEND_FAULTS, run_schedule  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    draw = random.Random(args.seed)
    outcomes: Counter[str] = Counter()
    broken: Counter[str] = Counter()
    sends_total = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="capcon-bench-apply-") as scratch:
        for number in range(args.runs):
            sends = [draw.choice(sorted(SEND_FAULTS)) for _ in range(draw.randint(0, 4))]
            reads = [draw.choice(sorted(READ_FAULTS)) for _ in range(draw.randint(0, 8))]
            folder = Path(scratch) / str(number)
            folder.mkdir()
            run = run_schedule(sends, reads, folder)
            outcomes[run.outcome] += 1
            sends_total += len(sends)
            for promise in run.broken:
                broken[promise.split(":")[0]] += 1
    seconds = time.perf_counter() - started
    print(f"applies under faults: {args.runs:,} runs (seed {args.seed}), {sends_total:,} "
          f"send faults, {seconds:.1f} s")  # fmt: skip
    for outcome, count in sorted(outcomes.items()):
        print(f"  outcome {outcome:<8} {count:>6,}")
    print(f"  promises broken      {sum(broken.values()):>6,}")
    for promise, count in broken.most_common():
        print(f"    {count:>6,}  {promise}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
