// Small allocation-free helpers for reading protocol text: trimming, case-insensitive compare, numbers, hashing.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diag503 {

// Inline: the parsers call these for every header of every message.
// Nearly every byte tested is above the space: one comparison decides.
inline bool is_text_space(char c) {
    return static_cast<unsigned char>(c) <= ' ' && (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}
inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string_view trim(std::string_view text) {
    while (!text.empty() && is_text_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_text_space(text.back())) text.remove_suffix(1);
    return text;
}

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)  // most names arrive in the case they are compared with
        if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

inline bool istarts_with(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}
bool icontains(std::string_view haystack, std::string_view needle);

struct ParsedNumber {
    std::uint64_t value = 0;  // clamped to UINT64_MAX when overflowed
    bool overflowed = false;
};
// Leading decimal digits of `text`; nullopt when it does not start with a digit.
std::optional<ParsedNumber> parse_leading_decimal(std::string_view text);
// The whole of `text` (after trimming) must be digits.
std::optional<ParsedNumber> parse_decimal(std::string_view text);

// Where the first `separator` outside double quotes, angle brackets and parentheses is; text.size() if none.
std::size_t top_level_end(std::string_view text, char separator);
// Calls on_part(trimmed part) for each part between such separators until it returns false; no allocation.
template <typename OnPart>
void for_each_top_level(std::string_view text, char separator, OnPart&& on_part) {
    while (true) {
        const std::size_t end = top_level_end(text, separator);
        if (!on_part(trim(text.substr(0, end))) || end >= text.size()) return;
        text.remove_prefix(end + 1);
    }
}
// The same for text known to quote and bracket nothing: every separator splits.
template <typename OnPart>
void for_each_plain_part(std::string_view text, char separator, OnPart&& on_part) {
    while (true) {
        const std::size_t end = std::min(text.find(separator), text.size());
        if (!on_part(trim(text.substr(0, end))) || end >= text.size()) return;
        text.remove_prefix(end + 1);
    }
}
// Splits at `separator` outside double quotes, angle brackets and parentheses.
std::vector<std::string_view> split_top_level(std::string_view text, char separator);
std::string_view unquote(std::string_view text);

// A `name=value` parameter out of a `;`-separated list; nullopt when absent.
std::optional<std::string_view> find_parameter(std::string_view parameters, std::string_view name);

// Position of the first of the bytes a, b, c or d in `text`, or npos: the scans that end a Via entry or
// a URI, eight bytes at a time.
std::size_t find_first_of_four(std::string_view text, char a, char b, char c, char d);

// A 64-bit hash for compact keys, eight bytes per step. Case-sensitive, as Call-IDs and branches are.
std::uint64_t hash_text(std::string_view text, std::uint64_t seed = 14695981039346656037ull);

// Copy of packet text made safe for display: at most `max_length` bytes, control bytes as '.', an ellipsis when cut.
std::string printable(std::string_view text, std::size_t max_length);
// The same, written into `into` so that its storage is reused.
void assign_printable(std::string& into, std::string_view text, std::size_t max_length);
// True when printable(text, max_length) would be text itself: short, printable ASCII.
bool plain_and_short(std::string_view text, std::size_t max_length);

}  // namespace diag503
