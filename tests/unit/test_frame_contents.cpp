// Unit tests of locating SIP/RTSP messages in a frame, above all in frames the capture cut short (snaplen).
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/fixed_list.hpp"
#include "wire/frame_contents.hpp"

namespace diag503 {
namespace {

std::string byte(unsigned value) { return std::string(1, static_cast<char>(value & 0xff)); }
std::string be16(unsigned value) { return byte(value >> 8) + byte(value); }
std::string be32(std::uint32_t value) { return be16(value >> 16) + be16(value); }

constexpr unsigned kTcp = 6, kUdp = 17;

std::string ipv4(unsigned protocol, const std::string& payload) {
    return byte(0x45) + byte(0) + be16(static_cast<unsigned>(20 + payload.size())) + be16(1) + be16(0) + byte(64) +
           byte(protocol) + be16(0) + be32(0xc000020a) + be32(0xc6336414) + payload;
}
std::string udp(const std::string& data) {
    return be16(5060) + be16(5060) + be16(static_cast<unsigned>(8 + data.size())) + be16(0) + data;
}
std::string tcp(const std::string& data) {
    return be16(5060) + be16(40000) + be32(1000) + be32(2000) + byte(5 << 4) + byte(0x18) + be16(65535) + be32(0) + data;
}

const std::string kInvite = "INVITE sip:bob@example.net SIP/2.0\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
const std::string k503 = "SIP/2.0 503 Service Unavailable\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\nRetry-After: 30\r\n"
                         "Content-Length: 0\r\n\r\n";

// A raw-IP frame as the capture kept it: the first `kept` bytes (all of them by default).
FrameInput sip_frame(const std::string& packet, std::string& storage, std::size_t kept = std::string::npos) {
    storage = packet.substr(0, kept);
    FrameInput input;
    input.link = LinkType::raw_ip;
    input.frame = storage;
    input.present[static_cast<int>(PayloadKind::sip)] = true;
    input.cut = storage.size() < packet.size();
    return input;
}

TEST(FrameContents, AWholeUdpMessageIsLocatedAndNotCut) {
    std::string bytes;
    const auto contents = locate_payloads(sip_frame(ipv4(kUdp, udp(k503)), bytes));
    ASSERT_EQ(contents.payloads.size(), 1u);
    EXPECT_EQ(contents.payloads[0].bytes, k503);
    EXPECT_FALSE(contents.payloads[0].cut);
}

TEST(FrameContents, AUdpMessageCutAfterItsFirstLineIsLocatedAndMarkedCut) {
    std::string bytes;
    const std::size_t headers = 20 + 8;
    const auto contents = locate_payloads(sip_frame(ipv4(kUdp, udp(k503)), bytes, headers + 40));
    ASSERT_EQ(contents.payloads.size(), 1u);
    EXPECT_EQ(contents.payloads[0].bytes, k503.substr(0, 40));
    EXPECT_TRUE(contents.payloads[0].cut);
}

TEST(FrameContents, AMessageCutInsideItsFirstLineIsNoMessage) {
    std::string bytes;
    const std::size_t headers = 20 + 8;
    EXPECT_TRUE(locate_payloads(sip_frame(ipv4(kUdp, udp(k503)), bytes, headers + 20)).payloads.empty());
}

TEST(FrameContents, ACutTcpSegmentKeepsItsWholeMessagesAndTheCutLastOne) {
    std::string bytes;
    const std::size_t headers = 20 + 20;
    const auto contents = locate_payloads(sip_frame(ipv4(kTcp, tcp(kInvite + k503)), bytes, headers + kInvite.size() + 50));
    ASSERT_EQ(contents.payloads.size(), 2u);
    EXPECT_EQ(contents.payloads[0].bytes, kInvite);
    EXPECT_FALSE(contents.payloads[0].cut);
    EXPECT_EQ(contents.payloads[1].bytes, k503.substr(0, 50));
    EXPECT_TRUE(contents.payloads[1].cut);
}

TEST(FrameContents, AnUnfinishedMessageInAnUncutSegmentWaitsForReassembly) {
    std::string bytes;
    const auto contents = locate_payloads(sip_frame(ipv4(kTcp, tcp(kInvite + k503.substr(0, 50))), bytes));
    ASSERT_EQ(contents.payloads.size(), 1u);
    EXPECT_EQ(contents.payloads[0].bytes, kInvite);
}

TEST(FrameContents, AReusedListKeepsNothingOfThePreviousFrame) {
    std::string tcp_bytes, udp_bytes;
    FrameContents reused;
    locate_payloads(sip_frame(ipv4(kTcp, tcp(kInvite + k503)), tcp_bytes), reused);
    ASSERT_EQ(reused.payloads.size(), 2u);
    ASSERT_TRUE(reused.stream);
    locate_payloads(sip_frame(ipv4(kUdp, udp(k503)), udp_bytes), reused);
    ASSERT_EQ(reused.payloads.size(), 1u);
    EXPECT_EQ(reused.payloads[0].bytes, k503);
    EXPECT_FALSE(reused.stream);
    EXPECT_EQ(reused.tcp_flags, 0);
}

TEST(FixedListOfSplitMessages, RefusesBeyondItsBoundAndKeepsOrder) {
    FixedList<int, 2> list;
    EXPECT_TRUE(list.push_back(1));
    EXPECT_TRUE(list.push_back(2));
    EXPECT_FALSE(list.push_back(3));
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0], 1);
    EXPECT_EQ(list[1], 2);
    EXPECT_EQ(std::vector<int>(list.begin(), list.end()), (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace diag503
