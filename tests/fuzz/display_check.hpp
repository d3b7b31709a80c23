// Shared by the libFuzzer targets: checks that text made displayable (display_text.hpp) is what that header promises.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/display_text.hpp"
#include "fuzz_input.hpp"
#include "core/verdict.hpp"

namespace diag503::fuzz {

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlong form, no surrogate, at most U+10FFFF)
// at the start of `text`, 0 when there is none.
inline std::size_t utf8_length(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    const std::size_t length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3
                             : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length == 0 || length > text.size()) return 0;
    for (std::size_t i = 1; i < length; ++i)
        if ((byte(i) & 0xc0) != 0x80) return 0;
    if ((lead == 0xe0 && byte(1) < 0xa0) || (lead == 0xed && byte(1) > 0x9f)) return 0;  // overlong, surrogate
    if ((lead == 0xf0 && byte(1) < 0x90) || (lead == 0xf4 && byte(1) > 0x8f)) return 0;  // overlong, past U+10FFFF
    return length;
}

// Valid UTF-8 without ASCII control characters: one value never spans lines.
inline bool is_displayable(std::string_view text) {
    while (!text.empty()) {
        const std::size_t length = utf8_length(text);
        if (length == 0) return false;
        if (length == 1 && (static_cast<unsigned char>(text.front()) < 0x20 || text.front() == 0x7f)) return false;
        text.remove_prefix(length);
    }
    return true;
}

// displayable() under a few caps: within the cap, displayable, and unchanged when applied again.
inline void check_displayable(std::string_view text) {
    for (const std::size_t cap : {std::size_t{0}, std::size_t{2}, std::size_t{3}, std::size_t{17}, kMaxDisplayedIdentifier,
                                  kMaxDisplayedExpert}) {
        const std::string shown = displayable(text, cap);
        FUZZ_CHECK(shown.size() <= cap);
        FUZZ_CHECK(is_displayable(shown));
        FUZZ_CHECK(displayable(shown, cap) == shown);
    }
}

// make_displayable() leaves every string of a verdict displayable within its cap.
inline void check_displayable(const Verdict& verdict) {
    for (const Evidence& item : verdict.evidence)
        FUZZ_CHECK(item.sentence.size() <= kMaxDisplayedSentence && is_displayable(item.sentence));
    FUZZ_CHECK(verdict.recommendation.size() <= kMaxDisplayedSentence && is_displayable(verdict.recommendation));
    FUZZ_CHECK(verdict.server.size() <= kMaxDisplayedIdentifier && is_displayable(verdict.server));
    FUZZ_CHECK(verdict.method.size() <= kMaxDisplayedIdentifier && is_displayable(verdict.method));
    FUZZ_CHECK(verdict.origin.size() <= kMaxDisplayedName && is_displayable(verdict.origin));
    if (const RtspVerdictContext* rtsp = verdict.rtsp()) {
        FUZZ_CHECK(rtsp->url.size() <= kMaxDisplayedUrl && is_displayable(rtsp->url));
        FUZZ_CHECK(rtsp->stream.size() <= kMaxDisplayedIdentifier && is_displayable(rtsp->stream));
        FUZZ_CHECK(rtsp->profile.size() <= kMaxDisplayedName && is_displayable(rtsp->profile));
    }
}

}  // namespace diag503::fuzz
