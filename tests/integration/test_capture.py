# Integration test of one bundled capture: golden output in one pass and -2, filters, stats tree, expert info, invariants.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: test_capture.py --plugin build/plugin/diag503.so --capture captures/NAME.pcapng"""
import argparse
import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ARGS = None
TSHARK = None


def setUpModule():
    global TSHARK
    TSHARK = harness.Tshark(ARGS.plugin)


def tearDownModule():
    TSHARK.close()


def golden_table(text):
    """[(frame, cause)] of a golden output."""
    lines = text.splitlines()
    header = lines[0].split("\t")
    frame_col, cause_col = header.index("frame.number"), header.index("diag503.cause")
    rows = [row.split("\t") for row in lines[1:] if row]
    return [(int(row[frame_col]), row[cause_col]) for row in rows if row[cause_col]]  # reaction rows have no cause


class CaptureTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.capture = Path(ARGS.capture)
        cls.expected = cls.capture.with_suffix(".expected").read_text()
        cls.rows = golden_table(cls.expected)

    def test_one_pass_output_matches_golden(self):
        self.assertEqual(TSHARK.golden_rows(self.capture), self.expected)

    def test_two_pass_output_matches_golden(self):
        self.assertEqual(TSHARK.golden_rows(self.capture, two_pass=True), self.expected)

    def test_every_503_has_exactly_one_verdict_and_nothing_else_has_one(self):
        for two_pass in (False, True):
            counts = TSHARK.per_frame_counts(self.capture, two_pass=two_pass)
            self.assertTrue(counts, "no 503 in this capture")
            for frame, (n503, ncause) in counts.items():
                self.assertEqual(n503, ncause, f"frame {frame}: {n503} 503s but {ncause} diag503.cause (-2: {two_pass})")

    def test_truth_file_lists_exactly_the_503_frames(self):
        truth, how = harness.read_truth(self.capture)
        self.assertTrue(how, "the .truth file must say how the capture was made")
        counts = TSHARK.per_frame_counts(self.capture)
        self.assertEqual(sorted(truth), sorted(frame for frame, (n503, _) in counts.items() if n503))

    def test_cause_filter_selects_exactly_the_golden_frames(self):
        present = sorted({cause for _, cause in self.rows})
        absent = [cause for cause in harness.CAUSES if cause not in present][:1]
        for cause in present + absent:
            expected = sorted({frame for frame, c in self.rows if c == cause})
            got = TSHARK.frames_with(self.capture, f'diag503.cause == "{cause}"')
            self.assertEqual(got, expected, cause)

    def test_stats_tree_matches_golden(self):
        expected = self.capture.with_suffix(".stats").read_text()
        self.assertEqual(TSHARK.stats_tree(self.capture), expected)
        self.assertEqual(TSHARK.stats_tree(self.capture, two_pass=True), expected)

    def test_client_reactions_match_truth_when_listed(self):
        listed = harness.read_reactions(self.capture)
        if not listed:
            self.skipTest("the .truth file lists no client reactions")
        self.assertEqual(TSHARK.reactions(self.capture), listed)
        self.assertEqual(TSHARK.reactions(self.capture, two_pass=True), listed)

    def test_two_pass_links_each_failover_503_to_its_attempt(self):
        failovers = {refusal: attempt for attempt, kind, refusal in TSHARK.reactions(self.capture) if kind == "failover"}
        self.assertEqual(TSHARK.forward_links(self.capture), failovers)

    def test_expert_info_has_one_diagnosis_per_503(self):
        output = TSHARK.run(TSHARK.reading(self.capture) + ["-q", "-z", "expert"])
        diagnosed = sum(int(count) for count in re.findall(r"^\s*(\d+)\s+Response\s+diag503\s+503 diagnosed as", output, re.M))
        self.assertEqual(diagnosed, len(self.rows), output)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--capture", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
