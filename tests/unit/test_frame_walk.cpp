// Unit tests of the frame walk (link, VLAN, IP, UDP/TCP headers) and the stream splitting helpers, on built bytes.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/frame_walk.hpp"

namespace diag503 {
namespace {

// ---- byte builders ----

std::string byte(unsigned value) { return std::string(1, static_cast<char>(value & 0xff)); }
std::string be16(unsigned value) { return byte(value >> 8) + byte(value); }
std::string be32(std::uint32_t value) { return be16(value >> 16) + be16(value); }
std::string le32(std::uint32_t value) { return byte(value) + byte(value >> 8) + byte(value >> 16) + byte(value >> 24); }
std::string zeros(std::size_t count) { return std::string(count, '\0'); }

constexpr unsigned kIpv4 = 0x0800, kIpv6 = 0x86dd, kArp = 0x0806;
constexpr unsigned kVlan = 0x8100, kQinQ = 0x88a8, kOldQinQ = 0x9100;
constexpr unsigned kIcmp = 1, kTcp = 6, kUdp = 17, kIcmpv6 = 58, kSctp = 132;
constexpr unsigned kHopByHop = 0, kRouting = 43, kFragmentHeader = 44, kAuthentication = 51, kDestinationOptions = 60;
constexpr unsigned kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

constexpr std::size_t kEthernetHeader = 14, kIpv4Header = 20, kIpv6Header = 40, kUdpHeader = 8, kTcpHeader = 20;

const std::string kMacs = be16(0x0200) + be32(0x00000001) + be16(0x0200) + be32(0x00000002);  // destination, source

// Ethernet II, with the given VLAN tag protocol identifiers (outer first) before the EtherType.
std::string ethernet(unsigned ethertype, const std::string& packet, std::initializer_list<unsigned> tags = {}) {
    std::string frame = kMacs;
    unsigned vlan_id = 100;
    for (unsigned tpid : tags) frame += be16(tpid) + be16(vlan_id++);
    return frame + be16(ethertype) + packet;
}

// Zero bytes up to Ethernet's 60-byte minimum (without FCS), as a NIC pads a short frame.
std::string padded(std::string frame) {
    if (frame.size() < 60) frame += zeros(60 - frame.size());
    return frame;
}

// Linux cooked capture v1: packet type, ARPHRD, address length, 8 address bytes, protocol.
std::string linux_sll(unsigned protocol, const std::string& packet) {
    return be16(0) + be16(1) + be16(6) + be16(0x0200) + be32(0x00000001) + be16(0) + be16(protocol) + packet;
}

// Linux cooked capture v2: protocol, reserved, interface index, ARPHRD, packet type, address length, 8 address bytes.
std::string linux_sll2(unsigned protocol, const std::string& packet) {
    return be16(protocol) + be16(0) + be32(2) + be16(1) + byte(0) + byte(6) + be16(0x0200) + be32(0x00000001) +
           be16(0) + packet;
}

struct Ipv4Options {
    std::string options;            // a multiple of 4 bytes
    unsigned flags_and_offset = 0;  // DF 0x4000, MF 0x2000, offset in 8-byte units
};

std::string ipv4(unsigned protocol, const std::string& payload, const Ipv4Options& with = {}) {
    const std::size_t header = kIpv4Header + with.options.size();
    return byte(0x40 | static_cast<unsigned>(header / 4)) + byte(0) +
           be16(static_cast<unsigned>(header + payload.size())) + be16(0x1234) + be16(with.flags_and_offset) +
           byte(64) + byte(protocol) + be16(0) + be32(0xc000020a) + be32(0xc6336414) + with.options + payload;
}

// `payload` holds any extension headers; `next` names the first of them (or the transport).
std::string ipv6(unsigned next, const std::string& payload) {
    return be32(0x60000000) + be16(static_cast<unsigned>(payload.size())) + byte(next) + byte(64) + be32(0x20010db8) +
           zeros(11) + byte(1) + be32(0x20010db8) + zeros(11) + byte(2) + payload;
}

// Hop-by-hop or destination options (or routing) header of (units + 1) * 8 bytes, padded with a PadN option.
std::string ipv6_options_header(unsigned next, unsigned units = 0) {
    const unsigned padding = 6 + 8 * units;
    return byte(next) + byte(units) + byte(1) + byte(padding - 2) + zeros(padding - 2);
}

// Authentication header: its length counts 4-byte units, minus 2. (units + 2) * 4 bytes.
std::string ipv6_authentication_header(unsigned next, unsigned units = 4) {
    return byte(next) + byte(units) + be16(0) + be32(0x1000) + be32(1) + zeros((units + 2) * 4 - 12);
}

std::string ipv6_fragment_header(unsigned next, unsigned offset_units, bool more) {
    return byte(next) + byte(0) + be16(offset_units << 3 | (more ? 1u : 0u)) + be32(0xabcdef01);
}

std::string udp(const std::string& data, std::optional<unsigned> length = std::nullopt) {
    return be16(5060) + be16(5060) + be16(length ? *length : static_cast<unsigned>(kUdpHeader + data.size())) +
           be16(0) + data;
}

// `options` a multiple of 4 bytes; the data offset follows from it.
std::string tcp(const std::string& data, unsigned flags = kAck, std::uint32_t sequence = 1000,
                const std::string& options = "") {
    const unsigned offset_words = static_cast<unsigned>((kTcpHeader + options.size()) / 4);
    return be16(49152) + be16(554) + be32(sequence) + be32(2000) + byte(offset_words << 4) + byte(flags) + be16(65535) +
           be16(0) + be16(0) + options + data;
}

// Maximum segment size, SACK permitted, a no-op and window scale: 12 bytes of TCP options.
const std::string kTcpSynOptions =
    byte(2) + byte(4) + be16(1460) + byte(4) + byte(2) + byte(1) + byte(3) + byte(3) + byte(7) + byte(1) + byte(1);

// An ICMP destination unreachable (port) quoting the start of a SIP datagram.
const std::string kQuotedDatagram = ipv4(kUdp, udp("OPTIONS sip:a SIP/2.0\r\n"));
const std::string kIcmpUnreachable = byte(3) + byte(3) + be16(0) + be32(0) + kQuotedDatagram;
const std::string kIcmpv6Unreachable =
    byte(1) + byte(4) + be16(0) + be32(0) + ipv6(kUdp, udp("OPTIONS sip:a SIP/2.0\r\n"));

const std::string kSipRequest =
    "OPTIONS sip:pbx.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

// What a walk found, copied out of the walked bytes (so that tests may pass a temporary frame).
struct Walked {
    unsigned ip_protocol = 0;
    unsigned tcp_flags = 0;
    std::uint32_t tcp_sequence = 0;
    std::string payload;
    bool fragment = false;
    bool payload_inside_the_bytes = true;  // the payload view points into the walked bytes
};

std::optional<Walked> copied(const std::optional<TransportPayload>& walked, std::string_view bytes) {
    if (!walked) return std::nullopt;
    Walked result;
    result.ip_protocol = walked->ip_protocol;
    result.tcp_flags = walked->tcp_flags;
    result.tcp_sequence = walked->tcp_sequence;
    result.payload = std::string(walked->payload);
    result.fragment = walked->fragment;
    if (!walked->payload.empty()) {
        const std::less_equal<const char*> before{};
        result.payload_inside_the_bytes =
            before(bytes.data(), walked->payload.data()) &&
            before(walked->payload.data() + walked->payload.size(), bytes.data() + bytes.size());
    }
    return result;
}

std::optional<Walked> walk(LinkType link, std::string_view frame) { return copied(walk_frame(link, frame), frame); }
std::optional<Walked> walk_raw(std::string_view packet) { return copied(walk_ip(packet), packet); }
std::optional<Walked> transport(unsigned ip_protocol, std::string_view segment) {
    return copied(walk_transport(static_cast<std::uint8_t>(ip_protocol), segment), segment);
}

// ---- walk_frame: each link type ----

TEST(FrameWalk, EthernetIpv4UdpPayloadIsExactlyTheUdpData) {
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv4, ipv4(kUdp, udp(kSipRequest))));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, kSipRequest);
    EXPECT_FALSE(walked->fragment);
    EXPECT_EQ(walked->tcp_flags, 0);
    EXPECT_EQ(walked->tcp_sequence, 0u);
}

TEST(FrameWalk, EthernetPaddingAfterTheIpv4TotalLengthIsNotPayload) {
    const std::string frame = padded(ethernet(kIpv4, ipv4(kUdp, udp("ping"))));
    ASSERT_EQ(frame.size(), 60u);
    const auto walked = walk(LinkType::ethernet, frame);
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->payload, "ping");
}

TEST(FrameWalk, EthernetPaddingAfterTheIpv6PayloadLengthIsNotPayload) {
    const std::string frame = ethernet(kIpv6, ipv6(kUdp, udp("ping"))) + zeros(6);
    const auto walked = walk(LinkType::ethernet, frame);
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, "ping");
}

TEST(FrameWalk, EthernetIpv6UdpPayloadIsTheUdpData) {
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv6, ipv6(kUdp, udp(kSipRequest))));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(FrameWalk, OneVlanTagIsSkipped) {
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv4, ipv4(kUdp, udp(kSipRequest)), {kVlan}));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(FrameWalk, TwoVlanTagsQinQOuterThenCustomerTagAreSkipped) {
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv6, ipv6(kUdp, udp(kSipRequest)), {kQinQ, kVlan}));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(FrameWalk, PreStandardQinQTagIsSkippedToo) {
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv4, ipv4(kUdp, udp(kSipRequest)), {kOldQinQ, kVlan}));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(FrameWalk, AThirdVlanTagIsNotReadSoTheFrameIsNotWalked) {
    EXPECT_FALSE(walk(LinkType::ethernet, ethernet(kIpv4, ipv4(kUdp, udp(kSipRequest)), {kQinQ, kVlan, kVlan})));
}

TEST(FrameWalk, EthernetCarryingArpIsNotIp) {
    const std::string arp_request = be16(1) + be16(kIpv4) + byte(6) + byte(4) + be16(1) + kMacs.substr(6) +
                                    be32(0xc000020a) + zeros(6) + be32(0xc0000201);
    EXPECT_FALSE(walk(LinkType::ethernet, padded(ethernet(kArp, arp_request))));
    EXPECT_FALSE(walk(LinkType::ethernet, ethernet(kArp, arp_request, {kVlan})));
}

TEST(FrameWalk, IpBytesWithANonIpVersionNibbleAreNotWalked) {
    std::string packet = ipv4(kUdp, udp("x"));
    packet[0] = static_cast<char>(0x55);
    EXPECT_FALSE(walk(LinkType::ethernet, ethernet(kIpv4, packet)));
    EXPECT_FALSE(walk(LinkType::raw_ip, packet));
    EXPECT_FALSE(walk_raw(""));
}

TEST(FrameWalk, LinuxCookedCaptureV1ReadsTheProtocolAtOffset14) {
    const auto walked = walk(LinkType::linux_sll, linux_sll(kIpv4, ipv4(kUdp, udp(kSipRequest))));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, kSipRequest);

    const auto v6 = walk(LinkType::linux_sll, linux_sll(kIpv6, ipv6(kUdp, udp(kSipRequest))));
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->payload, kSipRequest);

    EXPECT_FALSE(walk(LinkType::linux_sll, linux_sll(kArp, zeros(28))));
}

TEST(FrameWalk, LinuxCookedCaptureV2ReadsTheProtocolAtOffset0AndSkips20Bytes) {
    const auto walked = walk(LinkType::linux_sll2, linux_sll2(kIpv4, ipv4(kUdp, udp(kSipRequest))));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, kSipRequest);

    const auto v6 = walk(LinkType::linux_sll2, linux_sll2(kIpv6, ipv6(kUdp, udp(kSipRequest))));
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->payload, kSipRequest);

    EXPECT_FALSE(walk(LinkType::linux_sll2, linux_sll2(kArp, zeros(28))));
}

TEST(FrameWalk, BsdNullAndLoopReadIpv4WithTheFamilyInEitherByteOrder) {
    const std::string packet = ipv4(kUdp, udp(kSipRequest));
    for (LinkType link : {LinkType::bsd_null, LinkType::bsd_loop}) {
        for (const std::string& family : {le32(2), be32(2)}) {  // AF_INET little- and big-endian
            const auto walked = walk(link, family + packet);
            ASSERT_TRUE(walked);
            EXPECT_EQ(walked->ip_protocol, kUdp);
            EXPECT_EQ(walked->payload, kSipRequest);
        }
    }
}

TEST(FrameWalk, BsdNullAndLoopReadIpv6WhateverTheHostsAfInet6Value) {
    const std::string packet = ipv6(kUdp, udp(kSipRequest));
    for (LinkType link : {LinkType::bsd_null, LinkType::bsd_loop}) {
        for (std::uint32_t af_inet6 : {24u, 28u, 30u}) {  // NetBSD/OpenBSD, FreeBSD, macOS
            for (const std::string& family : {le32(af_inet6), be32(af_inet6)}) {
                const auto walked = walk(link, family + packet);
                ASSERT_TRUE(walked);
                EXPECT_EQ(walked->payload, kSipRequest);
            }
        }
    }
}

TEST(FrameWalk, RawIpv4AndIpv6StartAtTheIpHeader) {
    const auto v4 = walk(LinkType::raw_ip, ipv4(kUdp, udp(kSipRequest)));
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->ip_protocol, kUdp);
    EXPECT_EQ(v4->payload, kSipRequest);

    const auto v6 = walk(LinkType::raw_ip, ipv6(kTcp, tcp(kSipRequest)));
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->ip_protocol, kTcp);
    EXPECT_EQ(v6->payload, kSipRequest);
}

TEST(FrameWalk, UnsupportedLinkIsNeverWalkedEvenWhenTheBytesAreIp) {
    EXPECT_FALSE(walk(LinkType::unsupported, ipv4(kUdp, udp(kSipRequest))));
    EXPECT_FALSE(walk(LinkType::unsupported, ethernet(kIpv4, ipv4(kUdp, udp(kSipRequest)))));
}

// ---- IP headers ----

TEST(FrameWalk, Ipv4OptionsAreSkippedByTheHeaderLength) {
    const std::string router_alert = byte(0x94) + byte(4) + be16(0);
    const std::string record_route = byte(7) + byte(11) + byte(4) + zeros(8) + byte(0);  // 12 bytes with end-of-list
    const auto walked =
        walk(LinkType::ethernet, ethernet(kIpv4, ipv4(kUdp, udp(kSipRequest), {router_alert + record_route})));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(FrameWalk, Ipv4HeaderLengthBelowFiveWordsIsMalformed) {
    std::string packet = ipv4(kUdp, udp(kSipRequest));
    packet[0] = static_cast<char>(0x44);
    EXPECT_FALSE(walk(LinkType::raw_ip, packet));
}

TEST(FrameWalk, Ipv6HopByHopAndDestinationOptionsBeforeUdp) {
    const std::string headers = ipv6_options_header(kDestinationOptions) + ipv6_options_header(kUdp, 1);
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv6, ipv6(kHopByHop, headers + udp(kSipRequest))));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(FrameWalk, Ipv6HopByHopAndDestinationOptionsBeforeTcp) {
    const std::string headers = ipv6_options_header(kDestinationOptions, 2) + ipv6_options_header(kTcp);
    const auto walked =
        walk(LinkType::ethernet, ethernet(kIpv6, ipv6(kHopByHop, headers + tcp(kSipRequest, kAck | 0x08, 77))));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kTcp);
    EXPECT_EQ(walked->tcp_sequence, 77u);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(FrameWalk, Ipv6RoutingAndAuthenticationHeadersAreSkippedWithTheirOwnLengthUnits) {
    const std::string headers = ipv6_options_header(kAuthentication) + ipv6_authentication_header(kUdp, 4);
    const auto walked = walk(LinkType::raw_ip, ipv6(kRouting, headers + udp(kSipRequest)));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(FrameWalk, Ipv6ExtensionHeaderLengthPastTheEndIsNotWalked) {
    const std::string too_long = byte(kUdp) + byte(200) + zeros(6);  // claims 1608 bytes
    EXPECT_FALSE(walk(LinkType::raw_ip, ipv6(kHopByHop, too_long + udp(kSipRequest))));
}

// ---- TCP ----

TEST(FrameWalk, TcpPayloadStartsAfterTheDataOffsetIncludingOptions) {
    const auto walked = walk(LinkType::ethernet,
                             ethernet(kIpv4, ipv4(kTcp, tcp(kSipRequest, kAck | 0x08, 0x89abcdef, kTcpSynOptions))));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kTcp);
    EXPECT_EQ(walked->tcp_sequence, 0x89abcdefu);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(FrameWalk, TcpFlagsAndSequenceNumberOfHandshakeAndTeardownSegments) {
    struct Case {
        unsigned flags;
        std::uint32_t sequence;
    };
    for (const Case& c :
         {Case{kSyn, 0u}, Case{kSyn | kAck, 0xfffffffeu}, Case{kRst, 12345u}, Case{kFin | kAck, 4000000000u}}) {
        SCOPED_TRACE(c.flags);
        const std::string options = c.flags & kSyn ? kTcpSynOptions : "";
        const auto walked =
            walk(LinkType::ethernet, padded(ethernet(kIpv4, ipv4(kTcp, tcp("", c.flags, c.sequence, options)))));
        ASSERT_TRUE(walked);
        EXPECT_EQ(walked->ip_protocol, kTcp);
        EXPECT_EQ(walked->tcp_flags, c.flags);
        EXPECT_EQ(walked->tcp_sequence, c.sequence);
        EXPECT_EQ(walked->payload, "") << "the Ethernet padding of an empty segment is not payload";
    }
}

// ---- ICMP ----

TEST(FrameWalk, IcmpPayloadIsTheWholeIcmpMessage) {
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv4, ipv4(kIcmp, kIcmpUnreachable)));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kIcmp);
    EXPECT_EQ(walked->payload, kIcmpUnreachable);
    EXPECT_FALSE(walked->fragment);
}

TEST(FrameWalk, Icmpv6PayloadIsTheWholeIcmpv6Message) {
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv6, ipv6(kIcmpv6, kIcmpv6Unreachable)));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kIcmpv6);
    EXPECT_EQ(walked->payload, kIcmpv6Unreachable);
}

TEST(FrameWalk, Icmpv6AfterAHopByHopHeaderIsStillTheWholeMessage) {
    const auto walked = walk(LinkType::raw_ip, ipv6(kHopByHop, ipv6_options_header(kIcmpv6) + kIcmpv6Unreachable));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kIcmpv6);
    EXPECT_EQ(walked->payload, kIcmpv6Unreachable);
}

// ---- fragments ----

TEST(FrameWalk, FirstIpv4FragmentWithMoreFragmentsHasNoPayload) {
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv4, ipv4(kUdp, udp(kSipRequest), {"", 0x2000})));
    ASSERT_TRUE(walked);
    EXPECT_TRUE(walked->fragment);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_TRUE(walked->payload.empty());
}

TEST(FrameWalk, LaterIpv4FragmentWithAnOffsetHasNoPayload) {
    for (unsigned flags_and_offset : {0x2000u | 185u, 185u}) {  // a middle one, then the last
        const auto walked = walk(LinkType::ethernet, ethernet(kIpv4, ipv4(kUdp, kSipRequest, {"", flags_and_offset})));
        ASSERT_TRUE(walked);
        EXPECT_TRUE(walked->fragment);
        EXPECT_EQ(walked->ip_protocol, kUdp);
        EXPECT_TRUE(walked->payload.empty());
    }
}

TEST(FrameWalk, DontFragmentAloneIsNotAFragment) {
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv4, ipv4(kUdp, udp(kSipRequest), {"", 0x4000})));
    ASSERT_TRUE(walked);
    EXPECT_FALSE(walked->fragment);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(FrameWalk, FirstIpv6FragmentTakesTheProtocolFromTheFragmentHeader) {
    const auto walked =
        walk(LinkType::ethernet,
             ethernet(kIpv6, ipv6(kFragmentHeader, ipv6_fragment_header(kUdp, 0, true) + udp(kSipRequest))));
    ASSERT_TRUE(walked);
    EXPECT_TRUE(walked->fragment);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_TRUE(walked->payload.empty());
}

TEST(FrameWalk, LaterIpv6FragmentAfterAHopByHopHeaderHasNoPayload) {
    const std::string headers = ipv6_options_header(kFragmentHeader) + ipv6_fragment_header(kTcp, 181, false);
    const auto walked = walk(LinkType::raw_ip, ipv6(kHopByHop, headers + kSipRequest));
    ASSERT_TRUE(walked);
    EXPECT_TRUE(walked->fragment);
    EXPECT_EQ(walked->ip_protocol, kTcp);
    EXPECT_TRUE(walked->payload.empty());
}

TEST(FrameWalk, AtomicIpv6FragmentWithOffsetZeroAndNoMoreIsWalkedThrough) {
    const auto walked =
        walk(LinkType::raw_ip, ipv6(kFragmentHeader, ipv6_fragment_header(kUdp, 0, false) + udp(kSipRequest)));
    ASSERT_TRUE(walked);
    EXPECT_FALSE(walked->fragment);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, kSipRequest);
}

// ---- UDP length ----

TEST(FrameWalk, UdpLengthLargerThanTheDataGivesTheDataPresent) {
    const std::string data = "INVITE sip:bob@example.com SIP/2.0\r\n";
    const auto walked = walk(LinkType::ethernet, ethernet(kIpv4, ipv4(kUdp, udp(data, 1400))));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->payload, data);
}

TEST(FrameWalk, UdpLengthLargerThanTheDataStillStopsAtTheIpTotalLengthNotAtThePadding) {
    const auto walked = walk(LinkType::ethernet, padded(ethernet(kIpv4, ipv4(kUdp, udp("ab", 500)))));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->payload, "ab");
}

TEST(FrameWalk, UdpLengthSmallerThanTheDataCutsThePayload) {
    const auto walked = walk(LinkType::raw_ip, ipv4(kUdp, udp("payload+trailer", 8 + 7)));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->payload, "payload");
}

TEST(FrameWalk, UdpLengthBelowTheHeaderSizeIsIgnored) {
    const auto walked = walk(LinkType::raw_ip, ipv6(kUdp, udp("jumbo", 0)));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->payload, "jumbo");
}

// ---- truncation ----

// Walks the first `cut` bytes of `frame` from a heap block of exactly that size, so that a read past
// the cut is a read past the allocation (reported by AddressSanitizer and valgrind builds).
std::optional<Walked> walk_cut(LinkType link, const std::string& frame, std::size_t cut) {
    const auto block = std::make_unique<char[]>(cut);
    std::copy_n(frame.data(), cut, block.get());
    return walk(link, std::string_view(block.get(), cut));
}

// Every cut of `frame` from 0 bytes to the whole: nullopt while the first `headers` bytes (link, IP and
// transport headers) are incomplete; from there on the walk succeeds and the payload is the part of
// `payload` that the cut holds (a prefix, never more, never bytes from elsewhere).
void expect_every_cut_walks_a_prefix(LinkType link, const std::string& frame, std::size_t headers,
                                     std::string_view payload, unsigned ip_protocol) {
    for (std::size_t cut = 0; cut <= frame.size(); ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(frame.size()));
        const auto walked = walk_cut(link, frame, cut);
        if (cut < headers) {
            EXPECT_FALSE(walked) << "payload " << walked->payload;
            continue;
        }
        ASSERT_TRUE(walked);
        EXPECT_FALSE(walked->fragment);
        EXPECT_EQ(walked->ip_protocol, ip_protocol);
        EXPECT_TRUE(walked->payload_inside_the_bytes);
        EXPECT_EQ(walked->payload, payload.substr(0, std::min(cut - headers, payload.size())));
    }
}

TEST(FrameWalkTruncation, EthernetIpv4UdpWithPaddingCutAtEveryLength) {
    const std::string frame = padded(ethernet(kIpv4, ipv4(kUdp, udp("ping"))));
    expect_every_cut_walks_a_prefix(LinkType::ethernet, frame, kEthernetHeader + kIpv4Header + kUdpHeader, "ping",
                                    kUdp);
}

TEST(FrameWalkTruncation, EthernetIpv4UdpSipRequestCutAtEveryLength) {
    const std::string frame = ethernet(kIpv4, ipv4(kUdp, udp(kSipRequest)), {kQinQ, kVlan});
    expect_every_cut_walks_a_prefix(LinkType::ethernet, frame, kEthernetHeader + 8 + kIpv4Header + kUdpHeader,
                                    kSipRequest, kUdp);
}

TEST(FrameWalkTruncation, Ipv4OptionsAndTcpOptionsCutAtEveryLength) {
    const std::string options = byte(0x94) + byte(4) + be16(0);
    const std::string frame = ethernet(kIpv4, ipv4(kTcp, tcp(kSipRequest, kAck, 1, kTcpSynOptions), {options}));
    expect_every_cut_walks_a_prefix(LinkType::ethernet, frame,
                                    kEthernetHeader + kIpv4Header + options.size() + kTcpHeader + kTcpSynOptions.size(),
                                    kSipRequest, kTcp);
}

TEST(FrameWalkTruncation, Ipv6ExtensionHeadersCutAtEveryLength) {
    const std::string headers = ipv6_options_header(kDestinationOptions, 1) + ipv6_options_header(kUdp);
    const std::string frame = ethernet(kIpv6, ipv6(kHopByHop, headers + udp(kSipRequest)), {kVlan});
    expect_every_cut_walks_a_prefix(LinkType::ethernet, frame,
                                    kEthernetHeader + 4 + kIpv6Header + headers.size() + kUdpHeader, kSipRequest, kUdp);
}

TEST(FrameWalkTruncation, IcmpCutAtEveryLengthGivesTheIcmpBytesPresentEvenNone) {
    const std::string frame = linux_sll2(kIpv4, ipv4(kIcmp, kIcmpUnreachable));
    expect_every_cut_walks_a_prefix(LinkType::linux_sll2, frame, 20 + kIpv4Header, kIcmpUnreachable, kIcmp);
}

TEST(FrameWalkTruncation, OtherLinksCutAtEveryLength) {
    expect_every_cut_walks_a_prefix(LinkType::linux_sll, linux_sll(kIpv6, ipv6(kUdp, udp(kSipRequest))),
                                    16 + kIpv6Header + kUdpHeader, kSipRequest, kUdp);
    expect_every_cut_walks_a_prefix(LinkType::bsd_null, le32(2) + ipv4(kUdp, udp(kSipRequest)),
                                    4 + kIpv4Header + kUdpHeader, kSipRequest, kUdp);
    expect_every_cut_walks_a_prefix(LinkType::bsd_loop, be32(30) + ipv6(kTcp, tcp(kSipRequest)),
                                    4 + kIpv6Header + kTcpHeader, kSipRequest, kTcp);
    expect_every_cut_walks_a_prefix(LinkType::raw_ip, ipv4(kUdp, udp(kSipRequest)), kIpv4Header + kUdpHeader,
                                    kSipRequest, kUdp);
}

TEST(FrameWalkTruncation, FragmentsCutAtEveryLengthAreFragmentsOnceTheirIpHeadersArePresent) {
    const std::string v4 = ethernet(kIpv4, ipv4(kUdp, udp(kSipRequest), {"", 0x2000}));
    const std::string v6 =
        ethernet(kIpv6, ipv6(kFragmentHeader, ipv6_fragment_header(kUdp, 0, true) + udp(kSipRequest)));
    struct Case {
        const std::string& frame;
        std::size_t headers;
    };
    for (const Case& c : {Case{v4, kEthernetHeader + kIpv4Header}, Case{v6, kEthernetHeader + kIpv6Header + 8}}) {
        for (std::size_t cut = 0; cut <= c.frame.size(); ++cut) {
            SCOPED_TRACE("cut at " + std::to_string(cut));
            const auto walked = walk_cut(LinkType::ethernet, c.frame, cut);
            EXPECT_EQ(walked.has_value(), cut >= c.headers);
            if (!walked) continue;
            EXPECT_TRUE(walked->fragment);
            EXPECT_EQ(walked->ip_protocol, kUdp);
            EXPECT_EQ(walked->payload, "");
        }
    }
}

TEST(FrameWalkTruncation, TcpFlagsAreReadOnlyOnceTheWholeTcpHeaderIsPresent) {
    const std::string frame = ethernet(kIpv4, ipv4(kTcp, tcp("", kSyn, 0, kTcpSynOptions)));
    for (std::size_t cut = 0; cut <= frame.size(); ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        const auto walked = walk_cut(LinkType::ethernet, frame, cut);
        EXPECT_EQ(walked.has_value(), cut == frame.size());
        if (walked) {
            EXPECT_EQ(walked->tcp_flags, kSyn);
        }
    }
}

// ---- walk_transport ----

TEST(TransportWalk, UdpPayloadFollowsTheEightByteHeader) {
    const auto walked = transport(kUdp, udp(kSipRequest));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kUdp);
    EXPECT_EQ(walked->payload, kSipRequest);
    EXPECT_FALSE(walked->fragment);
}

TEST(TransportWalk, UdpShorterThanItsHeaderIsNotWalked) {
    EXPECT_FALSE(transport(kUdp, ""));
    EXPECT_FALSE(transport(kUdp, udp("").substr(0, 7)));
    const auto empty = transport(kUdp, udp(""));
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->payload, "");
}

TEST(TransportWalk, TcpReadsSequenceFlagsAndThePayloadAfterTheOptions) {
    const auto walked = transport(kTcp, tcp(kSipRequest, kSyn | kAck, 0x01020304, kTcpSynOptions));
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kTcp);
    EXPECT_EQ(walked->tcp_flags, kSyn | kAck);
    EXPECT_EQ(walked->tcp_sequence, 0x01020304u);
    EXPECT_EQ(walked->payload, kSipRequest);
}

TEST(TransportWalk, TcpDataOffsetBelowFiveWordsOrPastTheSegmentIsMalformed) {
    std::string small = tcp(kSipRequest);
    small[12] = static_cast<char>(4 << 4);
    EXPECT_FALSE(transport(kTcp, small));

    std::string past = tcp("abc");
    past[12] = static_cast<char>(15 << 4);  // 60 bytes of header in a 23-byte segment
    EXPECT_FALSE(transport(kTcp, past));

    EXPECT_FALSE(transport(kTcp, tcp("").substr(0, 19)));
}

TEST(TransportWalk, OtherProtocolsGiveTheWholeSegment) {
    const std::string sctp_packet =
        be16(5060) + be16(5060) + be32(1) + be32(0) + byte(0) + byte(3) + be16(16) + be32(0) + kSipRequest;
    const auto walked = transport(kSctp, sctp_packet);
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->ip_protocol, kSctp);
    EXPECT_EQ(walked->payload, sctp_packet);
    EXPECT_EQ(walked->tcp_flags, 0);

    const auto icmp = transport(kIcmp, kIcmpUnreachable);
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->payload, kIcmpUnreachable);

    const auto empty = transport(47, "");  // GRE with nothing: still the (empty) whole
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->payload, "");
}

TEST(TransportWalk, AReassembledDatagramPayloadIsWalkedLikeTheFrame) {
    const std::string datagram = udp(std::string(3000, 'x'));
    const auto walked = transport(kUdp, datagram);
    ASSERT_TRUE(walked);
    EXPECT_EQ(walked->payload.size(), 3000u);
}

// ---- split_stream_messages ----

const std::string kSdp =
    "v=0\r\n"
    "o=- 1 1 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\n";

std::string sip_invite(const std::string& body = kSdp) {
    return "INVITE sip:bob@example.com SIP/2.0\r\n"
           "Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-7\r\n"
           "CSeq: 1 INVITE\r\n"
           "Content-Type: application/sdp\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string sip_response(const std::string& status, unsigned cseq = 1) {
    return "SIP/2.0 " + status + "\r\nCSeq: " + std::to_string(cseq) + " INVITE\r\nContent-Length: 0\r\n\r\n";
}

std::string rtsp_request(const std::string& method, unsigned cseq) {
    return method + " rtsp://192.0.2.50/stream1 RTSP/1.0\r\nCSeq: " + std::to_string(cseq) + "\r\n\r\n";
}

std::string rtsp_response(unsigned cseq, const std::string& body = "") {
    std::string response = "RTSP/1.0 200 OK\r\nCSeq: " + std::to_string(cseq) + "\r\n";
    if (!body.empty())
        response += "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    return response + "\r\n" + body;
}

std::string interleaved(unsigned channel, const std::string& data) {
    return "$" + byte(channel) + be16(static_cast<unsigned>(data.size())) + data;
}

// What a split found, copied out of the payload (so that tests may pass a temporary payload).
struct Split {
    std::vector<std::string> texts;
    std::vector<bool> interleaved;
    std::size_t consumed = 0;
};

Split split_of(std::string_view payload) {
    const StreamSplit split = split_stream_messages(payload);
    Split result;
    const std::less_equal<const char*> before{};
    for (const StreamMessage& message : split.messages) {
        EXPECT_TRUE(before(payload.data(), message.text.data()) &&
                    before(message.text.data() + message.text.size(), payload.data() + payload.size()))
            << "a view into the payload";
        result.texts.emplace_back(message.text);
        result.interleaved.push_back(message.interleaved);
    }
    result.consumed = split.consumed;
    return result;
}

TEST(StreamSplit, OneSipMessageWithAContentLengthBody) {
    const std::string invite = sip_invite();
    const Split split = split_of(invite);
    ASSERT_EQ(split.texts.size(), 1u);
    EXPECT_EQ(split.texts[0], invite);
    EXPECT_FALSE(split.interleaved[0]);
    EXPECT_EQ(split.consumed, invite.size());
}

TEST(StreamSplit, TwoPipelinedMessagesInOnePayload) {
    const std::string payload = sip_response("100 Trying") + sip_invite();
    const Split split = split_of(payload);
    EXPECT_EQ(split.texts, (std::vector<std::string>{sip_response("100 Trying"), sip_invite()}));
    EXPECT_EQ(split.consumed, payload.size());
}

TEST(StreamSplit, CompactContentLengthHeaderL) {
    const std::string message = "MESSAGE sip:bob@example.com SIP/2.0\r\nc: text/plain\r\nl: 5\r\n\r\nhello";
    const std::string payload = message + sip_response("200 OK");
    const Split split = split_of(payload);
    EXPECT_EQ(split.texts, (std::vector<std::string>{message, sip_response("200 OK")}));
    EXPECT_EQ(split.consumed, payload.size());
}

TEST(StreamSplit, ContentLengthNameIsCaseInsensitiveAndMaySpaceAroundTheColon) {
    const std::string message = "SIP/2.0 200 OK\r\ncontent-length :  3 \r\n\r\nabc";
    const Split split = split_of(message + rtsp_request("OPTIONS", 1));
    EXPECT_EQ(split.texts, (std::vector<std::string>{message, rtsp_request("OPTIONS", 1)}));
}

TEST(StreamSplit, NoContentLengthMeansNoBodyAsInAnRtspRequest) {
    const std::string payload = rtsp_request("OPTIONS", 1) + rtsp_request("DESCRIBE", 2);
    const Split split = split_of(payload);
    EXPECT_EQ(split.texts, (std::vector<std::string>{rtsp_request("OPTIONS", 1), rtsp_request("DESCRIBE", 2)}));
    EXPECT_EQ(split.consumed, payload.size());
}

TEST(StreamSplit, AMessageWhoseBodyRunsPastTheEndIsLeftOut) {
    const std::string complete = sip_response("100 Trying");
    const std::string invite = sip_invite();
    const std::string payload = complete + invite.substr(0, invite.size() - 1);
    const Split split = split_of(payload);
    EXPECT_EQ(split.texts, (std::vector<std::string>{complete}));
    EXPECT_EQ(split.consumed, complete.size());
}

TEST(StreamSplit, HeadersNotYetCompleteGiveNothing) {
    const std::string start = "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Len";
    const Split alone = split_of(start);
    EXPECT_TRUE(alone.texts.empty());
    EXPECT_EQ(alone.consumed, 0u);

    const std::string complete = rtsp_request("PLAY", 4);
    const Split after = split_of(complete + "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n");
    EXPECT_EQ(after.texts, (std::vector<std::string>{complete}));
    EXPECT_EQ(after.consumed, complete.size());

    EXPECT_TRUE(split_of("").texts.empty());
    EXPECT_EQ(split_of("").consumed, 0u);
}

TEST(StreamSplit, CrlfKeepAlivesBetweenMessagesAreSkippedAndConsumed) {
    const std::string first = sip_response("100 Trying");
    const std::string second = sip_response("180 Ringing");
    const std::string payload = "\r\n\r\n" + first + "\r\n\r\n" + second + "\r\n";
    const Split split = split_of(payload);
    EXPECT_EQ(split.texts, (std::vector<std::string>{first, second}));
    EXPECT_EQ(split.consumed, payload.size());

    const Split ping = split_of("\r\n\r\n");
    EXPECT_TRUE(ping.texts.empty());
    EXPECT_EQ(ping.consumed, 4u);
}

TEST(StreamSplit, RtspInterleavedFramesBeforeBetweenAndAfterTextMessages) {
    const std::string rtp = interleaved(0, std::string("\x80\x60\x00\x01", 4) + "rtp-data");
    const std::string rtcp = interleaved(1, std::string("\x81\xc8\x00\x06", 4));
    const std::string empty = interleaved(2, "");
    const std::string response = rtsp_response(5, kSdp);
    const std::string request = rtsp_request("GET_PARAMETER", 6);
    const std::string payload = rtp + response + rtcp + request + rtp + empty;
    const Split split = split_of(payload);
    EXPECT_EQ(split.texts, (std::vector<std::string>{rtp, response, rtcp, request, rtp, empty}));
    ASSERT_EQ(split.texts.size(), 6u);
    EXPECT_TRUE(split.interleaved[0]);
    EXPECT_FALSE(split.interleaved[1]);
    EXPECT_TRUE(split.interleaved[2]);
    EXPECT_FALSE(split.interleaved[3]);
    EXPECT_TRUE(split.interleaved[4]);
    EXPECT_TRUE(split.interleaved[5]);
    EXPECT_EQ(split.consumed, payload.size());
}

TEST(StreamSplit, InterleavedFrameLengthCanHoldBlankLinesAndDollarSigns) {
    const std::string frame = interleaved(0, "\r\n\r\n$$\r\n\r\n");
    const std::string payload = frame + rtsp_request("PLAY", 3);
    const Split split = split_of(payload);
    EXPECT_EQ(split.texts, (std::vector<std::string>{frame, rtsp_request("PLAY", 3)}));
}

TEST(StreamSplit, AnIncompleteInterleavedFrameStopsTheSplit) {
    const std::string response = rtsp_response(3);
    const std::string cut_frame = interleaved(0, std::string(16, 'r')).substr(0, 4 + 5);
    const Split at_the_end = split_of(response + cut_frame);
    EXPECT_EQ(at_the_end.texts, (std::vector<std::string>{response}));
    EXPECT_EQ(at_the_end.consumed, response.size());

    // A text message inside the frame's announced 1000 bytes is part of the frame, not a message yet.
    const std::string long_frame_start = "$" + byte(0) + be16(1000) + "rtp";
    const Split swallowed = split_of(response + long_frame_start + rtsp_request("PLAY", 4));
    EXPECT_EQ(swallowed.texts, (std::vector<std::string>{response}));
    EXPECT_EQ(swallowed.consumed, response.size());

    for (std::size_t header_bytes = 1; header_bytes < 4; ++header_bytes) {  // the 4-byte frame header itself cut
        const Split header_cut = split_of(response + interleaved(0, "abc").substr(0, header_bytes));
        EXPECT_EQ(header_cut.texts, (std::vector<std::string>{response}));
        EXPECT_EQ(header_cut.consumed, response.size());
    }
}

TEST(StreamSplit, HostileContentLengthDoesNotCrashAndLeavesTheMessageOut) {
    const std::string complete = sip_response("100 Trying");
    for (const std::string length :
         {"99999999999999999999", "18446744073709551615", "18446744073709551616", "4294967296"}) {
        SCOPED_TRACE(length);
        const std::string hostile = "SIP/2.0 200 OK\r\nContent-Length: " + length + "\r\n\r\nbody";
        const Split split = split_of(complete + hostile + complete);
        EXPECT_EQ(split.texts, (std::vector<std::string>{complete}));
        EXPECT_EQ(split.consumed, complete.size());
    }
}

TEST(StreamSplit, ContentLengthThatIsNotANumberLeavesTheMessageOut) {
    const Split split = split_of("SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n" + sip_response("200 OK"));
    EXPECT_TRUE(split.texts.empty());
    EXPECT_EQ(split.consumed, 0u);
}

TEST(StreamSplit, AtMostKMaxMessagesPerPayloadAreSplit) {
    const std::string message = rtsp_request("GET_PARAMETER", 9);
    std::string payload;
    for (std::size_t i = 0; i < kMaxMessagesPerPayload + 6; ++i)
        payload += message + (i % 2 ? interleaved(0, "x") : "");
    const Split split = split_of(payload);
    ASSERT_EQ(split.texts.size(), kMaxMessagesPerPayload);
    std::size_t covered = 0;
    for (const std::string& text : split.texts) covered += text.size();
    EXPECT_EQ(split.consumed, covered);
    EXPECT_LT(split.consumed, payload.size());
}

TEST(StreamSplit, LfOnlyLineEnds) {
    const std::string first = "SIP/2.0 200 OK\nCSeq: 2 BYE\nContent-Length: 4\n\nbody";
    const std::string second = "OPTIONS rtsp://192.0.2.50/ RTSP/1.0\nCSeq: 7\n\n";
    const std::string payload = first + "\n" + second;
    const Split split = split_of(payload);
    EXPECT_EQ(split.texts, (std::vector<std::string>{first, second}));
    EXPECT_EQ(split.consumed, payload.size());
}

// Headers end at the first blank line, whichever line end it is written with.
TEST(StreamSplit, MixedLineEndsEndTheHeadersAtTheFirstBlankLine) {
    const std::string lf_blank_after_crlf = "SIP/2.0 200 OK\r\nCSeq: 2 BYE\r\n\nxy";  // "\n\n" ends it, no body
    EXPECT_EQ(split_of(lf_blank_after_crlf).texts, (std::vector<std::string>{"SIP/2.0 200 OK\r\nCSeq: 2 BYE\r\n\n"}));
    const std::string crlf_blank_after_lf = "SIP/2.0 200 OK\nCSeq: 2 BYE\nContent-Length: 2\r\n\r\nxy";
    EXPECT_EQ(split_of(crlf_blank_after_lf).texts, (std::vector<std::string>{crlf_blank_after_lf}));
    const std::string crlf_before_a_later_lf_pair = "SIP/2.0 200 OK\r\nContent-Length: 4\r\n\r\na\n\nb";
    EXPECT_EQ(split_of(crlf_before_a_later_lf_pair).texts, (std::vector<std::string>{crlf_before_a_later_lf_pair}));
    EXPECT_TRUE(split_of("SIP/2.0 200 OK\r\nCSeq: 2 BYE\r\n\r").texts.empty());  // the blank line not yet complete
}

TEST(StreamSplit, ContentLengthInTheBodyIsNotRead) {
    const std::string body = "Content-Length: 999\r\n";
    const std::string message =
        "SIP/2.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
        body;
    const Split split = split_of(message);
    EXPECT_EQ(split.texts, (std::vector<std::string>{message}));
}

// ---- reassembled_tail_length ----

const std::string kNotifyWithSipfrag =
    "NOTIFY sip:alice@192.0.2.10 SIP/2.0\r\n"
    "Event: refer\r\n"
    "Content-Type: message/sipfrag;version=2.0\r\n"
    "Content-Length: 16\r\n"
    "\r\n"
    "SIP/2.0 200 OK\r\n";

std::string last(const std::string& text, std::size_t count) { return text.substr(text.size() - count); }

TEST(ReassembledTail, ASegmentThatIsExactlyTheTail) {
    const std::string reassembled = sip_invite();
    for (std::size_t tail : {std::size_t{1}, std::size_t{9}, kSdp.size() - 3, kSdp.size() + 5}) {
        SCOPED_TRACE(tail);
        EXPECT_EQ(reassembled_tail_length(reassembled, last(reassembled, tail)), tail);
    }
}

TEST(ReassembledTail, ATailFollowedByACompleteSipMessage) {
    const std::string reassembled = sip_invite();
    const std::string tail = last(reassembled, 40);
    EXPECT_EQ(reassembled_tail_length(reassembled, tail + sip_response("100 Trying")), tail.size());
    EXPECT_EQ(reassembled_tail_length(reassembled, tail + sip_invite()), tail.size());
}

TEST(ReassembledTail, ATailFollowedByACompleteRtspMessageOrAnInterleavedFrame) {
    const std::string reassembled = rtsp_response(2, kSdp);
    const std::string tail = last(reassembled, 30);
    EXPECT_EQ(reassembled_tail_length(reassembled, tail + rtsp_request("SETUP", 3)), tail.size());
    EXPECT_EQ(reassembled_tail_length(reassembled, tail + rtsp_response(3)), tail.size());
    EXPECT_EQ(reassembled_tail_length(reassembled, tail + interleaved(0, "rtp")), tail.size());
}

TEST(ReassembledTail, ASegmentUnrelatedToTheReassembledDataIsNotATail) {
    const std::string reassembled = sip_invite();
    EXPECT_EQ(reassembled_tail_length(reassembled, sip_response("200 OK")), 0u);
    EXPECT_EQ(reassembled_tail_length(reassembled, "m=video 0 RTP/AVP 96\r\n" + sip_response("200 OK")), 0u);
    EXPECT_EQ(reassembled_tail_length(reassembled, ""), 0u);
    EXPECT_EQ(reassembled_tail_length("", sip_response("200 OK")), 0u);
}

TEST(ReassembledTail, ATailEndingWithTheBlankLineOfABodilessMessage) {
    const std::string reassembled = "RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 12345678\r\n\r\n";
    const std::string tail = last(reassembled, 15);  // "n: 12345678\r\n\r\n"
    EXPECT_EQ(reassembled_tail_length(reassembled, tail), tail.size());
    EXPECT_EQ(reassembled_tail_length(reassembled, tail + rtsp_request("GET_PARAMETER", 5)), tail.size());
    EXPECT_EQ(reassembled_tail_length(reassembled, tail + interleaved(0, "rtp")), tail.size());
    // Only the blank line's last CRLF in this segment, then the next message.
    EXPECT_EQ(reassembled_tail_length(reassembled, "\r\n" + rtsp_request("GET_PARAMETER", 5)), 2u);
}

TEST(ReassembledTail, ABodyWithASipfragLineIsNotMistakenForTheNextMessage) {
    const std::string tail = last(kNotifyWithSipfrag, 22);  // "16\r\n\r\nSIP/2.0 200 OK\r\n"
    EXPECT_EQ(reassembled_tail_length(kNotifyWithSipfrag, tail), tail.size());
    EXPECT_EQ(reassembled_tail_length(kNotifyWithSipfrag, tail + sip_response("200 OK", 2)), tail.size());
}

TEST(ReassembledTail, ASegmentStartingAtTheBlankLineBeforeASipfragBodyIsAllTail) {
    const std::string segment = "\r\nSIP/2.0 200 OK\r\n";
    ASSERT_EQ(last(kNotifyWithSipfrag, segment.size()), segment);
    EXPECT_EQ(reassembled_tail_length(kNotifyWithSipfrag, segment), segment.size());
    EXPECT_EQ(reassembled_tail_length(kNotifyWithSipfrag, segment + sip_response("200 OK", 2)), segment.size());
}

TEST(ReassembledTail, ABodyWithoutAFinalLineBreakFollowedByTheNextMessage) {
    const std::string message =
        "MESSAGE sip:bob@example.com SIP/2.0\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    const std::string tail = last(message, 20);
    EXPECT_EQ(reassembled_tail_length(message, tail + sip_response("200 OK")), tail.size());
    EXPECT_EQ(reassembled_tail_length(message, tail + interleaved(0, "rtp")), tail.size());
}

TEST(ReassembledTail, ATailOfManyLinesThatIsTheWholeSegment) {
    std::string body;
    for (int line = 0; line < 300; ++line) body += "a=x\r\n";
    const std::string message = "SIP/2.0 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    const std::string segment = last(message, 280 * 5);
    EXPECT_EQ(reassembled_tail_length(message, segment), segment.size());
}

// ---- find_start_line ----

const std::string kTunnelHeader = std::string("\x00\x01\x0a\xff\x0d\x0a\x24\x00", 8) + "SIP" + byte(0x80);

TEST(FindStartLine, SipResponseAfterATunnelHeader) {
    const std::string bytes = kTunnelHeader + sip_response("503 Service Unavailable");
    EXPECT_EQ(find_start_line(bytes), kTunnelHeader.size());
}

TEST(FindStartLine, SipRequestAfterATunnelHeader) {
    const std::string bytes = kTunnelHeader + sip_invite();
    EXPECT_EQ(find_start_line(bytes), kTunnelHeader.size());
}

TEST(FindStartLine, RtspResponseAndRequest) {
    EXPECT_EQ(find_start_line(kTunnelHeader + rtsp_response(1)), kTunnelHeader.size());
    EXPECT_EQ(find_start_line(kTunnelHeader + rtsp_request("DESCRIBE", 2)), kTunnelHeader.size());
    EXPECT_EQ(find_start_line(rtsp_request("GET_PARAMETER", 3)), 0u);
    EXPECT_EQ(find_start_line("RTSP/1.0 454 Session Not Found\r\n"), 0u);
}

TEST(FindStartLine, NoStartLineIsNpos) {
    EXPECT_EQ(find_start_line(""), std::string_view::npos);
    EXPECT_EQ(find_start_line(kTunnelHeader), std::string_view::npos);
    EXPECT_EQ(find_start_line("Via: SIP/2.0/UDP 192.0.2.10:5060\r\nCSeq: 1 INVITE\r\n"), std::string_view::npos);
    EXPECT_EQ(find_start_line("SIP/2.0 OK\r\nRTSP/1.0 abc\r\n"), std::string_view::npos);
    EXPECT_EQ(find_start_line(std::string(200, '\0')), std::string_view::npos);
}

TEST(FindStartLine, ARequestLineAfterALongRunOfMethodNamesIsFound) {
    // Found by fuzzing: every "ACK" used to rescan its whole line, quadratic in the run's length.
    std::string run;
    for (int i = 0; i < 50000; ++i) run += "ACK";
    const std::string bytes = "x" + run + " \n" + run + "\nINVITE sip:bob@example.com SIP/2.0\r\n";
    EXPECT_EQ(find_start_line(bytes), bytes.find("INVITE"));
    EXPECT_EQ(find_start_line("x" + run), std::string_view::npos);
}

TEST(FindStartLine, AMethodWordWithoutAVersionOnItsLineIsNotARequest) {
    EXPECT_EQ(find_start_line("BYE for now\r\n"), std::string_view::npos);
    EXPECT_EQ(find_start_line("INVITE sip:bob@example.com\r\nVia: SIP/2.0/UDP 192.0.2.10\r\n"), std::string_view::npos);
    EXPECT_EQ(find_start_line("CSeq: 1 INVITE\r\nAllow: INVITE, ACK, BYE\r\n"), std::string_view::npos);
    EXPECT_EQ(find_start_line("PLAY rtsp://cam/ HTTP/1.1\r\n"), std::string_view::npos);
    EXPECT_EQ(find_start_line("OPTIONS"), std::string_view::npos);
}

TEST(FindStartLine, TheEarliestOfSeveralIsFound) {
    const std::string bytes = kTunnelHeader + rtsp_request("TEARDOWN", 9) + sip_response("200 OK") + sip_invite();
    EXPECT_EQ(find_start_line(bytes), kTunnelHeader.size());

    const std::string response_first = kTunnelHeader + sip_response("486 Busy Here") + rtsp_request("PLAY", 1);
    EXPECT_EQ(find_start_line(response_first), kTunnelHeader.size());

    // A later RTSP response does not hide an earlier SIP request, nor a later method an earlier one.
    const std::string mixed = "xx" + rtsp_request("SETUP", 1) + "RTSP/1.0 200 OK\r\n";
    EXPECT_EQ(find_start_line(mixed), 2u);
    const std::string methods = "--BYE sip:a SIP/2.0\r\nACK sip:a SIP/2.0\r\n";
    EXPECT_EQ(find_start_line(methods), 2u);
}

TEST(FindStartLine, AResponseLikeLineLaterThanAFalseOneIsStillFound) {
    const std::string bytes = std::string("SIP/2.0 x\r\n") + kTunnelHeader + "SIP/2.0 180 Ringing\r\n";
    EXPECT_EQ(find_start_line(bytes), bytes.find("SIP/2.0 180"));
}

}  // namespace
}  // namespace diag503
