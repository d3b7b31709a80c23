# Integration test of one bundled capture: goldens in one pass and -2, filters, stats tree, expert info, invariants.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: test_capture.py --plugin build/plugin/diag503.so --capture captures/FAMILY/NAME.pcapng"""
import argparse
import re
from collections import Counter
import sys
import unittest
import zlib
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
        cls.evidence = cls.capture.with_suffix(".evidence").read_text()

    def test_one_pass_output_matches_golden(self):
        self.assertEqual(TSHARK.golden_rows(self.capture), self.expected)

    def test_two_pass_output_matches_golden(self):
        self.assertEqual(TSHARK.golden_rows(self.capture, two_pass=True), self.expected)

    def test_one_pass_evidence_matches_golden(self):
        self.assertEqual(TSHARK.golden_evidence(self.capture), self.evidence)

    def test_two_pass_evidence_matches_golden(self):
        self.assertEqual(TSHARK.golden_evidence(self.capture, two_pass=True), self.evidence)

    def test_golden_evidence_is_well_formed_and_belongs_to_the_diagnosed_frames(self):
        # The two golden files are read together: every verdict has its sentences, and no sentence is of a frame
        # without a golden row (a hand edit or a stale file would show here before any tshark run).
        by_frame = harness.parse_evidence(self.evidence)
        golden_frames = {int(row.split("\t")[0]) for row in self.expected.splitlines()[1:] if row}
        self.assertLessEqual(set(by_frame), golden_frames)
        for frame, _ in self.rows:
            self.assertTrue(by_frame.get(frame), f"frame {frame} has a cause but no evidence sentence")

    def test_every_503_has_exactly_one_cause_and_no_frame_that_is_not_a_503_has_one(self):
        # per_frame_counts lists every frame with a 503 status code or a diag503.cause (a 503 that an ICMP error
        # quotes is not counted as sent), so equal counts mean both halves of the name.
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
        # One run per capture (tshark's start-up is most of a test's time): the filter names one cause present,
        # chosen by the capture's name so that the captures together try every cause, or'ed with one cause
        # absent. A clause that selected too much, or too little, changes the frames.
        present = sorted({cause for _, cause in self.rows})
        absent = [cause for cause in harness.CAUSES if cause not in present][:1]
        self.assertTrue(present, "no verdict in the golden file")
        tried = present[zlib.crc32(self.capture.stem.encode()) % len(present)]
        expected = sorted({frame for frame, c in self.rows if c == tried})
        display_filter = " || ".join(f'diag503.cause == "{cause}"' for cause in [tried] + absent)
        self.assertEqual(TSHARK.frames_with(self.capture, display_filter), expected, display_filter)

    def test_stats_tree_matches_golden(self):
        expected = self.capture.with_suffix(".stats").read_text()
        self.assertEqual(TSHARK.stats_tree(self.capture), expected)
        self.assertEqual(TSHARK.stats_tree(self.capture, two_pass=True), expected)

    def test_stats_tree_numbers_agree_with_the_verdicts_and_no_percentage_exceeds_100(self):
        rows = harness.parse_stats_tree(self.capture.with_suffix(".stats").read_text())
        self.assertTrue(rows)
        for depth, name, count, percent in rows:
            self.assertLessEqual(percent or 0, 100.0, f"{name}: {percent} %")
        roots = {name: count for depth, name, count, _ in rows if depth == 0}
        self.assertEqual(roots["503 responses by protocol, cause and server"], len(self.rows))
        causes = Counter()
        for index, (depth, name, count, _) in enumerate(rows):
            if depth == 2 and self.under(rows, index) == "503 responses by protocol, cause and server":
                causes[name] += count
        self.assertEqual(causes, Counter(cause for _, cause in self.rows))
        header = self.expected.splitlines()[0].split("\t")
        incident_column = header.index("diag503.incident")
        in_incidents = Counter(row.split("\t")[incident_column] for row in self.expected.splitlines()[1:]
                               if row and row.split("\t")[incident_column] not in ("", "0"))
        self.assertEqual(roots["Incidents (503s by incident)"], sum(in_incidents.values()))
        incidents = [(index, name, count) for index, (depth, name, count, _) in enumerate(rows)
                     if depth == 1 and name.startswith("incident ")]
        self.assertEqual(sorted(int(name.split()[1].rstrip(":")) for _, name, _ in incidents),
                         sorted(int(number) for number in in_incidents))
        for index, name, count in incidents:
            self.assertEqual(count, in_incidents[str(int(name.split()[1].rstrip(":")))], name)
            details = {detail: detail_count for depth, detail, detail_count, _ in rows[index + 1:index + 4]}
            self.assertLessEqual(details["clients refused"], count, name)
            self.assertEqual(details["time since it began, at each 503 (ms)"], count, name)
            self.assertEqual(details["requests served since it began, at each 503"], count, name)

    @staticmethod
    def under(rows, index):
        """The name of the top-level branch that row `index` of a parsed stats tree belongs to."""
        return next(name for depth, name, _, _ in reversed(rows[:index + 1]) if depth == 0)

    def test_client_reactions_match_truth_when_listed(self):
        listed = harness.read_reactions(self.capture)
        if not listed:
            self.skipTest("the .truth file lists no client reactions")
        self.assertEqual(TSHARK.reactions(self.capture), listed)
        self.assertEqual(TSHARK.reactions(self.capture, two_pass=True), listed)
        # The filter `diag503` keeps selecting the 503s only; a reaction is asked for by name.
        self.assertEqual(TSHARK.frames_with(self.capture, "diag503"), TSHARK.frames_with(self.capture, "diag503.cause"))

    def test_two_pass_links_each_failover_503_to_its_attempt(self):
        failovers = {refusal: attempt for attempt, kind, refusal in TSHARK.reactions(self.capture) if kind == "failover"}
        self.assertEqual(TSHARK.forward_links(self.capture), failovers)

    def test_expert_info_has_one_diagnosis_per_503(self):
        output = TSHARK.expert_summary(self.capture)
        diagnosed = sum(int(count) for count in re.findall(r"^\s*(\d+)\s+Response\s+diag503\s+503 diagnosed as", output, re.M))
        self.assertEqual(diagnosed, len(self.rows), output)


class InvariantsOnEveryCapture(unittest.TestCase):
    """What must hold for any capture, golden file or not: the same bytes give the same diag503 output however
    they are read. Compared on frame.number and every field diag503 registers (`tshark -G fields`), every
    occurrence, of the frames where diag503 is present."""
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.capture = Path(ARGS.capture)
        cls.fields = TSHARK.diag503_fields()
        cls.file_read = TSHARK.diag503_table_of_every_field(cls.capture)
        cls.pipe_read = TSHARK.diag503_table(cls.capture, cls.fields, through_pipe=True)
        cls.two_pass_read = TSHARK.diag503_table_of_every_field(cls.capture, two_pass=True)

    def test_the_compared_fields_are_all_of_diag503_and_the_output_is_not_empty(self):
        for field in ["diag503.cause", "diag503.evidence"] + harness.FORWARD_FIELDS:
            self.assertIn(field, self.fields)
        self.assertTrue(self.file_read.strip(), "diag503 is present in no frame")

    def test_reading_through_a_pipe_gives_the_same_output_as_reading_the_file(self):
        # `cat capture | tshark -r -`: no file to seek in, the same frames.
        self.assertEqual(self.pipe_read, self.file_read)

    def test_two_pass_gives_the_same_output_as_one_pass_except_the_forward_links(self):
        # diag503.failover and diag503.failover_server point to a later frame: only -2 can show them (harness.FORWARD_FIELDS).
        one_pass = harness.without_columns(self.file_read, self.fields, harness.FORWARD_FIELDS)
        two_pass = harness.without_columns(self.two_pass_read, self.fields, harness.FORWARD_FIELDS)
        self.assertEqual(two_pass, one_pass)

    def test_forward_links_appear_only_with_two_pass(self):
        columns = [1 + self.fields.index(field) for field in harness.FORWARD_FIELDS]
        for line in self.file_read.splitlines():
            values = line.split("\t")
            self.assertEqual([values[i] for i in columns if i < len(values)], [""] * len(columns),
                             f"one pass shows a forward link in frame {values[0]}")


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--capture", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
