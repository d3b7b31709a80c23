#!/bin/bash
# Records every scenario of tools/rtsp/record.sh into one directory; fails if any of them failed.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tools/rtsp/record-all.sh <outdir>     e.g. tools/rtsp/record-all.sh /tmp/diag503-rtsp-captures
set -euo pipefail

[[ $# -eq 1 ]] || {
	echo "usage: record-all.sh <outdir>" >&2
	exit 1
}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failed=()
for scenario in $("$HERE/record.sh" --list); do
	"$HERE/record.sh" "$scenario" "$1" || failed+=("$scenario")
done
echo "record-all.sh: done in ${SECONDS} s${failed[*]:+; failed: ${failed[*]}}"
((${#failed[@]} == 0))
