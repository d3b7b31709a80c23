# The Wireshark configuration profile "diag503": well-formed files, every cause colored, columns and buttons that work.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: test_profile.py --plugin build/plugin/diag503.so

Installs the profile with tools/profile/install into a throw-away HOME, then reads bundled captures with
`tshark -C diag503`: the two diag503 columns show each 503's golden cause and confidence, each 503 gets
the colors of its cause family's rule, and every filter button's and I/O graph's expression is accepted.
"""
import re
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ElementTree
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "plugin" / "profile"
CAPTURES = [ROOT / "captures" / "rtsp-gstreamer" / "rtsp-mixed.pcapng",
            ROOT / "captures" / "sip-generated" / "gen-malformed.pcapng",
            ROOT / "captures" / "sip-generated" / "gen-retry_storm.pcapng"]
# Wireshark's colorfilters rule: the row's background color, then its text color.
RULE = re.compile(r"^@(?P<name>[^@]+)@(?P<filter>[^@]+)@\[(?P<bg>\d+,\d+,\d+)\]\[(?P<fg>\d+,\d+,\d+)\]$")
ARGS = None
TSHARK = None


def rules():
    lines = [line for line in (PROFILE / "colorfilters").read_text().splitlines() if line and not line.startswith("#")]
    return [RULE.match(line) for line in lines]


def hex_color(triple):
    """A colorfilters color (16-bit channels) as Wireshark writes it in PSML: '#rrggbb'."""
    return "#" + "".join(f"{int(channel) >> 8:02x}" for channel in triple.split(","))


def family_colors():
    """{cause: (background, foreground)} from the rules that name causes."""
    colors = {}
    for rule in rules():
        for cause in re.findall(r'diag503\.cause == "(\w+)"', rule["filter"]):
            colors[cause] = (hex_color(rule["bg"]), hex_color(rule["fg"]))
    return colors


def luminance(triple):
    red, green, blue = (int(channel) / 65535 for channel in triple.split(","))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def uat_rows(name):
    """The records of a Wireshark UAT file as Wireshark 4.0 reads them: each field between plain double quotes
    (a quote inside one must be written \\x22, since the first quote after the opening one ends the field),
    with its \\xHH escapes decoded."""
    lines = [line for line in (PROFILE / name).read_text().splitlines() if line and not line.startswith("#")]
    decode = lambda field: re.sub(r"\\x([0-9a-fA-F]{2})", lambda hexa: chr(int(hexa.group(1), 16)), field)
    rows = []
    for line in lines:
        fields = re.findall(r'"([^"]*)"', line)
        if ",".join(f'"{field}"' for field in fields) != line:
            raise AssertionError(f"{name}: not a UAT record of quoted fields: {line}")
        rows.append([decode(field) for field in fields])
    return rows


def buttons():
    return uat_rows("dfilter_buttons")


# Wireshark 4.0's I/O graph table (ui/qt/io_graph_dialog.cpp): enabled, name, display filter, color, style,
# Y axis, Y field, moving average, Y axis factor; the values its value_strings accept.
IO_GRAPH_STYLES = {"Line", "Impulse", "Bar", "Stacked Bar", "Dot", "Square", "Diamond", "Cross", "Plus", "Circle"}


def io_graphs():
    return uat_rows("io_graphs")


def setUpModule():
    global TSHARK
    TSHARK = harness.Tshark(ARGS.plugin)
    profiles = TSHARK.home / ".config" / "wireshark" / "profiles"
    subprocess.run([str(ROOT / "tools" / "profile" / "install"), str(profiles)], check=True, capture_output=True)
    if TSHARK.as_root:
        subprocess.run(["chown", "-R", "nobody:nogroup", str(TSHARK.home / ".config")], check=True)


def tearDownModule():
    TSHARK.close()


class ProfileFiles(unittest.TestCase):
    def test_every_coloring_rule_is_well_formed(self):
        self.assertTrue(rules())
        self.assertNotIn(None, rules())

    def test_every_rule_has_readable_text_on_its_background(self):
        for rule in rules():
            self.assertGreater(abs(luminance(rule["bg"]) - luminance(rule["fg"])), 0.5, rule["name"])

    def test_every_cause_is_colored_by_exactly_one_rule(self):
        named = [cause for rule in rules() for cause in re.findall(r'diag503\.cause == "(\w+)"', rule["filter"])]
        self.assertEqual(sorted(named), sorted(harness.CAUSES))

    def test_every_button_has_a_label_an_expression_and_a_comment(self):
        self.assertTrue(buttons())
        for button in buttons():
            self.assertEqual(len(button), 4, button)
            self.assertEqual(button[0], "TRUE")
            self.assertTrue(all(field.strip() for field in button), button)


    def test_every_io_graph_row_has_the_nine_fields_wireshark_reads(self):
        self.assertTrue(io_graphs())
        for row in io_graphs():
            self.assertEqual(len(row), 9, row)
            enabled, name, expression, color, style, y_axis, y_field, moving_average, factor = row
            self.assertIn(enabled, {"Enabled", "Disabled"}, row)
            self.assertTrue(name.strip() and expression.strip(), row)
            self.assertRegex(color, r"^#[0-9a-f]{6}$", row)
            self.assertIn(style, IO_GRAPH_STYLES, row)
            self.assertEqual((y_axis, y_field, moving_average), ("Packets", "", "None"), row)
            self.assertTrue(factor.isdigit() and int(factor) >= 1, row)

    def test_io_graphs_count_each_cause_once_with_the_coloring_rules_filters(self):
        graph_filters = [row[2] for row in io_graphs()]
        self.assertEqual(graph_filters, [rule["filter"] for rule in rules()])
        named = [cause for expression in graph_filters for cause in re.findall(r'diag503\.cause == "(\w+)"', expression)]
        self.assertEqual(sorted(named), sorted(harness.CAUSES))


    def test_the_report_draws_each_cause_in_its_io_graph_color(self):
        report = (ROOT / "tools" / "diag503-report").read_text()
        drawn = dict(re.findall(r'"(\w+)": "(#[0-9a-f]{6})"', report[report.index("FAMILY_COLORS"):]))
        graphed = {cause: row[3] for row in io_graphs() for cause in re.findall(r'diag503\.cause == "(\w+)"', row[2])}
        self.assertEqual(drawn, graphed)


class ProfileInTshark(unittest.TestCase):
    def packets(self, capture):
        output = TSHARK.run(TSHARK.reading(capture) + ["-C", "diag503", "-Y", "diag503.cause", "--color", "-T", "psml"])
        document = ElementTree.fromstring(output)
        titles = [section.text for section in document.find("structure")]
        return titles, [(packet.attrib, [section.text for section in packet]) for packet in document.findall("packet")]

    def test_columns_show_each_503s_golden_cause_and_confidence_in_its_family_colors(self):
        colors = family_colors()
        for capture in CAPTURES:
            golden = {}
            lines = capture.with_suffix(".expected").read_text().splitlines()
            header = lines[0].split("\t")
            for row in (line.split("\t") for line in lines[1:] if line):
                if row[header.index("diag503.cause")]:
                    golden[row[0]] = (row[header.index("diag503.cause")], row[header.index("diag503.confidence")] + "%")
            titles, packets = self.packets(capture)
            number, cause, confidence = titles.index("No."), titles.index("503 cause"), titles.index("Confidence")
            seen = {sections[number]: (sections[cause], sections[confidence]) for _, sections in packets}
            self.assertEqual(seen, golden, capture.name)
            for attributes, sections in packets:
                self.assertEqual((attributes["background"], attributes["foreground"]), colors[sections[cause]],
                                 f"{capture.name} frame {sections[number]}")

    def test_every_button_and_io_graph_filter_is_accepted(self):
        capture = TSHARK.readable(CAPTURES[0])
        for label, expression in [(button[1], button[2]) for button in buttons()] + [(row[1], row[2]) for row in io_graphs()]:
            result = subprocess.run(TSHARK.command(["-C", "diag503", "-r", str(capture), "-Y", expression, "-c", "1"]),
                                    capture_output=True, text=True, timeout=120)
            self.assertEqual(result.returncode, 0, f"{label}: {result.stderr}")

    def test_the_profile_loads_without_complaint(self):
        result = subprocess.run(TSHARK.command(["-C", "diag503", "-r", str(TSHARK.readable(CAPTURES[0])), "-c", "1"]),
                                capture_output=True, text=True, timeout=120)
        self.assertEqual((result.returncode, result.stderr), (0, ""))


if __name__ == "__main__":
    sys.exit(harness.run_tests(__doc__, sys.modules[__name__]))
