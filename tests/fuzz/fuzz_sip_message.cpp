// libFuzzer target: any bytes as a SIP message at each reading depth of the parser, as each SIP header value, and as text to display.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "display_check.hpp"
#include "fuzz_input.hpp"
#include "wire/header_block.hpp"
#include "wire/retry_after.hpp"
#include "sip/sip_message.hpp"
#include "core/text.hpp"

namespace {

using namespace diag503;

// The parser reads a message as deep as its start line asks: a 503 in full, a 100 for its Server header,
// other responses with their users, requests with only the To tag. These start lines put the fuzzed
// headers under each depth.
struct DepthStartLine {
    std::string_view line;
    bool is_request;
    int status_code;
};
constexpr DepthStartLine kDepthStartLines[] = {
    {"SIP/2.0 503 Service Unavailable\r\n", false, 503},
    {"SIP/2.0 100 Trying\r\n", false, 100},
    {"SIP/2.0 486 Busy Here\r\n", false, 486},
    {"INVITE sip:bob@example.net SIP/2.0\r\n", true, 0},
};

// What sip_message.hpp promises about every parsed message.
void check_message(const SipMessage& message) {
    FUZZ_CHECK(message.vias.size() <= kMaxVias);
    FUZZ_CHECK(message.reasons.size() <= kMaxListedValues);
    FUZZ_CHECK(message.warnings.size() <= kMaxListedValues);
    FUZZ_CHECK(message.reason_headers.size() <= kMaxListedValues);
    FUZZ_CHECK(message.is_request || (message.status_code >= 100 && message.status_code <= 699));
    if (message.retry_after.valid) FUZZ_CHECK(message.retry_after.seconds <= std::numeric_limits<std::uint32_t>::max());
    (void)cseq_identity(message);
    (void)message.top_branch();
}

void parse_as_is(std::string_view text) {
    if (const auto message = parse_sip_message(text)) check_message(*message);
}

void parse_at_every_depth(std::string_view headers) {
    std::string text;
    for (const DepthStartLine& start : kDepthStartLines) {
        text.assign(start.line);
        text.append(headers);
        const auto message = parse_sip_message(text);
        FUZZ_CHECK(message);  // nullopt only when the start line is not SIP
        FUZZ_CHECK(message->is_request == start.is_request);
        FUZZ_CHECK(message->status_code == start.status_code);
        check_message(*message);
    }
}

void parse_retry_after_values(std::string_view value) {
    const RetryAfter retry = parse_retry_after(value);
    FUZZ_CHECK(retry.present && retry.occurrences == 1);
    if (retry.valid) FUZZ_CHECK(retry.seconds <= std::numeric_limits<std::uint32_t>::max());
    // A repeated header: the first and second halves of the value as two headers.
    RetryAfter merged;
    std::vector<std::string> anomalies;
    merge_retry_after(merged, value.substr(0, value.size() / 2), anomalies);
    merge_retry_after(merged, value.substr(value.size() / 2), anomalies);
    FUZZ_CHECK(merged.occurrences == 2);
    FUZZ_CHECK(!(merged.conflicting && merged.valid));
}

// Each header-value parser on the whole input, and on the value of each header line in it.
void parse_header_value(std::string_view value) {
    (void)parse_via_values(value);
    (void)parse_reason_values(value);
    (void)parse_warning_values(value);
    (void)parse_name_addr(value);
    (void)uri_user(value);
    (void)find_parameter(value, "branch");
    (void)split_top_level(value, ',');
    parse_retry_after_values(value);
}

void parse_header_values(std::string_view text) {
    parse_header_value(text);
    read_header_block(text, [](std::string_view, std::string_view value) { parse_header_value(value); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = diag503::fuzz::as_text(data, size);
    parse_as_is(text);
    parse_at_every_depth(text);
    parse_header_values(text);
    diag503::fuzz::check_displayable(text);  // how packet text reaches the tree
    return 0;
}
