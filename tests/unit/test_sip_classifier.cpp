// Unit tests of the classifier, one rule at a time: facts about one 503 in, cause and evidence out.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sip/sip_classifier.hpp"
#include "sip_builders.hpp"

namespace diag503 {
namespace {

using test::Diagnosed;
using test::HasEvidence;
using test::Headers;
using test::IsCause;

constexpr std::uint32_t k503Frame = 50;
constexpr std::int64_t kAt = 1000 * 1000000LL;  // the 503's time: 1000 s

// One 503 and the facts around it; each setter states one circumstance.
struct Case {
    SipMessage response;
    SipFacts facts;
    Settings settings;

    explicit Case(const Headers& headers = {}, const std::string& phrase = "Service Unavailable")
        : response(test::parsed_503(headers, phrase)) {
        facts.frame = k503Frame;
        facts.time_us = kAt;
        facts.server = "198.51.100.5:5060";
        facts.method = "INVITE";
    }
    Case& request_answered_after(double seconds, std::uint32_t request_frame = 40) {
        facts.request.frame = request_frame;
        facts.request.time_us = kAt - test::microseconds(seconds);
        return *this;
    }
    Case& provisional(std::uint32_t frame) {
        facts.request.provisional_frame = frame;
        facts.request.provisional_time_us = facts.request.time_us + 10000;
        return *this;
    }
    Case& surge(std::uint32_t recent, double baseline_per_second, int baseline_seconds, std::uint32_t served) {
        facts.load.recent_requests = recent;
        facts.load.baseline_per_second = baseline_per_second;
        facts.load.baseline_seconds = baseline_seconds;
        facts.load.served_during_surge = served;
        return *this;
    }
    Case& dialogs(std::uint32_t active, std::uint32_t peak) {
        facts.calls.active_dialogs = active;
        facts.calls.peak_active_dialogs = peak;
        return *this;
    }
    Case& previous_503(std::uint32_t frame, std::uint32_t dialogs_then) {
        facts.calls.previous_503_frame = frame;
        facts.calls.dialogs_at_previous_503 = dialogs_then;
        if (frame != 0 && dialogs_then < facts.calls.lowest_dialogs_at_a_503) {
            facts.calls.lowest_dialogs_at_a_503 = dialogs_then;
            facts.calls.lowest_dialogs_503_frame = frame;
        }
        return *this;
    }
    // Earlier refusals at this same call count, the first `seconds_ago` before this 503.
    Case& count_held_since(double seconds_ago, std::uint32_t earlier_refusals, std::uint32_t first_frame = 30) {
        facts.calls.plateau_first_frame = first_frame;
        facts.calls.plateau_first_us = facts.time_us - static_cast<std::int64_t>(seconds_ago * 1e6);
        facts.calls.plateau_refusals = earlier_refusals;
        return *this;
    }
    // The most calls in progress at once since the earlier 503 at the lowest count.
    Case& carried_since_earlier_503(std::uint32_t most) {
        facts.calls.peak_since_lowest_503 = most;
        return *this;
    }
    Case& calls_ended_since_previous_503() {
        facts.calls.dialogs_dipped_since_previous_503 = true;
        return *this;
    }
    Case& single_user(const std::string& user, std::uint32_t failures, std::uint32_t others_served) {
        facts.scope.kind = ScopeFacts::Kind::single_user;
        facts.scope.common_user = hash_text(user);
        facts.scope.failures_of_common_user = facts.scope.refused_in_window = failures;
        facts.scope.users_served = others_served;
        facts.scope.served_in_window = others_served;
        facts.scope.first_refused_frame = 20;
        facts.scope.last_served_frame = 45;
        facts.common_user_name = user;
        return *this;
    }
    Case& all_users(std::uint32_t refused, std::uint32_t users, std::uint32_t methods) {
        facts.scope.kind = ScopeFacts::Kind::all_users;
        facts.scope.refused_in_window = refused;
        facts.scope.users_refused = users;
        facts.scope.methods_refused = methods;
        facts.scope.first_refused_frame = 10;
        return *this;
    }
    Case& downstream_failure(std::uint32_t frame, int status, const std::string& hop) {
        facts.downstream.frame = frame;
        facts.downstream.status = status;
        facts.downstream.hop = hop;
        return *this;
    }
    Verdict verdict() {
        facts.response = &response;
        return classify_sip(facts, settings);
    }
};

// The confidence the verdict gives to `cause`: 0 when it names another cause.
int support_for(const Verdict& verdict, Cause cause) { return verdict.cause == cause ? verdict.confidence : 0; }

// ---- phrases ----

TEST(ClassifierPhrases, EachCauseHasPhrasesThatNameIt) {
    const std::vector<std::pair<std::string, Cause>> table = {
        {"DNS SRV lookup failed for sip.carrier.example", Cause::dns_failure},
        {"NXDOMAIN", Cause::dns_failure},
        {"TLS handshake failed", Cause::tls_failure},
        {"Certificate expired", Cause::tls_failure},
        {"Database unavailable", Cause::database_failure},
        {"PostgreSQL connection refused", Cause::database_failure},
        {"Under Maintenance", Cause::maintenance},
        {"Server shutting down", Cause::maintenance},
        {"Maximum calls reached", Cause::capacity_limit},
        {"License limit exceeded", Cause::capacity_limit},
        {"Server overloaded", Cause::overload},
        {"Rate limit exceeded", Cause::overload},
        {"No route to destination", Cause::upstream_failure},
        {"Gateway timeout", Cause::upstream_failure},
    };
    for (const auto& [phrase, cause] : table) EXPECT_EQ(cause_of_phrase(phrase), cause) << phrase;
}

TEST(ClassifierPhrases, TheMostSpecificCauseWinsWhenAPhraseNamesSeveral) {
    EXPECT_EQ(cause_of_phrase("DNS SRV lookup failed for carrier trunk"), Cause::dns_failure);
    EXPECT_EQ(cause_of_phrase("TLS handshake to gateway timed out"), Cause::tls_failure);
}

TEST(ClassifierPhrases, GenericPhrasesNameNothing) {
    EXPECT_EQ(cause_of_phrase("Service Unavailable"), std::nullopt);
    EXPECT_EQ(cause_of_phrase(""), std::nullopt);
}

TEST(Classifier, ReasonPhraseNamingACauseDecides) {
    EXPECT_TRUE(Diagnosed(Case({}, "Service Unavailable - Database Error").verdict(), Cause::database_failure,
                          "Reason phrase \"Service Unavailable - Database Error\" names the cause"));
}

TEST(Classifier, DnsFailureTowardACarrierIsDnsNotUpstream) {
    EXPECT_TRUE(
        Diagnosed(Case({"Warning: 399 sbc.example.com \"DNS SRV lookup failed for carrier.example.net\""}).verdict(),
                  Cause::dns_failure, "Warning 399 from sbc.example.com"));
}

TEST(Classifier, VendorReasonHeaderNamingACauseDecides) {
    EXPECT_TRUE(IsCause(Case({"X-Asterisk-HangupCause: Normal Circuit Congestion"}).verdict(), Cause::capacity_limit));
}

TEST(Classifier, ReasonTextWithoutCauseIsReadAsAPhrase) {
    EXPECT_TRUE(IsCause(Case({"Reason: SIP;text=\"TLS certificate rejected\""}).verdict(), Cause::tls_failure));
}

// ---- Q.850 ----

TEST(ClassifierQ850, NoCircuitOrCongestionAloneIsTooWeakToNameACause) {
    // Asterisk sends 34 for every failed dial and 42 for its load limit: a vendor mapping, not the cause.
    for (int q850 : {34, 42}) {
        const Verdict verdict = Case({"Reason: Q.850;cause=" + std::to_string(q850)}).verdict();
        EXPECT_TRUE(IsCause(verdict, Cause::unknown)) << "Q.850 cause " << q850;
        EXPECT_TRUE(HasEvidence(verdict, "no free circuit or congestion, as the server maps it"));
    }
}

TEST(ClassifierQ850, NoCircuitWithARefusalAtOnceAtTheCallPeakIsCapacityLimit) {
    const Verdict verdict =
        Case({"Reason: Q.850;cause=34"}).request_answered_after(0.001).dialogs(8, 8).verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::capacity_limit)) << test::all_evidence(verdict);
}

// Asterisk sends 42 at its load limit (maxload) as at its call limit (maxcalls): only the call count
// tells them apart, and a limit on concurrent calls cannot refuse with none up.
TEST(ClassifierQ850, CongestionWithNoCallUpOnAServerSeenCarryingCallsIsLoad) {
    Case refused_at_zero({"Reason: Q.850;cause=42"});
    refused_at_zero.request_answered_after(0.001).dialogs(0, 3);
    refused_at_zero.facts.onward_requests_seen = true;
    EXPECT_TRUE(Diagnosed(refused_at_zero.verdict(), Cause::overload, "no call up on the server"));
}

TEST(ClassifierQ850, CongestionWithNoCallUpIsNotReadAsLoadWhenTheServersOtherLegsAreUnseen) {
    // A capture of one client's side: the server's other calls may fill its limit unseen.
    Case client_side({"Reason: Q.850;cause=42"});
    client_side.request_answered_after(0.001).dialogs(0, 3);
    EXPECT_FALSE(IsCause(client_side.verdict(), Cause::overload));
}

// Asterisk writes 34 for any failed Dial() and for Congestion(); its own limits carry 42.
TEST(ClassifierQ850, AsteriskNoCircuitSeenFromTheClientSideIsNoCapacityLimit) {
    const Verdict verdict = Case({"Server: Asterisk PBX 22.10.1", "Reason: Q.850;cause=34"}).request_answered_after(0.002).verdict();
    EXPECT_TRUE(Diagnosed(verdict, Cause::unknown, "a capture on the server would show what it met"));
    EXPECT_TRUE(HasEvidence(verdict, "Asterisk's word for a failed dial"));
}

// Asterisk writes 3 when Dial() found no usable contact: where the call could not go, not why.
TEST(ClassifierQ850, AsteriskNoRouteAloneIsTooWeakToNameACause) {
    const Verdict asterisk = Case({"Server: Asterisk PBX 22.10.1", "Reason: Q.850;cause=3"}).request_answered_after(0.002).verdict();
    EXPECT_TRUE(IsCause(asterisk, Cause::unknown));
    EXPECT_TRUE(HasEvidence(asterisk, "Asterisk's word for a destination with no usable contact"));
    const Verdict other = Case({"Server: ExampleSBC 1.0", "Reason: Q.850;cause=3"}).request_answered_after(0.002).verdict();
    EXPECT_TRUE(IsCause(other, Cause::upstream_failure));
}

TEST(ClassifierQ850, TheSameNoCircuitFromAnotherVendorStillLeansToCapacity) {
    const Verdict verdict = Case({"Server: ExampleSBC 1.0", "Reason: Q.850;cause=34"}).request_answered_after(0.002).verdict();
    EXPECT_FALSE(HasEvidence(verdict, "Asterisk's word for a failed dial"));
}

TEST(ClassifierQ850, AProxyRelayingItsNextHopsRefusalAtItsCallPeakIsNotAtACeiling) {
    // An SBC in front of a PBX at its call limit: the SBC's own count says nothing of the refusal.
    Case relay({"Reason: Q.850;cause=42"});
    relay.request_answered_after(0.005).dialogs(3, 3);
    relay.facts.downstream.frame = 47;
    relay.facts.downstream.status = 503;
    relay.facts.downstream.hop = "10.20.0.10:5060";
    const Verdict verdict = relay.verdict();
    EXPECT_FALSE(HasEvidence(verdict, "its highest count in the capture"));
    EXPECT_TRUE(IsCause(verdict, Cause::upstream_failure));
}

TEST(ClassifierQ850, NetworkFailuresAreUpstreamFailure) {
    for (int q850 : {38, 41, 47, 58, 88}) {
        const Verdict verdict = Case({"Reason: Q.850;cause=" + std::to_string(q850)}).verdict();
        EXPECT_TRUE(IsCause(verdict, Cause::upstream_failure)) << "Q.850 cause " << q850;
    }
}

TEST(ClassifierQ850, UndefinedCauseValueNamesNoCause) {
    EXPECT_EQ(cause_of_q850(999), std::nullopt);
    EXPECT_TRUE(
        Diagnosed(Case({"Reason: Q.850;cause=999"}).verdict(), Cause::unknown, "not a defined Q.850 cause value"));
}

TEST(ClassifierQ850, NormalClearingIsNotACauseOfUnavailability) {
    EXPECT_TRUE(Diagnosed(Case({"Reason: Q.850;cause=16"}).verdict(), Cause::unknown,
                          "does not point at a cause of unavailability"));
}

TEST(ClassifierQ850, SipReasonIsCarriedAlongNotACause) {
    EXPECT_TRUE(Diagnosed(Case({"Reason: SIP;cause=503;text=\"Service Unavailable\""}).verdict(), Cause::unknown,
                          "it does not name a Q.850 cause"));
}

// ---- Retry-After ----

TEST(ClassifierRetryAfter, LongRetryAfterIsMaintenance) {
    EXPECT_TRUE(Diagnosed(Case({"Retry-After: 3600"}).verdict(), Cause::maintenance, "Retry-After: 3600 s is long"));
}

TEST(ClassifierRetryAfter, ShortRetryAfterContributesToOverload) {
    const Verdict verdict = Case({"Retry-After: 5"}).verdict();
    EXPECT_TRUE(HasEvidence(verdict, "Retry-After: 5 s is short"));
    EXPECT_GT(support_for(Case({"Retry-After: 5"}).surge(20, 0.5, 30, 5).verdict(), Cause::overload),
              support_for(Case().surge(20, 0.5, 30, 5).verdict(), Cause::overload));
}

TEST(ClassifierRetryAfter, MediumRetryAfterIsOnlyNoted) {
    EXPECT_TRUE(Diagnosed(Case({"Retry-After: 120"}).verdict(), Cause::unknown,
                          "between a transient pause and planned downtime"));
}

TEST(ClassifierRetryAfter, InvalidRetryAfterIsNotedAndIgnored) {
    EXPECT_TRUE(Diagnosed(Case({"Retry-After: soon"}).verdict(), Cause::unknown,
                          "Retry-After \"soon\" is not a valid delta-seconds value"));
}

TEST(ClassifierRetryAfter, RetryAfterBeyond32BitsCountsAsLongAndSaysSo) {
    EXPECT_TRUE(Diagnosed(Case({"Retry-After: 99999999999999999999"}).verdict(), Cause::maintenance,
                          "Retry-After: 4294967295 s (sent as \"99999999999999999999\", beyond 2^32-1)"));
}

TEST(ClassifierRetryAfter, ConflictingRetryAfterHeadersAreNotTrusted) {
    EXPECT_TRUE(Diagnosed(Case({"Retry-After: 5", "Retry-After: 3600"}).verdict(), Cause::unknown,
                          "Retry-After is repeated with different values (5, 3600); neither is trusted."));
}

TEST(ClassifierRetryAfter, MissingRetryAfterCitesRfc3261) {
    EXPECT_TRUE(HasEvidence(Case().verdict(), "RFC 3261 §21.5.4"));
}

// ---- RFC 7339 overload control ----

TEST(Classifier, OverloadControlOnTheTopViaIsOverload) {
    test::Txn txn;
    txn.vias = {"SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;oc=30;oc-algo=\"loss\";oc-validity=1000;oc-seq=17"};
    Case c;
    c.response = test::parse(test::response_text(txn, 503));
    EXPECT_TRUE(Diagnosed(c.verdict(), Cause::overload, "reduce traffic by 30% (oc-algo loss)"));
}

TEST(Classifier, BareOcOnViaOnlyAdvertisesSupportAndIsNoOverloadSignal) {
    // RFC 7339: a client adds a valueless "oc" to its Via to say it supports overload control;
    // a server that does not take part echoes it back unchanged.
    test::Txn txn;
    txn.vias = {"SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;oc"};
    Case c;
    c.response = test::parse(test::response_text(txn, 503));
    EXPECT_TRUE(IsCause(c.verdict(), Cause::unknown));
}

TEST(Classifier, RecentOverloadSignalFromTheServerSupportsOverload) {
    Case c({"Retry-After: 10"});
    c.facts.overload_signal_frame = 44;
    EXPECT_TRUE(
        Diagnosed(c.verdict(), Cause::overload, "signalled RFC 7339 overload control shortly before (frame 44)"));
}

// ---- timing ----

TEST(ClassifierTiming, DelayedAnswerAfter100TryingIsUpstreamFailure) {
    const Verdict verdict = Case().request_answered_after(4.5).provisional(41).verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::upstream_failure));
    const Evidence* delayed = test::evidence_with(verdict, "after a provisional answer in frame 41");
    ASSERT_NE(delayed, nullptr) << test::all_evidence(verdict);
    EXPECT_EQ(delayed->frames, (std::vector<std::uint32_t>{40, 41, k503Frame}));
}

TEST(ClassifierTiming, ImmediateAnswerArguesAgainstUpstream) {
    const Headers upstream_phrase = {"Warning: 399 sbc \"next hop unreachable\""};
    const Verdict unhurried = Case(upstream_phrase).verdict();
    const Verdict immediate = Case(upstream_phrase).request_answered_after(0.02).verdict();
    EXPECT_TRUE(IsCause(unhurried, Cause::upstream_failure));
    EXPECT_LT(support_for(immediate, Cause::upstream_failure), support_for(unhurried, Cause::upstream_failure));
    EXPECT_TRUE(HasEvidence(immediate, "refused at once"));
}

TEST(ClassifierTiming, InBetweenAnswerIsOnlyNoted) {
    EXPECT_TRUE(HasEvidence(Case().request_answered_after(0.5).verdict(), "neither an immediate refusal"));
}

TEST(ClassifierTiming, MissingRequestIsSaid) {
    const Verdict verdict = Case().verdict();
    EXPECT_TRUE(HasEvidence(verdict, "The request was not captured"));
    EXPECT_TRUE(HasEvidence(verdict, "request not captured"));
}

TEST(ClassifierTiming, AnswerStampedBeforeItsRequestIgnoresTiming) {
    EXPECT_TRUE(Diagnosed(Case().request_answered_after(-3).verdict(), Cause::unknown,
                          "before its request (out-of-order capture); timing is ignored"));
}

TEST(ClassifierTiming, RetransmittedRequestIsNoted) {
    Case c;
    c.request_answered_after(1.5).facts.request.retransmissions = 2;
    EXPECT_TRUE(HasEvidence(c.verdict(), "retransmitted the request 2 times"));
}

// ---- load, dialogs, scope ----

TEST(Classifier, ShortRetryAfterWithSurgeWhileOthersServedIsOverload) {
    const Verdict verdict = Case({"Retry-After: 5"}).surge(20, 0.5, 30, 6).verdict();
    EXPECT_TRUE(Diagnosed(verdict, Cause::overload, "Request rate at the server surged to 10.0/s"));
    EXPECT_TRUE(HasEvidence(verdict, "while 6 other requests were still served: load shedding"));
}

TEST(Classifier, SurgeWithoutServedRequestsIsWeakerEvidence) {
    EXPECT_LT(support_for(Case({"Retry-After: 5"}).surge(20, 0.5, 30, 0).verdict(), Cause::overload),
              support_for(Case({"Retry-After: 5"}).surge(20, 0.5, 30, 6).verdict(), Cause::overload));
}

TEST(Classifier, SteadyRateIsNoSurge) {
    const Verdict verdict = Case().surge(10, 5, 30, 6).verdict();
    EXPECT_FALSE(HasEvidence(verdict, "surged"));
}

TEST(Classifier, AFewRequestsInOneSecondAtALowUsualRateAreNoSurge) {
    // 6 requests in 2 s against 1/s: three times the rate, but one window in sixty holds as many by chance.
    EXPECT_FALSE(HasEvidence(Case().surge(6, 1.0, 30, 2).verdict(), "surged"));
}

TEST(Classifier, TheSameRiseThatChanceCannotGiveIsASurge) {
    EXPECT_TRUE(HasEvidence(Case().surge(6, 0.1, 30, 2).verdict(), "surged to 3.0/s against a median of 0.1/s"));
    EXPECT_TRUE(HasEvidence(Case().surge(60, 10, 30, 2).verdict(), "surged to 30.0/s against a median of 10.0/s"));
}

TEST(Classifier, TooLittleBaselineHistoryIsNoSurge) {
    EXPECT_FALSE(HasEvidence(Case().surge(20, 0, 3, 6).verdict(), "surged"));
}

TEST(Classifier, RefusalsResumingAtTheSameCountAfterCallsEndedAreACeiling) {
    const Verdict verdict = Case().dialogs(30, 30).previous_503(33, 30).calls_ended_since_previous_503().verdict();
    EXPECT_TRUE(Diagnosed(verdict, Cause::capacity_limit, "30 calls were in progress on the server (answered or being set up), its highest count"));
    const Evidence* ceiling = test::evidence_with(verdict, "a ceiling of 30 concurrent calls");
    ASSERT_NE(ceiling, nullptr) << test::all_evidence(verdict);
    EXPECT_EQ(ceiling->frames, (std::vector<std::uint32_t>{33, k503Frame}));
}

TEST(Classifier, ConsecutiveRefusalsInABurstDoNotConfirmACeiling) {
    // No call ended between the two 503s: the second shows nothing the first did not.
    const Verdict verdict = Case().dialogs(30, 30).previous_503(33, 30).verdict();
    EXPECT_TRUE(HasEvidence(verdict, "30 calls were in progress"));
    EXPECT_FALSE(HasEvidence(verdict, "a ceiling of")) << test::all_evidence(verdict);
}

TEST(Classifier, RefusalsWhileTheCallCountHoldsForSecondsAreACeiling) {
    const Verdict verdict = Case().dialogs(5, 5).previous_503(33, 5).count_held_since(3.5, 7).verdict();
    EXPECT_TRUE(Diagnosed(verdict, Cause::capacity_limit, "5 calls were in progress"));
    EXPECT_TRUE(HasEvidence(verdict, "The count held at 5 calls through 8 refusals over 3.500 s since frame 30"));
}

TEST(Classifier, ABurstOfRefusalsWithinARateLimitWindowIsNoCeiling) {
    const Verdict verdict = Case().dialogs(5, 5).previous_503(33, 5).count_held_since(0.4, 5).verdict();
    EXPECT_FALSE(HasEvidence(verdict, "a ceiling of")) << test::all_evidence(verdict);
}

TEST(Classifier, ARelayedRefusalIsNotThisServersOwnCapacity) {
    const Verdict verdict = Case().dialogs(30, 30).previous_503(33, 30).calls_ended_since_previous_503()
                                .downstream_failure(31, 503, "127.0.0.21:5060").request_answered_after(0.01).verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::upstream_failure)) << test::all_evidence(verdict);
}

TEST(Classifier, DialogsBelowThePeakAreNoCeiling) {
    EXPECT_FALSE(HasEvidence(Case().dialogs(20, 30).previous_503(33, 20).verdict(), "calls were active"));
}

TEST(Classifier, DialogCeilingOnlyConcernsInvite) {
    Case c;
    c.dialogs(30, 30).previous_503(33, 30).facts.method = "REGISTER";
    EXPECT_TRUE(IsCause(c.verdict(), Cause::unknown));
}

TEST(Classifier, OneUserRefusedWhileOthersServedIsRegistrationRouting) {
    const Verdict verdict = Case().single_user("bob", 3, 5).verdict();
    EXPECT_TRUE(Diagnosed(verdict, Cause::registration_routing, "Only user \"bob\" is refused (3 503s)"));
    EXPECT_TRUE(HasEvidence(verdict, "5 other users"));
}

TEST(Classifier, OneCallerThrottledWithShortRetryAfterIsOverloadNotRegistration) {
    Case throttled({"Retry-After: 5"});
    throttled.single_user("alice", 3, 5).facts.common_user_is_caller = true;
    const Verdict verdict = throttled.verdict();
    EXPECT_TRUE(Diagnosed(verdict, Cause::overload, "the server throttles this caller"));
}

TEST(Classifier, OneCalleeRefusedWithShortRetryAfterIsStillRegistrationRouting) {
    const Verdict verdict = Case({"Retry-After: 5"}).single_user("bob", 3, 5).verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::registration_routing));
}

TEST(Classifier, OneFailureOfOneUserIsNotYetAPerUserProblem) {
    EXPECT_TRUE(
        Diagnosed(Case().single_user("bob", 1, 5).verdict(), Cause::unknown, "Only user \"bob\" is refused (1 503)"));
}

TEST(Classifier, AllUsersRefusedAcrossMethodsAddsToMaintenance) {
    const Verdict alone = Case({"Retry-After: 600"}).verdict();
    const Verdict everyone = Case({"Retry-After: 600"}).all_users(6, 4, 2).verdict();
    EXPECT_TRUE(IsCause(everyone, Cause::maintenance));
    EXPECT_GT(everyone.confidence, alone.confidence);
    EXPECT_TRUE(HasEvidence(everyone, "Every request in the last 60 s was refused (6 503s, 4 users, 2 methods)"));
}

TEST(Classifier, DownstreamFailureRelayedIsUpstreamFailureNamingTheHopAndFrame) {
    const Verdict verdict = Case().downstream_failure(31, 503, "203.0.113.9:5060").verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::upstream_failure));
    const Evidence* relay = test::evidence_with(verdict, "The next hop 203.0.113.9:5060 answered 503");
    ASSERT_NE(relay, nullptr) << test::all_evidence(verdict);
    EXPECT_TRUE(HasEvidence(verdict, "in frame 31"));
    EXPECT_EQ(relay->frames, (std::vector<std::uint32_t>{31, k503Frame}));
}

TEST(Classifier, RelayedFailureAnsweredQuicklyIsStillUpstreamFailure) {
    // A proxy that passes a downstream 503 on does so within milliseconds; that is no local refusal.
    const Verdict verdict =
        Case().request_answered_after(0.03).downstream_failure(31, 503, "203.0.113.9:5060").verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::upstream_failure));
}

TEST(Classifier, OnsetOfAFailureRunIsNoted) {
    Case c;
    c.facts.onset.failures_in_run = 4;
    c.facts.onset.failure_run_first_frame = 30;
    c.facts.onset.failure_run_first_us = kAt - 2000000;
    c.facts.onset.last_served_frame = 29;
    c.facts.onset.last_served_us = kAt - 2500000;
    EXPECT_TRUE(
        HasEvidence(c.verdict(), "Onset: 4 503s since frame 30, 500.0 ms after the last served request (frame 29)"));
}

// ---- the verdict as a whole ----

TEST(Classifier, NothingKnownIsUnknownWithZeroConfidenceSayingWhatIsMissing) {
    const Verdict verdict = Case().verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::unknown));
    EXPECT_EQ(verdict.confidence, 0);
    ASSERT_FALSE(verdict.evidence.empty());
    EXPECT_EQ(verdict.evidence[0].sentence,
              "Not enough evidence for a cause: no usable Retry-After, no Reason or Warning header, "
              "no reason phrase naming a cause, request not captured, no other traffic of this server to compare.");
}

TEST(Classifier, ImmediateRefusalNamingADownGatewayIsStillUpstreamFailure) {
    // A proxy whose gateways are all marked down refuses at once ("No more gateways"): the wording
    // wins over the mild argument of an immediate answer, and the verdict never denies the phrase.
    const Verdict verdict = Case({}, "Gateway Unreachable").request_answered_after(0.01).verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::upstream_failure));
    EXPECT_TRUE(HasEvidence(verdict, "Reason phrase \"Gateway Unreachable\" names the cause"));
    EXPECT_FALSE(HasEvidence(verdict, "no reason phrase naming a cause")) << test::all_evidence(verdict);
}

TEST(Classifier, ConflictingEvidenceLowersConfidenceAndNamesTheRunnerUp) {
    const Verdict clear = Case({"Retry-After: 5"}, "Server Overloaded").verdict();
    const Verdict conflicting = Case({"Retry-After: 5", "Warning: 399 sbc \"maintenance window\""}, "Server Overloaded").verdict();
    EXPECT_LT(conflicting.confidence, clear.confidence);
    EXPECT_TRUE(HasEvidence(conflicting, "also fits another cause"));
    EXPECT_FALSE(HasEvidence(clear, "also fits another cause"));
}

TEST(Classifier, RetryAfterAgainstTheServersOwnWordsLosesButLowersTheConfidence) {
    // Retry-After is a vendor's fixed policy; the words name the cause, and the conflict is said.
    const Verdict words = Case({}, "Server Overloaded").verdict();
    const Verdict conflicting = Case({"Retry-After: 3600"}, "Server Overloaded").verdict();
    EXPECT_TRUE(IsCause(conflicting, Cause::overload)) << test::all_evidence(conflicting);
    EXPECT_LT(conflicting.confidence, words.confidence);
    EXPECT_TRUE(HasEvidence(conflicting, "weighs little beside the server's own words naming overload"));
}

TEST(Classifier, ConfidenceNeverExceeds95) {
    const Verdict verdict = Case({"Retry-After: 5", "Warning: 399 sbc \"overload\""}, "Server Overloaded")
                                .surge(40, 0.5, 30, 9)
                                .request_answered_after(0.01)
                                .verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::overload));
    EXPECT_EQ(verdict.confidence, 95);
}

TEST(Classifier, StrongestFindingOfTheWinnerComesFirst) {
    const Verdict verdict = Case({"Retry-After: 5"}).surge(20, 0.5, 30, 6).verdict();
    ASSERT_FALSE(verdict.evidence.empty());
    EXPECT_NE(verdict.evidence[0].sentence.find("load shedding"), std::string::npos) << test::all_evidence(verdict);
}

TEST(Classifier, MalformedResponseIsNoted) {
    Case c;
    c.response = test::parse("SIP/2.0 503 Service Unavailable\r\nRetry-After: 5\r\n\r\n");
    EXPECT_TRUE(HasEvidence(c.verdict(), "Malformed 503: Call-ID is missing."));
}

TEST(Classifier, EveryVerdictHasARecommendationAndOnlyNonZeroEvidenceFrames) {
    std::vector<Case> cases;
    cases.emplace_back();
    cases.emplace_back(Headers{"Retry-After: 3600"}, "Server Overloaded");
    cases.emplace_back(Headers{"Reason: Q.850;cause=34"});
    cases.emplace_back(Headers{"Retry-After: 5"});
    cases.back().surge(20, 0.5, 30, 6).request_answered_after(0.01);
    cases.emplace_back();
    cases.back().request_answered_after(4).provisional(41).downstream_failure(31, 503, "203.0.113.9:5060");
    cases.emplace_back();
    cases.back().single_user("bob", 3, 5).dialogs(3, 3).previous_503(0, 3);
    cases.emplace_back();
    cases.back().all_users(5, 1, 1).facts.onset.failures_in_run = 5;
    for (auto& c : cases) {
        const Verdict verdict = c.verdict();
        SCOPED_TRACE(std::string(cause_name(verdict.cause)) + "\n" + test::all_evidence(verdict));
        EXPECT_EQ(verdict.recommendation, cause_recommendation(verdict.cause));
        EXPECT_FALSE(verdict.recommendation.empty());
        EXPECT_GE(verdict.confidence, 0);
        EXPECT_LE(verdict.confidence, 100);
        for (const auto& item : verdict.evidence) {
            EXPECT_FALSE(item.sentence.empty());
            for (auto frame : item.frames) EXPECT_NE(frame, 0u) << item.sentence;
        }
    }
}

TEST(Classifier, EveryCauseHasANameAndARecommendation) {
    for (int i = 0; i < kCauseCount; ++i) {
        const auto cause = static_cast<Cause>(i);
        EXPECT_FALSE(cause_name(cause).empty());
        EXPECT_FALSE(cause_recommendation(cause).empty());
    }
}

// ---- what vendors attach, weighed against the rest (docs/vendor_503.md) ----

TEST(ClassifierVendors, Asterisk22RefusingAnInviteAfter100TryingWithoutReasonIsShuttingDown) {
    Case shutting_down({"Server: Asterisk PBX 22.10.1"});
    shutting_down.request_answered_after(0.002).provisional(41).dialogs(4, 4).count_held_since(3, 5);
    const Verdict verdict = shutting_down.verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::maintenance)) << test::all_evidence(verdict);
    EXPECT_TRUE(HasEvidence(verdict, "no call was set up at all"));
}

TEST(ClassifierVendors, AsteriskCallLimitCarriesQ850AndIsNotTakenForAShutdown) {
    Case call_limit({"Server: Asterisk PBX 22.10.1", "Reason: Q.850;cause=42"});
    call_limit.request_answered_after(0.002).provisional(41).dialogs(4, 4).count_held_since(3, 5);
    const Verdict verdict = call_limit.verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::capacity_limit)) << test::all_evidence(verdict);
    EXPECT_FALSE(HasEvidence(verdict, "no call was set up at all"));
}

TEST(ClassifierVendors, OlderAsteriskMayRunChanSipWhichSendsNoReasonSoNothingIsRead) {
    Case old({"Server: Asterisk PBX 18.9.0"});
    old.request_answered_after(0.002).provisional(41);
    EXPECT_FALSE(HasEvidence(old.verdict(), "no call was set up at all"));
}

TEST(ClassifierVendors, FreeswitchSessionLimitWithItsFixedRetryAfterIsCapacityLimit) {
    // mod_sofia answers "Maximum Calls In Progress" with Retry-After 300 whatever the limit: the value is policy.
    const Verdict verdict = Case({"Retry-After: 300"}, "Maximum Calls In Progress").request_answered_after(0.001).verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::capacity_limit)) << test::all_evidence(verdict);
}

TEST(ClassifierVendors, FreeswitchSystemBusyWithItsFixedRetryAfterIsOverload) {
    const Verdict verdict = Case({"Retry-After: 300"}, "System Busy").request_answered_after(0.001).verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::overload)) << test::all_evidence(verdict);
}

TEST(ClassifierVendors, AsteriskEndpointMaintenanceWithRetryAfter300IsMaintenance) {
    const Verdict verdict = Case({"Retry-After: 300"}).request_answered_after(0.001).verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::maintenance)) << test::all_evidence(verdict);
}

}  // namespace
TEST(Classifier, CallsAdmittedBeyondAnEarlier503MeanNoFixedCeiling) {
    // An earlier 503 came at 4 calls, yet the server later held 6: whatever refused, it was no ceiling.
    const Verdict verdict = Case().dialogs(6, 6).previous_503(12, 4).request_answered_after(0.01).verdict();
    EXPECT_FALSE(IsCause(verdict, Cause::capacity_limit));
    EXPECT_TRUE(HasEvidence(verdict, "do not follow a fixed call ceiling"));
}

TEST(Classifier, ARefusalAfterTheServerCarriedMoreThanAtAnEarlier503MeansNoFixedCeiling) {
    // A 503 at 3 calls, then 4 carried at once, then this 503 at 3 again: a ceiling would have refused the fourth.
    const Verdict verdict = Case().dialogs(3, 4).previous_503(12, 3).carried_since_earlier_503(4).request_answered_after(0.01).verdict();
    EXPECT_FALSE(IsCause(verdict, Cause::capacity_limit));
    EXPECT_TRUE(HasEvidence(verdict, "carried up to 4 at once: the refusals do not follow a fixed call ceiling"));
}

TEST(Classifier, RefusalsAtTheSameCountWithNothingCarriedBeyondItKeepTheCeiling) {
    const Verdict verdict = Case().dialogs(3, 3).previous_503(12, 3).carried_since_earlier_503(3).request_answered_after(0.01).verdict();
    EXPECT_FALSE(HasEvidence(verdict, "do not follow a fixed call ceiling"));
}

// A dialplan's Congestion() for callees without a route: the server carries and forwards other calls,
// more of them than at an earlier refusal, and refuses this one at once with nothing tried.
Case refused_at_once_while_routing_others(const Headers& headers = {}) {
    Case refused(headers);
    refused.dialogs(6, 6).previous_503(12, 4).request_answered_after(0.003);
    refused.facts.onward_requests_seen = true;
    refused.facts.scope.kind = ScopeFacts::Kind::several_users;
    refused.facts.scope.refused_in_window = 2;
    refused.facts.scope.served_in_window = 5;
    return refused;
}

TEST(ClassifierRoute, ARefusalAtOnceWhileOtherCallsAreRoutedFollowsTheCallsRoute) {
    EXPECT_TRUE(Diagnosed(refused_at_once_while_routing_others().verdict(), Cause::registration_routing,
                          "follows what this call asked for"));
}

TEST(ClassifierRoute, AsterisksDialplanCongestionCodeDoesNotHideTheRoute) {
    const Verdict verdict =
        refused_at_once_while_routing_others({"Server: Asterisk PBX 22.10.1", "Reason: Q.850;cause=34"}).verdict();
    EXPECT_TRUE(IsCause(verdict, Cause::registration_routing)) << test::all_evidence(verdict);
}

TEST(ClassifierRoute, AServersOwnWordForItsShortageIsNotReadAsARoute) {
    const Verdict verdict =
        refused_at_once_while_routing_others({"Server: Asterisk PBX 22.10.1", "Reason: Q.850;cause=42"}).verdict();
    EXPECT_FALSE(HasEvidence(verdict, "follows what this call asked for"));
}

TEST(ClassifierRoute, NothingIsSaidOfTheRouteWhenTheServersOnwardTrafficIsUnseen) {
    Case client_side = refused_at_once_while_routing_others();
    client_side.facts.onward_requests_seen = false;
    EXPECT_FALSE(IsCause(client_side.verdict(), Cause::registration_routing));
}

TEST(ClassifierRoute, TheFirstRefusalHasNoEarlierCountToCompareWith) {
    Case first = refused_at_once_while_routing_others();
    first.facts.calls = {};
    first.dialogs(6, 6);
    EXPECT_FALSE(IsCause(first.verdict(), Cause::registration_routing));
}

TEST(ClassifierRoute, ARefusalAfterSomeCallsEndedStillFollowsTheRouteWhenMoreWereCarriedSinceAnEarlier503) {
    Case refused = refused_at_once_while_routing_others();
    refused.dialogs(4, 6).carried_since_earlier_503(6);
    EXPECT_TRUE(Diagnosed(refused.verdict(), Cause::registration_routing, "had carried up to 6 at once"));
}

TEST(ClassifierRoute, ARefusalAfterAWaitIsNotARoutingDecision) {
    Case waited = refused_at_once_while_routing_others();
    waited.request_answered_after(6.0);
    EXPECT_FALSE(IsCause(waited.verdict(), Cause::registration_routing));
}

TEST(Classifier, DispatcherWordingNamesAnUpstreamFailure) {
    EXPECT_EQ(cause_of_phrase("No destination available"), Cause::upstream_failure);
    EXPECT_EQ(cause_of_phrase("CPS limit exceeded"), Cause::overload);
}

}  // namespace diag503
