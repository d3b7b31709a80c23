# diag503-fleet over the bundled captures: the database holds what tshark shows, once, with incidents across files.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: test_fleet.py --plugin build/plugin/diag503.so

Runs tools/diag503-fleet on a Dask LocalCluster of 2 workers over the bundled captures plus a capture cut
short, into SQLite (with --ek-out): one run over those that need no decoding arguments, and one per set of
decoding arguments (.args: RTSP on other ports), passed after `--` as a NOC passes them for its cameras; and into a PostgreSQL server the test starts itself
(initdb and pg_ctl in a temporary folder, as the unprivileged test user). Checks: every stored verdict and
its evidence equal the capture's golden tshark output row for row; the cut capture is stored as failed with
tshark's message; a second run stores nothing; both databases hold the same; an incident that two consecutive
captures cut in two is one incident spanning both; every diag503 field of the EK output has a type in the
generated index template. Exits 77 (skipped) where python3-distributed, python3-psycopg2 or PostgreSQL is
missing, and in the sanitized build (Dask's Python workers are not run under the sanitizer runtime).
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "diag503-fleet"
ALL_CAPTURES = sorted(ROOT.glob("captures/*/*.pcap*"))
CAPTURES = [path for path in ALL_CAPTURES if not path.with_suffix(".args").exists()]  # the main archive's
DECODED = {}  # decoding arguments -> the captures that need them
for _path in ALL_CAPTURES:
    if _path.with_suffix(".args").exists():
        DECODED.setdefault(_path.with_suffix(".args").read_text().strip(), []).append(_path)
SPLIT = ROOT / "captures" / "sip-kamailio" / "kam-overload.pcapng"  # one incident of 9 503s in 0.4 s
ARGS = None
TSHARK = None
WORK = None
ARCHIVE = None    # the bundled captures without decoding arguments, and one cut short
DECODED_ARCHIVES = None  # [(folder, decoding arguments)]
DATABASE = None   # SQLite, filled by the first run over ARCHIVE
EK = None         # that run's EK output


def as_test_user(command, **kwargs):
    """Runs a command as tshark runs in these tests: the private HOME with the plugin, unprivileged when root."""
    wrapped = TSHARK.command([])
    wrapped[wrapped.index("tshark"):] = [str(part) for part in command]
    return subprocess.run(wrapped, capture_output=True, text=True, timeout=900, **kwargs)


def fleet(*arguments):
    result = as_test_user([TOOL, *arguments])
    if result.returncode != 0:
        raise AssertionError(f"diag503-fleet {' '.join(map(str, arguments))} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def make_archive():
    archive = WORK / "archive"
    archive.mkdir()
    for capture in CAPTURES:
        shutil.copy2(capture, archive / capture.name)
    cut = archive / "cut-short.pcapng"
    cut.write_bytes(SPLIT.read_bytes()[:5000])
    return archive


def decoded_archives():
    """[(folder, decoding arguments)]: the captures that need decoding arguments, a folder per set."""
    folders = []
    for index, (arguments, captures) in enumerate(sorted(DECODED.items())):
        folder = WORK / f"archive-decoded-{index}"
        folder.mkdir()
        for capture in captures:
            shutil.copy2(capture, folder / capture.name)
        folders.append((folder, arguments.split()))
    return folders


def run_all(database, *options):
    """The main archive, then each decoded one with its arguments, into one database."""
    outputs = [fleet("run", ARCHIVE, "--db", database, "--workers", "2", *options)]
    for folder, arguments in DECODED_ARCHIVES:
        outputs.append(fleet("run", folder, "--db", database, "--workers", "2", *options, "--", *arguments))
    return outputs


def split_capture():
    """kam-overload in two consecutive files, the second starting inside its incident."""
    folder = WORK / "ring"
    if folder.exists():
        return folder
    folder.mkdir()
    first_503 = int(golden_rows(SPLIT)[0][0])
    subprocess.run(["editcap", "-r", str(SPLIT), str(folder / "ring_00001.pcapng"), f"1-{first_503 + 5}"], check=True)
    subprocess.run(["editcap", "-r", str(SPLIT), str(folder / "ring_00002.pcapng"), f"{first_503 + 6}-100000"], check=True)
    return folder


def golden_rows(capture):
    """[(frame, [(protocol, server, method, cause, confidence)] per 503 in the frame)] of the capture's golden output."""
    lines = capture.with_suffix(".expected").read_text().splitlines()
    header = lines[0].split("\t")
    columns = [header.index(name) for name in ("diag503.protocol", "diag503.server", "diag503.method",
                                               "diag503.cause", "diag503.confidence")]
    rows = []
    for row in (line.split("\t") for line in lines[1:] if line):
        if not row[header.index("diag503.cause")]:
            continue
        values = [row[column].split("|") for column in columns]
        rows.append((row[0], list(zip(*values))))
    return rows


def golden_evidence(capture):
    """{frame: [sentences]} of the capture's golden .evidence file."""
    evidence, frame = {}, None
    for line in capture.with_suffix(".evidence").read_text().splitlines():
        if line.startswith(harness.EVIDENCE_FRAME):
            frame = line[len(harness.EVIDENCE_FRAME):]
            evidence[frame] = []
        elif line.startswith(harness.EVIDENCE_INDENT):
            evidence[frame].append(line[len(harness.EVIDENCE_INDENT):])
    return evidence


def as_text(rows):
    return [tuple("" if value is None else repr(value) if isinstance(value, float) else str(value) for value in row)
            for row in rows]


def sqlite_rows(database, sql):
    import sqlite3
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


class PostgreSql:
    """A throw-away PostgreSQL server, listening only on a socket in its own folder."""

    def __init__(self, folder):
        self.folder = folder
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
        folder.mkdir()
        if TSHARK.as_root:
            subprocess.run(["chown", "nobody:nogroup", str(folder)], check=True)
        self.data = folder / "data"
        self.run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync")
        self.run("pg_ctl", "-D", self.data, "-l", folder / "server.log", "-w", "-o",
                 f"-k {folder} -c listen_addresses='' -c fsync=off", "start")
        self.url = f"postgresql://postgres@/postgres?host={folder}"

    def run(self, program, *arguments):
        result = as_test_user([self.bin / program, *arguments])
        if result.returncode != 0:
            raise AssertionError(f"{program} failed: {result.stdout}{result.stderr}")

    def rows(self, sql):
        """Rows as text, as psql prints them (PostgreSQL 12 and later write a double in its shortest exact form,
        as Python's repr does)."""
        result = as_test_user(["psql", self.url, "-X", "-A", "-t", "-F", "\t", "-c", sql])
        if result.returncode != 0:
            raise AssertionError(f"psql failed: {result.stderr}")
        return [tuple(line.split("\t")) for line in result.stdout.splitlines()]

    def stop(self):
        self.run("pg_ctl", "-D", self.data, "-m", "immediate", "stop")


def setUpModule():
    global TSHARK, WORK, ARCHIVE, DATABASE, EK, DECODED_ARCHIVES
    TSHARK = harness.Tshark(ARGS.plugin)
    WORK = TSHARK.root / "fleet"
    WORK.mkdir()
    if TSHARK.as_root:
        subprocess.run(["chown", "nobody:nogroup", str(WORK)], check=True)
    ARCHIVE, DATABASE, EK = make_archive(), WORK / "fleet.db", WORK / "ek"
    DECODED_ARCHIVES = decoded_archives()
    started = time.monotonic()
    run_all(f"sqlite:///{DATABASE}", "--ek-out", EK)
    print(f"\n{len(ALL_CAPTURES) + 1} captures on 2 workers (with EK output): {time.monotonic() - started:.1f} s",
          file=sys.stderr)


def tearDownModule():
    TSHARK.close()


# What each test compares: every verdict with its evidence, by capture name, frame and place in the frame.
VERDICTS = ("SELECT c.path, v.frame, v.position, v.protocol, v.server, v.method, v.cause, v.confidence FROM verdicts v"
            " JOIN captures c ON c.id = v.capture ORDER BY c.path, v.frame, v.position")
EVIDENCE = ("SELECT c.path, v.frame, v.position, e.position, e.sentence, e.frames FROM evidence e"
            " JOIN verdicts v ON v.id = e.verdict JOIN captures c ON c.id = v.capture"
            " ORDER BY c.path, v.frame, v.position, e.position")


class FleetIntoSqlite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.archive, cls.database, cls.ek = ARCHIVE, DATABASE, EK

    def test_every_capture_is_stored_once_and_the_cut_one_as_failed_with_tsharks_message(self):
        captures = sqlite_rows(self.database, "SELECT path, status, error FROM captures ORDER BY path")
        self.assertEqual(sorted(Path(path).name for path, _, _ in captures),
                         sorted([capture.name for capture in ALL_CAPTURES] + ["cut-short.pcapng"]))
        failed = [(Path(path).name, error) for path, status, error in captures if status != "done"]
        self.assertEqual([name for name, _ in failed], ["cut-short.pcapng"])
        self.assertRegex(failed[0][1], r"cut short|truncated|corrupt")

    def test_packet_counts_and_times_are_capinfos_own(self):
        stored = {Path(path).name: (packets, first, last) for path, packets, first, last in sqlite_rows(
            self.database, "SELECT path, packets, first_packet_time, last_packet_time FROM captures")}
        listing = subprocess.run(["capinfos", "-T", "-r", "-c", "-a", "-e", "-S"] + [str(c) for c in ALL_CAPTURES],
                                 capture_output=True, text=True).stdout
        for name, packets, first, last in (line.split("\t")[:4] for line in listing.splitlines()):
            self.assertEqual(stored[Path(name).name][0], int(packets), name)
            self.assertAlmostEqual(stored[Path(name).name][1], float(first), places=5, msg=name)
            self.assertAlmostEqual(stored[Path(name).name][2], float(last), places=5, msg=name)

    def test_stored_verdicts_equal_each_captures_tshark_output(self):
        stored = {}
        for path, frame, position, *values in sqlite_rows(self.database, VERDICTS):
            stored.setdefault(Path(path).name, {}).setdefault(str(frame), []).append(as_text([values])[0])
        for capture in ALL_CAPTURES:
            expected = {frame: verdicts for frame, verdicts in golden_rows(capture)}
            self.assertEqual(stored.get(capture.name, {}), expected, capture.name)

    def test_stored_evidence_equals_each_captures_tshark_output(self):
        stored = {}
        for path, frame, _, _, sentence, _ in sqlite_rows(self.database, EVIDENCE):
            stored.setdefault(Path(path).name, {}).setdefault(str(frame), []).append(sentence)
        for capture in ALL_CAPTURES:
            self.assertEqual(stored.get(capture.name, {}), golden_evidence(capture), capture.name)

    def test_evidence_keeps_the_frames_each_sentence_links(self):
        frames = [frames for *_, frames in sqlite_rows(self.database, EVIDENCE) if frames]
        self.assertTrue(frames)
        for linked in frames:
            self.assertRegex(linked, r"^\d+(,\d+)*$")

    def test_a_second_run_stores_nothing_new(self):
        before = [sqlite_rows(self.database, f"SELECT * FROM {table} ORDER BY 1, 2")
                  for table in ("captures", "verdicts", "evidence", "incidents", "incident_captures")]
        for output in run_all(f"sqlite:///{self.database}"):
            self.assertIn("0 captures stored", output)
        after = [sqlite_rows(self.database, f"SELECT * FROM {table} ORDER BY 1, 2")
                 for table in ("captures", "verdicts", "evidence", "incidents", "incident_captures")]
        self.assertEqual(after, before)

    def test_every_diag503_field_of_the_ek_output_has_a_type_in_the_template(self):
        template = json.loads((self.ek / "diag503-template.json").read_text())
        typed = template["template"]["mappings"]["properties"]["layers"]["properties"]["diag503"]["properties"]
        self.assertTrue(all("type" in mapping for mapping in typed.values()))
        registered = {row[2] for row in (line.split("\t") for line in TSHARK.run(["-G", "fields"]).splitlines())
                      if row[0] == "F" and row[2].startswith("diag503.") and row[3] != "FT_NONE"}
        self.assertEqual({key[len("diag503_"):].replace("_", ".", 1) for key in typed}, registered)
        documents = 0
        for output in self.ek.glob("*.ndjson"):
            for line in output.read_text().splitlines():
                layers = json.loads(line).get("layers")
                if not layers:
                    continue
                documents += 1
                for key in layers["diag503"]:
                    if key.startswith("diag503_"):
                        self.assertIn(key, typed, output.name)
        self.assertEqual(documents, sqlite_rows(self.database, "SELECT COUNT(DISTINCT capture || '/' || frame)"
                                                               " FROM verdicts")[0][0])

    def test_summary_names_each_server_and_cause_with_its_counts(self):
        output = fleet("summary", "--db", f"sqlite:///{self.database}", "--html", WORK / "summary.html")
        counts = sqlite_rows(self.database, "SELECT server, cause, COUNT(*) FROM verdicts GROUP BY server, cause")
        for server, cause, refusals in counts:
            self.assertIn(f"{server}  {cause}: {refusals} 503", output)
        self.assertIn("<svg", (WORK / "summary.html").read_text())


class FleetIntoPostgreSql(unittest.TestCase):
    def test_postgresql_holds_what_sqlite_holds(self):
        server = PostgreSql(WORK / "postgresql")
        try:
            run_all(server.url)
            incidents = "SELECT server, cause, first_time, last_time, refusals, captures FROM incidents ORDER BY id"
            for query in (VERDICTS, EVIDENCE, incidents):
                self.assertEqual(server.rows(query), as_text(sqlite_rows(DATABASE, query)), query)
            self.assertIn("0 captures stored", fleet("run", ARCHIVE, "--db", server.url, "--workers", "2"))
        finally:
            server.stop()


class InterruptedRun(unittest.TestCase):
    def test_ctrl_c_keeps_whole_captures_and_the_next_run_resumes(self):
        database = WORK / "interrupted.db"
        command = TSHARK.command([])
        command[command.index("tshark"):] = [str(TOOL), "run", str(ARCHIVE), "--db", f"sqlite:///{database}",
                                             "--workers", "2"]
        # A terminal's Ctrl-C: SIGINT to the whole process group, the Dask workers included.
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
        stored = 0
        for _ in range(600):
            time.sleep(0.1)
            if database.exists():
                try:
                    stored = sqlite_rows(database, "SELECT COUNT(*) FROM captures")[0][0]
                except Exception:  # the schema is still being made
                    stored = 0
            if stored >= 5 or run.poll() is not None:
                break
        os.killpg(run.pid, signal.SIGINT)
        _, errors = run.communicate(timeout=120)
        self.assertEqual(run.returncode, 130, errors)
        self.assertIn("stopped", errors)
        kept = sqlite_rows(database, "SELECT c.path, COUNT(v.id) FROM captures c LEFT JOIN verdicts v"
                                     " ON v.capture = c.id GROUP BY c.path")
        self.assertGreaterEqual(len(kept), 5)
        self.assertLess(len(kept), len(CAPTURES) + 1, "stopped before the end")
        for path, verdicts in kept:
            capture = next((c for c in CAPTURES if c.name == Path(path).name), None)
            if capture:  # every capture kept is whole
                self.assertEqual(verdicts, sum(len(found) for _, found in golden_rows(capture)), path)
        output = fleet("run", ARCHIVE, "--db", f"sqlite:///{database}", "--workers", "2")
        self.assertIn(f"{len(CAPTURES) + 1 - len(kept)} captures stored", output)
        in_archive = [row for row in sqlite_rows(DATABASE, VERDICTS) if row[0].startswith(f"{ARCHIVE}/")]
        self.assertEqual(sqlite_rows(database, VERDICTS), in_archive)


class IncidentsAcrossCaptures(unittest.TestCase):
    def test_an_incident_cut_by_a_ring_buffer_file_boundary_is_one_incident(self):
        ring = split_capture()
        database = WORK / "ring.db"
        fleet("run", ring, "--db", f"sqlite:///{database}", "--workers", "2")
        pieces = sqlite_rows(database, "SELECT capture, COUNT(DISTINCT capture_incident) FROM verdicts GROUP BY capture")
        self.assertEqual(len(pieces), 2, "each file holds part of the incident")
        incidents = sqlite_rows(database, "SELECT id, refusals, captures FROM incidents")
        self.assertEqual(incidents, [(1, len(golden_rows(SPLIT)), 2)])
        self.assertEqual(sqlite_rows(database, "SELECT DISTINCT incident FROM verdicts"), [(1,)])

    def test_the_summary_says_which_captures_an_incident_spans(self):
        ring = split_capture()
        database = WORK / "ring-summary.db"
        fleet("run", ring, "--db", f"sqlite:///{database}", "--workers", "1")
        self.assertIn("incident 1 spans 2 captures: ring_00001.pcapng, ring_00002.pcapng",
                      fleet("summary", "--db", f"sqlite:///{database}"))

    def test_pieces_further_apart_than_the_gap_stay_apart(self):
        ring = split_capture()
        database = WORK / "ring-no-gap.db"
        fleet("run", ring, "--db", f"sqlite:///{database}", "--workers", "1", "--incident-gap", "0")
        self.assertEqual(len(sqlite_rows(database, "SELECT id FROM incidents")), 2)


class ExistingCluster(unittest.TestCase):
    def test_a_run_on_a_running_dask_cluster_stores_what_a_local_one_does(self):
        ring = split_capture()
        folder = WORK / "cluster"
        folder.mkdir()
        if TSHARK.as_root:
            subprocess.run(["chown", "nobody:nogroup", str(folder)], check=True)
        address_file = folder / "scheduler.json"
        started = []
        try:
            for program in (["dask-scheduler", "--no-dashboard", "--host", "127.0.0.1", "--port", "0"],
                            ["dask-worker", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]):
                command = TSHARK.command([])
                command[command.index("tshark"):] = program + ["--scheduler-file", str(address_file)]
                started.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                cwd=folder, start_new_session=True))
                for _ in range(300):
                    if address_file.exists() and address_file.stat().st_size:
                        break
                    time.sleep(0.1)
            address = json.loads(address_file.read_text())["address"]
            database, local = WORK / "cluster.db", WORK / "cluster-local.db"
            fleet("run", ring, "--db", f"sqlite:///{database}", "--scheduler", address)
            fleet("run", ring, "--db", f"sqlite:///{local}", "--workers", "1")
            self.assertEqual(sqlite_rows(database, EVIDENCE), sqlite_rows(local, EVIDENCE))
            self.assertTrue(sqlite_rows(database, EVIDENCE))
        finally:
            for process in started:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)


def fleet_unavailable():
    if harness.SANITIZER_RUNTIME:
        return "Dask's Python workers are not run under the sanitizer runtime; the normal build runs this test"
    for module, package in (("distributed", "python3-distributed"), ("psycopg2", "python3-psycopg2")):
        if subprocess.run(["/usr/bin/python3", "-c", f"import {module}"], capture_output=True).returncode != 0:
            return f"{package} is not installed (apt-get install {package})"
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return "PostgreSQL is not installed (apt-get install postgresql)"
    for program, package in (("editcap", "wireshark-common"), ("psql", "postgresql-client"),
                             ("dask-worker", "python3-distributed")):
        if not shutil.which(program):
            return f"{program} is not installed (apt-get install {package})"
    return None


if __name__ == "__main__":
    sys.exit(harness.run_tests(__doc__, sys.modules[__name__], fleet_unavailable))
