# tshark loads diag503 and registers its protocol, every field with a blurb, its preferences and its statistics tree.
# SPDX-License-Identifier: GPL-2.0-or-later
import argparse
import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ALL_FIELDS = {
    "diag503.protocol": "FT_STRING", "diag503.cause": "FT_STRING", "diag503.confidence": "FT_UINT8",
    "diag503.evidence": "FT_STRING", "diag503.evidence_frame": "FT_FRAMENUM",
    "diag503.recommendation": "FT_STRING", "diag503.request_in": "FT_FRAMENUM",
    "diag503.response_time": "FT_RELATIVE_TIME", "diag503.retry_after": "FT_UINT32",
    "diag503.server": "FT_STRING", "diag503.method": "FT_STRING", "diag503.scope": "FT_STRING",
    "diag503.active_dialogs": "FT_UINT32", "diag503.url": "FT_STRING", "diag503.channel": "FT_UINT32",
    "diag503.stream": "FT_STRING", "diag503.profile": "FT_STRING", "diag503.active_sessions": "FT_UINT32",
    "diag503.origin": "FT_STRING", "diag503.origin_frame": "FT_FRAMENUM", "diag503.incident": "FT_UINT32",
    "diag503.incident_first_frame": "FT_FRAMENUM", "diag503.incident_refusals": "FT_UINT32",
    "diag503.incident_clients": "FT_UINT32", "diag503.incident_served": "FT_UINT32",
    "diag503.incident_duration": "FT_RELATIVE_TIME", "diag503.failover": "FT_FRAMENUM",
    "diag503.failover_server": "FT_STRING", "diag503.reaction": "FT_STRING",
    "diag503.reaction_to": "FT_FRAMENUM", "diag503.reaction_delay": "FT_RELATIVE_TIME",
}
PREFERENCES = ["immediate_response_ms", "delayed_response_ms", "short_retry_after", "long_retry_after",
               "scope_window", "surge_window", "baseline_window", "surge_factor", "min_user_failures",
               "min_other_users_served", "min_dialogs_for_ceiling", "ceiling_hold", "transaction_lifetime", "dialog_lifetime",
               "max_transactions", "max_dialogs", "max_servers", "context_lifetime", "max_events_per_host",
               "max_refusals_per_client", "max_incident_clients", "outcome_history",
               "max_sessions_per_device", "event_window", "evidence_window", "incident_gap", "failover_window",
               "min_retry_interval"]
ARGS = None
TSHARK = None
# The bundled captures, one folder per family (captures/README.md).
CAPTURES = Path(__file__).resolve().parents[2] / "captures"


def setUpModule():
    global TSHARK
    TSHARK = harness.Tshark(ARGS.plugin)  # raises PluginNotLoaded unless -G plugins lists our file


def tearDownModule():
    TSHARK.close()


# `tshark -G defaultprefs` and `-z help` hang in Wireshark 4.0.17 itself when a sanitizer runtime is
# preloaded (as does `-G plugins`); the normal build runs these two checks.
hangs_under_sanitizer = unittest.skipIf(bool(harness.SANITIZER_RUNTIME), "tshark hangs on this listing under ASan")


class Registration(unittest.TestCase):
    def test_protocol_is_registered(self):
        protocols = [line.split("\t") for line in TSHARK.run(["-G", "protocols"]).splitlines()]
        self.assertIn(["503 Diagnostics", "diag503", "diag503"], [p[:3] for p in protocols])

    @hangs_under_sanitizer
    def test_plugins_listing_names_version_and_type(self):
        # Before 4.2 Wireshark infers the type from what was registered; from 4.2 plugin_describe() says it.
        listing = [line.split("\t") for line in TSHARK.run(["-G", "plugins"]).splitlines() if "diag503" in line]
        self.assertEqual(len(listing), 1, listing)
        name, version, kind, path = [column.strip() for column in listing[0]]
        self.assertEqual((name, kind, path), ("diag503.so", "dissector", str(TSHARK.plugin_file)))
        self.assertRegex(version, r"^\d+\.\d+\.\d+$")

    def fields(self):
        rows = [line.split("\t") for line in TSHARK.run(["-G", "fields"]).splitlines() if line.startswith("F\t")]
        return {row[2]: row for row in rows if row[2].startswith("diag503.")}

    def test_every_field_is_registered_with_type_and_blurb(self):
        ours = {name: row for name, row in self.fields().items() if row[3] != "FT_NONE"}
        self.assertEqual(sorted(ours), sorted(ALL_FIELDS))
        for abbrev, ftype in ALL_FIELDS.items():
            self.assertEqual(ours[abbrev][3], ftype, abbrev)
            self.assertGreater(len(ours[abbrev][7].split()), 4, f"{abbrev} needs a one-sentence blurb")

    def allowed(self):
        """{preference: (least, most)} as each description states it: "Allowed: 1 to 8." or "Allowed: 1 or more."."""
        defaults = TSHARK.run(["-G", "defaultprefs"])
        found = {}
        for least, most, name in re.findall(r"Allowed: (\d+) (?:to (\d+)|or more)\.\n(?:#[^\n]*\n)*#diag503\.(\w+):", defaults):
            found[name] = (int(least), int(most) if most else 4294967295)
        return found

    @hangs_under_sanitizer  # tshark -G defaultprefs
    def test_every_preference_is_documented_with_its_default_and_allowed_values(self):
        defaults = TSHARK.run(["-G", "defaultprefs"])
        for name in PREFERENCES:
            self.assertRegex(defaults, rf"# [^\n]*Default \d+\. Allowed: \d+ (to \d+|or more)\.\n(#[^\n]*\n)*#diag503\.{name}: \d+", name)
        self.assertEqual(sorted(self.allowed()), sorted(PREFERENCES))

    @hangs_under_sanitizer  # tshark -G defaultprefs
    def test_every_preference_takes_its_least_and_most_allowed_value_without_complaint(self):
        capture = TSHARK.readable(CAPTURES / ARGS.sample)
        for end in (0, 1):
            overrides = []
            for name, bounds in self.allowed().items():
                overrides += ["-o", f"diag503.{name}:{bounds[end]}"]
            result = subprocess.run(TSHARK.command(overrides + ["-r", str(capture)]), capture_output=True, text=True)
            self.assertEqual((result.returncode, result.stderr), (0, ""), "most" if end else "least")
        rejected = subprocess.run(TSHARK.command(["-o", "diag503.no_such_preference:7", "-r", str(capture)]),
                                  capture_output=True, text=True)
        self.assertNotEqual(rejected.returncode, 0, "an unknown preference must make tshark fail")
        self.assertIn("unknown preference", rejected.stderr)

    def test_a_window_too_long_to_measure_is_shortened_with_a_warning(self):
        capture = TSHARK.readable(CAPTURES / ARGS.sample)
        result = subprocess.run(TSHARK.command(["-o", "diag503.surge_window:20", "-r", str(capture)]),
                                capture_output=True, text=True, timeout=600)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("diag503.surge_window: 20 is more than the most allowed; 8 is used instead.", result.stderr)

    @hangs_under_sanitizer  # tshark -G defaultprefs
    def test_a_value_outside_its_range_is_corrected_and_reported(self):
        capture = TSHARK.readable(CAPTURES / ARGS.sample)
        for name, (least, most) in self.allowed().items():
            wrong, used = (least - 1, least) if least > 0 else (most + 1, most)
            if wrong > 4294967295:
                continue
            result = subprocess.run(TSHARK.command(["-o", f"diag503.{name}:{wrong}", "-r", str(capture)]),
                                    capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, name)
            self.assertIn(f"diag503.{name}: {wrong} is ", result.stderr)
            self.assertIn(f"; {used} is used instead.", result.stderr)
        # A lower bound that meets its upper one would leave no room between them.
        result = subprocess.run(TSHARK.command(["-o", "diag503.short_retry_after:300", "-r", str(capture)]),
                                capture_output=True, text=True)
        self.assertIn("diag503.short_retry_after: 300 is not below diag503.long_retry_after (300); 299 is used instead.",
                      result.stderr)

    def test_preferences_reach_the_engine(self):
        # Plain 503s at a ceiling of 5 calls are capacity_limit only while 5 calls count as a ceiling.
        capture = TSHARK.readable(CAPTURES / "sip-kamailio" / "kam-capacity.pcapng")
        causes = ["-r", str(capture), "-Y", "diag503", "-T", "fields", "-e", "diag503.cause"]
        by_default = TSHARK.run(causes).split()
        raised = TSHARK.run(["-o", "diag503.min_dialogs_for_ceiling:6"] + causes).split()
        self.assertEqual(set(by_default), {"capacity_limit"})
        self.assertEqual(set(raised), {"unknown"})
        self.assertEqual(len(raised), len(by_default), "every 503 keeps exactly one verdict")

    def test_evidence_window_reaches_the_engine(self):
        # The quiet DNS recording's 503s name no cause: only the resolver's NXDOMAIN answers before them do.
        capture = TSHARK.readable(CAPTURES / "sip-kamailio" / "kam-dns_failure_quiet.pcapng")
        causes = ["-r", str(capture), "-Y", "diag503.cause", "-T", "fields", "-e", "diag503.cause"]
        self.assertEqual(set(TSHARK.run(causes).split()), {"dns_failure"})
        blind = TSHARK.run(["-o", "diag503.evidence_window:0"] + causes).split()
        self.assertNotIn("dns_failure", blind)
        self.assertEqual(len(blind), 4, "every 503 keeps exactly one verdict")

    @hangs_under_sanitizer
    def test_statistics_tree_is_registered(self):
        result = subprocess.run(TSHARK.command(["-z", "help"]), capture_output=True, text=True)
        self.assertIn("diag503,tree", result.stdout + result.stderr)

    def test_expert_infos_are_registered(self):
        expert = {name for name, row in self.fields().items() if row[3] == "FT_NONE"}
        # One diagnosis item per cause, so that the Expert Info dialog groups 503s by cause; a lead per cause but unknown.
        per_cause = {f"diag503.cause.{cause}.expert" for cause in harness.CAUSES} | \
                    {f"diag503.cause.{cause}.lead" for cause in harness.CAUSES if cause != "unknown"}
        self.assertEqual(expert, per_cause | {"diag503.request_missing", "diag503.malformed_503", "diag503.cut_503",
                                              "diag503.origin.relayed_503", "diag503.reaction.retry_same_request",
                                              "diag503.reaction.request_during_backoff", "diag503.reaction.failover"})

    def test_expert_severity_follows_confidence(self):
        # kam-capacity: five confident ceilings (65) and five leads (45); Warning and Note respectively.
        capture = TSHARK.readable(CAPTURES / "sip-kamailio" / "kam-capacity.pcapng")
        output = TSHARK.run(["-r", str(capture), "-q", "-z", "expert"])
        warnings, notes = output.split("Warns")[1].split("Notes")
        self.assertRegex(warnings, r"\b5\s+Response\s+diag503\s+503 diagnosed as capacity_limit \(confidence 65 %\)")
        self.assertRegex(notes, r"\b5\s+Response\s+diag503\s+503 diagnosed as capacity_limit \(confidence 45 %, a lead\)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--sample", default="public/pcapplusplus-sip_resp.pcap", help="a capture below captures/")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
