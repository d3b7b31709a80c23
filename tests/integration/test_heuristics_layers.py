# Fails when a heuristics/ folder includes a folder above it: dependencies point capture -> sip, rtsp -> evidence -> wire -> core.
# SPDX-License-Identifier: GPL-2.0-or-later
import re
import sys
from pathlib import Path

# A folder may include its own files and those of folders with a lower level; sip and rtsp, on one
# level, know nothing of each other.
LEVELS = {"core": 0, "wire": 1, "evidence": 2, "sip": 3, "rtsp": 3, "capture": 4}
INCLUDE = re.compile(r'#\s*include\s*"([^"]+)"')
SOURCES = (".cpp", ".hpp", ".h", ".def", ".inc")


def problems_of(path, root):
    folder = path.relative_to(root).parts[0] if len(path.relative_to(root).parts) > 1 else None
    if folder not in LEVELS:
        return [f"{path}: not in one of the folders {', '.join(LEVELS)}"]
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = INCLUDE.search(line)
        if not match:
            continue
        target = match.group(1).split("/")[0] if "/" in match.group(1) else None
        if target is None:
            found.append(f"{path}:{number}: include without its folder: {line.strip()}")
        elif target not in LEVELS:
            found.append(f"{path}:{number}: include of an unknown folder: {line.strip()}")
        elif target != folder and LEVELS[target] >= LEVELS[folder]:
            found.append(f"{path}:{number}: {folder}/ may not include {target}/: {line.strip()}")
    return found


def main():
    root = Path(sys.argv[1])
    files = sorted(p for p in root.rglob("*") if p.suffix in SOURCES)
    problems = [problem for path in files for problem in problems_of(path, root)]
    failed = {problem.split(":")[0] for problem in problems}
    print("\n".join(problems) or f"{len(files)} files checked: every include points to the same or a lower folder")
    print(f"{len(files) - len(failed)} passed, {len(failed)} failed")
    return 1 if problems or not files else 0


if __name__ == "__main__":
    sys.exit(main())
