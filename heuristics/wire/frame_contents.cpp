// Locating payloads: the frame's own transport payload, reassembled streams and datagrams, and a search fallback.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "wire/frame_contents.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace diag503 {
namespace {

constexpr std::uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmpv6 = 58;

bool has_text_protocol(const FrameInput& input) {
    return input.has(PayloadKind::sip) || input.has(PayloadKind::rtsp) || input.has(PayloadKind::http);
}

// Which text protocol one message is, when the frame holds more than one of them.
PayloadKind text_kind(const FrameInput& input, std::string_view message) {
    const std::string_view line = message.substr(0, message.find('\n'));
    const int found = input.has(PayloadKind::sip) + input.has(PayloadKind::rtsp) + input.has(PayloadKind::http);
    if (found == 1) {
        if (input.has(PayloadKind::sip)) return PayloadKind::sip;
        if (input.has(PayloadKind::rtsp)) return PayloadKind::rtsp;
        return PayloadKind::http;
    }
    if (input.has(PayloadKind::sip) && (istarts_with(line, "SIP/") || icontains(line, " SIP/2.0"))) return PayloadKind::sip;
    if (input.has(PayloadKind::rtsp) && (istarts_with(line, "RTSP/") || icontains(line, " RTSP/1."))) return PayloadKind::rtsp;
    return input.has(PayloadKind::http) ? PayloadKind::http : PayloadKind::rtsp;
}

bool starts_with_a_token(std::string_view bytes) { return !bytes.empty() && bytes.front() >= 'A' && bytes.front() <= 'Z'; }

// What is left of a message the capture cut counts only when its whole first line survived, as
// Wireshark's own SIP and RTSP dissectors require.
bool is_readable_cut_message(std::string_view bytes) {
    return starts_with_a_token(bytes) && bytes.find('\n') != std::string_view::npos;
}

// `cut`: the bytes end where the capture cut the frame, so an unfinished last message is kept as cut.
void add_stream_messages(const FrameInput& input, std::string_view bytes, FrameContents& contents, bool cut = false) {
    const StreamSplit split = split_stream_messages(bytes);
    for (const StreamMessage& message : split.messages) {
        if (message.interleaved) contents.payloads.push_back({PayloadKind::rtsp, message.text, true});
        else contents.payloads.push_back({text_kind(input, message.text), message.text, false});
    }
    const std::string_view unfinished = bytes.substr(std::min(split.consumed, bytes.size()));
    if (cut && is_readable_cut_message(unfinished))
        contents.payloads.push_back({text_kind(input, unfinished), unfinished, false, true});
}

// A datagram holds one message; anything before its start line (a tunnel header the walk did not
// know) is skipped.
void add_datagram_message(const FrameInput& input, std::string_view bytes, FrameContents& contents, bool cut = false) {
    const std::size_t start = starts_with_a_token(bytes) ? 0 : find_start_line(bytes);  // the usual case first
    if (start == std::string_view::npos) return;
    const std::string_view message = bytes.substr(start);
    if (cut && !is_readable_cut_message(message)) return;
    contents.payloads.push_back({text_kind(input, message), message, false, cut});
}

void add_stream_payload(const FrameInput& input, std::string_view segment, FrameContents& contents) {
    if (has_text_protocol(input)) {
        std::size_t tail = 0;
        for (std::size_t i = 0; i < input.stream_count; ++i) {
            add_stream_messages(input, input.streams[i], contents);
            tail = reassembled_tail_length(input.streams[i], segment);
        }
        if (tail < segment.size()) add_stream_messages(input, segment.substr(tail), contents, input.cut);
    }
    const std::string_view whole = input.stream_count ? input.streams[input.stream_count - 1] : segment;
    if (input.has(PayloadKind::tls)) contents.payloads.push_back({PayloadKind::tls, whole});
    if (input.has(PayloadKind::postgresql)) contents.payloads.push_back({PayloadKind::postgresql, whole});
    if (input.has(PayloadKind::mysql)) contents.payloads.push_back({PayloadKind::mysql, whole});
    if (input.has(PayloadKind::dns) && whole.size() > 2) contents.payloads.push_back({PayloadKind::dns, whole.substr(2)});
}

void add_transport_payload(const FrameInput& input, const TransportPayload& walked, FrameContents& contents) {
    switch (walked.ip_protocol) {
        case kTcp:
            contents.stream = true;
            add_stream_payload(input, walked.payload, contents);
            return;
        case kUdp:
            if (has_text_protocol(input) && !walked.payload.empty()) add_datagram_message(input, walked.payload, contents, input.cut);
            if (input.has(PayloadKind::dns)) contents.payloads.push_back({PayloadKind::dns, walked.payload});
            return;
        case kIcmp:
            if (input.has(PayloadKind::icmp)) contents.payloads.push_back({PayloadKind::icmp, walked.payload});
            return;
        case kIcmpv6:
            if (input.has(PayloadKind::icmpv6)) contents.payloads.push_back({PayloadKind::icmpv6, walked.payload});
            return;
        default:  // SCTP, tunnels: search the text protocols' start lines
            if (has_text_protocol(input)) add_datagram_message(input, walked.payload, contents);
            return;
    }
}

}  // namespace

FrameContents locate_payloads(const FrameInput& input) {
    FrameContents contents;
    locate_payloads(input, contents);
    return contents;
}

void locate_payloads(const FrameInput& input, FrameContents& contents) {
    contents.payloads.clear();
    contents.tcp_flags = 0;
    contents.stream = false;
    const auto walked = walk_frame(input.link, input.frame);
    if (walked && walked->ip_protocol == kTcp) contents.tcp_flags = walked->tcp_flags;
    const bool quoting = input.has(PayloadKind::icmp) || input.has(PayloadKind::icmpv6);
    if (quoting) {
        if (walked && !walked->fragment) add_transport_payload(input, *walked, contents);
        return;  // the ICMP error itself; nothing it quotes
    }
    if (walked && walked->fragment) {
        for (std::size_t i = 0; i < input.datagram_count; ++i)
            if (auto whole = walk_transport(walked->ip_protocol, input.datagrams[i])) add_transport_payload(input, *whole, contents);
        return;
    }
    if (walked) {
        add_transport_payload(input, *walked, contents);
        return;
    }
    // A link or encapsulation the walk does not know: reassembled streams, else a search of the frame.
    if (input.stream_count) {
        contents.stream = true;
        add_stream_payload(input, {}, contents);
    } else if (has_text_protocol(input)) {
        add_datagram_message(input, input.frame, contents, input.cut);
    }
}

}  // namespace diag503
