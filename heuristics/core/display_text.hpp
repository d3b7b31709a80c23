// Text copied from packets made safe to show in Wireshark: the tree, expert info, the Info column and tshark's output.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/verdict.hpp"

namespace diag503 {

// Caps in bytes of UTF-8, each including the "…" that marks a cut.
inline constexpr std::size_t kMaxDisplayedSentence = 512;    // an evidence sentence, the recommendation
inline constexpr std::size_t kMaxDisplayedUrl = 1024;        // an RTSP URL, as long as rtsp_message keeps it
inline constexpr std::size_t kMaxDisplayedName = 256;        // origin ("relayed from " + a Server agent), profile
inline constexpr std::size_t kMaxDisplayedIdentifier = 128;  // server address, method, stream, Info suffix
// Wireshark formats expert info into ITEM_LABEL_LENGTH (240) bytes and cuts by bytes, maybe inside a
// character; a text of at most 239 bytes is never cut by it.
inline constexpr std::size_t kMaxDisplayedExpert = 239;

// `text` as it may be shown: valid UTF-8 kept as it is; each invalid byte as \xNN; control characters
// escaped: \t \r \n, other C0 and DEL as \xNN, C1 and the Unicode bidi controls and line/paragraph
// separators as \uNNNN; so one value never spans lines. Backslashes stay as they are, so applying it
// twice changes nothing. At most `max_bytes` bytes: when longer it is cut between characters (never
// inside a character or an escape) and ends with "…"; a cap under 3 bytes leaves nothing when cutting.
std::string displayable(std::string_view text, std::size_t max_bytes);

// Makes every string of `verdict` displayable within the caps above.
void make_displayable(Verdict& verdict);

}  // namespace diag503
