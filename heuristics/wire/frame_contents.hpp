// Which SIP, RTSP, HTTP, DNS, TLS, ICMP and database bytes a frame holds, given the protocols Wireshark found in it.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "wire/frame_walk.hpp"

namespace diag503 {

enum class PayloadKind { sip, rtsp, http, dns, tls, icmp, icmpv6, postgresql, mysql };
inline constexpr int kPayloadKinds = 9;

// What the plugin hands over for one frame: plain views, read from Wireshark before any analysis.
struct FrameInput {
    LinkType link = LinkType::unsupported;
    std::string_view frame;                          // the captured bytes
    std::array<bool, kPayloadKinds> present{};       // protocols Wireshark's dissectors found (pinfo->layers)
    static constexpr std::size_t kMaxSources = 8;
    std::array<std::string_view, kMaxSources> streams{};    // "Reassembled TCP" / "Decrypted TLS" data sources
    std::size_t stream_count = 0;
    std::array<std::string_view, kMaxSources> datagrams{};  // "Reassembled IPv4/IPv6": the IP payload
    std::size_t datagram_count = 0;
    bool cut = false;  // the capture kept fewer bytes than were sent (snaplen)
    bool has(PayloadKind kind) const { return present[static_cast<int>(kind)]; }
};

struct LocatedPayload {
    PayloadKind kind = PayloadKind::sip;
    std::string_view bytes;
    bool interleaved = false;  // an RTSP interleaved binary frame
    bool cut = false;          // a message that runs into the end of a frame the capture cut short
};

struct FrameContents {
    std::vector<LocatedPayload> payloads;  // in the order they were sent
    std::uint16_t tcp_flags = 0;           // of the frame's TCP header, 0 for other frames
    bool stream = false;                   // carried over TCP
};

// An ICMP error quotes the datagram it is about: SIP or RTSP text in it was not sent again and
// is left out. Messages split over segments are taken from Wireshark's reassembled data.
FrameContents locate_payloads(const FrameInput& input);
// The same into `into`, whose list of payloads keeps its storage from frame to frame: a caller that
// reuses one FrameContents allocates nothing per frame once it has grown.
void locate_payloads(const FrameInput& input, FrameContents& into);

}  // namespace diag503
