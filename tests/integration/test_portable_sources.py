# Fails when the plugin or the heuristics library includes a header only POSIX systems have: they must build on Windows.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: test_portable_sources.py FOLDER...

Windows and macOS users build diag503 inside Wireshark's own plugin build (README), so plugin/ and
heuristics/ use only standard C++ and Wireshark/GLib calls; tools/ and tests/ may use POSIX.
"""
import re
import sys
from pathlib import Path

POSIX_ONLY = re.compile(r'#\s*include\s*<(unistd\.h|sys/[^>]+|arpa/[^>]+|netinet/[^>]+|netdb\.h|pthread\.h|dlfcn\.h|'
                        r'dirent\.h|fcntl\.h|poll\.h|termios\.h|syslog\.h|pwd\.h|grp\.h|strings\.h|sched\.h|'
                        r'semaphore\.h|spawn\.h|ifaddrs\.h|net/[^>]+|linux/[^>]+)>')


def main():
    files = sorted(path for folder in sys.argv[1:] for path in Path(folder).rglob("*")
                   if path.suffix in (".cpp", ".hpp", ".h", ".cc", ".c", ".inc", ".def"))
    offenders = [f"{path}:{number}: {line.strip()}" for path in files
                 for number, line in enumerate(path.read_text().splitlines(), 1) if POSIX_ONLY.search(line)]
    print("\n".join(offenders) or f"{len(files)} files checked, none includes a POSIX-only header")
    return 1 if offenders or not files else 0


if __name__ == "__main__":
    sys.exit(main())
