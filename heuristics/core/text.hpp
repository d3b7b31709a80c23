// Small allocation-free helpers for reading protocol text: trimming, case-insensitive compare, numbers, hashing.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diag503 {

std::string_view trim(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);
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
// Splits at `separator` outside double quotes, angle brackets and parentheses.
std::vector<std::string_view> split_top_level(std::string_view text, char separator);
std::string_view unquote(std::string_view text);

// A `name=value` parameter out of a `;`-separated list; nullopt when absent.
std::optional<std::string_view> find_parameter(std::string_view parameters, std::string_view name);

// FNV-1a; used for compact keys. Case-sensitive, as Call-IDs and branches are.
std::uint64_t hash_text(std::string_view text, std::uint64_t seed = 14695981039346656037ull);

// Copy of packet text made safe for display: at most `max_length` bytes, control bytes as '.', an ellipsis when cut.
std::string printable(std::string_view text, std::size_t max_length);

}  // namespace diag503
