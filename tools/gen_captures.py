# Generates synthetic SIP and RTSP pcapng captures of 503 stories, each with its .truth file.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Synthetic capture generator for diag503.

Usage: python3 tools/gen_captures.py --out captures [--seed N] [--verify] [scenario ...]

Each scenario tells one story around SIP or RTSP 503 responses and writes
<out>/<family>/gen-<scenario>.pcapng plus its .truth, and its .args when tshark needs extra
arguments to decode it (see captures/FORMAT.md); the family is sip-generated, or rtsp-generated
for the rtsp_* scenarios.  RTSP scenarios are named
rtsp_*: IP cameras and recorders over TCP, with interleaved RTP and HTTP configuration requests.
Each .truth also lists, after the 503 lines, the clients' reactions to the 503s
(retry_same_request, request_during_backoff, failover) as FORMAT.md defines them, computed from the packets generated.  Some scenarios then
damage the capture as real ones are damaged (a snaplen, IP fragments, duplicates, clocks, a
ring-buffer cut, VLAN tags: see synthetic/capture.py); their truth is what the file holds.
Output depends only on the seed:
timestamps start at 2026-03-02 10:00:00 UTC and every random choice comes from a random.Random
seeded with the seed and the scenario name.  All addresses are documentation addresses
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and example domains.
"""

import argparse
import random
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic.scenarios import SCENARIOS  # noqa: E402
from synthetic.verify import verify  # noqa: E402


def output_stem(directory, name):
    """Where scenario `name` is written (stem.pcapng, .truth, .args): the one place that decides it, in its
    family folder below `directory` (captures/README.md)."""
    family = "rtsp-generated" if name.startswith("rtsp_") else "sip-generated"
    (Path(directory) / family).mkdir(parents=True, exist_ok=True)
    return Path(directory) / family / f"gen-{name}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output directory (e.g. captures)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verify", action="store_true", help="check each file with tshark")
    parser.add_argument("scenarios", nargs="*", metavar="scenario", help=", ".join(SCENARIOS))
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    failed = False
    for name in args.scenarios or SCENARIOS:
        func = SCENARIOS[name]
        story = func(random.Random(f"{args.seed}:{name}"))
        how = (f"tools/gen_captures.py --seed {args.seed} {name} (synthetic packets from Python "
               f"standard-library code, no real {story.PROTOCOL} software): "
               f"{func.__doc__.splitlines()[0]}")
        stem, count, truth = story.write(output_stem(args.out, name), name, how)
        print(f"{stem}.pcapng: {count} frames, 503 frames {[n for n, _ in truth]}")
        problems = verify(stem, story) if args.verify else []
        for problem in problems:
            print(f"  VERIFY FAILED: {problem}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
