# Robustness sweep over ../shared/captures-public: no crash, every 503 exactly one verdict, no verdict anywhere else,
# the same diag503 output with -2 (forward links aside) and through a pipe.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Exit 77 (ctest: skipped) when the public captures are not beside the checkout."""
import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

SKIP = 77


# pcap (both byte orders, micro- and nanosecond) and pcapng: the formats tshark reads from a pipe. Others, NetMon
# say, may need to seek ("Illegal seek" on standard input), so they are read from the file only.
PIPE_READABLE_MAGICS = {bytes.fromhex(m) for m in ("a1b2c3d4", "d4c3b2a1", "a1b23c4d", "4d3cb2a1", "0a0d0d0a")}


def pipe_readable(capture):
    with open(capture, "rb") as f:
        return f.read(4) in PIPE_READABLE_MAGICS


def first_difference(expected, got):
    for a, b in zip(expected, got):
        if a != b:
            return f"frame {a.split(chr(9))[0]}: {a!r} against {b!r}"
    return f"{len(expected)} rows against {len(got)}"


def check(tshark, fields, capture):
    """Problems found in `capture`, its 503s, and whether it was also read through a pipe."""
    problems = []
    # Every 503 exactly one diag503.cause and no other frame one, in one pass ...
    counts = tshark.per_frame_counts(capture)
    for frame, (n503, ncause) in sorted(counts.items()):
        if n503 != ncause:
            problems.append(f"{capture.name} frame {frame}: {n503} 503s, {ncause} diag503.cause (-2: False)")
    # ... and with -2, read from the -2 table: the status codes do not depend on the pass.
    one_pass = tshark.diag503_table(capture, fields)
    two_pass = tshark.diag503_table(capture, fields, two_pass=True)
    cause_column = 1 + fields.index("diag503.cause")
    causes_two_pass = {}
    for line in two_pass.splitlines():
        columns = line.split("\t")
        causes_two_pass[int(columns[0])] = len([c for c in columns[cause_column].split("|") if c])
    for frame in sorted(set(counts) | set(causes_two_pass)):
        n503, ncause = counts.get(frame, (0, 0))[0], causes_two_pass.get(frame, 0)
        if n503 != ncause:
            problems.append(f"{capture.name} frame {frame}: {n503} 503s, {ncause} diag503.cause (-2: True)")
    # -2 shows the same diag503 fields as one pass, but for the forward links only it can know.
    kept_one = harness.without_columns(one_pass, fields, harness.FORWARD_FIELDS)
    kept_two = harness.without_columns(two_pass, fields, harness.FORWARD_FIELDS)
    if kept_one != kept_two:
        problems.append(f"{capture.name}: one pass and -2 differ, {first_difference(kept_one, kept_two)}")
    # The same bytes through a pipe (`-r -`) give the same output as the file.
    piped = pipe_readable(capture)
    if piped:
        through_pipe = tshark.diag503_table(capture, fields, through_pipe=True)
        if through_pipe != one_pass:
            problems.append(f"{capture.name}: a pipe and the file differ, "
                            f"{first_difference(one_pass.splitlines(), through_pipe.splitlines())}")
    return problems, sum(n for n, _ in counts.values()), piped


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
        fields = tshark.diag503_fields()
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda capture: (capture, *check(tshark, fields, capture)), captures))
    finally:
        tshark.close()
    failed = [capture for capture, problems, _, _ in results if problems]
    for _, problems, _, _ in results:
        for problem in problems:
            print(problem)
    diagnosed = sum(n for _, _, n, _ in results)
    piped = sum(1 for _, _, _, through_pipe in results if through_pipe)
    print(f"{len(captures)} public captures read in one pass and with -2; {diagnosed} 503s, each with one verdict")
    print(f"one pass and -2 compared on {len(fields)} diag503 fields (forward links aside); "
          f"{piped} pcap/pcapng captures also read through a pipe, {len(captures) - piped} other formats from the file only")
    print(f"{len(captures) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not captures else 0


if __name__ == "__main__":
    sys.exit(main())
