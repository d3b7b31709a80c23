# The real Wireshark GUI (Qt, under Xvfb) loads diag503, applies a diag503.cause filter and exits cleanly.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: test_gui.py --plugin build/plugin/diag503.so

Wireshark opens a bundled capture in the diag503 profile (tools/profile/install, `-C diag503`) with
`-Y 'diag503.cause == "capacity_limit"'` and a Lua tap with the same
filter; when the file is read, Wireshark draws its taps, and the tap prints how many frames matched and
quits with status 0. The count must be the capture's golden count, and Wireshark's stderr must hold no
complaint about a plugin, a dissector or a Lua error. Exits 77 (skipped) where wireshark or xvfb-run is
missing, or in the sanitized build (the sanitizer runtime is not preloaded into the GUI).
"""
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = ROOT / "captures" / "sip-kamailio" / "kam-capacity.pcapng"
CAUSE = "capacity_limit"
QUIT_AFTER_READING = """
local tap = Listener.new(nil, '%s')
local matched = 0
function tap.packet() matched = matched + 1 end
function tap.draw()
    io.stderr:write("diag503-gui-smoke: " .. matched .. " frames matched\\n")
    os.exit(0)
end
"""
COMPLAINTS = ("Dissector bug", "diag503:", "Couldn't load", "couldn't load", "Lua: Error", "error loading", "Traceback")
ARGS = None


class GuiSmoke(unittest.TestCase):
    def test_wireshark_loads_the_plugin_filters_by_cause_and_exits_cleanly(self):
        tshark = harness.Tshark(ARGS.plugin)  # the same private HOME with only this plugin, checked to load
        try:
            profiles = tshark.home / ".config" / "wireshark" / "profiles"
            subprocess.run([str(ROOT / "tools" / "profile" / "install"), str(profiles)], check=True, capture_output=True)
            display_filter = f'diag503.cause == "{CAUSE}"'
            script = tshark.files / "quit_after_reading.lua"
            script.write_text(QUIT_AFTER_READING % display_filter.replace("'", "\\'"))
            if tshark.as_root:
                subprocess.run(["chown", "-R", "nobody:nogroup", str(tshark.home / ".config"), str(script)], check=True)
            command = tshark.command(["-C", "diag503", "-r", str(tshark.readable(CAPTURE)), "-Y", display_filter,
                                      "-X", f"lua_script:{script}"])
            wireshark = command.index("tshark")
            command[wireshark:wireshark + 1] = ["xvfb-run", "-a", "wireshark"]
            result = subprocess.run(command, capture_output=True, text=True, timeout=180)
        finally:
            tshark.close()
        expected = sum(1 for row in CAPTURE.with_suffix(".expected").read_text().splitlines()[1:]
                       if f"\t{CAUSE}\t" in row)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"diag503-gui-smoke: {expected} frames matched", result.stderr)
        complaints = [line for line in result.stderr.splitlines()
                      if any(word in line for word in COMPLAINTS) and "diag503-gui-smoke" not in line]
        self.assertEqual(complaints, [])


def gui_unavailable():
    missing = [program for program in ("wireshark", "xvfb-run") if not shutil.which(program)]
    if missing:
        return f"{' and '.join(missing)} not installed (Debian: apt-get install wireshark-qt xvfb xauth)"
    if harness.SANITIZER_RUNTIME:
        return "the GUI is not run with the sanitizer runtime; the normal build runs this test"
    return None


if __name__ == "__main__":
    sys.exit(harness.run_tests(__doc__, sys.modules[__name__], gui_unavailable))
