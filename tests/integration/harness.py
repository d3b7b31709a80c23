# Runs the real tshark with the just-built diag503 plugin, unprivileged, and reads its output.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Test harness shared by the integration tests and tools/update-golden.

Wireshark loads no personal plugin as root, so when running as root tshark is started as `nobody`
with a throw-away HOME that holds the plugin; captures are copied where that user can read them.
Every harness checks `tshark -G plugins` before anything else: a test can never pass because the
plugin silently failed to load.
"""
import argparse
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import causes  # noqa: E402



@functools.lru_cache(maxsize=None)
def wireshark_version():
    """(major, minor) of the tshark on PATH: the personal plugin folder and some field names depend on it."""
    banner = subprocess.run(["tshark", "-v"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"\(Wireshark\) (\d+)\.(\d+)\.", banner)
    if not found:
        raise RuntimeError(f"cannot read the Wireshark version from `tshark -v`:\n{banner[:300]}")
    return int(found.group(1)), int(found.group(2))


def plugin_subdir():
    """Where Wireshark looks for a user's own dissector plugins, under HOME."""
    major, minor = wireshark_version()
    return f".local/lib/wireshark/plugins/{major}.{minor}/epan"


def dissector_bug_field():
    """The field Wireshark sets on a frame whose dissector failed an assertion (renamed in 4.4)."""
    return "_ws.dissector_bug" if wireshark_version() >= (4, 4) else "_ws.malformed.dissector_bug"

# Every frame diag503 marks: the 503s (the protocol `diag503`) and the clients' requests reacting to one.
MARKED = "diag503 || diag503.reaction"
# The columns of a golden .expected file: one row per frame diag503 marks (a 503, or a request reacting to one).
GOLDEN_FIELDS = [
    "frame.number", "diag503.protocol", "diag503.server", "diag503.method", "diag503.cause",
    "diag503.confidence", "diag503.scope", "diag503.retry_after", "diag503.request_in",
    "diag503.response_time", "diag503.active_dialogs", "diag503.origin", "diag503.origin_frame",
    "diag503.incident", "diag503.incident_refusals", "diag503.incident_clients", "diag503.incident_served",
    "diag503.reaction", "diag503.reaction_to", "diag503.reaction_delay",
]
# The evidence sentences are golden too, in the .evidence file beside .expected, one sentence per line
# (captures/FORMAT.md): rewording a sentence then changes one line per 503 that gives it, not a whole row.
EVIDENCE_FIELD = "diag503.evidence"
EVIDENCE_FRAME = "frame "    # starts the line of each frame in a .evidence file
EVIDENCE_INDENT = "  "       # starts each sentence line under it
# Forward links: known only after the frame they point to was read, so two-pass tshark and the GUI
# show them and one-pass tshark cannot. Kept out of the one-pass/two-pass golden on purpose.
FORWARD_FIELDS = ["diag503.failover", "diag503.failover_server"]
REACTIONS = ("retry_same_request", "request_during_backoff", "failover")

CAUSES = list(causes.CAUSES)  # the vocabulary of heuristics/core/causes.def


# Set by ctest in a DIAG503_SANITIZE build: the sanitizer runtime tshark must preload, since tshark itself is
# not instrumented and the runtime has to be the first library loaded.
SANITIZER_RUNTIME = os.environ.get("DIAG503_SANITIZER_RUNTIME", "")
# Any report is fatal. Leak checking stays off in tshark: Wireshark and GLib keep allocations until exit on
# purpose; the heuristics library's leaks are checked by the sanitized unit tests and the fuzzers instead.
SANITIZER_ENV = [f"LD_PRELOAD={SANITIZER_RUNTIME}", "ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:exitcode=86",
                 "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86"] if SANITIZER_RUNTIME else []
SANITIZER_REPORTS = ("AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:", "LeakSanitizer")


class PluginNotLoaded(RuntimeError):
    pass


class SanitizerReport(RuntimeError):
    pass


def sanitizer_report(stderr):
    """The sanitizer's complaint in tshark's stderr, or ''."""
    return stderr if any(marker in stderr for marker in SANITIZER_REPORTS) else ""


class Tshark:
    """tshark with diag503 loaded from a private plugin folder."""

    def __init__(self, plugin_path):
        self.plugin_source = Path(plugin_path)
        self._memo = {}  # tshark's startup dominates a test's time: an answer asked for twice is read once
        self.root = Path(tempfile.mkdtemp(prefix="diag503-tshark-"))
        os.chmod(self.root, 0o755)
        self.home = self.root / "home"
        plugin_dir = self.home / plugin_subdir()
        plugin_dir.mkdir(parents=True)
        shutil.copy2(plugin_path, plugin_dir / "diag503.so")
        self.plugin_file = plugin_dir / "diag503.so"
        self.files = self.root / "files"
        self.files.mkdir()
        # Shadows Wireshark's global plugin folder, where `tools/bootstrap` installs diag503 for root:
        # only the just-built copy may be loaded.
        self.no_global_plugins = self.root / "no-global-plugins"
        self.no_global_plugins.mkdir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            subprocess.run(["chown", "-R", "nobody:nogroup", str(self.root)], check=True)
        self._check_loaded()

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def reading(self, capture):
        """`-r <readable copy>` plus the capture's own decoding arguments (captures/<family>/<stem>.args)."""
        return ["-r", str(self.readable(capture))] + capture_args(capture)

    def readable(self, capture):
        """A copy of `capture` that the tshark user can read."""
        target = self.files / Path(capture).name
        if not target.exists():
            shutil.copy2(capture, target)
            if self.as_root:
                os.chown(target, _uid("nobody"), _gid("nogroup"))
        return target

    def command(self, args):
        env = ["env", "-i", f"HOME={self.home}", f"PATH={os.environ.get('PATH', '/usr/bin:/bin')}", "LC_ALL=C.UTF-8",
               f"WIRESHARK_PLUGIN_DIR={self.no_global_plugins}"] + SANITIZER_ENV
        drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if self.as_root else []
        return drop + env + ["tshark"] + list(args)

    def run(self, args, stdin=None, check=True):
        result = subprocess.run(self.command(args), input=stdin, capture_output=True, timeout=600)
        stderr = result.stderr.decode(errors="replace")
        if sanitizer_report(stderr):  # whatever `check` says: a sanitizer report is never acceptable
            raise SanitizerReport(f"tshark {' '.join(map(str, args))}:\n{stderr}")
        if check and result.returncode != 0:
            raise RuntimeError(f"tshark {' '.join(map(str, args))} failed ({result.returncode}):\n{stderr}")
        if check and ("Dissector bug" in stderr or "diag503" in stderr):
            raise RuntimeError(f"tshark {' '.join(map(str, args))} complained:\n{stderr}")
        return result.stdout.decode("utf-8", errors="replace")

    def _check_loaded(self):
        if SANITIZER_RUNTIME:
            self._check_registered()
            return
        listing = self.run(["-G", "plugins"])
        ours = [line for line in listing.splitlines() if "diag503" in line]
        if len(ours) != 1 or str(self.plugin_file) not in ours[0]:
            raise PluginNotLoaded(f"tshark did not load {self.plugin_file}; -G plugins said:\n{listing}")

    def _check_registered(self):
        """`tshark -G plugins` hangs when the sanitizer runtime is preloaded (Wireshark 4.0.17, with or without
        diag503), so a sanitized run asks for the protocol list instead. The global plugin folder is shadowed,
        which leaves the private copy as the only place diag503 can have come from."""
        listing = self.run(["-G", "protocols"])
        if not any(line.split("\t")[-1] == "diag503" for line in listing.splitlines()):
            raise PluginNotLoaded(f"tshark did not register diag503 from {self.plugin_file}")

    # What the tests and the golden files read.
    def _remembered(self, key, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def reactions(self, capture, two_pass=False):
        """[(request frame, reaction, 503 frame)] as the plugin marks them, read from the marked table."""
        table = self.marked_table(capture, two_pass=two_pass)
        return [(frame, row["diag503.reaction"], int(row["diag503.reaction_to"]))
                for frame, row in table if row["diag503.reaction"]]

    def forward_links(self, capture):
        """{503 frame: failover attempt frame} from two-pass tshark, read from its marked table."""
        return {frame: int(row["diag503.failover"]) for frame, row in self.marked_table(capture, two_pass=True)
                if row["diag503.failover"]}

    def marked_table(self, capture, two_pass=False):
        """[(frame, {field: value})] of every diag503 field, each frame diag503 marks: one tshark run per reading
        that the goldens, reactions and forward links all read (each run costs tshark's start-up)."""
        fields = self.diag503_fields()
        text = self.diag503_table_of_every_field(capture, two_pass=two_pass)
        rows = []
        for line in text.splitlines():
            values = line.split("\t") + [""] * (len(fields) + 1)
            rows.append((int(values[0]), dict(zip(fields, values[1:]))))
        return rows

    def diag503_table_of_every_field(self, capture, two_pass=False, through_pipe=False):
        """diag503_table of every field diag503 registers, remembered."""
        return self._remembered(("table", str(capture), two_pass, through_pipe),
                                lambda: self.diag503_table(capture, self.diag503_fields(), two_pass, through_pipe))

    def golden_rows(self, capture, two_pass=False, display_filter=MARKED):
        """The text of a .expected golden file: GOLDEN_FIELDS with a header, a row per frame of display_filter.
        For the marked frames it is cut from the table of every field, as tshark would print it itself."""
        if display_filter == MARKED and set(GOLDEN_FIELDS[1:]) <= set(self.diag503_fields()):
            lines = ["\t".join(GOLDEN_FIELDS)]
            for frame, row in self.marked_table(capture, two_pass=two_pass):
                lines.append("\t".join([str(frame)] + [row[field] for field in GOLDEN_FIELDS[1:]]))
            return "\n".join(lines) + "\n"
        args = self.reading(capture) + ["-Y", display_filter, "-T", "fields",
                "-E", "header=y", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"]
        if two_pass:
            args.insert(0, "-2")
        for field in GOLDEN_FIELDS:
            args += ["-e", field]
        return self.run(args)

    def evidence(self, capture, two_pass=False, display_filter=MARKED):
        """{frame: [evidence sentences, in tree order]} of the frames with at least one sentence. Read as JSON: a
        sentence may quote packet text, so no `-T fields` aggregator character is sure not to occur in it."""
        args = self.reading(capture) + ["-Y", display_filter, "-T", "json", "-e", "frame.number", "-e", EVIDENCE_FIELD]
        if two_pass:
            args.insert(0, "-2")
        output = self.run(args)
        packets = json.loads(output) if output.strip() else []
        found = {}
        for packet in packets:
            layers = packet["_source"]["layers"]
            if EVIDENCE_FIELD in layers:
                found[int(layers["frame.number"][0])] = layers[EVIDENCE_FIELD]
        return found

    def golden_evidence(self, capture, two_pass=False):
        """The text of a .evidence golden file."""
        return format_evidence(self.evidence(capture, two_pass=two_pass))

    def frames_with(self, capture, display_filter, two_pass=False):
        args = self.reading(capture) + ["-Y", display_filter, "-T", "fields", "-e", "frame.number"]
        if two_pass:
            args.insert(0, "-2")
        return [int(line) for line in self.run(args).split()]

    def per_frame_counts(self, capture, two_pass=False):
        """{frame: (number of 503 status codes, number of diag503.cause values)} for frames with either."""
        return dict(self.overview(capture, two_pass)[0])

    def stats_tree(self, capture, two_pass=False):
        """The text of `-q -z diag503,tree`."""
        return self.overview(capture, two_pass)[1]

    def expert_summary(self, capture, two_pass=False):
        """The text of `-q -z expert`."""
        return self.overview(capture, two_pass)[2]

    def overview(self, capture, two_pass=False):
        """(per-frame counts, statistics tree, expert summary) of one tshark run, remembered: every frame's
        status codes and causes as fields, then the two taps' texts, which tshark prints after the last frame."""
        return self._remembered(("overview", str(capture), two_pass), lambda: self._overview(capture, two_pass))

    def _overview(self, capture, two_pass):
        args = self.reading(capture) + ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
                "-E", "aggregator=,", "-e", "frame.number", "-e", "sip.Status-Code", "-e", "rtsp.status",
                "-e", "diag503.cause", "-e", "icmp.type", "-e", "icmpv6.type", "-z", "diag503,tree", "-z", "expert"]
        if two_pass:
            args.insert(0, "-2")
        output = self.run(args)
        lines = output.splitlines(keepends=True)
        first_tap_line = next((i for i, line in enumerate(lines) if not FRAME_ROW.match(line)), len(lines))
        taps = "".join(lines[first_tap_line:])
        stats, expert = split_stats_tree(taps)
        return _frame_counts(lines[:first_tap_line]), stats, expert

    def diag503_fields(self):
        """Every field diag503 registers, from `tshark -G fields` in registration order (expert info included).
        Kept beside the plugin under its SHA-256, since each capture's test asks again of the same build."""
        digest = hashlib.sha256(self.plugin_source.read_bytes()).hexdigest()[:16]
        cache = self.plugin_source.parent / f".diag503-fields-{digest}"
        if cache.exists():
            return cache.read_text().split()
        fields = [columns[2] for columns in (line.split("\t") for line in self.run(["-G", "fields"]).splitlines())
                  if len(columns) > 2 and columns[0] == "F" and columns[2].startswith("diag503.")]
        try:
            partial = cache.with_name(f"{cache.name}.{os.getpid()}")
            partial.write_text("\n".join(fields) + "\n")
            partial.replace(cache)  # atomic: a parallel test reads the whole list or none
        except OSError:
            pass  # a read-only plugin folder only costs the time
        return fields

    def diag503_table(self, capture, fields, two_pass=False, through_pipe=False):
        """frame.number and `fields` of the frames where diag503 is present, every occurrence joined by '|'.
        through_pipe: the capture's bytes are given on standard input (`-r -`) instead of as a file."""
        if through_pipe:
            args = ["-r", "-"] + capture_args(capture)
            stdin = Path(capture).read_bytes()
        else:
            args, stdin = self.reading(capture), None
        args = (["-2"] if two_pass else []) + args + diag503_table_args(fields)
        return self.run(args, stdin=stdin)


FRAME_ROW = re.compile(r"^\d+\t")  # a row of `-T fields` output, which starts with frame.number
STATS_TREE_TITLE = "503 Diagnostics:\n"


def _frame_counts(rows):
    """{frame: (503 status codes, diag503.cause values)} of the frames with either, from rows of frame.number,
    sip.Status-Code, rtsp.status, diag503.cause, icmp.type and icmpv6.type."""
    counts = {}
    for line in rows:
        frame, sip_codes, rtsp_codes, causes, icmp, icmpv6 = (line.rstrip("\n").split("\t") + [""] * 5)[:6]
        # An ICMP error quotes the message it is about: a quoted 503 was not sent again.
        codes = [] if icmp or icmpv6 else [c for c in (sip_codes.split(",") + rtsp_codes.split(",")) if c]
        n503 = sum(1 for c in codes if c == "503")
        ncause = len([c for c in causes.split(",") if c])
        if n503 or ncause:
            counts[int(frame)] = (n503, ncause)
    return counts


def split_stats_tree(text):
    """(diag503's statistics tree, the rest) of tap output holding it: the tree runs from the blank line and the
    rule above its title to the rule that closes it (the second dashed line after the title)."""
    title = text.find(STATS_TREE_TITLE)
    if title < 0:
        return "", text
    start = text.rfind("\n", 0, text.rfind("\n", 0, title))  # the blank line before the '=' rule
    start = 0 if start < 0 else start
    end = title
    for _ in range(2):
        end = text.index("\n---", end) + 1
    end = text.index("\n", end) + 1
    return text[start:end], text[:start] + text[end:]


def parse_stats_tree(text):
    """[(depth, name, count, percent or None)] of a `-z diag503,tree` text: its columns are found from its header."""
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Topic / Item"))
    count_at, average_at = header.index("Count"), header.index("Average")
    percent_at, burst_at = header.index("Percent"), header.index("Burst Rate")
    rows = []
    for line in lines[lines.index(header) + 2:]:
        if not line.strip() or line.startswith("-"):
            continue
        name = line[:count_at].rstrip()
        percent = line[percent_at:burst_at].strip().rstrip("%")
        rows.append((len(name) - len(name.lstrip(" ")), name.strip(), int(line[count_at:average_at].split()[0]),
                     float(percent) if percent else None))
    return rows


def _uid(name):
    import pwd
    return pwd.getpwnam(name).pw_uid


def _gid(name):
    import grp
    return grp.getgrnam(name).gr_gid


def format_evidence(by_frame):
    """A .evidence file (captures/FORMAT.md): per frame in frame order a line `frame N`, then one line per
    sentence, indented. diag503 escapes line breaks in its text, so a sentence is always one line."""
    lines = []
    for frame in sorted(by_frame):
        lines.append(f"{EVIDENCE_FRAME}{frame}")
        lines += [EVIDENCE_INDENT + sentence for sentence in by_frame[frame]]
    return "".join(line + "\n" for line in lines)


def parse_evidence(text):
    """{frame: [sentences]} of a .evidence file; anything that format_evidence would not write is an error."""
    by_frame, frame = {}, None
    for number, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith(EVIDENCE_FRAME) and line[len(EVIDENCE_FRAME):].isdigit():
            frame = int(line[len(EVIDENCE_FRAME):])
            if frame in by_frame:
                raise ValueError(f"line {number}: frame {frame} listed twice")
            by_frame[frame] = []
        elif line.startswith(EVIDENCE_INDENT) and frame is not None:
            by_frame[frame].append(line[len(EVIDENCE_INDENT):])
        else:
            raise ValueError(f"line {number}: neither `{EVIDENCE_FRAME}N` nor an indented sentence under one: {line!r}")
    if not text.endswith("\n") and text:
        raise ValueError("the last line has no line end")
    if format_evidence(by_frame) != text:
        raise ValueError("frames not in increasing order")
    return by_frame


def capture_args(capture):
    """Extra tshark arguments a capture needs, e.g. `-d tcp.port==8554,rtsp` for RTSP on another port."""
    path = Path(capture).with_suffix(".args")
    return path.read_text().split() if path.exists() else []


def diag503_table_args(fields):
    """tshark arguments of a diag503_table: one row per frame diag503 marks."""
    args = ["-Y", MARKED, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|",
            "-e", "frame.number"]
    for field in fields:
        args += ["-e", field]
    return args


def without_columns(table, fields, dropped):
    """A diag503_table of `fields` with the columns of `dropped` removed (column 0 is frame.number)."""
    keep = [0] + [i + 1 for i, field in enumerate(fields) if field not in dropped]
    rows = []
    for line in table.splitlines():
        columns = line.split("\t")
        rows.append("\t".join(columns[i] if i < len(columns) else "" for i in keep))
    return rows


CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")


def capture_files(captures_dir):
    """The captures directly in one folder (e.g. the public captures beside the checkout)."""
    return sorted(p for p in Path(captures_dir).iterdir() if p.suffix in CAPTURE_SUFFIXES)


def bundled_captures(captures_root):
    """Every capture below captures_root, whatever its family folder (captures/README.md), in file-name order:
    the order of the flat folder it replaced, so merged workloads and seed corpora stay the same. Stems must be
    unique across families: tests are named after them and `Tshark.readable` copies captures into one folder."""
    captures = sorted((p for p in Path(captures_root).rglob("*") if p.suffix in CAPTURE_SUFFIXES), key=lambda p: p.name)
    stems = [p.stem for p in captures]
    twice = sorted({stem for stem in stems if stems.count(stem) > 1})
    if twice:
        raise RuntimeError(f"captures named alike in two family folders of {captures_root}: {', '.join(twice)}")
    return captures


def _truth_lines(capture):
    for line in Path(capture).with_suffix(".truth").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            yield [column.strip() for column in line.split("\t")]


def read_truth(capture):
    """{frame: intended cause} of the 503s from the capture's .truth file, and its `# how:` line."""
    how = ""
    for line in Path(capture).with_suffix(".truth").read_text().splitlines():
        if line.startswith("# how:"):
            how = line[len("# how:"):].strip()
    truth = {int(columns[0]): columns[1] for columns in _truth_lines(capture) if columns[1] not in REACTIONS}
    return truth, how


def read_reactions(capture):
    """[(request frame, reaction, 503 frame)] listed in the .truth file (see captures/FORMAT.md)."""
    return [(int(c[0]), c[1], int(c[2])) for c in _truth_lines(capture) if c[1] in REACTIONS]


def run_tests(doc, module, skip_reason=None):
    """The main of a test module run as `test_X.py --plugin SO [unittest arguments]`: sets the module's ARGS and
    runs its tests, or returns 77 (skipped, as ctest's SKIP_RETURN_CODE) when skip_reason() names a reason."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plugin", required=True)
    module.ARGS, rest = parser.parse_known_args()
    reason = skip_reason() if skip_reason else None
    if reason:
        print(f"skipped: {reason}")
        return 77
    result = unittest.main(module=module, argv=[sys.argv[0]] + rest, exit=False, verbosity=2).result
    return 0 if result.wasSuccessful() else 1
