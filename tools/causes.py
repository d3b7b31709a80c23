# The cause vocabulary for the Python tools and tests, read from the C++ table heuristics/core/causes.def.
# SPDX-License-Identifier: GPL-2.0-or-later
"""CAUSES: every cause name in the order of diag503::Cause; SIP_CAUSES and RTSP_CAUSES: the causes of
one protocol plus `unknown`; RECOMMENDATIONS: {cause: recommendation}."""
import re
from pathlib import Path

CAUSES_DEF = Path(__file__).resolve().parents[1] / "heuristics" / "core" / "causes.def"
_ROW = re.compile(r'^DIAG503_CAUSE\((\w+), (sip|rtsp|any), "((?:[^"\\]|\\.)*)"\)$')


def _read_rows():
    rows = []
    for line in CAUSES_DEF.read_text().splitlines():
        if line.startswith("DIAG503_CAUSE("):
            match = _ROW.match(line)
            if not match:
                raise ValueError(f"{CAUSES_DEF}: unreadable row: {line}")
            rows.append(match.groups())
    return rows


_ROWS = _read_rows()
CAUSES = tuple(name for name, _, _ in _ROWS)
SIP_CAUSES = tuple(name for name, protocol, _ in _ROWS if protocol in ("sip", "any"))
RTSP_CAUSES = tuple(name for name, protocol, _ in _ROWS if protocol in ("rtsp", "any"))
RECOMMENDATIONS = {name: recommendation for name, _, recommendation in _ROWS}
