# tools/diag503-report writes a self-contained HTML report whose sections and numbers match the verdicts, and renders.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: test_report.py --plugin build/plugin/diag503.so

Runs the report tool (as the tshark user, with the just-built plugin) on bundled captures and checks the
HTML against the golden verdicts: the table of every 503, the count per cause, one section per incident.
A headless Chromium screenshot of a report must be a PNG of the requested size with real content. An
unreadable capture must fail with a clear message. Exits 77 where Debian's python3-matplotlib is missing, and
in the sanitized build.
"""
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "diag503-report"
CAPTURES = [ROOT / "captures" / "rtsp-gstreamer" / "rtsp-mixed.pcapng",
            ROOT / "captures" / "sip-generated" / "gen-retry_storm.pcapng",
            ROOT / "captures" / "sip-asterisk" / "ast-trunk_dns.pcapng"]
ARGS = None
TSHARK = None


class Tables(HTMLParser):
    """The cell texts of each table, by table id or class, and the ids of every element."""
    def __init__(self):
        super().__init__()
        self.tables, self.ids, self._current, self._cell = {}, set(), None, None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "table":
            self._current = attributes.get("id") or attributes.get("class")
            self.tables[self._current] = []
        elif tag == "tr" and self._current:
            self.tables[self._current].append([])
        elif tag == "td" and self._current:
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.tables[self._current][-1].append(self._cell)
            self._cell = None
        elif tag == "table":
            self._current = None


def golden(capture):
    """[(frame, cause, incident)] of the capture's 503s."""
    lines = capture.with_suffix(".expected").read_text().splitlines()
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:] if line]
    cause, incident = header.index("diag503.cause"), header.index("diag503.incident")
    return [(row[0], row[cause], row[incident]) for row in rows if row[cause]]


def run_report(capture, output):
    command = TSHARK.command([])
    at = command.index("tshark")
    command[at:] = [str(TOOL), str(TSHARK.readable(capture) if capture.exists() else capture), "-o", str(output),
                    "--"] + harness.capture_args(capture)
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def png_size(path):
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def setUpModule():
    global TSHARK
    TSHARK = harness.Tshark(ARGS.plugin)


def tearDownModule():
    TSHARK.close()


class Report(unittest.TestCase):
    def report(self, capture):
        output = TSHARK.files / (capture.stem + ".html")
        result = run_report(capture, output)
        self.assertEqual(result.returncode, 0, result.stderr)
        return output

    def test_sections_and_numbers_match_the_verdicts(self):
        for capture in CAPTURES:
            expected = golden(capture)
            parsed = Tables()
            parsed.feed(self.report(capture).read_text())
            every = [row for row in parsed.tables["every-503"] if row]
            self.assertEqual([(row[0], row[5], row[7]) for row in every], expected, capture.name)
            by_cause = {row[0]: int(row[1]) for row in parsed.tables["summary"] if row}
            self.assertEqual(by_cause, dict(Counter(cause for _, cause, _ in expected)), capture.name)
            incidents = {f"incident-{number}" for _, _, number in expected if number not in ("", "0")}
            self.assertEqual({i for i in parsed.ids if re.fullmatch(r"incident-\d+", i)}, incidents, capture.name)
            self.assertTrue({"causes", "timeline", "incidents", "all"} <= parsed.ids)

    def test_the_report_renders_in_a_browser(self):
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if not browser:
            self.skipTest("chromium not installed (Debian: apt-get install chromium)")
        report = self.report(CAPTURES[0])
        with tempfile.TemporaryDirectory() as work:
            picture = Path(work) / "report.png"
            subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            f"--user-data-dir={work}/profile", "--window-size=1280,900", f"--screenshot={picture}",
                            report.as_uri()], capture_output=True, timeout=180)
            self.assertTrue(picture.exists(), "chromium wrote no screenshot")
            self.assertEqual(png_size(picture), (1280, 900))
            self.assertGreater(picture.stat().st_size, 20000, "the screenshot is nearly empty")

    def test_an_unreadable_capture_fails_with_a_clear_message(self):
        not_a_capture = TSHARK.files / "notes.pcapng"
        not_a_capture.write_text("this is not a capture\n")
        if TSHARK.as_root:
            shutil.chown(not_a_capture, "nobody", "nogroup")
        result = run_report(not_a_capture, TSHARK.files / "notes.html")
        self.assertEqual(result.returncode, 2)
        self.assertIn("diag503-report: cannot read", result.stderr)
        self.assertNotIn("Traceback", result.stderr)


def report_unavailable():
    if harness.SANITIZER_RUNTIME:
        # Python and matplotlib under the preloaded sanitizer runtime ran past the test's 10 minutes in CI; the
        # sanitized plugin is exercised by every other test, and the normal build runs this one.
        return "the report tool is not run with the sanitizer runtime; the normal build runs this test"
    if subprocess.run(["/usr/bin/python3", "-c", "import matplotlib"], capture_output=True).returncode != 0:
        return "Debian's python3-matplotlib is not installed (apt-get install python3-matplotlib)"
    return None


if __name__ == "__main__":
    sys.exit(harness.run_tests(__doc__, sys.modules[__name__], report_unavailable))
