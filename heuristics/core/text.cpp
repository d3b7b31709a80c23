// Small allocation-free helpers for reading protocol text.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/text.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace diag503 {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool icontains(std::string_view haystack, std::string_view needle) {
    if (needle.empty()) return true;
    if (haystack.size() < needle.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i)
        if (ascii_lower(haystack[i]) == ascii_lower(needle[0]) && iequals(haystack.substr(i, needle.size()), needle)) return true;
    return false;
}

std::optional<ParsedNumber> parse_leading_decimal(std::string_view text) {
    if (text.empty() || !is_digit(text.front())) return std::nullopt;
    ParsedNumber number;
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    for (char c : text) {
        if (!is_digit(c)) break;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (number.overflowed || number.value > (max - digit) / 10) {
            number.overflowed = true;
            number.value = max;
            continue;
        }
        number.value = number.value * 10 + digit;
    }
    return number;
}

std::optional<ParsedNumber> parse_decimal(std::string_view text) {
    text = trim(text);
    for (char c : text)
        if (!is_digit(c)) return std::nullopt;
    return parse_leading_decimal(text);
}

namespace {

// The separator's position once a quote, bracket or parenthesis has been seen at `from`.
std::size_t nested_top_level_end(std::string_view text, char separator, std::size_t from) {
    bool in_quotes = false;
    int angle_depth = 0;
    int paren_depth = 0;
    for (std::size_t i = from; i < text.size(); ++i) {
        const char c = text[i];
        if (in_quotes) {
            if (c == '\\') ++i;
            else if (c == '"') in_quotes = false;
            continue;
        }
        if (c == '"') in_quotes = true;
        else if (c == '<') ++angle_depth;
        else if (c == '>' && angle_depth > 0) --angle_depth;
        else if (c == '(') ++paren_depth;
        else if (c == ')' && paren_depth > 0) --paren_depth;
        else if (c == separator && angle_depth == 0 && paren_depth == 0) return i;
    }
    return text.size();
}

}  // namespace

std::size_t top_level_end(std::string_view text, char separator) {
    for (std::size_t i = 0; i < text.size(); ++i) {  // most values nest nothing: compare and move on
        const char c = text[i];
        if (c == separator) return i;
        if (c == '"' || c == '<' || c == '(') return nested_top_level_end(text, separator, i);
    }
    return text.size();
}

std::vector<std::string_view> split_top_level(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    for_each_top_level(text, separator, [&parts](std::string_view part) {
        parts.push_back(part);
        return true;
    });
    return parts;
}

std::string_view unquote(std::string_view text) {
    text = trim(text);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') return text.substr(1, text.size() - 2);
    return text;
}

std::optional<std::string_view> find_parameter(std::string_view parameters, std::string_view name) {
    std::optional<std::string_view> found;
    for_each_top_level(parameters, ';', [&](std::string_view parameter) {
        const auto equals = parameter.find('=');
        if (!iequals(trim(parameter.substr(0, equals)), name)) return true;
        found = equals == std::string_view::npos ? std::string_view{} : trim(parameter.substr(equals + 1));
        return false;
    });
    return found;
}

std::uint64_t hash_text(std::string_view text, std::uint64_t seed) {
    // Eight bytes per step (Call-IDs, branches and addresses are hashed for every message), each step
    // multiplied and folded so that every input bit reaches the low bits the maps index by.
    constexpr std::uint64_t kOdd = 0x9e3779b97f4a7c15ull;
    std::uint64_t hash = (seed ^ text.size()) * kOdd;
    std::size_t position = 0;
    for (; position + 8 <= text.size(); position += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, text.data() + position, 8);
        hash = (hash ^ word) * kOdd;
        hash ^= hash >> 29;
    }
    std::uint64_t tail = 0;
    if (position < text.size()) std::memcpy(&tail, text.data() + position, text.size() - position);
    hash = (hash ^ tail) * 0xff51afd7ed558ccdull;
    hash ^= hash >> 33;
    hash *= 0xc4ceb9fe1a85ec53ull;
    return hash ^ (hash >> 33);
}

namespace {

// Length of the valid UTF-8 sequence starting at `text[0]`, or 0 when it is not valid UTF-8.
std::size_t utf8_sequence_length(std::string_view text) {
    const auto lead = static_cast<unsigned char>(text[0]);
    const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 0;
    if (length == 0 || length > text.size()) return 0;
    for (std::size_t i = 1; i < length; ++i)
        if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) return 0;
    return length;
}

// Word-at-a-time tests ("haszero"/"hasless" bit tricks): exact for whether any byte of the word matches,
// which is all the scans below ask before they look at single bytes.
constexpr std::uint64_t kEveryByte = 0x0101010101010101ull;
constexpr std::uint64_t kHighBits = kEveryByte << 7;

std::uint64_t word_at(std::string_view text, std::size_t offset) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + offset, sizeof word);
    return word;
}

// Whether any byte of `word` is below 0x20 or at or above 0x7f.
bool word_has_unprintable(std::uint64_t word) {
    const std::uint64_t below_space = (word - 0x20 * kEveryByte) & ~word & kHighBits;
    const std::uint64_t delete_or_high = (word + kEveryByte) | word;  // 0x7f + 1 sets the high bit; 0x80 and up have it
    return (below_space | (delete_or_high & kHighBits)) != 0;
}

// Whether any byte of `word` equals `byte`.
bool word_has_byte(std::uint64_t word, char byte) {
    const std::uint64_t cleared = word ^ (kEveryByte * static_cast<unsigned char>(byte));
    return ((cleared - kEveryByte) & ~cleared & kHighBits) != 0;
}

bool printable_byte(char c) { return c >= 0x20 && c < 0x7f; }

}  // namespace

std::size_t find_first_of_four(std::string_view text, char a, char b, char c, char d) {
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        const std::uint64_t word = word_at(text, i);
        if (word_has_byte(word, a) || word_has_byte(word, b) || word_has_byte(word, c) || word_has_byte(word, d)) break;
    }
    for (; i < text.size(); ++i)
        if (text[i] == a || text[i] == b || text[i] == c || text[i] == d) return i;
    return std::string_view::npos;
}

bool plain_and_short(std::string_view text, std::size_t max_length) {
    if (text.size() > max_length) return false;
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8)
        if (word_has_unprintable(word_at(text, i))) return false;
    return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(i), text.end(), printable_byte);
}

void assign_printable(std::string& into, std::string_view text, std::size_t max_length) {
    if (plain_and_short(text, max_length)) into.assign(text);
    else into = printable(text, max_length);
}

std::string printable(std::string_view text, std::size_t max_length) {
    // Nearly all packet text is short plain ASCII: copy it as it is.
    if (plain_and_short(text, max_length)) return std::string(text);
    std::string safe;
    safe.reserve(std::min(text.size(), max_length) + 3);
    std::size_t position = 0;
    while (position < text.size()) {
        const std::size_t length = utf8_sequence_length(text.substr(position));
        const std::size_t kept = length == 0 ? 1 : length;
        if (safe.size() + kept > max_length) {
            safe += "...";
            break;
        }
        const auto byte = static_cast<unsigned char>(text[position]);
        if (length == 0 || byte < 0x20 || byte == 0x7f) safe.push_back('.');  // control or invalid byte
        else safe.append(text.substr(position, length));
        position += kept;
    }
    return safe;
}

}  // namespace diag503
