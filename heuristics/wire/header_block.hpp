// Reads the text form shared by SIP and RTSP: a start line, header lines (folded lines joined), a body.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/text.hpp"

namespace diag503 {

struct HeaderBlock {
    std::string_view start_line;
    std::string_view body;                     // what follows the empty line, possibly empty
    std::size_t lines_without_colon = 0;       // header lines that were skipped
};

// The start line, for deciding whether the text is worth reading at all.
inline std::string_view first_line(std::string_view text) {
    while (!text.empty() && (text.front() == '\r' || text.front() == '\n')) text.remove_prefix(1);
    std::string_view line = text.substr(0, text.find('\n'));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

// "METHOD request-URI VERSION" where VERSION starts with `version_prefix` ("SIP/", "RTSP/").
struct RequestLine {
    std::string_view method;
    std::string_view uri;
};
inline std::optional<RequestLine> split_request_line(std::string_view line, std::string_view version_prefix) {
    line = trim(line);
    const auto first_space = line.find(' ');
    const auto last_space = line.rfind(' ');
    if (first_space == std::string_view::npos || first_space == last_space) return std::nullopt;
    if (!istarts_with(line.substr(last_space + 1), version_prefix)) return std::nullopt;
    return RequestLine{line.substr(0, first_space), trim(line.substr(first_space + 1, last_space - first_space - 1))};
}

// Calls on_header(name, value) for each header in order, with folded continuation lines joined
// (RFC 3261 §7.3.1, RFC 2326 §4). Leading empty lines (keep-alives) are skipped. An on_header that
// returns bool ends the reading by returning false (the reader has what it wanted); the block then
// has no body and counts only the skipped lines read.
template <typename OnHeader>
HeaderBlock read_header_block(std::string_view text, OnHeader&& on_header) {
    auto deliver = [&on_header](std::string_view name, std::string_view value) {
        if constexpr (std::is_same_v<decltype(on_header(name, value)), bool>) return on_header(name, value);
        else {
            on_header(name, value);
            return true;
        }
    };
    auto next_line = [](std::string_view& rest) {
        const auto end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return line;
    };
    HeaderBlock block;
    std::string_view rest = text;
    while (!rest.empty() && (rest.front() == '\r' || rest.front() == '\n')) rest.remove_prefix(1);
    block.start_line = next_line(rest);
    std::string value;
    while (!rest.empty()) {
        const auto line = next_line(rest);
        if (trim(line).empty()) break;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            ++block.lines_without_colon;
            continue;
        }
        const std::string_view name = trim(line.substr(0, colon));
        const auto folded = [&rest] { return !rest.empty() && (rest.front() == ' ' || rest.front() == '\t'); };
        if (!folded()) {  // the usual case: no copy
            if (!deliver(name, trim(line.substr(colon + 1)))) return block;
            continue;
        }
        value.assign(line.substr(colon + 1));
        while (folded()) {
            value += ' ';
            value += trim(next_line(rest));
        }
        if (!deliver(name, trim(std::string_view(value)))) return block;
    }
    block.body = rest;
    return block;
}

}  // namespace diag503
