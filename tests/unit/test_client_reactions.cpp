// Unit tests of ClientReactions: what clients did after a 503, the refused request again, other requests during a back-off (RFC 3261 §21.5.4), failover.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "evidence/client_reactions.hpp"
#include "rtsp/rtsp_reactions.hpp"
#include "sip/sip_reactions.hpp"
#include "sip_builders.hpp"

namespace diag503 {
namespace {

const Endpoint kClient = test::endpoint("192.0.2.10");
const Endpoint kOtherClient = test::endpoint("192.0.2.11");
const Endpoint kServer = test::endpoint("198.51.100.5");
const Endpoint kOtherServer = test::endpoint("198.51.100.6");
const Endpoint kThirdServer = test::endpoint("198.51.100.7");

// Calls and requests by number: a retransmission repeats the identity, a new request has a new one.
constexpr std::uint64_t kCallX = 100, kCallY = 200;
constexpr std::uint64_t kFirst = 1, kSecond = 2, kThird = 3, kFourth = 4;

constexpr std::optional<std::uint64_t> kNoRetryAfter = std::nullopt;

// Feeds one ClientReactions frame by frame, numbering frames from 1, times in seconds since the capture start.
class Reactions {
public:
    explicit Reactions(const Settings& settings = Settings{}) : reactions_(settings) {}

    // `server` refuses request `identity` of `call` from `client` with a 503 (the next frame).
    void refused(double at_s, std::uint64_t call, std::uint64_t identity, std::optional<std::uint64_t> retry_after_s,
                 const Endpoint& server = kServer, const Endpoint& client = kClient) {
        const PacketMeta meta = test::packet(++frame_, at_s, server, client);
        reactions_.on_503(meta, {&meta, call, identity}, retry_after_s);
    }
    // `client` sends request `identity` of `call` to `server` (the next frame).
    std::optional<Reaction> request(double at_s, std::uint64_t call, std::uint64_t identity,
                                    const Endpoint& server = kServer, const Endpoint& client = kClient) {
        const PacketMeta meta = test::packet(++frame_, at_s, client, server);
        return reactions_.on_request({&meta, call, identity});
    }
    std::uint32_t early_retries_recent(const Endpoint& server, double now_s) const {
        return reactions_.early_retries_recent(server.text(), test::kCaptureStartUs + test::microseconds(now_s));
    }

private:
    ClientReactions reactions_;
    std::uint32_t frame_ = 0;
};

::testing::AssertionResult IsKind(const std::optional<Reaction>& reaction, Reaction::Kind expected) {
    const std::string name(reaction_name(expected));
    if (!reaction) return ::testing::AssertionFailure() << "no reaction, expected " << name;
    if (reaction->kind != expected)
        return ::testing::AssertionFailure() << reaction_name(reaction->kind) << ", expected " << name;
    return ::testing::AssertionSuccess();
}

// ---- with Retry-After: RFC 3261 §21.5.4, no request to that server until it elapses ----

TEST(ClientReactions, SameCallSentAgainBeforeRetryAfterElapsedIsARetryOfTheSameRequest) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    const auto reaction = reactions.request(10, kCallX, kSecond);
    ASSERT_TRUE(IsKind(reaction, Reaction::Kind::retry_same_request));
    EXPECT_EQ(reaction->frame, 2u);
    EXPECT_EQ(reaction->refusal_frame, 1u);
    EXPECT_EQ(reaction->waited_us, 10000000);
    EXPECT_EQ(reaction->retry_after_s, 30u);
    EXPECT_EQ(reaction->backoff_us, 30000000);
    EXPECT_EQ(reaction->server, "198.51.100.5:5060");
}

TEST(ClientReactions, AnotherCallToThatServerBeforeRetryAfterElapsedIsARequestDuringTheBackOff) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    const auto reaction = reactions.request(29, kCallY, kSecond);
    ASSERT_TRUE(IsKind(reaction, Reaction::Kind::request_during_backoff));
    EXPECT_EQ(reaction->refusal_frame, 1u);
    EXPECT_EQ(reaction->retry_after_s, 30u);
}

TEST(ClientReactions, OnlyTheFirstOtherRequestOfAClientPer503IsReportedButAllAreCounted) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    EXPECT_TRUE(IsKind(reactions.request(1, kCallY, kSecond), Reaction::Kind::request_during_backoff));
    EXPECT_FALSE(reactions.request(2, kCallY + 1, kThird));
    EXPECT_FALSE(reactions.request(3, kCallY + 2, kFourth));
    EXPECT_EQ(reactions.early_retries_recent(kServer, 4), 3u);
}

TEST(ClientReactions, EachRetryOfTheRefusedRequestIsReportedBesideOtherRequests) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    EXPECT_TRUE(IsKind(reactions.request(1, kCallY, kSecond), Reaction::Kind::request_during_backoff));
    EXPECT_TRUE(IsKind(reactions.request(2, kCallX, kThird), Reaction::Kind::retry_same_request));
    EXPECT_TRUE(IsKind(reactions.request(3, kCallX, kFourth), Reaction::Kind::retry_same_request));
}

TEST(ClientReactions, ANew503StartsANewBackOffWithItsOwnReport) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    EXPECT_TRUE(IsKind(reactions.request(1, kCallY, kSecond), Reaction::Kind::request_during_backoff));
    reactions.refused(1.1, kCallY, kSecond, 30);
    const auto reaction = reactions.request(2, kCallY + 1, kThird);
    ASSERT_TRUE(IsKind(reaction, Reaction::Kind::request_during_backoff));
    EXPECT_EQ(reaction->refusal_frame, 3u);
}

TEST(ClientReactions, ARetryBelongsToItsOwnCallsRefusalEvenAfterLater503s) {
    // A burst of calls, each refused, then each sent again: the later 503s of other calls came in between.
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 10);
    reactions.refused(0.05, kCallY, kSecond, 10);
    const auto reaction = reactions.request(0.3, kCallX, kThird);
    ASSERT_TRUE(IsKind(reaction, Reaction::Kind::retry_same_request));
    EXPECT_EQ(reaction->refusal_frame, 1u);
}

TEST(ClientReactions, WithoutRetryAfterAnOlderRefusedCallSentAgainAtOnceIsHammering) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, kNoRetryAfter);
    reactions.refused(0.05, kCallY, kSecond, kNoRetryAfter);
    EXPECT_TRUE(IsKind(reactions.request(0.3, kCallX, kThird), Reaction::Kind::retry_same_request));
    EXPECT_FALSE(reactions.request(0.4, kCallX, kFourth));
}

TEST(ClientReactions, EveryClientOfABackedOffServerGetsItsOwnReport) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    reactions.refused(0.1, kCallX + 1, kFirst + 10, 30, kServer, kOtherClient);
    EXPECT_TRUE(IsKind(reactions.request(1, kCallY, kSecond), Reaction::Kind::request_during_backoff));
    EXPECT_TRUE(IsKind(reactions.request(1, kCallY + 1, kThird, kServer, kOtherClient), Reaction::Kind::request_during_backoff));
}

TEST(ClientReactions, RequestAfterRetryAfterElapsedIsNoReaction) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    EXPECT_FALSE(reactions.request(30, kCallX, kSecond));
    EXPECT_FALSE(reactions.request(45, kCallY, kThird));
}

TEST(ClientReactions, RetransmissionOfTheRefusedRequestIsNoRetry) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    EXPECT_FALSE(reactions.request(0.5, kCallX, kFirst));
}

TEST(ClientReactions, RetransmissionOfTheRetryIsNotCountedAgain) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    EXPECT_TRUE(reactions.request(1, kCallX, kSecond));
    EXPECT_FALSE(reactions.request(1.5, kCallX, kSecond));
    EXPECT_FALSE(reactions.request(2.5, kCallX, kSecond));
    EXPECT_EQ(reactions.early_retries_recent(kServer, 3), 1u);
}

TEST(ClientReactions, RetransmissionOfAnEarlierRetryAfterANewerRetryIsNotCountedAgain) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    EXPECT_TRUE(reactions.request(1, kCallX, kSecond));
    EXPECT_TRUE(reactions.request(1.2, kCallY, kThird));
    EXPECT_FALSE(reactions.request(1.5, kCallX, kSecond));  // retransmission of the retry in frame 2
    EXPECT_EQ(reactions.early_retries_recent(kServer, 2), 2u);
}

TEST(ClientReactions, RetransmissionOfTheRefusedRequestAfterALater503IsNoRetry) {
    Reactions reactions;
    reactions.refused(0.45, kCallX, kFirst, 30);
    EXPECT_TRUE(reactions.request(0.47, kCallY, kSecond));
    reactions.refused(0.48, kCallY, kSecond, 30);
    EXPECT_FALSE(reactions.request(0.5, kCallX, kFirst));  // timer A retransmission of the first request
}

TEST(ClientReactions, RequestToAnotherEndpointOfTheServerIsNoEarlyRetry) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    EXPECT_FALSE(reactions.request(1, kCallY, kSecond, test::endpoint(kServer.address, 5080)));
    EXPECT_FALSE(reactions.request(2, kCallY, kThird, kOtherServer));
}

TEST(ClientReactions, TheLatest503OfTheServerSetsTheBackOff) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 60);
    reactions.refused(1, kCallY, kSecond, 5);
    EXPECT_FALSE(reactions.request(7, kCallY, kThird));
}

// ---- without Retry-After: only the same call sent again at once is hammering ----

TEST(ClientReactions, WithoutRetryAfterTheSameCallWithinTheMinimumIntervalIsHammering) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, kNoRetryAfter);
    const auto reaction = reactions.request(1, kCallX, kSecond);
    ASSERT_TRUE(IsKind(reaction, Reaction::Kind::retry_same_request));
    EXPECT_FALSE(reaction->retry_after_s);
    EXPECT_EQ(reaction->backoff_us, 1500000);
    EXPECT_EQ(reaction->waited_us, 1000000);
}

TEST(ClientReactions, WithoutRetryAfterAnotherCallIsNoRetry) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, kNoRetryAfter);
    EXPECT_FALSE(reactions.request(0.5, kCallY, kSecond));
}

TEST(ClientReactions, WithoutRetryAfterTheSameCallAfterTheMinimumIntervalIsNoRetry) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, kNoRetryAfter);
    EXPECT_FALSE(reactions.request(1.5, kCallX, kSecond));
}

TEST(ClientReactions, MinimumIntervalFollowsTheSettings) {
    Settings settings;
    settings.min_retry_interval_ms = 3000;
    Reactions reactions(settings);
    reactions.refused(0, kCallX, kFirst, kNoRetryAfter);
    const auto reaction = reactions.request(2, kCallX, kSecond);
    ASSERT_TRUE(IsKind(reaction, Reaction::Kind::retry_same_request));
    EXPECT_EQ(reaction->backoff_us, 3000000);
}

// ---- failover ----

TEST(ClientReactions, SameCallToAnotherServerIsAFailover) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    const auto reaction = reactions.request(2, kCallX, kSecond, kOtherServer);
    ASSERT_TRUE(IsKind(reaction, Reaction::Kind::failover));
    EXPECT_EQ(reaction->frame, 2u);
    EXPECT_EQ(reaction->refusal_frame, 1u);
    EXPECT_EQ(reaction->waited_us, 2000000);
    EXPECT_EQ(reaction->retry_after_s, 30u);
    EXPECT_EQ(reaction->server, "198.51.100.6:5060");
}

TEST(ClientReactions, FailoverIsReportedOncePer503) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, kNoRetryAfter);
    EXPECT_TRUE(IsKind(reactions.request(2, kCallX, kSecond, kOtherServer), Reaction::Kind::failover));
    EXPECT_FALSE(reactions.request(2.5, kCallX, kSecond, kOtherServer));  // its retransmission
    EXPECT_FALSE(reactions.request(3, kCallX, kThird, kThirdServer));
}

TEST(ClientReactions, FailoverCountsUpToTheEndOfTheFailoverWindow) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, kNoRetryAfter);
    EXPECT_TRUE(IsKind(reactions.request(32, kCallX, kSecond, kOtherServer), Reaction::Kind::failover));
}

TEST(ClientReactions, SameCallToAnotherServerAfterTheFailoverWindowIsNoReaction) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, kNoRetryAfter);
    EXPECT_FALSE(reactions.request(32.5, kCallX, kSecond, kOtherServer));
}

TEST(ClientReactions, AnotherCallToAnotherServerIsNoFailover) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    EXPECT_FALSE(reactions.request(2, kCallY, kSecond, kOtherServer));
}

TEST(ClientReactions, EachRefusingServerGetsItsOwnFailover) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, kNoRetryAfter);
    EXPECT_TRUE(IsKind(reactions.request(1, kCallX, kSecond, kOtherServer), Reaction::Kind::failover));
    reactions.refused(1.1, kCallX, kSecond, kNoRetryAfter, kOtherServer);
    const auto reaction = reactions.request(2, kCallX, kThird, kThirdServer);
    ASSERT_TRUE(IsKind(reaction, Reaction::Kind::failover));
    EXPECT_EQ(reaction->refusal_frame, 3u);
}

TEST(ClientReactions, AFailoverAnswersTheLatestRefusalOfTheCallAndNoEarlierOne) {
    // Two clients on one host (a recorder's streams) refused for the same stream: one attempt
    // elsewhere is one failover, of the latest 503; the next request elsewhere is none.
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, kNoRetryAfter);
    reactions.refused(1, kCallX, kSecond, kNoRetryAfter);
    const auto reaction = reactions.request(2, kCallX, kThird, kOtherServer);
    ASSERT_TRUE(IsKind(reaction, Reaction::Kind::failover));
    EXPECT_EQ(reaction->refusal_frame, 2u);
    EXPECT_FALSE(reactions.request(2.1, kCallX, kFourth, kOtherServer));
}

// ---- whose reaction ----

TEST(ClientReactions, AnotherClientsRequestsAreNoReactions) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    EXPECT_FALSE(reactions.request(1, kCallY, kSecond, kServer, kOtherClient));
    EXPECT_FALSE(reactions.request(2, kCallX, kThird, kOtherServer, kOtherClient));
}

TEST(ClientReactions, RequestsBeforeAnyRefusalAreNoReactions) {
    Reactions reactions;
    EXPECT_FALSE(reactions.request(0, kCallX, kFirst));
    reactions.refused(1, kCallX, kFirst, 30);
    EXPECT_FALSE(reactions.request(0.5, kCallY, kSecond));  // time-stamped before the 503
}

// ---- early retries per server ----

TEST(ClientReactions, EarlyRetriesRecentCountsPerServerOverTheLastMinute) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 120);
    reactions.refused(0, kCallY, kFirst, 120, kOtherServer, kOtherClient);
    reactions.request(10.5, kCallX, kSecond);
    reactions.request(11.5, kCallX, kThird);
    reactions.request(12.5, kCallY, kFourth, kOtherServer, kOtherClient);
    EXPECT_EQ(reactions.early_retries_recent(kServer, 20), 2u);
    EXPECT_EQ(reactions.early_retries_recent(kOtherServer, 20), 1u);
    EXPECT_EQ(reactions.early_retries_recent(kThirdServer, 20), 0u);
    EXPECT_EQ(reactions.early_retries_recent(kServer, 80), 0u);
}

TEST(ClientReactions, RetransmissionsAndFailoversAreNotEarlyRetries) {
    Reactions reactions;
    reactions.refused(0, kCallX, kFirst, 30);
    reactions.request(0.5, kCallX, kFirst);
    reactions.request(1, kCallX, kSecond, kOtherServer);
    EXPECT_EQ(reactions.early_retries_recent(kServer, 2), 0u);
    EXPECT_EQ(reactions.early_retries_recent(kOtherServer, 2), 0u);
}

}  // namespace
TEST(ClientReactionKeys, AnRtspRetryNamesTheStreamWithoutTheSetupTrack) {
    EXPECT_EQ(rtsp_stream_path("rtsp://cam/Streaming/Channels/101"), "/Streaming/Channels/101");
    EXPECT_EQ(rtsp_stream_path("rtsp://cam:554/Streaming/Channels/101/trackID=1"), "/Streaming/Channels/101");
    EXPECT_EQ(rtsp_stream_path("rtsp://cam/cam/realmonitor?channel=1&subtype=0/trackID=0"),
              "/cam/realmonitor?channel=1&subtype=0");
    EXPECT_EQ(rtsp_stream_path("rtsp://cam/live/stream=0"), "/live");
    EXPECT_EQ(rtsp_stream_path("rtsp://cam/"), "");
    EXPECT_EQ(rtsp_stream_path("rtsp://cam"), "");
}

TEST(ClientReactionKeys, AnRtspRequestAndIts503ShareIdentityAndANewCSeqIsANewRequest) {
    PacketMeta meta;
    const Endpoint client{"198.51.100.7", 50007};
    const auto request = rtsp_client_request(meta, client, "rtsp://cam/Streaming/Channels/101", 3);
    const auto refused = rtsp_client_request(meta, client, "rtsp://cam/Streaming/Channels/101/trackID=1", 3);
    const auto retry = rtsp_client_request(meta, client, "rtsp://cam/Streaming/Channels/101", 4);
    const auto other_client = rtsp_client_request(meta, {"198.51.100.8", 50008}, "rtsp://cam/Streaming/Channels/101", 3);
    EXPECT_EQ(refused.identity, request.identity);
    EXPECT_EQ(refused.call, request.call);
    EXPECT_NE(retry.identity, request.identity);
    EXPECT_EQ(retry.call, request.call);
    EXPECT_NE(other_client.identity, request.identity);
}

TEST(ClientReactionKeys, OnlyFreshRequestsCanReact) {
    SipMessage invite;
    invite.is_request = true;
    invite.method = "INVITE";
    EXPECT_TRUE(may_react(invite));
    for (const char* method : {"ACK", "CANCEL", "OPTIONS"}) {
        SipMessage other = invite;
        other.method = method;
        EXPECT_FALSE(may_react(other)) << method;
    }
    SipMessage in_dialog = invite;
    in_dialog.to_tag = "t1";
    EXPECT_FALSE(may_react(in_dialog));

    RtspMessage describe;
    describe.is_request = true;
    describe.method = "DESCRIBE";
    EXPECT_TRUE(may_react(describe));
    RtspMessage in_session = describe;
    in_session.session = "12345678";
    EXPECT_FALSE(may_react(in_session));
    RtspMessage options = describe;
    options.method = "OPTIONS";
    EXPECT_FALSE(may_react(options));
}

TEST(ClientReactionKeys, ARetransmissionKeepsItsIdentityANewCSeqDoesNot) {
    SipMessage first;
    first.call_id = "c1";
    first.cseq_number = 1;
    first.cseq_method = "INVITE";
    SipMessage again = first;
    SipMessage next = first;
    next.cseq_number = 2;
    EXPECT_EQ(cseq_identity(first), cseq_identity(again));
    EXPECT_NE(cseq_identity(first), cseq_identity(next));
}

}  // namespace diag503
