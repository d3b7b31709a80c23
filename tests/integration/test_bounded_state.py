# Integration test of bounded state: an adversarial capture under small bounds keeps the plugin's memory under a bound derived from the preferences, and every 503 still gets its verdict.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: test_bounded_state.py --plugin build/plugin/diag503.so [--packets 100000]

What it specifies (docs/bounded_state.md has the inventory of the state and the measurements):

  The capture is `tools/bench/adversarial.py --mixed`, seeded: never-answered INVITEs with distinct
  Call-IDs and users, REGISTERs from distinct users, dialogs without BYE, RTSP sessions without
  TEARDOWN from distinct clients, distinct servers and devices, 60 KB header lines, messages with
  3000 Via entries, absurd Retry-After values and session timeouts, and a round of 503s every 500
  frames (SIP and RTSP; some answer requests that are long gone).

  tshark reads it with small bounds (SMALL_BOUNDS below) and
  - exits 0 with no dissector bug, exception or complaint about diag503;
  - gives every 503 exactly one diag503.cause, on exactly the frames the generator wrote 503s on;
  - says so when a 503's request was forgotten: its evidence names the transaction bound and the
    preference diag503.max_transactions;
  - takes no more extra peak RSS (with diag503 minus the same tshark with diag503 disabled) than
    the bound memory_bound_kib() computes from the preferences, the number of 503s and of client
    reactions: what is kept per bounded entry, plus what is kept by design per 503 and per reaction;
  - and that bound is meaningful: with every bound lifted, the same capture needs more than it.

Peak RSS comes from os.wait4 on tshark's process (setpriv and env exec tshark in place). Under
AddressSanitizer (DIAG503_SANITIZER_RUNTIME set) memory is the sanitizer's, so the two memory tests
skip; the others still run.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

GENERATOR = Path(__file__).resolve().parents[2] / "tools" / "bench" / "adversarial.py"
SEED = 1

# Small enough that the capture overflows every one of them many times over.
SMALL_BOUNDS = {
    "max_transactions": 1000,        # SIP transactions and RTSP requests (and the maps beside them)
    "max_dialogs": 500,              # SIP dialogs, RTSP sessions, remembered clients
    "max_servers": 50,               # SIP servers, RTSP devices, hosts with network evidence, incidents
    "outcome_history": 32,           # per server and per device
    "max_sessions_per_device": 16,
    "transaction_lifetime": 60,      # the capture spans 100 s at 1 ms per frame: both rules evict
    "dialog_lifetime": 120,
}
NO_BOUND = 4294967295
LIFTED_BOUNDS = {name: NO_BOUND for name in SMALL_BOUNDS}

# What diag503 may keep, in KiB: the worst entry of each kind, measured with mallinfo2 on the real
# engine (docs/bounded_state.md, "The memory bound"), rounded up.
FIXED_KIB = 2048                # engine objects, code pages touched, allocator slack (measured: 0.3 MiB)
PER_TRANSACTION_KIB = 4         # the six maps bounded by max_transactions, each with its worst entry: a
                                # kept 503 verdict copy, a 1 KB RTSP URL, ... (measured: 3.5 KB)
PER_DIALOG_KIB = 4              # dialog, RTSP session, stream encoding, client with 8 503s (3.3 KB)
PER_SERVER_KIB = 32             # SIP server and receiver, network-evidence host with full queues, RTSP device,
                                # encoder change and reset, early-retry rate, open incident (23.4 KB)
PER_OUTCOME_KIB = 0.125         # one remembered answer per server (44 B) and per device (54 B)
PER_SESSION_KEY_KIB = 0.008     # one session key on its device (8 B)
PER_503_KIB = 4                 # one stored verdict, by design, and its client in an incident (2.3-3.7 KB)
PER_REACTION_KIB = 0.5          # one stored early retry or failover, by design (0.4 KB)

ARGS = None
TSHARK = None
WORK = None
CAPTURE = None
SUMMARY = None


def memory_bound_kib(bounds, refusals, reactions):
    """The most diag503 may add to tshark's peak RSS under `bounds`, for a capture with that many 503s and reactions."""
    per_server = (PER_SERVER_KIB + bounds["outcome_history"] * PER_OUTCOME_KIB
                  + bounds["max_sessions_per_device"] * PER_SESSION_KEY_KIB)
    return (FIXED_KIB + bounds["max_transactions"] * PER_TRANSACTION_KIB + bounds["max_dialogs"] * PER_DIALOG_KIB
            + bounds["max_servers"] * per_server + refusals * PER_503_KIB + reactions * PER_REACTION_KIB)


def preference_args(bounds):
    args = []
    for name, value in bounds.items():
        args += ["-o", f"diag503.{name}:{value}"]
    return args


class Run:
    """One tshark run: its output lines and its peak RSS in KiB."""

    def __init__(self, lines, peak_rss_kib):
        self.lines = lines
        self.peak_rss_kib = peak_rss_kib


def run_tshark(args, timeout=600):
    """Runs tshark like harness.Tshark.run, and also returns its peak RSS, read with os.wait4."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(TSHARK.command(args), stdout=stdout, stderr=stderr)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                process.returncode = -9
                raise RuntimeError(f"tshark {' '.join(args)} took more than {timeout} s")
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        output = stdout.read().decode("utf-8", errors="replace")
        complaints = stderr.read().decode(errors="replace")
    if harness.sanitizer_report(complaints):
        raise harness.SanitizerReport(f"tshark {' '.join(args)}:\n{complaints}")
    if process.returncode != 0:
        raise RuntimeError(f"tshark {' '.join(args)} failed ({process.returncode}):\n{complaints}\n"
                           f"last output: {output[-300:]!r}")
    if "Dissector bug" in complaints or "diag503" in complaints:
        raise RuntimeError(f"tshark {' '.join(args)} complained:\n{complaints}")
    return Run(output.splitlines(), usage.ru_maxrss)


# One row per frame: what the memory runs print, so that with and without diag503 do the same work.
FIELDS = ["frame.number", "sip.Status-Code", "rtsp.status", "diag503.cause", "diag503.reaction",
          "_ws.malformed.expert", harness.dissector_bug_field(), "diag503.evidence"]


def read_fields(extra_args):
    args = TSHARK.reading(CAPTURE) + extra_args + ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
                                                   "-E", "aggregator=\x1f"]
    for field in FIELDS:
        args += ["-e", field]
    return run_tshark(args)


def rows(run):
    """{frame: {field: [values]}} for the frames that have any value beyond their number."""
    table = {}
    for line in run.lines:
        columns = (line.split("\t") + [""] * len(FIELDS))[:len(FIELDS)]
        values = {field: [v for v in column.split("\x1f") if v] for field, column in zip(FIELDS[1:], columns[1:])}
        if any(values.values()):
            table[int(columns[0])] = values
    return table


RUNS = {}


def measured(name):
    """The runs are shared by the tests and made once: with small bounds, without diag503, with no bounds."""
    if name not in RUNS:
        extra = {"small": preference_args(SMALL_BOUNDS), "without": ["--disable-protocol", "diag503"],
                 "lifted": preference_args(LIFTED_BOUNDS)}[name]
        RUNS[name] = read_fields(extra)
    return RUNS[name]


def setUpModule():
    global TSHARK, WORK, CAPTURE, SUMMARY
    TSHARK = harness.Tshark(ARGS.plugin)
    WORK = Path(tempfile.mkdtemp(prefix="diag503-bounded-"))
    CAPTURE = WORK / f"adversarial-mixed-{ARGS.packets}.pcapng"
    summary_path = WORK / "summary.json"
    subprocess.run([sys.executable, str(GENERATOR), "--mixed", "--packets", str(ARGS.packets), "--seed", str(SEED),
                    "--out", str(CAPTURE), "--summary", str(summary_path)], check=True, stdout=subprocess.DEVNULL)
    SUMMARY = json.loads(summary_path.read_text())


def tearDownModule():
    TSHARK.close()
    shutil.rmtree(WORK, ignore_errors=True)


class AdversarialCaptureUnderSmallBounds(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.table = rows(measured("small"))
        cls.written_503s = sorted(SUMMARY["503_frames"]["sip"] + SUMMARY["503_frames"]["rtsp"])

    def test_capture_is_adversarial(self):
        counts = SUMMARY["counts"]
        self.assertGreater(counts["caller_invite"], 20 * SMALL_BOUNDS["max_transactions"])
        self.assertGreater(counts["dialog"] + counts["rtsp_session"], 10 * SMALL_BOUNDS["max_dialogs"])
        self.assertGreater(counts["huge_udp_exchanges"] + counts["huge_tcp_exchanges"], 0)
        self.assertGreater(counts["via_line_exchanges"] + counts["via_list_exchanges"], 0)

    def test_no_dissector_bug_or_exception(self):
        # run_tshark already failed on a non-zero exit or on stderr naming diag503 or a dissector bug.
        broken = [frame for frame, values in self.table.items()
                  if values["_ws.malformed.expert"] or values[harness.dissector_bug_field()]]
        self.assertEqual(broken, [], "frames with an exception or a dissector bug")

    def test_every_503_has_exactly_one_cause(self):
        refusals = {frame: values for frame, values in self.table.items()
                    if "503" in values["sip.Status-Code"] + values["rtsp.status"]}
        self.assertEqual(sorted(refusals), self.written_503s, "tshark's 503 frames are the ones the generator wrote")
        for frame, values in refusals.items():
            self.assertEqual(len(values["diag503.cause"]), 1, f"frame {frame}: {values['diag503.cause']}")
        with_cause = sorted(frame for frame, values in self.table.items() if values["diag503.cause"])
        self.assertEqual(with_cause, self.written_503s, "only 503s have a cause")

    def test_a_forgotten_request_is_said_to_be_forgotten(self):
        bound = SMALL_BOUNDS["max_transactions"]
        said = [frame for frame, values in self.table.items()
                if any("forgotten" in sentence and f"bound of {bound} transactions" in sentence
                       and "diag503.max_transactions" in sentence for sentence in values["diag503.evidence"])]
        self.assertTrue(said, "no verdict says that its request was forgotten")
        self.assertTrue(set(said) <= set(SUMMARY["forgotten_candidates"]),
                        f"forgotten notes on 503s whose request should still be known: "
                        f"{sorted(set(said) - set(SUMMARY['forgotten_candidates']))[:10]}")


@unittest.skipIf(harness.SANITIZER_RUNTIME, "peak RSS under AddressSanitizer measures the sanitizer, not diag503")
class MemoryStaysUnderTheBound(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        table = rows(measured("small"))
        cls.refusals = sum(1 for values in table.values() if values["diag503.cause"])
        cls.reactions = sum(1 for values in table.values() if values["diag503.reaction"])
        cls.baseline_kib = measured("without").peak_rss_kib
        cls.bound_kib = memory_bound_kib(SMALL_BOUNDS, cls.refusals, cls.reactions)
        print(f"\ntshark's peak RSS without diag503: {cls.baseline_kib / 1024:.1f} MiB; the bound for diag503's share: "
              f"{cls.bound_kib / 1024:.1f} MiB ({cls.refusals} 503s, {cls.reactions} reactions)", file=sys.stderr)

    def extra_kib(self, name):
        extra = measured(name).peak_rss_kib - self.baseline_kib
        print(f"diag503's share with {name} bounds: {extra / 1024:.1f} MiB ... ", end="", file=sys.stderr)
        return extra

    def test_extra_peak_rss_under_small_bounds_stays_under_the_bound(self):
        extra = self.extra_kib("small")
        self.assertLessEqual(extra, self.bound_kib,
                             f"diag503 added {extra / 1024:.1f} MiB to tshark's peak RSS "
                             f"({self.baseline_kib / 1024:.1f} MiB without it); the bound for {SMALL_BOUNDS}, "
                             f"{self.refusals} 503s and {self.reactions} reactions is {self.bound_kib / 1024:.1f} MiB")

    def test_the_bound_would_catch_unbounded_state(self):
        extra = self.extra_kib("lifted")
        self.assertGreater(extra, self.bound_kib,
                           f"with every bound lifted diag503 added only {extra / 1024:.1f} MiB, under the bound of "
                           f"{self.bound_kib / 1024:.1f} MiB: the capture no longer tests the bounds "
                           f"(make it larger with --packets)")


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--packets", type=int, default=100000,
                        help="frames of the adversarial capture (default 100000: about 10 s of tshark in all)")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
