// Finds a captured frame's transport payload by reading its link, IP and UDP/TCP headers, and splits stream payloads into messages.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/fixed_list.hpp"

namespace diag503 {

// The link layers diag503 reads itself; anything else falls back to searching the frame.
enum class LinkType { ethernet, linux_sll, linux_sll2, bsd_null, bsd_loop, raw_ip, unsupported };

struct TransportPayload {
    std::uint8_t ip_protocol = 0;   // 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 132 SCTP, ...
    std::uint16_t tcp_flags = 0;    // TCP only: FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10
    std::uint32_t tcp_sequence = 0;
    std::string_view payload;       // UDP or TCP data; for ICMP and other protocols the whole IP payload
    bool fragment = false;          // part of a fragmented IP datagram: no complete transport payload here
};

// Walks link header, VLAN tags (up to two), IPv4 or IPv6 (with extension headers) and the transport
// header. nullopt when the frame is not IP over a supported link, or a header is cut short.
std::optional<TransportPayload> walk_frame(LinkType link, std::string_view frame);
// The same from the IP header on (raw IP, or a reassembled datagram's IP payload via walk_transport).
std::optional<TransportPayload> walk_ip(std::string_view packet);
std::optional<TransportPayload> walk_transport(std::uint8_t ip_protocol, std::string_view segment);

// One message of a text protocol (SIP, RTSP) as found in a stream payload, or an RTSP interleaved
// binary frame ('$', channel, 16-bit length).
struct StreamMessage {
    std::string_view text;
    bool interleaved = false;
};
inline constexpr std::size_t kMaxMessagesPerPayload = 64;
struct StreamSplit {
    FixedList<StreamMessage, kMaxMessagesPerPayload> messages;  // complete ones, in order
    std::size_t consumed = 0;  // bytes they cover; the rest is an incomplete message
};
// Splits at the end of each header block plus its Content-Length body (RFC 3261 §18.3; compact
// "l:" too). A message whose headers or body run past the end is left for reassembly.
StreamSplit split_stream_messages(std::string_view payload);

// For a segment that completes a reassembled message: how many of its leading bytes are the tail
// of `reassembled` (so the rest holds further messages). 0 when it does not continue it.
std::size_t reassembled_tail_length(std::string_view reassembled, std::string_view segment);

// Where the text of a SIP or RTSP message starts in bytes whose headers could not be walked
// (tunnels, unusual links): the first start line of either protocol. npos when there is none.
std::size_t find_start_line(std::string_view bytes);

}  // namespace diag503
