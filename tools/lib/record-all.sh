#!/usr/bin/env bash
# Records every scenario a recorder lists: record-all.sh <recorder.sh> [<outdir>] (default: the recorder's captures/<family>/).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

[[ $# -eq 1 || $# -eq 2 ]] || {
	echo "usage: record-all.sh <recorder.sh> [<outdir>]" >&2
	exit 1
}
failed=()
for scenario in $("$1" --list); do
	"$1" "$scenario" ${2+"$2"} || failed+=("$scenario")
done
echo "record-all.sh: done in ${SECONDS} s${failed[*]:+; failed: ${failed[*]}}"
((${#failed[@]} == 0))
