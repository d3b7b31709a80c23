// Unit tests of the engine: message sequences in, one verdict per 503 out, with matching, dialogs and context.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "sip/sip_engine.hpp"
#include "sip_builders.hpp"

namespace diag503 {
namespace {

using test::call;
using test::Diagnosed;
using test::HasEvidence;
using test::Headers;
using test::IsCause;
using test::Txn;

const Endpoint kClient = test::endpoint("192.0.2.10");
const Endpoint kProxy = test::endpoint("192.0.2.20");
const Endpoint kServer = test::endpoint("198.51.100.5");
constexpr std::int64_t kStartUs = 1700000000LL * 1000000;  // capture start

// Feeds an engine frame by frame, numbering frames from 1, times in seconds since the capture start.
class Capture {
public:
    explicit Capture(const Settings& settings = Settings{}) : engine_(settings) {}

    // `cut_after_bytes`: the capture kept only that much of the message (0: all of it).
    std::optional<Verdict> send(double at_s, const Endpoint& from, const Endpoint& to, const std::string& text,
                                std::uint32_t cut_after_bytes = 0) {
        PacketMeta meta;
        meta.cut_after_bytes = cut_after_bytes;
        meta.frame = ++frame_;
        meta.time_us = kStartUs + test::microseconds(at_s);
        meta.transport = Transport::udp;
        meta.source = from;
        meta.destination = to;
        auto verdict = engine_.observe(meta, test::parse(text));
        if (verdict) verdicts_.push_back(*verdict);
        return verdict;
    }
    std::optional<Verdict> request(double at_s, const Txn& txn, const Endpoint& from = kClient,
                                   const Endpoint& to = kServer) {
        return send(at_s, from, to, test::request_text(txn));
    }
    std::optional<Verdict> respond(double at_s, const Txn& txn, int status, const Headers& extra = {},
                                   const Endpoint& from = kServer, const Endpoint& to = kClient) {
        return send(at_s, from, to, test::response_text(txn, status, extra));
    }
    // A request answered `after_s` later.
    std::optional<Verdict> exchange(double at_s, const Txn& txn, int status, const Headers& extra = {},
                                    double after_s = 0.01) {
        request(at_s, txn);
        return respond(at_s + after_s, txn, status, extra);
    }

    std::uint32_t frame() const { return frame_; }
    const std::vector<Verdict>& verdicts() const { return verdicts_; }
    SipEngine::Counters counters() const { return engine_.counters(); }

private:
    SipEngine engine_;
    std::uint32_t frame_ = 0;
    std::vector<Verdict> verdicts_;
};

// ---- matching requests and responses ----

TEST(SipEngine, OnlyA503GetsAVerdict) {
    Capture capture;
    EXPECT_FALSE(capture.request(0, call(1)));
    EXPECT_FALSE(capture.respond(0.01, call(1), 100));
    EXPECT_FALSE(capture.respond(0.02, call(1), 486));
    EXPECT_FALSE(capture.exchange(1, call(2), 500));
    EXPECT_TRUE(capture.exchange(2, call(3), 503));
}

TEST(SipEngine, ResponseMatchesItsRequestByBranch) {
    Capture capture;
    capture.request(0, call(1));
    capture.request(0.001, call(2));
    const auto verdict = capture.respond(0.05, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->frame, 3u);
    EXPECT_EQ(verdict->request_frame, 1u);
    EXPECT_EQ(verdict->response_time_us, 50000);
    EXPECT_EQ(verdict->server, "198.51.100.5:5060");
    EXPECT_EQ(verdict->method, "INVITE");
    EXPECT_FALSE(verdict->is_retransmission);
}

TEST(SipEngine, ResponseWithAnotherBranchFallsBackToCallIdCSeqAndMethodAtTheSameServer) {
    Capture capture;
    Txn sent = call(1);
    capture.request(0, sent);
    Txn answered = sent;
    answered.vias = {test::via("192.0.2.10:5060", "z9hG4bK-rewritten-by-an-alg")};
    const auto verdict = capture.respond(0.05, answered, 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->request_frame, 1u);
}

TEST(SipEngine, FallbackDoesNotMatchAnotherServersResponse) {
    Capture capture;
    capture.request(0, call(1));
    Txn answered = call(1);
    answered.vias = {test::via("192.0.2.10:5060", "z9hG4bK-other")};
    const auto verdict = capture.respond(0.05, answered, 503, {}, kProxy);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->request_frame, 0u);
}

TEST(SipEngine, RequestWithoutBranchIsMatchedByServerAndCSeq) {
    Capture capture;
    Txn old_client = call(1);
    old_client.vias = {"SIP/2.0/UDP 192.0.2.10:5060"};
    const auto verdict = capture.exchange(0, old_client, 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->request_frame, 1u);
}

TEST(SipEngine, RetransmittedRequestIsCountedAndTimingStartsAtTheFirstCopy) {
    Capture capture;
    for (double at : {0.0, 0.5, 1.5}) capture.request(at, call(1));
    const auto verdict = capture.respond(1.6, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->request_frame, 1u);
    EXPECT_EQ(verdict->response_time_us, 1600000);
    EXPECT_TRUE(HasEvidence(*verdict, "retransmitted the request 2 times"));
}

TEST(SipEngine, Retransmitted503GetsTheSameDiagnosisMarkedAsRetransmission) {
    Capture capture;
    const auto first = capture.exchange(0, call(1), 503, {"Retry-After: 3600"});
    const auto again = capture.respond(0.51, call(1), 503, {"Retry-After: 3600"});
    ASSERT_TRUE(first && again);
    EXPECT_TRUE(IsCause(*again, first->cause));
    EXPECT_EQ(again->confidence, first->confidence);
    EXPECT_FALSE(first->is_retransmission);
    EXPECT_TRUE(again->is_retransmission);
    EXPECT_EQ(again->frame, 3u);
    ASSERT_FALSE(again->evidence.empty());
    EXPECT_EQ(again->evidence[0].sentence, "Retransmission of the 503 in frame 2; same diagnosis.");
    EXPECT_EQ(again->evidence[0].frames, (std::vector<std::uint32_t>{2, 3}));
}

TEST(SipEngine, ProvisionalAnswerIsRememberedForADelayed503) {
    Capture capture;
    capture.request(0, call(1));
    capture.respond(0.005, call(1), 100);
    const auto verdict = capture.respond(4, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure));
    EXPECT_TRUE(HasEvidence(*verdict, "after a provisional answer in frame 2"));
}

TEST(SipEngine, A503WithoutItsRequestStillGetsAVerdict) {
    Capture capture;
    const auto verdict = capture.respond(0, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->frame, 1u);
    EXPECT_EQ(verdict->request_frame, 0u);
    EXPECT_FALSE(verdict->response_time_us);
    EXPECT_EQ(verdict->method, "INVITE");  // from CSeq
    EXPECT_TRUE(HasEvidence(*verdict, "The request was not captured"));
}

TEST(SipEngine, TransactionsOfOneCallWithDifferentCSeqAreKeptApart) {
    Capture capture;
    Txn first = call(1);
    Txn second = test::next_in_call(first, "INVITE");
    capture.request(0, first);
    capture.request(1, second);
    const auto second_answer = capture.respond(1.02, second, 503);
    const auto first_answer = capture.respond(5, first, 503);
    ASSERT_TRUE(first_answer && second_answer);
    EXPECT_EQ(second_answer->request_frame, 2u);
    EXPECT_EQ(first_answer->request_frame, 1u);
    EXPECT_EQ(first_answer->response_time_us, 5000000);
    EXPECT_FALSE(first_answer->is_retransmission);
}

TEST(SipEngine, RetransmissionOfTheRequestAfterTheAnswerDoesNotMakeANewVerdict) {
    Capture capture;
    capture.exchange(0, call(1), 503);
    EXPECT_FALSE(capture.request(0.5, call(1)));
    EXPECT_EQ(capture.verdicts().size(), 1u);
}

// ---- several hops ----

// Client -> proxy -> server; the server refuses and the proxy passes the 503 back. Returns the relayed verdict.
std::optional<Verdict> relay_a_503(Capture& capture, double server_answers_after_s) {
    const Txn at_proxy = call(1);
    const Txn at_server = test::forwarded(at_proxy, "192.0.2.20:5060", "z9hG4bK-proxy-1");
    capture.request(0, at_proxy, kClient, kProxy);
    capture.request(0.002, at_server, kProxy, kServer);
    capture.respond(0.002 + server_answers_after_s, at_server, 503, {}, kServer, kProxy);
    return capture.respond(0.004 + server_answers_after_s, test::relayed(at_server), 503, {}, kProxy, kClient);
}

TEST(SipEngine, RelayedDownstream503IsUpstreamFailureCitingTheDownstreamFrame) {
    Capture capture;
    const auto relayed = relay_a_503(capture, 0.5);
    ASSERT_TRUE(relayed);
    ASSERT_EQ(capture.verdicts().size(), 2u);
    const Verdict& downstream = capture.verdicts()[0];
    EXPECT_EQ(downstream.server, "198.51.100.5:5060");
    EXPECT_EQ(downstream.request_frame, 2u);
    EXPECT_NE(downstream.cause, Cause::upstream_failure);
    EXPECT_EQ(relayed->server, "192.0.2.20:5060");
    EXPECT_EQ(relayed->request_frame, 1u);
    EXPECT_TRUE(IsCause(*relayed, Cause::upstream_failure));
    const Evidence* relay = test::evidence_with(*relayed, "The next hop 198.51.100.5:5060 answered 503");
    ASSERT_NE(relay, nullptr) << test::all_evidence(*relayed);
    EXPECT_EQ(relay->frames, (std::vector<std::uint32_t>{3, 4}));
}

TEST(SipEngine, QuicklyRelayedDownstream503IsStillUpstreamFailure) {
    Capture capture;
    const auto relayed = relay_a_503(capture, 0.008);
    ASSERT_TRUE(relayed);
    EXPECT_TRUE(IsCause(*relayed, Cause::upstream_failure));
}

// Client -> proxy -> a device that never answers (sent twice more, then given up); the proxy says 503.
// `registered_from_device`: the device's user registered through the proxy earlier in the capture.
std::optional<Verdict> forward_to_a_silent_device(Capture& capture, bool registered_from_device) {
    const Endpoint device = test::endpoint("203.0.113.7");
    if (registered_from_device) {
        const Txn registration = call(90, "bob", "bob", "REGISTER");
        capture.request(0, registration, device, kProxy);
        capture.respond(0.001, registration, 200, {"Contact: <sip:bob@203.0.113.7:5060>;expires=3600"}, kProxy, device);
    }
    const Txn at_proxy = call(1, "alice", "bob");
    const Txn at_device = test::forwarded(at_proxy, "192.0.2.20:5060", "z9hG4bK-proxy-1");
    capture.request(10, at_proxy, kClient, kProxy);
    capture.request(10.001, at_device, kProxy, device);
    capture.request(10.5, at_device, kProxy, device);
    capture.request(11.5, at_device, kProxy, device);
    return capture.respond(14, at_proxy, 503, {}, kProxy, kClient);
}

TEST(SipEngine, ASilentHopThatAUserRegisteredFromIsThatUsersStaleRegistration) {
    Capture capture;
    const auto verdict = forward_to_a_silent_device(capture, true);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(Diagnosed(*verdict, Cause::registration_routing, "It is the contact user \"bob\" registered (frame 2): a stale registration"));
}

TEST(SipEngine, ASilentHopNoUserRegisteredFromIsAFailedNextHop) {
    Capture capture;
    const auto verdict = forward_to_a_silent_device(capture, false);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure));
}

TEST(SipEngine, AHopForgottenAtTheServerBoundIsNotNamed) {
    Settings settings;
    settings.max_servers = 2;  // the silent device's context is pushed out by the requests below
    Capture capture(settings);
    const Endpoint device = test::endpoint("203.0.113.7");
    const Txn at_proxy = call(1, "alice", "bob");
    capture.request(10, at_proxy, kClient, kProxy);
    capture.request(10.001, test::forwarded(at_proxy, "192.0.2.20:5060", "z9hG4bK-proxy-1"), kProxy, device);
    for (int other = 2; other <= 4; ++other)
        capture.request(10.1 * other, call(other), kClient, test::endpoint("198.51.100." + std::to_string(50 + other)));
    const auto verdict = capture.respond(14, at_proxy, 503, {}, kProxy, kClient);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(test::all_evidence(*verdict).find("203.0.113.7"), std::string::npos) << test::all_evidence(*verdict);
}

// ---- dialogs ----

TEST(SipEngine, DialogsOpenOnInvite200AndCloseOnBye) {
    Capture capture;
    capture.exchange(0, call(1), 200);
    capture.exchange(1, call(2), 200);
    const auto with_two = capture.exchange(2, call(3), 503);
    capture.request(3, test::next_in_call(call(1), "BYE"));
    const auto with_one = capture.exchange(4, call(4), 503);
    ASSERT_TRUE(with_two && with_one);
    EXPECT_EQ(with_two->sip()->active_dialogs, 2u);
    EXPECT_EQ(with_one->sip()->active_dialogs, 1u);
}

TEST(SipEngine, DialogsPastTheirLifetimeAreNoLongerActive) {
    Settings settings;
    settings.dialog_lifetime_s = 600;
    Capture capture(settings);
    capture.exchange(0, call(1), 200);
    capture.exchange(1, call(2), 200);
    const auto verdict = capture.exchange(1000, call(3), 503);  // no BYE seen; both dialogs are long gone
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->sip()->active_dialogs, 0u);
}

TEST(SipEngine, Retransmitted200DoesNotCountTheDialogTwice) {
    Capture capture;
    capture.exchange(0, call(1), 200);
    capture.respond(0.5, call(1), 200);
    const auto verdict = capture.exchange(1, call(2), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->sip()->active_dialogs, 1u);
}

TEST(SipEngine, RefusalsThatResumeAtTheSameCountAfterACallEndedAreACallCeiling) {
    Capture capture;
    for (int n = 1; n <= 3; ++n) capture.exchange(n, call(n, "user" + std::to_string(n), "pstn"), 200);
    capture.exchange(10, call(10, "user10", "pstn"), 503);
    capture.request(11, test::next_in_call(call(1), "BYE"));           // 2 calls
    capture.exchange(12, call(12, "user12", "pstn"), 200);              // back to 3
    const auto verdict = capture.exchange(13, call(13, "user13", "pstn"), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::capacity_limit));
    EXPECT_TRUE(HasEvidence(*verdict, "a ceiling of 3 concurrent calls"));
}

TEST(SipEngine, A2xxToByeEndsTheCallWhenTheByeWasNotCaptured) {
    Capture capture;
    capture.exchange(0, call(1), 200);
    capture.exchange(1, call(2), 200);
    capture.respond(2, test::next_in_call(call(1), "BYE"), 200);  // only the answer to the BYE was captured
    const auto verdict = capture.exchange(3, call(3), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->sip()->active_dialogs, 1u);
}

// Call limits, licences and channels count a call from when the server accepts it, not from its answer.
TEST(SipEngine, ACallStillRingingCountsAsInProgress) {
    Capture capture;
    capture.exchange(0, call(1), 200);
    capture.request(1, call(2));
    capture.respond(1.01, call(2), 100);
    capture.respond(1.2, call(2), 180);
    const auto verdict = capture.exchange(2, call(3), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->sip()->active_dialogs, 2u);
}

TEST(SipEngine, ARingingCallThatIsAnsweredIsCountedOnce) {
    Capture capture;
    capture.request(0, call(1));
    capture.respond(0.01, call(1), 180);
    capture.respond(1, call(1), 200);
    const auto verdict = capture.exchange(2, call(2), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->sip()->active_dialogs, 1u);
}

TEST(SipEngine, ACallThatFailsWhileRingingNoLongerCounts) {
    Capture capture;
    capture.exchange(0, call(1), 200);
    capture.request(1, call(2));
    capture.respond(1.01, call(2), 180);
    capture.respond(3, call(2), 486);
    const auto verdict = capture.exchange(4, call(3), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->sip()->active_dialogs, 1u);
}

TEST(SipEngine, TheRefusedCallItselfIsNotCountedWhenTheServerSent100TryingFirst) {
    Capture capture;
    capture.exchange(0, call(1), 200);
    capture.exchange(1, call(2), 200);
    capture.request(2, call(3));
    capture.respond(2.001, call(3), 100);
    const auto verdict = capture.respond(2.004, call(3), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->sip()->active_dialogs, 2u);
    EXPECT_TRUE(HasEvidence(*verdict, "2 calls were in progress on the server (answered or being set up), its highest count"));
}

TEST(SipEngine, AReInviteInAnAnsweredCallAddsNoCall) {
    Capture capture;
    capture.exchange(0, call(1), 200);
    const Txn reinvite = test::next_in_call(call(1), "INVITE");
    capture.request(5, reinvite);
    capture.respond(5.01, reinvite, 100);
    capture.respond(5.02, reinvite, 491);  // a refused re-INVITE leaves the call up
    const auto verdict = capture.exchange(6, call(2), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->sip()->active_dialogs, 1u);
}

TEST(SipEngine, ACallWhoseFinalAnswerNeverCameStopsCountingWithItsTransaction) {
    Settings settings;
    settings.transaction_lifetime_s = 60;
    Capture capture(settings);
    capture.request(0, call(1));
    capture.respond(0.01, call(1), 180);  // never answered in the capture
    const auto verdict = capture.exchange(200, call(2), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->sip()->active_dialogs, 0u);
}

// ---- hostile captures and bounds ----

TEST(SipEngine, A503TimeStampedBeforeItsRequestIgnoresTiming) {
    Capture capture;
    capture.request(10, call(1));
    const auto verdict = capture.respond(9, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->request_frame, 1u);
    EXPECT_FALSE(verdict->response_time_us);
    EXPECT_TRUE(HasEvidence(*verdict, "timing is ignored"));
}

TEST(SipEngine, A503CapturedBeforeItsRequestDoesNotCrash) {
    Capture capture;
    const auto verdict = capture.respond(1, call(1), 503);
    capture.request(0.9, call(1));
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->request_frame, 0u);
    EXPECT_TRUE(capture.exchange(2, call(2), 503));
}

TEST(SipEngine, TransactionBoundEvictsAndStillGivesOneVerdictPer503) {
    Settings settings;
    settings.max_transactions = 2;
    Capture capture(settings);
    for (int n = 1; n <= 20; ++n) capture.request(n * 0.01, call(n));
    for (int n = 1; n <= 20; ++n) capture.respond(1 + n * 0.01, call(n), 503);
    EXPECT_EQ(capture.verdicts().size(), 20u);
    EXPECT_GT(capture.counters().transactions_evicted, 0u);
    for (const Verdict& verdict : capture.verdicts()) EXPECT_FALSE(verdict.is_retransmission);
    const auto fresh = capture.exchange(5, call(99), 503);
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->request_frame, capture.frame() - 1);
}

TEST(SipEngine, A503WhoseRequestWasForgottenAtTheBoundSaysSo) {
    Settings settings;
    settings.max_transactions = 2;
    Capture capture(settings);
    for (int n = 1; n <= 3; ++n) capture.request(n * 0.01, call(n));
    const auto verdict = capture.respond(1, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->request_frame, 0u);
    EXPECT_TRUE(HasEvidence(*verdict, "reached its bound of 2 transactions (preference diag503.max_transactions)"))
        << test::all_evidence(*verdict);
}

TEST(SipEngine, A503WithoutRequestBeforeAnyBoundIsReachedSaysTheRequestWasNotCaptured) {
    Capture capture;
    const auto verdict = capture.respond(1, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "The request was not captured"));
}

TEST(SipEngine, ServerBoundEvictsOldServers) {
    Settings settings;
    settings.max_servers = 2;
    Capture capture(settings);
    for (int n = 1; n <= 5; ++n)
        capture.respond(n, call(n), 503, {}, test::endpoint("198.51.100." + std::to_string(n)));
    EXPECT_EQ(capture.verdicts().size(), 5u);
    EXPECT_GT(capture.counters().servers_evicted, 0u);
}

// ---- scenarios end to end ----

TEST(SipEngine, A503FromAServerWhoseContextWasForgottenAtTheBoundSaysSo) {
    Settings settings;
    settings.max_servers = 2;
    Capture capture(settings);
    const Endpoint first = test::endpoint("198.51.100.1");
    capture.respond(1, call(1), 503, {}, first);
    capture.respond(2, call(2), 503, {}, test::endpoint("198.51.100.2"));
    capture.respond(3, call(3), 503, {}, test::endpoint("198.51.100.3"));  // pushes the first server out
    const auto again = capture.respond(4, call(4), 503, {}, first);
    ASSERT_TRUE(again);
    EXPECT_TRUE(HasEvidence(*again, "earlier history was forgotten at the bound of 2 servers"));
    EXPECT_TRUE(HasEvidence(*again, "diag503.max_servers"));
}

TEST(SipEngine, A503WithNoServerEvictedSaysNothingAboutBounds) {
    Capture capture;
    const auto verdict = capture.exchange(0, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "forgotten"));
}

TEST(SipEngine, ActiveCallsForgottenAtTheDialogBoundAreNamedInTheServersNext503) {
    Settings settings;
    settings.max_dialogs = 2;
    Capture capture(settings);
    for (int n = 1; n <= 4; ++n) capture.exchange(n * 0.1, call(n), 200);  // four calls, no BYE: two pushed out
    const auto verdict = capture.exchange(1, call(9), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "2 active calls of this server were forgotten at the bound of 2 dialogs"));
}

TEST(SipEngine, ACallAnsweredByMoreServersThanTheLegBoundCountsOnlyTheFirstLegs) {
    Capture capture;
    const auto server = [](int n) { return test::endpoint("198.51.100." + std::to_string(n)); };
    const int legs = static_cast<int>(SipEngine::kMaxLegsPerCall) + 4;
    for (int n = 1; n <= legs; ++n) capture.respond(n * 0.001, call(1), 200, {}, server(n));
    const auto counted_leg = capture.respond(1, call(2), 503, {}, server(1));
    const auto leg_past_the_bound = capture.respond(1, call(3), 503, {}, server(legs));
    ASSERT_TRUE(counted_leg && leg_past_the_bound);
    EXPECT_EQ(counted_leg->sip()->active_dialogs, 1u);
    EXPECT_EQ(leg_past_the_bound->sip()->active_dialogs, 0u);
}

TEST(SipEngine, OneUserRefusedWhileOthersAreServedIsRegistrationRouting) {
    Capture capture;
    capture.exchange(0, call(1, "alice", "carol"), 200);
    capture.exchange(1, call(2, "dave", "erin"), 200);
    capture.exchange(2, call(3, "frank", "gina"), 200);
    capture.exchange(3, call(4, "grace", "bob"), 503);
    const auto verdict = capture.exchange(4, call(5, "henry", "bob"), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::registration_routing));
    EXPECT_EQ(verdict->sip()->scope, Scope::single_user);
    EXPECT_TRUE(HasEvidence(*verdict, "Only user \"bob\" is refused (2 503s)"));
}

// A PBX challenges every INVITE of its users before it looks at the call: the challenge to the
// refused user's first INVITE is not that user being served.
TEST(SipEngine, ADigestChallengeIsNotService) {
    Capture capture;
    capture.exchange(0, call(1, "alice", "carol"), 200);
    capture.exchange(1, call(2, "dave", "erin"), 200);
    capture.exchange(2, call(3, "frank", "gina"), 200);
    for (int n : {4, 5}) {
        Txn challenged = call(n, "grace", "bob");
        capture.exchange(n, challenged, 401);
        challenged.cseq = 2;
        challenged.vias = {test::via("192.0.2.10:5060", "z9hG4bK-auth-" + std::to_string(n))};
        capture.exchange(n + 0.1, challenged, 503);
    }
    ASSERT_EQ(capture.verdicts().size(), 2u);
    const Verdict& second = capture.verdicts().back();
    EXPECT_EQ(second.sip()->scope, Scope::single_user);
    EXPECT_TRUE(HasEvidence(second, "Only user \"bob\" is refused (2 503s)"));
}

TEST(SipEngine, LongRetryAfterForEveryoneIsMaintenance) {
    Capture capture;
    const Headers long_retry = {"Retry-After: 3600"};
    capture.exchange(0, call(1, "alice", "bob", "INVITE"), 503, long_retry);
    capture.exchange(1, call(2, "carol", "carol", "REGISTER"), 503, long_retry);
    capture.exchange(2, call(3, "dave", "erin", "OPTIONS"), 503, long_retry);
    const auto verdict = capture.exchange(3, call(4, "frank", "gina", "INVITE"), 503, long_retry);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::maintenance));
    EXPECT_EQ(verdict->sip()->scope, Scope::all_users);
    EXPECT_EQ(verdict->retry_after_seconds, 3600u);
    EXPECT_TRUE(HasEvidence(*verdict, "Every request in the last 60 s was refused"));
}

TEST(SipEngine, ShortRetryAfterDuringASurgeWithOthersServedIsOverload) {
    Capture capture;
    auto options = [](int n) { return call(n, "u" + std::to_string(n), "svc", "OPTIONS"); };
    for (int n = 0; n <= 10; ++n) capture.exchange(n * 2.0, options(n), 200);
    std::vector<Txn> burst;
    for (int i = 0; i < 12; ++i) {
        burst.push_back(options(100 + i));
        capture.request(30 + i * 0.05, burst.back());
    }
    for (int i = 0; i < 6; ++i) capture.respond(30.6 + i * 0.01, burst[i], 200);
    for (int i = 6; i < 12; ++i) capture.respond(30.7 + i * 0.01, burst[i], 503, {"Retry-After: 5"});
    ASSERT_EQ(capture.verdicts().size(), 6u);
    const Verdict& verdict = capture.verdicts().back();
    EXPECT_TRUE(IsCause(verdict, Cause::overload));
    EXPECT_EQ(verdict.sip()->scope, Scope::several_users);
    EXPECT_TRUE(HasEvidence(verdict, "other requests were still served: load shedding"));
}

TEST(SipEngine, OverloadControlSeenEarlierSupportsALater503) {
    Capture capture;
    Txn signalled = call(1);
    signalled.vias = {test::via("192.0.2.10:5060", "z9hG4bK-1") + ";oc=50;oc-validity=5000"};
    capture.exchange(0, signalled, 200);
    const auto verdict = capture.exchange(1, call(2, "carol", "dave"), 503, {"Retry-After: 20"});
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::overload));
    EXPECT_TRUE(HasEvidence(*verdict, "signalled RFC 7339 overload control shortly before (frame 2)"));
}

TEST(SipEngine, EchoedBareOcCapabilityIsNoOverloadSignal) {
    // RFC 7339: the client's valueless "oc" only advertises support; a server that does not do overload
    // control echoes it in every response.
    Capture capture;
    Txn capable = call(1);
    capable.vias = {test::via("192.0.2.10:5060", "z9hG4bK-1") + ";oc"};
    capture.exchange(0, capable, 200);
    Txn refused = call(2, "carol", "dave");
    refused.vias = {test::via("192.0.2.10:5060", "z9hG4bK-2") + ";oc"};
    const auto verdict = capture.exchange(1, refused, 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "RFC 7339"));
}

TEST(SipEngine, MalformedResponseIsFlagged) {
    Capture capture;
    const auto verdict = capture.send(0, kServer, kClient, "SIP/2.0 503 Service Unavailable\r\nServer: x\r\n\r\n");
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(verdict->malformed);
    EXPECT_FALSE(capture.exchange(1, call(1), 200));
}

bool mentions(const Verdict& verdict, const std::string& words) {
    for (const auto& item : verdict.evidence)
        if (item.sentence.find(words) != std::string::npos) return true;
    return false;
}

TEST(SipEngine, ResponsesWithoutCallIdOrCSeqAreNeverMatchedToEachOtherOrToARequest) {
    Capture capture;
    const std::string cut = "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/UDP 192.0.2.10:5060\r\n";
    capture.send(0, kClient, kServer, "INVITE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060\r\n");
    const auto first = capture.send(0.01, kServer, kClient, cut, static_cast<std::uint32_t>(cut.size()));
    const auto second = capture.send(0.02, kServer, kClient, cut, static_cast<std::uint32_t>(cut.size()));
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->request_frame, 0u);
    EXPECT_FALSE(second->is_retransmission);
    EXPECT_TRUE(mentions(*second, "cannot be identified"));
}

TEST(SipEngine, A503CutByTheCaptureIsMarkedCutNotMalformedAndMakesNoClaimAboutAMissingRetryAfter) {
    Capture capture;
    const std::string text = test::response_text(call(1), 503);
    capture.request(0, call(1));
    const auto verdict = capture.send(0.01, kServer, kClient, text.substr(0, 60), 60);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(verdict->cut);
    EXPECT_FALSE(verdict->malformed);
    EXPECT_TRUE(mentions(*verdict, "kept only the first 60 bytes"));
    EXPECT_FALSE(mentions(*verdict, "No Retry-After"));
}

TEST(SipEngine, ACopyOfARequestCapturedWithinAMillisecondIsNoRetransmission) {
    Capture capture;
    capture.request(0, call(1));
    capture.request(0.0001, call(1));
    const auto verdict = capture.respond(0.01, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(mentions(*verdict, "retransmitted the request"));
}

TEST(SipEngine, ACopyOfA503CapturedWithinAMillisecondIsCalledASecondCopy) {
    Capture capture;
    capture.exchange(0, call(1), 503);
    const auto copy = capture.respond(0.0103, call(1), 503);
    ASSERT_TRUE(copy);
    EXPECT_TRUE(copy->is_retransmission);
    EXPECT_TRUE(mentions(*copy, "Second copy of the 503"));
}

}  // namespace
}  // namespace diag503
