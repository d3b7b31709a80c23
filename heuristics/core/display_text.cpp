// Packet text made safe to display: strict UTF-8, escaped controls, a cap that never splits a character.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/display_text.hpp"

#include <algorithm>
#include <cstdint>

namespace diag503 {
namespace {

constexpr std::string_view kEllipsis = "\xe2\x80\xa6";  // U+2026

bool plain_ascii(char c) { return c >= 0x20 && c < 0x7f; }

// One character read from the text: its code point and length in bytes; length 0 when the bytes
// at the start are not valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
struct Decoded {
    char32_t code_point = 0;
    std::size_t length = 0;
};

Decoded decode(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80) return {lead, 1};
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xbf;  // the allowed range of the second byte
    char32_t code_point = 0;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
        code_point = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        code_point = lead & 0x0f;
        if (lead == 0xe0) low = 0xa0;   // overlong below U+0800
        if (lead == 0xed) high = 0x9f;  // surrogates U+D800..U+DFFF
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        code_point = lead & 0x07;
        if (lead == 0xf0) low = 0x90;   // overlong below U+10000
        if (lead == 0xf4) high = 0x8f;  // past U+10FFFF
    } else {
        return {};  // a continuation byte, C0/C1 (always overlong) or F5..FF
    }
    if (text.size() < length || byte(1) < low || byte(1) > high) return {};
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xc0) != 0x80) return {};
        code_point = (code_point << 6) | (byte(i) & 0x3f);
    }
    return {code_point, length};
}

// Characters that move the cursor, end a line or reorder what follows (Unicode Bidi_Control).
bool escaped_character(char32_t c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f || c == 0x2028 ||
           c == 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

void append_hex(std::string& out, std::uint32_t value, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.push_back(kHex[(value >> shift) & 0xf]);
}

// How the character (or invalid byte) at the start of `text` is shown; returns the bytes it consumed.
std::size_t next_unit(std::string_view text, std::string& unit) {
    unit.clear();
    const Decoded decoded = decode(text);
    if (decoded.length == 0) {
        unit += "\\x";
        append_hex(unit, static_cast<unsigned char>(text[0]), 2);
        return 1;
    }
    const char32_t c = decoded.code_point;
    if (!escaped_character(c)) {
        unit.append(text.substr(0, decoded.length));
    } else if (c == '\t') {
        unit += "\\t";
    } else if (c == '\r') {
        unit += "\\r";
    } else if (c == '\n') {
        unit += "\\n";
    } else if (c < 0x80) {
        unit += "\\x";
        append_hex(unit, static_cast<std::uint32_t>(c), 2);
    } else {
        unit += "\\u";
        append_hex(unit, static_cast<std::uint32_t>(c), 4);
    }
    return decoded.length;
}

// Makes `text` displayable in place; most text is short printable ASCII and is left untouched.
void keep_displayable(std::string& text, std::size_t max_bytes) {
    if (text.size() <= max_bytes && std::all_of(text.begin(), text.end(), plain_ascii)) return;
    text = displayable(text, max_bytes);
}

}  // namespace

std::string displayable(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes && std::all_of(text.begin(), text.end(), plain_ascii)) return std::string(text);
    std::string shown;
    shown.reserve(std::min(text.size(), max_bytes));
    // The length of `shown` at the last point where an ellipsis still fits after it.
    std::size_t room_for_ellipsis = 0;
    std::string unit;
    while (!text.empty()) {
        text.remove_prefix(next_unit(text, unit));
        if (shown.size() + unit.size() > max_bytes) {  // cut: back to where the ellipsis fits
            if (max_bytes < kEllipsis.size()) return {};
            shown.resize(room_for_ellipsis);
            return shown.append(kEllipsis);
        }
        shown += unit;
        if (shown.size() + kEllipsis.size() <= max_bytes) room_for_ellipsis = shown.size();
    }
    return shown;
}

void make_displayable(Verdict& verdict) {
    for (Evidence& item : verdict.evidence) keep_displayable(item.sentence, kMaxDisplayedSentence);
    keep_displayable(verdict.recommendation, kMaxDisplayedSentence);
    keep_displayable(verdict.server, kMaxDisplayedIdentifier);
    keep_displayable(verdict.method, kMaxDisplayedIdentifier);
    keep_displayable(verdict.origin, kMaxDisplayedName);
    if (RtspVerdictContext* rtsp = verdict.rtsp()) {
        keep_displayable(rtsp->url, kMaxDisplayedUrl);
        keep_displayable(rtsp->stream, kMaxDisplayedIdentifier);
        keep_displayable(rtsp->profile, kMaxDisplayedName);
    }
}

}  // namespace diag503
