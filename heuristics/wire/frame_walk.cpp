// Frame walking and stream splitting: bounds-checked header reads, no allocation except the message list.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "wire/frame_walk.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/text.hpp"

namespace diag503 {
namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86dd;
constexpr std::uint16_t kEtherVlan = 0x8100, kEtherQinQ = 0x88a8, kEtherOldQinQ = 0x9100;
constexpr std::uint8_t kTcp = 6, kUdp = 17;
constexpr int kMaxVlanTags = 2;
constexpr int kMaxIpv6ExtensionHeaders = 8;
constexpr std::size_t kMaxTailCandidates = 256;

std::uint8_t byte_at(std::string_view bytes, std::size_t offset) { return static_cast<std::uint8_t>(bytes[offset]); }
std::uint16_t be16(std::string_view bytes, std::size_t offset) {
    return static_cast<std::uint16_t>(byte_at(bytes, offset) << 8 | byte_at(bytes, offset + 1));
}
std::uint32_t be32(std::string_view bytes, std::size_t offset) {
    return static_cast<std::uint32_t>(be16(bytes, offset)) << 16 | be16(bytes, offset + 2);
}

std::optional<TransportPayload> walk_ethertype(std::uint16_t type, std::string_view rest) {
    if (type != kEtherIpv4 && type != kEtherIpv6) return std::nullopt;
    return walk_ip(rest);
}

std::optional<TransportPayload> walk_ethernet(std::string_view frame) {
    if (frame.size() < 14) return std::nullopt;
    std::uint16_t type = be16(frame, 12);
    std::size_t offset = 14;
    for (int tags = 0; tags < kMaxVlanTags && (type == kEtherVlan || type == kEtherQinQ || type == kEtherOldQinQ); ++tags) {
        if (frame.size() < offset + 4) return std::nullopt;
        type = be16(frame, offset + 2);
        offset += 4;
    }
    return walk_ethertype(type, frame.substr(offset));
}

std::optional<TransportPayload> walk_ipv4(std::string_view packet) {
    const std::size_t header_length = static_cast<std::size_t>(byte_at(packet, 0) & 0x0f) * 4;
    if (header_length < 20 || packet.size() < header_length) return std::nullopt;
    const std::size_t total_length = be16(packet, 2);
    if (total_length >= header_length && total_length <= packet.size()) packet = packet.substr(0, total_length);
    TransportPayload fragment;
    fragment.ip_protocol = byte_at(packet, 9);
    const std::uint16_t flags_and_offset = be16(packet, 6);
    if ((flags_and_offset & 0x2000) || (flags_and_offset & 0x1fff)) {  // more fragments, or not the first
        fragment.fragment = true;
        return fragment;
    }
    return walk_transport(fragment.ip_protocol, packet.substr(header_length));
}

std::optional<TransportPayload> walk_ipv6(std::string_view packet) {
    if (packet.size() < 40) return std::nullopt;
    const std::size_t payload_length = be16(packet, 4);
    if (payload_length != 0 && 40 + payload_length <= packet.size()) packet = packet.substr(0, 40 + payload_length);
    std::uint8_t next = byte_at(packet, 6);
    std::size_t offset = 40;
    for (int headers = 0; headers < kMaxIpv6ExtensionHeaders; ++headers) {
        if (next == 44) {  // fragment header
            if (packet.size() < offset + 8) return std::nullopt;
            const std::uint16_t offset_and_more = be16(packet, offset + 2);
            if ((offset_and_more & 0xfff8) || (offset_and_more & 0x1)) {
                TransportPayload fragment;
                fragment.ip_protocol = byte_at(packet, offset);
                fragment.fragment = true;
                return fragment;
            }
            next = byte_at(packet, offset);
            offset += 8;
            continue;
        }
        if (next != 0 && next != 43 && next != 60 && next != 51) break;
        if (packet.size() < offset + 2) return std::nullopt;
        const std::size_t length = next == 51 ? (static_cast<std::size_t>(byte_at(packet, offset + 1)) + 2) * 4
                                              : (static_cast<std::size_t>(byte_at(packet, offset + 1)) + 1) * 8;
        next = byte_at(packet, offset);
        offset += length;
        if (packet.size() < offset) return std::nullopt;
    }
    return walk_transport(next, packet.substr(offset));
}

// BSD loopback: a 4-byte address family in the capturing host's order (NULL) or big-endian (LOOP);
// the IP version nibble that follows tells the same, whatever the order.
std::optional<TransportPayload> walk_bsd_loopback(std::string_view frame) {
    if (frame.size() < 4) return std::nullopt;
    return walk_ip(frame.substr(4));
}

bool is_start_line_at(std::string_view bytes, std::size_t position) {
    const std::string_view rest = bytes.substr(position);
    return istarts_with(rest, "SIP/2.0 ") || istarts_with(rest, "RTSP/1.") || (!rest.empty() && rest.front() == '$') ||
           find_start_line(rest.substr(0, rest.find('\n'))) == 0;
}

std::optional<std::uint64_t> content_length(std::string_view headers) {
    std::optional<std::uint64_t> length;
    while (!headers.empty()) {
        const auto end = headers.find('\n');
        const std::string_view line = headers.substr(0, end);
        headers = end == std::string_view::npos ? std::string_view{} : headers.substr(end + 1);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(line.substr(0, colon));
        if (!iequals(name, "Content-Length") && !iequals(name, "l")) continue;
        const auto number = parse_decimal(line.substr(colon + 1));
        if (!number || number->overflowed) return std::nullopt;
        length = number->value;
    }
    return length ? length : std::optional<std::uint64_t>{0};
}

struct MethodToken {
    std::string_view method;
    std::string_view version;  // the token that ends the request line
};
const std::array<MethodToken, 25> kRequestMethods = {{
    {"INVITE", "SIP/2.0"}, {"ACK", "SIP/2.0"}, {"BYE", "SIP/2.0"}, {"CANCEL", "SIP/2.0"}, {"OPTIONS", "SIP/2.0"},
    {"REGISTER", "SIP/2.0"}, {"PRACK", "SIP/2.0"}, {"SUBSCRIBE", "SIP/2.0"}, {"NOTIFY", "SIP/2.0"},
    {"PUBLISH", "SIP/2.0"}, {"INFO", "SIP/2.0"}, {"REFER", "SIP/2.0"}, {"MESSAGE", "SIP/2.0"}, {"UPDATE", "SIP/2.0"},
    {"DESCRIBE", "RTSP/1."}, {"SETUP", "RTSP/1."}, {"PLAY", "RTSP/1."}, {"PAUSE", "RTSP/1."},
    {"TEARDOWN", "RTSP/1."}, {"OPTIONS", "RTSP/1."}, {"ANNOUNCE", "RTSP/1."}, {"RECORD", "RTSP/1."},
    {"GET_PARAMETER", "RTSP/1."}, {"SET_PARAMETER", "RTSP/1."}, {"REDIRECT", "RTSP/1."},
}};

// The line around a position: where it ends and where its last space is. Found once per line, so a
// search through a long line full of method names stays linear.
struct LineSpan {
    std::size_t end = 0;         // position of its '\n', or the size of the bytes
    std::size_t last_space = 0;  // npos when the line has none
};

class LineCache {
public:
    explicit LineCache(std::string_view bytes) : bytes_(bytes) {}
    const LineSpan& around(std::size_t position) {
        if (!valid_ || position > span_.end || position < start_) {
            start_ = position;
            span_.end = std::min(bytes_.find('\n', position), bytes_.size());
            span_.last_space = bytes_.substr(0, span_.end).rfind(' ');
            valid_ = true;
        }
        return span_;
    }

private:
    std::string_view bytes_;
    LineSpan span_;
    std::size_t start_ = 0;
    bool valid_ = false;
};

// "METHOD uri VERSION" starting exactly at `position`, on the line `line` spans.
bool is_request_line_at(std::string_view bytes, std::size_t position, const LineSpan& line) {
    const std::string_view rest = bytes.substr(position, line.end - position);
    for (const MethodToken& token : kRequestMethods) {
        if (rest.size() <= token.method.size() || rest.compare(0, token.method.size(), token.method) != 0 ||
            rest[token.method.size()] != ' ')
            continue;
        if (line.last_space == std::string_view::npos || line.last_space <= position + token.method.size()) continue;
        if (istarts_with(bytes.substr(line.last_space + 1, line.end - line.last_space - 1), token.version)) return true;
    }
    return false;
}

}  // namespace

std::optional<TransportPayload> walk_frame(LinkType link, std::string_view frame) {
    switch (link) {
        case LinkType::ethernet: return walk_ethernet(frame);
        case LinkType::linux_sll:
            if (frame.size() < 16) return std::nullopt;
            return walk_ethertype(be16(frame, 14), frame.substr(16));
        case LinkType::linux_sll2:
            if (frame.size() < 20) return std::nullopt;
            return walk_ethertype(be16(frame, 0), frame.substr(20));
        case LinkType::bsd_null:
        case LinkType::bsd_loop: return walk_bsd_loopback(frame);
        case LinkType::raw_ip: return walk_ip(frame);
        case LinkType::unsupported: break;
    }
    return std::nullopt;
}

std::optional<TransportPayload> walk_ip(std::string_view packet) {
    if (packet.empty()) return std::nullopt;
    switch (byte_at(packet, 0) >> 4) {
        case 4: return walk_ipv4(packet);
        case 6: return walk_ipv6(packet);
        default: return std::nullopt;
    }
}

std::optional<TransportPayload> walk_transport(std::uint8_t ip_protocol, std::string_view segment) {
    TransportPayload walked;
    walked.ip_protocol = ip_protocol;
    if (ip_protocol == kUdp) {
        if (segment.size() < 8) return std::nullopt;
        const std::size_t length = be16(segment, 4);
        walked.payload = segment.substr(8, length >= 8 && length <= segment.size() ? length - 8 : std::string_view::npos);
        return walked;
    }
    if (ip_protocol == kTcp) {
        if (segment.size() < 20) return std::nullopt;
        const std::size_t data_offset = static_cast<std::size_t>(byte_at(segment, 12) >> 4) * 4;
        if (data_offset < 20 || data_offset > segment.size()) return std::nullopt;
        walked.tcp_sequence = be32(segment, 4);
        walked.tcp_flags = byte_at(segment, 13);
        walked.payload = segment.substr(data_offset);
        return walked;
    }
    walked.payload = segment;
    return walked;
}

namespace {

// Where the headers end: the first "\r\n\r\n" or "\n\n", whichever comes first, found in one walk
// from line end to line end (searching for each separately read the whole payload twice).
struct HeaderEnd {
    std::size_t at = std::string_view::npos;
    std::size_t blank_line_bytes = 0;  // 4 after "\r\n\r\n", 2 after "\n\n"
};
HeaderEnd find_header_end(std::string_view text) {
    for (std::size_t newline = text.find('\n'); newline != std::string_view::npos; newline = text.find('\n', newline + 1)) {
        if (newline + 1 < text.size() && text[newline + 1] == '\n') return {newline, 2};
        if (newline > 0 && text[newline - 1] == '\r' && text.compare(newline + 1, 2, "\r\n") == 0) return {newline - 1, 4};
    }
    return {};
}

}  // namespace

StreamSplit split_stream_messages(std::string_view payload) {
    StreamSplit split;
    while (split.consumed < payload.size() && split.messages.size() < kMaxMessagesPerPayload) {
        std::string_view rest = payload.substr(split.consumed);
        if (rest.front() == '\r' || rest.front() == '\n') {  // keep-alive line breaks between messages
            ++split.consumed;
            continue;
        }
        if (rest.front() == '$') {
            if (rest.size() < 4 || rest.size() < 4u + be16(rest, 2)) break;
            const std::size_t length = 4u + be16(rest, 2);
            split.messages.push_back({rest.substr(0, length), true});
            split.consumed += length;
            continue;
        }
        const HeaderEnd end = find_header_end(rest);
        if (end.at == std::string_view::npos) break;
        const std::size_t header_end = end.at;
        const std::size_t body_start = header_end + end.blank_line_bytes;
        const auto body_length = content_length(rest.substr(0, header_end));
        if (!body_length || *body_length > rest.size() - body_start) break;
        const std::size_t length = body_start + static_cast<std::size_t>(*body_length);
        split.messages.push_back({rest.substr(0, length), false});
        split.consumed += length;
    }
    return split;
}

std::size_t reassembled_tail_length(std::string_view reassembled, std::string_view segment) {
    const std::size_t longest = std::min(reassembled.size(), segment.size());
    const auto is_tail = [&](std::size_t length) {
        return segment.compare(0, length, reassembled, reassembled.size() - length, length) == 0;
    };
    // The reassembled data ends where the tail does: find its last bytes in the segment and keep the
    // longest consistent tail, so a body that repeats itself or quotes a start line is not cut short.
    constexpr std::size_t kAnchor = 16;
    if (longest >= kAnchor) {
        const std::string_view anchor = reassembled.substr(reassembled.size() - kAnchor);
        std::size_t tries = 0;
        for (auto at = segment.rfind(anchor, longest - kAnchor); at != std::string_view::npos && tries++ < kMaxTailCandidates;
             at = at == 0 ? std::string_view::npos : segment.rfind(anchor, at - 1))
            if (is_tail(at + kAnchor)) return at + kAnchor;
    }
    // A tail shorter than the anchor: it must be followed by the next message.
    for (std::size_t length = std::min(longest, kAnchor - 1); length > 0; --length)
        if (is_tail(length) && (length == segment.size() || is_start_line_at(segment, length))) return length;
    return 0;
}

std::size_t find_start_line(std::string_view bytes) {
    std::size_t best = std::string_view::npos;
    for (std::string_view response : {std::string_view("SIP/2.0 "), std::string_view("RTSP/1.0 "), std::string_view("RTSP/1.1 ")}) {
        for (auto at = bytes.find(response); at != std::string_view::npos && at < best; at = bytes.find(response, at + 1)) {
            const std::size_t code = at + response.size();
            if (code + 3 <= bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[code]))) {
                best = at;
                break;
            }
        }
    }
    for (const MethodToken& token : kRequestMethods) {
        LineCache lines(bytes);
        for (auto at = bytes.find(token.method); at != std::string_view::npos && at < best;
             at = bytes.find(token.method, at + 1)) {
            if (is_request_line_at(bytes, at, lines.around(at))) {
                best = at;
                break;
            }
        }
    }
    return best;
}

}  // namespace diag503
