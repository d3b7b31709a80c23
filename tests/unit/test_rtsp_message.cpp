// Specifications of the RTSP parser: start lines, the headers diag503 reads, bodies and bad input.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <string>

#include "rtsp/rtsp_message.hpp"

namespace diag503 {
namespace {

std::optional<RtspMessage> parse(const std::string& text) { return parse_rtsp_message(text); }

TEST(RtspMessage, ParsesARequestLineWithMethodAndUrl) {
    const auto message = parse("DESCRIBE rtsp://192.0.2.10/Streaming/Channels/101 RTSP/1.0\r\nCSeq: 2\r\n\r\n");
    ASSERT_TRUE(message);
    EXPECT_TRUE(message->is_request);
    EXPECT_EQ(message->method, "DESCRIBE");
    EXPECT_EQ(message->url, "rtsp://192.0.2.10/Streaming/Channels/101");
    EXPECT_TRUE(message->has_cseq);
    EXPECT_EQ(message->cseq, 2u);
}

TEST(RtspMessage, ParsesA503WithRetryAfterServerAndSession) {
    const auto message = parse("RTSP/1.0 503 Service Unavailable\r\nCSeq: 4\r\nServer: Hikvision-Webs\r\n"
                               "Session: 12345678;timeout=60\r\nRetry-After: 5\r\n\r\n");
    ASSERT_TRUE(message);
    EXPECT_FALSE(message->is_request);
    EXPECT_EQ(message->status_code, 503);
    EXPECT_EQ(message->reason_phrase, "Service Unavailable");
    EXPECT_EQ(message->server, "Hikvision-Webs");
    EXPECT_EQ(message->session, "12345678");
    EXPECT_EQ(message->session_timeout_s, 60u);
    EXPECT_TRUE(message->retry_after.valid);
    EXPECT_EQ(message->retry_after.seconds, 5u);
}

TEST(RtspMessage, KeepsTheSdpBodyOfADescribeAnswer) {
    const auto message = parse("RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n"
                               "Content-Base: rtsp://192.0.2.10/live/\r\nContent-Length: 20\r\n\r\n"
                               "v=0\r\nm=video 0 RTP\r\n");
    ASSERT_TRUE(message);
    EXPECT_EQ(message->content_type, "application/sdp");
    EXPECT_EQ(message->content_base, "rtsp://192.0.2.10/live/");
    EXPECT_EQ(message->body, "v=0\r\nm=video 0 RTP\r\n");
}

TEST(RtspMessage, TheBodyEndsAtContentLengthWhenMessagesArePipelined) {
    // Wireshark's rtsp item may run on to the end of the TCP segment, into the next message.
    const auto answer = parse("RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 3\r\n\r\nv=0RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n");
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->body, "v=0");
    const auto request = parse("PLAY rtsp://h/x RTSP/1.0\r\nCSeq: 4\r\n\r\nGET_PARAMETER rtsp://h/x RTSP/1.0\r\nCSeq: 5\r\n\r\n");
    ASSERT_TRUE(request);
    EXPECT_EQ(request->cseq, 4u);
    EXPECT_EQ(request->body, "");
}

TEST(RtspMessage, ReadsTransportAuthenticationAndPublic) {
    const auto message = parse("RTSP/1.0 401 Unauthorized\r\nCSeq: 3\r\nWWW-Authenticate: Digest realm=\"cam\"\r\n"
                               "Public: OPTIONS, DESCRIBE, SETUP\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n");
    ASSERT_TRUE(message);
    EXPECT_EQ(message->www_authenticate, "Digest realm=\"cam\"");
    EXPECT_EQ(message->public_methods, "OPTIONS, DESCRIBE, SETUP");
    EXPECT_EQ(message->transport, "RTP/AVP/TCP;unicast;interleaved=0-1");
}

TEST(RtspMessage, InterleavedBinaryDataIsNotAMessage) {
    EXPECT_FALSE(parse(std::string("$\x00\x01\x2c", 4) + "RTSP/1.0 200 OK\r\n"));
}

TEST(RtspMessage, HttpAndSipAreNotRtsp) {
    EXPECT_FALSE(parse("HTTP/1.1 503 Service Unavailable\r\n\r\n"));
    EXPECT_FALSE(parse("SIP/2.0 503 Service Unavailable\r\n\r\n"));
    EXPECT_FALSE(parse("GET /index.html HTTP/1.1\r\n\r\n"));
    EXPECT_FALSE(parse(""));
}

TEST(RtspMessage, ToleratesBareLineFeedsLowerCaseNamesAndFoldedValues) {
    const auto message = parse("RTSP/1.0 503 Service Unavailable\ncseq: 9\nserver: cam\n  firmware 5.4\n\n");
    ASSERT_TRUE(message);
    EXPECT_EQ(message->cseq, 9u);
    EXPECT_EQ(message->server, "cam firmware 5.4");
}

TEST(RtspMessage, RecordsAMissingOrGarbageCSeqAsAnAnomaly) {
    const auto missing = parse("RTSP/1.0 503 Service Unavailable\r\n\r\n");
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_cseq);
    EXPECT_FALSE(missing->anomalies.empty());
    const auto garbage = parse("RTSP/1.0 503 Service Unavailable\r\nCSeq: 99999999999999999999\r\n\r\n");
    ASSERT_TRUE(garbage);
    EXPECT_FALSE(garbage->has_cseq);
}

TEST(RtspMessage, AbsurdSessionTimeoutIsAnAnomalyNotACrash) {
    const auto message = parse("RTSP/1.0 200 OK\r\nCSeq: 1\r\nSession: abc;timeout=forever\r\n\r\n");
    ASSERT_TRUE(message);
    EXPECT_EQ(message->session, "abc");
    EXPECT_FALSE(message->session_timeout_s);
    EXPECT_FALSE(message->anomalies.empty());
}

TEST(RtspMessage, CapsTheBodyAndLongUrls) {
    const std::string huge(100000, 'x');
    const auto answer = parse("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n" + huge);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->body.size(), kMaxRtspBody);
    const auto request = parse("DESCRIBE rtsp://h/" + huge + " RTSP/1.0\r\nCSeq: 1\r\n\r\n");
    ASSERT_TRUE(request);
    EXPECT_LE(request->url.size(), 1024u + 3u);
}

TEST(RtspMessage, StatusCodesOutsideRtspAreRejected) {
    EXPECT_FALSE(parse("RTSP/1.0 999 Nonsense\r\n\r\n"));
    EXPECT_FALSE(parse("RTSP/1.0\r\n\r\n"));
}

}  // namespace
}  // namespace diag503
