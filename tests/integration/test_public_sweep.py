# Robustness sweep over ../shared/captures-public: no crash, every 503 exactly one verdict, no verdict anywhere else.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Exit 77 (ctest: skipped) when the public captures are not beside the checkout."""
import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

SKIP = 77


def check(tshark, capture):
    problems = []
    for two_pass in (False, True):
        counts = tshark.per_frame_counts(capture, two_pass=two_pass)
        for frame, (n503, ncause) in sorted(counts.items()):
            if n503 != ncause:
                problems.append(f"{capture.name} frame {frame}: {n503} 503s, {ncause} diag503.cause (-2: {two_pass})")
    return problems, sum(n for n, _ in tshark.per_frame_counts(capture).values())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--public", required=True)
    args = parser.parse_args()
    public = Path(args.public)
    if not public.is_dir():
        print(f"skipped: {public} is absent (it lives beside the checkout in CI)")
        return SKIP
    captures = harness.capture_files(public)
    tshark = harness.Tshark(args.plugin)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda capture: (capture, *check(tshark, capture)), captures))
    finally:
        tshark.close()
    failed = [capture for capture, problems, _ in results if problems]
    for _, problems, _ in results:
        for problem in problems:
            print(problem)
    diagnosed = sum(n for _, _, n in results)
    print(f"{len(captures)} public captures read in one pass and with -2; {diagnosed} 503s, each with one verdict")
    print(f"{len(captures) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not captures else 0


if __name__ == "__main__":
    sys.exit(main())
