#!/usr/bin/env bash
# Records every scenario of this folder's record.sh into one output folder: record-all.sh [<outdir>] (default: its captures/<family>/).
# SPDX-License-Identifier: GPL-2.0-or-later
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec bash "$here/../lib/record-all.sh" "$here/record.sh" "$@"
