// Unit tests of IncidentTracker and incident_sentence: 503s grouped by server, cause and time, with running totals.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "evidence/incidents.hpp"
#include "sip_builders.hpp"

namespace diag503 {
namespace {

const std::string kServer = "198.51.100.5:5060";
const std::string kOtherServer = "198.51.100.6:5060";
constexpr std::uint64_t kAlice = 11, kBob = 12, kCarol = 13;

// One first-sent 503 as the tracker sees it.
struct Refusal {
    double at_s = 0;
    std::uint32_t frame = 0;
    std::uint64_t client = kAlice;
    std::uint64_t served_total = 0;  // requests the server had served so far
    Cause cause = Cause::overload;
    std::string server = kServer;
};

// Places 503s in a tracker with default settings, times in seconds since the capture start.
class Incidents {
public:
    explicit Incidents(const Settings& settings = Settings{}) : tracker_(settings) {}

    IncidentFacts place(const Refusal& refusal) {
        Verdict verdict;
        verdict.frame = refusal.frame;
        verdict.cause = refusal.cause;
        verdict.server = refusal.server;
        verdict.client_key = refusal.client;
        verdict.served_total = refusal.served_total;
        return tracker_.place(verdict, test::kCaptureStartUs + test::microseconds(refusal.at_s));
    }

private:
    IncidentTracker tracker_;
};

Refusal at(double at_s, std::uint32_t frame) {
    Refusal refusal;
    refusal.at_s = at_s;
    refusal.frame = frame;
    return refusal;
}

Refusal with_cause(Refusal refusal, Cause cause) {
    refusal.cause = cause;
    return refusal;
}

Refusal from_server(Refusal refusal, const std::string& server) {
    refusal.server = server;
    return refusal;
}

Refusal to_client(Refusal refusal, std::uint64_t client, std::uint64_t served_total = 0) {
    refusal.client = client;
    refusal.served_total = served_total;
    return refusal;
}

// ---- grouping ----

TEST(IncidentTracker, First503BeginsIncidentOne) {
    Incidents incidents;
    const IncidentFacts facts = incidents.place(at(0, 7));
    EXPECT_EQ(facts.id, 1u);
    EXPECT_EQ(facts.first_frame, 7u);
    EXPECT_EQ(facts.refusals, 1u);
    EXPECT_EQ(facts.clients, 1u);
    EXPECT_EQ(facts.served, 0u);
    EXPECT_EQ(facts.duration_us, 0);
    EXPECT_TRUE(facts.new_client);
    EXPECT_EQ(facts.added_duration_us, 0);
    EXPECT_EQ(facts.added_served, 0u);
}

TEST(IncidentTracker, 503sOfOneServerAndCauseWithinTheGapShareAnId) {
    Incidents incidents;
    incidents.place(at(0, 1));
    const IncidentFacts second = incidents.place(at(59, 2));
    EXPECT_EQ(second.id, 1u);
    EXPECT_EQ(second.first_frame, 1u);
    EXPECT_EQ(second.refusals, 2u);
}

TEST(IncidentTracker, TheGapIsMeasuredFromTheLatest503NotTheFirst) {
    Incidents incidents;
    for (int n = 0; n < 4; ++n) incidents.place(at(n * 50.0, static_cast<std::uint32_t>(n + 1)));
    const IncidentFacts last = incidents.place(at(200, 5));
    EXPECT_EQ(last.id, 1u);
    EXPECT_EQ(last.refusals, 5u);
    EXPECT_EQ(last.duration_us, 200000000);
}

TEST(IncidentTracker, 503sExactlyTheGapApartStillShareAnId) {
    Incidents incidents;
    incidents.place(at(0, 1));
    EXPECT_EQ(incidents.place(at(60, 2)).id, 1u);
}

TEST(IncidentTracker, ALongerGapBeginsANewIncidentWithFreshTotals) {
    Incidents incidents;
    incidents.place(to_client(at(0, 1), kAlice, 10));
    incidents.place(to_client(at(30, 2), kBob, 15));
    const IncidentFacts next = incidents.place(to_client(at(91, 3), kAlice, 40));
    EXPECT_EQ(next.id, 2u);
    EXPECT_EQ(next.first_frame, 3u);
    EXPECT_EQ(next.refusals, 1u);
    EXPECT_EQ(next.clients, 1u);
    EXPECT_TRUE(next.new_client);
    EXPECT_EQ(next.served, 0u);
    EXPECT_EQ(next.duration_us, 0);
    EXPECT_EQ(next.added_duration_us, 0);
    EXPECT_EQ(next.added_served, 0u);
}

TEST(IncidentTracker, AnotherCauseAtTheSameServerHasItsOwnIncident) {
    Incidents incidents;
    incidents.place(at(0, 1));
    const IncidentFacts other = incidents.place(with_cause(at(1, 2), Cause::capacity_limit));
    EXPECT_EQ(other.id, 2u);
    EXPECT_EQ(other.refusals, 1u);
    const IncidentFacts back = incidents.place(at(2, 3));
    EXPECT_EQ(back.id, 1u);
    EXPECT_EQ(back.refusals, 2u);
}

TEST(IncidentTracker, AnotherServerWithTheSameCauseHasItsOwnIncident) {
    Incidents incidents;
    incidents.place(at(0, 1));
    const IncidentFacts other = incidents.place(from_server(at(1, 2), kOtherServer));
    EXPECT_EQ(other.id, 2u);
    EXPECT_EQ(other.first_frame, 2u);
    EXPECT_EQ(incidents.place(at(2, 3)).id, 1u);
}

// ---- running totals ----

TEST(IncidentTracker, TotalsRunAndTheChangesAddUpToThem) {
    Incidents incidents;
    const std::vector<Refusal> refusals = {
        to_client(at(0, 10), kAlice, 100), to_client(at(1.5, 20), kBob, 104), to_client(at(2, 30), kAlice, 104),
        to_client(at(4.2, 40), kCarol, 109),
    };
    std::int64_t duration = 0;
    std::uint64_t served = 0;
    std::uint32_t clients = 0;
    IncidentFacts facts;
    for (std::size_t i = 0; i < refusals.size(); ++i) {
        SCOPED_TRACE(i);
        facts = incidents.place(refusals[i]);
        duration += facts.added_duration_us;
        served += facts.added_served;
        clients += facts.new_client ? 1 : 0;
        EXPECT_EQ(facts.refusals, i + 1);
        EXPECT_EQ(facts.duration_us, duration);
        EXPECT_EQ(facts.served, served);
        EXPECT_EQ(facts.clients, clients);
    }
    EXPECT_EQ(facts.id, 1u);
    EXPECT_EQ(facts.first_frame, 10u);
    EXPECT_EQ(facts.duration_us, 4200000);
    EXPECT_EQ(facts.served, 9u);
    EXPECT_EQ(facts.clients, 3u);
}

TEST(IncidentTracker, ServedCountsOnlyRequestsServedSinceTheIncidentBegan) {
    Incidents incidents;
    EXPECT_EQ(incidents.place(to_client(at(0, 1), kAlice, 250)).served, 0u);
    const IncidentFacts later = incidents.place(to_client(at(1, 2), kBob, 257));
    EXPECT_EQ(later.served, 7u);
    EXPECT_EQ(later.added_served, 7u);
}

TEST(IncidentTracker, AClientIsCountedOnce) {
    Incidents incidents;
    incidents.place(to_client(at(0, 1), kAlice));
    const IncidentFacts again = incidents.place(to_client(at(1, 2), kAlice));
    EXPECT_FALSE(again.new_client);
    EXPECT_EQ(again.clients, 1u);
    const IncidentFacts other = incidents.place(to_client(at(2, 3), kBob));
    EXPECT_TRUE(other.new_client);
    EXPECT_EQ(other.clients, 2u);
    EXPECT_EQ(incidents.place(to_client(at(3, 4), kBob)).clients, 2u);
}

TEST(IncidentTracker, DurationRunsFromTheFirst503) {
    Incidents incidents;
    incidents.place(at(10, 1));
    const IncidentFacts second = incidents.place(at(12.5, 2));
    EXPECT_EQ(second.duration_us, 2500000);
    EXPECT_EQ(second.added_duration_us, 2500000);
    const IncidentFacts third = incidents.place(at(13, 3));
    EXPECT_EQ(third.duration_us, 3000000);
    EXPECT_EQ(third.added_duration_us, 500000);
}

TEST(IncidentTracker, GapFollowsTheSettings) {
    Settings settings;
    settings.incident_gap_s = 5;
    Incidents incidents(settings);
    incidents.place(at(0, 1));
    EXPECT_EQ(incidents.place(at(5, 2)).id, 1u);
    EXPECT_EQ(incidents.place(at(10.5, 3)).id, 2u);
}

// ---- the sentence ----

TEST(IncidentSentence, First503SaysTheIncidentBeginsWithCauseAndServer) {
    Incidents incidents;
    const IncidentFacts facts = incidents.place(at(0, 40));
    EXPECT_EQ(incident_sentence(facts, Cause::overload, kServer),
              "Incident 1 (transient overload at 198.51.100.5:5060) begins with this 503.");
}

TEST(IncidentSentence, LaterOnesGiveTheRunningTotals) {
    Incidents incidents;
    incidents.place(to_client(at(0, 40), kAlice, 100));
    incidents.place(to_client(at(2, 50), kBob, 103));
    const IncidentFacts facts = incidents.place(to_client(at(4.2, 60), kAlice, 105));
    EXPECT_EQ(incident_sentence(facts, Cause::overload, kServer),
              "Incident 1: 503 number 3 in 4.200 s since frame 40; 2 clients refused, 5 requests still served meanwhile.");
}

TEST(IncidentSentence, SingularCounts) {
    Incidents incidents;
    incidents.place(to_client(at(0, 40), kAlice, 100));
    const IncidentFacts facts = incidents.place(to_client(at(0.25, 41), kAlice, 101));
    EXPECT_EQ(incident_sentence(facts, Cause::overload, kServer),
              "Incident 1: 503 number 2 in 250.0 ms since frame 40; 1 client refused, 1 request still served meanwhile.");
}

}  // namespace
}  // namespace diag503
