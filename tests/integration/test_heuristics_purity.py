# Fails when any file in heuristics/ includes a Wireshark or GLib header: the library must stay pure C++17.
# SPDX-License-Identifier: GPL-2.0-or-later
import re
import sys
from pathlib import Path

FORBIDDEN = re.compile(r'#\s*include\s*[<"](epan/|wsutil/|wiretap/|glib|gmodule|wireshark|ws_)')


def main():
    offenders = []
    files = sorted(p for p in Path(sys.argv[1]).rglob("*") if p.suffix in (".cpp", ".hpp", ".h", ".cc", ".def"))
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if FORBIDDEN.search(line) or re.search(r"\bg(int|char|boolean|uint\d*)\b", line):
                offenders.append(f"{path}:{number}: {line.strip()}")
    print("\n".join(offenders) or f"{len(files)} files checked, no Wireshark or GLib in heuristics/")
    print(f"{len(files) - len({o.split(':')[0] for o in offenders})} passed, {len({o.split(':')[0] for o in offenders})} failed")
    return 1 if offenders or not files else 0


if __name__ == "__main__":
    sys.exit(main())
