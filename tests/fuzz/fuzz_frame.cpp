// libFuzzer target: raw captured frames through the frame walk, payload location and DNS/TLS/ICMP/database readers.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Input layout (tools/fuzz/make_seeds.py writes seeds in it):
//   u8    link type, modulo the 7 LinkType values (ethernet, linux_sll, linux_sll2, bsd_null, bsd_loop, raw_ip, unsupported)
//   be16  the protocols Wireshark found, bit i = PayloadKind i (sip, rtsp, http, dns, tls, icmp, icmpv6, postgresql, mysql)
//   u8    bits 0-1: reassembled TCP/TLS streams, bits 2-3: reassembled IP datagrams (0..3 each),
//         bit 4: the capture cut the frame short (snaplen)
//   that many chunks (be16 length + bytes), streams first
//   the rest: the captured frame
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wire/frame_contents.hpp"
#include "wire/frame_walk.hpp"
#include "fuzz_input.hpp"
#include "wire/wire_formats.hpp"

namespace {

using namespace diag503;

constexpr int kLinkTypes = static_cast<int>(LinkType::unsupported) + 1;
constexpr std::size_t kMaxStoredText = 200;  // wire_formats.hpp: a database error message is at most 200 bytes
constexpr std::size_t kMaxDnsName = 255;

bool within(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

FrameInput decode_frame_input(diag503::fuzz::ByteReader& reader) {
    FrameInput input;
    input.link = static_cast<LinkType>(reader.u8() % kLinkTypes);
    const std::uint16_t present = reader.be16();
    for (int kind = 0; kind < kPayloadKinds; ++kind) input.present[kind] = (present >> kind) & 1;
    const std::uint8_t counts = reader.u8();
    input.stream_count = counts & 0x3;
    input.datagram_count = (counts >> 2) & 0x3;
    input.cut = counts & 0x10;
    for (std::size_t i = 0; i < input.stream_count; ++i) input.streams[i] = reader.chunk();
    for (std::size_t i = 0; i < input.datagram_count; ++i) input.datagrams[i] = reader.chunk();
    input.frame = reader.rest();
    return input;
}

// Located payloads are views into what the plugin handed over, never into anything else.
bool within_input(std::string_view bytes, const FrameInput& input) {
    if (within(bytes, input.frame)) return true;
    for (std::size_t i = 0; i < input.stream_count; ++i)
        if (within(bytes, input.streams[i])) return true;
    for (std::size_t i = 0; i < input.datagram_count; ++i)
        if (within(bytes, input.datagrams[i])) return true;
    return false;
}

void check_dns(std::string_view bytes) {
    if (const auto message = parse_dns(bytes)) {
        FUZZ_CHECK(message->question_name.size() <= kMaxDnsName);
        (void)dns_rcode_name(message->rcode);
        (void)dns_type_name(message->question_type);
    }
}

void check_database_error(const std::optional<DatabaseError>& error) {
    if (error) FUZZ_CHECK(error->message.size() <= kMaxStoredText && error->code.size() <= kMaxStoredText);
}

void check_icmp(std::string_view bytes, bool icmpv6) {
    if (const auto error = parse_icmp_error(bytes, icmpv6)) FUZZ_CHECK(!icmp_kind_name(error->kind).empty());
}

void check_tls(std::string_view bytes) {
    const TlsSummary summary = summarize_tls_records(bytes);
    if (summary.alert) (void)tls_alert_name(summary.alert->description);
}

// Each located payload read the way the plugin reads it.
void read_payload(const LocatedPayload& payload, bool stream) {
    switch (payload.kind) {
        case PayloadKind::sip:
        case PayloadKind::rtsp:
        case PayloadKind::http:
            if (payload.interleaved) FUZZ_CHECK(payload.kind == PayloadKind::rtsp && payload.bytes.front() == '$');
            return;
        case PayloadKind::dns: check_dns(stream && payload.bytes.size() >= 2 ? payload.bytes.substr(2) : payload.bytes); return;
        case PayloadKind::tls: check_tls(payload.bytes); return;
        case PayloadKind::icmp: check_icmp(payload.bytes, false); return;
        case PayloadKind::icmpv6: check_icmp(payload.bytes, true); return;
        case PayloadKind::postgresql: check_database_error(parse_postgresql_error(payload.bytes)); return;
        case PayloadKind::mysql: check_database_error(parse_mysql_error(payload.bytes)); return;
    }
}

void locate_and_read(const FrameInput& input) {
    const FrameContents contents = locate_payloads(input);
    for (const LocatedPayload& payload : contents.payloads) {
        FUZZ_CHECK(within_input(payload.bytes, input));
        if (payload.cut) FUZZ_CHECK(input.cut && !payload.interleaved);
        read_payload(payload, contents.stream);
    }
}

bool only_line_breaks(std::string_view bytes) { return bytes.find_first_not_of("\r\n") == std::string_view::npos; }

// The messages cover the first `consumed` bytes in order, with only keep-alive line breaks between them.
void check_split(const StreamSplit& split, std::string_view payload) {
    FUZZ_CHECK(split.consumed <= payload.size());
    FUZZ_CHECK(split.messages.size() <= kMaxMessagesPerPayload);
    std::size_t covered = 0;
    for (const StreamMessage& message : split.messages) {
        FUZZ_CHECK(within(message.text, payload) && !message.text.empty());
        const auto offset = static_cast<std::size_t>(message.text.data() - payload.data());
        FUZZ_CHECK(offset >= covered && only_line_breaks(payload.substr(covered, offset - covered)));
        FUZZ_CHECK(message.interleaved == (message.text.front() == '$'));
        covered = offset + message.text.size();
    }
    FUZZ_CHECK(covered <= split.consumed && only_line_breaks(payload.substr(covered, split.consumed - covered)));
}

// A start line found is one: a response's version, or an upper-case method.
void check_start_line(std::string_view payload) {
    const std::size_t start = find_start_line(payload);
    if (start == std::string_view::npos) return;
    FUZZ_CHECK(start < payload.size());
    const char first = payload[start];
    FUZZ_CHECK(first >= 'A' && first <= 'Z');
}

void split_stream(std::string_view payload) {
    check_split(split_stream_messages(payload), payload);
    check_start_line(payload);
}

// The same bytes under every link type, each transport payload split as a stream would be.
void walk_every_link(std::string_view frame) {
    for (int link = 0; link < kLinkTypes; ++link) {
        const auto walked = walk_frame(static_cast<LinkType>(link), frame);
        if (!walked) continue;
        FUZZ_CHECK(within(walked->payload, frame));
        split_stream(walked->payload);
    }
}

void find_tails(const FrameInput& input) {
    for (std::size_t i = 0; i < input.stream_count; ++i) {
        const std::string_view reassembled = input.streams[i];
        const std::size_t tail = reassembled_tail_length(reassembled, input.frame);
        FUZZ_CHECK(tail <= input.frame.size() && tail <= reassembled.size());
        FUZZ_CHECK(input.frame.substr(0, tail) == reassembled.substr(reassembled.size() - tail));
    }
}

// Every reader straight on the frame bytes, whatever the link says.
void read_raw(std::string_view bytes) {
    check_dns(bytes);
    check_tls(bytes);
    check_icmp(bytes, false);
    check_icmp(bytes, true);
    check_database_error(parse_postgresql_error(bytes));
    check_database_error(parse_mysql_error(bytes));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    diag503::fuzz::ByteReader reader(data, size);
    const FrameInput input = decode_frame_input(reader);
    locate_and_read(input);
    walk_every_link(input.frame);
    find_tails(input);
    read_raw(input.frame);
    return 0;
}
