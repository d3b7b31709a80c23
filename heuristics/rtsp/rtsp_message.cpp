// Tolerant RTSP parser: start line, the headers diag503 reasons about, and a capped body.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "rtsp/rtsp_message.hpp"

#include <algorithm>
#include <limits>

#include "wire/header_block.hpp"
#include "core/text.hpp"

namespace diag503 {
namespace {

constexpr std::size_t kMaxStoredText = 200;

std::string stored(std::string_view text) { return printable(trim(text), kMaxStoredText); }

bool parse_start_line(std::string_view line, RtspMessage& message) {
    line = trim(line);
    if (istarts_with(line, "RTSP/")) {
        const auto space = line.find(' ');
        if (space == std::string_view::npos) return false;
        const auto rest = trim(line.substr(space + 1));
        const auto code = parse_leading_decimal(rest);
        if (!code || code->value < 100 || code->value > 599) return false;
        message.status_code = static_cast<int>(code->value);
        const auto reason = rest.find(' ');
        if (reason != std::string_view::npos) message.reason_phrase = stored(rest.substr(reason + 1));
        return true;
    }
    const auto request = split_request_line(line, "RTSP/");
    if (!request) return false;
    message.is_request = true;
    message.method = stored(request->method);
    message.url = printable(request->uri, 1024);
    return true;
}

void read_session(std::string_view value, RtspMessage& message) {
    const auto semicolon = value.find(';');
    message.session = stored(value.substr(0, semicolon));
    if (semicolon == std::string_view::npos) return;
    if (auto timeout = find_parameter(value.substr(semicolon + 1), "timeout")) {
        const auto seconds = parse_decimal(*timeout);
        if (seconds && !seconds->overflowed && seconds->value <= std::numeric_limits<std::uint32_t>::max())
            message.session_timeout_s = static_cast<std::uint32_t>(seconds->value);
        else message.anomalies.push_back("Session timeout is not a number of seconds.");
    }
}

void read_cseq(std::string_view value, RtspMessage& message) {
    const auto number = parse_decimal(value);
    if (!number || number->overflowed || number->value > std::numeric_limits<std::uint32_t>::max()) {
        message.anomalies.push_back("CSeq is not a valid number.");
        return;
    }
    message.has_cseq = true;
    message.cseq = static_cast<std::uint32_t>(number->value);
}

void read_header(std::string_view name, std::string_view value, RtspMessage& message) {
    if (iequals(name, "CSeq")) read_cseq(value, message);
    else if (iequals(name, "Session")) read_session(value, message);
    else if (iequals(name, "Transport")) message.transport = stored(value);
    else if (iequals(name, "Retry-After")) merge_retry_after(message.retry_after, value, message.anomalies);
    else if (iequals(name, "Server")) message.server = stored(value);
    else if (iequals(name, "User-Agent")) message.user_agent = stored(value);
    else if (iequals(name, "Content-Base")) message.content_base = stored(value);
    else if (iequals(name, "Content-Type")) message.content_type = stored(value);
    else if (iequals(name, "WWW-Authenticate")) message.www_authenticate = stored(value);
    else if (iequals(name, "Public")) message.public_methods = stored(value);
    else if (iequals(name, "Content-Length")) {
        if (auto length = parse_decimal(value); length && !length->overflowed) message.content_length = length->value;
    }
}

}  // namespace

std::optional<RtspMessage> parse_rtsp_message(std::string_view text) {
    RtspMessage message;
    if (!text.empty() && text.front() == '$') return std::nullopt;  // interleaved binary data
    if (!parse_start_line(first_line(text), message)) return std::nullopt;
    const HeaderBlock block = read_header_block(
        text, [&message](std::string_view name, std::string_view value) { read_header(name, value, message); });
    if (block.lines_without_colon > 0) message.anomalies.push_back("A header line without a colon was skipped.");
    if (!message.has_cseq) message.anomalies.push_back("CSeq is missing or invalid.");
    // Wireshark's rtsp item may run on into the next pipelined message: the body ends at Content-Length.
    const std::size_t body_length = message.content_length ? static_cast<std::size_t>(std::min<std::uint64_t>(*message.content_length, block.body.size()))
                                                           : (message.is_request ? 0 : block.body.size());
    message.body = std::string(block.body.substr(0, std::min(body_length, kMaxRtspBody)));
    return message;
}

}  // namespace diag503
