#!/usr/bin/env python3
# Checks every bundled capture's golden verdicts and evidence against the tshark on PATH (e.g. another Wireshark).
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: check_goldens.py --plugin build/plugin/diag503.so CAPTURE...

The goldens were written on Wireshark 4.0 and hold diag503's own output only (frame number, verdict,
evidence, its statistics tree), so another Wireshark version must reproduce them byte for byte: one
pass, two passes (-2), the evidence sentences and `-z diag503,tree`. Exits 1 listing each capture that differs, with the first differing lines.
"""
import argparse
import difflib
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def differences(tshark, capture):
    """[(what, first differing lines)] of one capture; empty when it matches its goldens."""
    expected = capture.with_suffix(".expected").read_text()
    evidence = capture.with_suffix(".evidence").read_text()
    stats = capture.with_suffix(".stats").read_text()
    found = [("one pass", expected, tshark.golden_rows(capture)),
             ("two passes", expected, tshark.golden_rows(capture, two_pass=True)),
             ("evidence", evidence, tshark.golden_evidence(capture)),
             ("statistics tree", stats, tshark.stats_tree(capture))]
    return [(what, "\n".join(list(difflib.unified_diff(want.splitlines(), got.splitlines(), lineterm="", n=0))[2:8]))
            for what, want, got in found if want != got]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plugin", required=True)
    parser.add_argument("captures", nargs="+", type=Path)
    args = parser.parse_args()
    tshark = harness.Tshark(args.plugin)  # raises unless -G plugins lists this very file
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda capture: (capture, differences(tshark, capture)), args.captures))
    finally:
        tshark.close()
    failed = [(capture, found) for capture, found in results if found]
    for capture, found in failed:
        for what, lines in found:
            print(f"{capture.name}: {what} differs from the golden\n{lines}")
    major, minor = harness.wireshark_version()
    print(f"Wireshark {major}.{minor}: {len(results) - len(failed)} of {len(results)} captures match their goldens")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
