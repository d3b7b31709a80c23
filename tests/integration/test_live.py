# Live test: records Kamailio answering SIPp on loopback, then checks diag503's verdicts on that fresh capture.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Exit 77 (ctest: skipped) with a clear message when kamailio, sipp or dumpcap cannot be run here."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

SKIP = 77
# Scenarios whose cause does not depend on machine speed: a plain 503 at a dialog ceiling, and a drain.
SCENARIOS = {"capacity": "capacity_limit", "maintenance": "maintenance"}
MIN_AGREEMENT = 0.8


def missing_tools():
    missing = [tool for tool in ("kamailio", "sipp", "dumpcap") if not shutil.which(tool)]
    if not missing and os.geteuid() != 0:
        missing.append("root (to capture on lo)")
    return missing


def verdict_causes(tshark, capture):
    rows = tshark.golden_rows(capture).splitlines()
    header = rows[0].split("\t")
    return {int(r.split("\t")[header.index("frame.number")]): r.split("\t")[header.index("diag503.cause")]
            for r in rows[1:]}


def run_scenario(tshark, recorder, scenario, workdir):
    subprocess.run(["bash", str(recorder), scenario, str(workdir)], check=True, timeout=240,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    capture = workdir / f"kam-{scenario}.pcapng"
    truth, how = harness.read_truth(capture)
    problems = [f"{scenario}: frame {f}: {n} 503s, {c} verdicts"
                for f, (n, c) in tshark.per_frame_counts(capture).items() if n != c]
    causes = verdict_causes(tshark, capture)
    agreeing = sum(1 for frame, intended in truth.items() if causes.get(frame) == intended)
    print(f"{scenario}: {how}\n  {len(truth)} 503s recorded, {agreeing} diagnosed as intended "
          f"({SCENARIOS[scenario]}); verdicts: {sorted(set(causes.values()))}")
    if not truth:
        problems.append(f"{scenario}: the live run produced no 503")
    elif agreeing < MIN_AGREEMENT * len(truth):
        problems.append(f"{scenario}: only {agreeing}/{len(truth)} verdicts agree with the scenario")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--recorder", required=True)
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        print(f"skipped: cannot run the live test without {', '.join(missing)}")
        return SKIP
    tshark = harness.Tshark(args.plugin)
    workdir = Path(tempfile.mkdtemp(prefix="diag503-live-"))
    problems = []
    try:
        for scenario in SCENARIOS:
            problems += run_scenario(tshark, args.recorder, scenario, workdir)
    finally:
        tshark.close()
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(problems))
    failed = len({p.split(":")[0] for p in problems})
    print(f"{len(SCENARIOS) - failed} passed, {failed} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
