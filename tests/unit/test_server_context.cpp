// Unit tests of the per-server context: request-rate buckets, outcome history and the scope assessment.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <string>

#include "sip/server_context.hpp"
#include "sip_builders.hpp"
#include "core/text.hpp"

namespace diag503 {
namespace {

std::int64_t seconds(double value) { return test::microseconds(value); }

// ---- RequestRate ----

TEST(RequestRate, EmptyCountsNothing) {
    RequestRate rate;
    EXPECT_EQ(rate.count(seconds(10), 64), 0u);
    EXPECT_EQ(rate.history_seconds(seconds(10)), 0);
}

TEST(RequestRate, CountsWholeSecondsEndingAtNowsSecond) {
    RequestRate rate;
    for (double at : {10.0, 10.5, 11.2, 12.9}) rate.add(seconds(at));
    const auto now = seconds(12.95);
    EXPECT_EQ(rate.count(now, 1), 1u);     // second 12
    EXPECT_EQ(rate.count(now, 2), 2u);     // seconds 11-12
    EXPECT_EQ(rate.count(now, 3), 4u);     // seconds 10-12
    EXPECT_EQ(rate.count(now, 2, 1), 3u);  // seconds 10-11
    EXPECT_EQ(rate.count(now, 5, 3), 0u);  // seconds 5-9
}

TEST(RequestRate, HistoryIsSecondsSinceTheFirstRequestCappedAtTheWindow) {
    RequestRate rate;
    rate.add(seconds(10));
    EXPECT_EQ(rate.history_seconds(seconds(15.5)), 5);
    EXPECT_EQ(rate.history_seconds(seconds(5)), 0);
    EXPECT_EQ(rate.history_seconds(seconds(1000)), RequestRate::kSeconds);
}

TEST(RequestRate, AGapLongerThanTheWindowResetsEveryBucket) {
    RequestRate rate;
    for (int i = 0; i < 50; ++i) rate.add(seconds(i));
    rate.add(seconds(200));
    EXPECT_EQ(rate.count(seconds(200), RequestRate::kSeconds), 1u);
}

TEST(RequestRate, ABucketReusedAfterExactlyOneWindowStartsFromZero) {
    RequestRate rate;
    rate.add(seconds(0));
    rate.add(seconds(0.5));
    rate.add(seconds(RequestRate::kSeconds));  // same bucket as second 0
    EXPECT_EQ(rate.count(seconds(RequestRate::kSeconds), 1), 1u);
    EXPECT_EQ(rate.count(seconds(RequestRate::kSeconds), RequestRate::kSeconds), 1u);
}

TEST(RequestRate, OutOfOrderTimesInsideTheWindowAreCounted) {
    RequestRate rate;
    rate.add(seconds(100));
    rate.add(seconds(99.5));
    EXPECT_EQ(rate.count(seconds(100), 2), 2u);
}

TEST(RequestRate, OutOfOrderTimesOlderThanTheWindowAreIgnored) {
    RequestRate rate;
    rate.add(seconds(100));
    rate.add(seconds(30));
    EXPECT_EQ(rate.count(seconds(100), RequestRate::kSeconds), 1u);
    EXPECT_EQ(rate.count(seconds(30), 1), 0u);
}

TEST(RequestRate, CountsOutsideTheKeptWindowAreZero) {
    RequestRate rate;
    rate.add(seconds(100));
    EXPECT_EQ(rate.count(seconds(500), 10), 0u);  // long after: nothing recent
    EXPECT_EQ(rate.count(seconds(20), 10), 0u);   // before the kept window
}

TEST(RequestRate, MedianPerSecondIgnoresOneBurst) {
    RequestRate rate;
    for (int second = 0; second < 10; ++second) rate.add(seconds(second));
    for (int i = 0; i < 50; ++i) rate.add(seconds(5.5));
    EXPECT_DOUBLE_EQ(rate.median_per_second(seconds(9), 10, 0), 1.0);
    EXPECT_DOUBLE_EQ(rate.median_per_second(seconds(9), 0, 0), 0.0);
}

TEST(RequestRate, MedianOfAnEvenNumberOfSecondsIsTheMeanOfTheMiddleTwo) {
    RequestRate rate;
    rate.add(seconds(1));
    for (int i = 0; i < 3; ++i) rate.add(seconds(2));
    EXPECT_DOUBLE_EQ(rate.median_per_second(seconds(4), 2, 2), 2.0);  // seconds 1 and 2
}

// ---- ServerContext::record ----

Outcome outcome(double at_s, std::uint32_t frame, bool served, const std::string& caller, const std::string& callee,
                const std::string& method = "INVITE") {
    Outcome result;
    result.time_us = seconds(at_s);
    result.frame = frame;
    result.served = served;
    result.refused_503 = !served;
    result.caller = hash_text(caller);
    result.callee = hash_text(callee);
    result.method = hash_text(method);
    return result;
}

TEST(ServerContext, RecordTracksTheFailureRunSinceTheLastServedRequest) {
    ServerContext server;
    server.record(outcome(1, 10, true, "a", "b"), 16);
    server.record(outcome(2, 11, false, "a", "b"), 16);
    server.record(outcome(3, 12, false, "a", "b"), 16);
    EXPECT_EQ(server.last_served_frame, 10u);
    EXPECT_EQ(server.served_total, 1u);
    EXPECT_EQ(server.failures_in_run, 2u);
    EXPECT_EQ(server.failure_run_first_frame, 11u);
    EXPECT_EQ(server.failure_run_first_us, seconds(2));
    server.record(outcome(4, 13, true, "a", "b"), 16);
    EXPECT_EQ(server.failures_in_run, 0u);
    EXPECT_EQ(server.failure_run_first_frame, 0u);
}

TEST(ServerContext, RecordKeepsAtMostTheHistoryBound) {
    ServerContext server;
    for (std::uint32_t frame = 1; frame <= 10; ++frame) server.record(outcome(frame, frame, true, "a", "b"), 4);
    ASSERT_EQ(server.outcomes.size(), 4u);
    EXPECT_EQ(server.outcomes.front().frame, 7u);
}

// ---- assess_scope ----

class Scope : public ::testing::Test {
protected:
    void served(double at_s, const std::string& caller, const std::string& callee,
                const std::string& method = "INVITE") {
        server_.record(outcome(at_s, ++frame_, true, caller, callee, method), settings_.outcome_history);
    }
    void refused(double at_s, const std::string& caller, const std::string& callee,
                 const std::string& method = "INVITE") {
        server_.record(outcome(at_s, ++frame_, false, caller, callee, method), settings_.outcome_history);
        last_refused_method_ = method;
    }
    // The scope as seen by the latest refusal, whose method decides which served requests count.
    ScopeFacts assess(double now_s) const {
        return assess_scope(server_, seconds(now_s), hash_text(last_refused_method_), settings_);
    }

    // One outcome a second from t=1 s; returns the scope one second after the last.
    struct Step {
        bool served;
        const char* caller;
        const char* callee;
        const char* method = "INVITE";
    };
    ScopeFacts after(std::initializer_list<Step> steps) {
        double at = 0;
        for (const Step& step : steps) {
            if (step.served)
                served(++at, step.caller, step.callee, step.method);
            else
                refused(++at, step.caller, step.callee, step.method);
        }
        return assess(at + 1);
    }
    static constexpr bool kServed = true;
    static constexpr bool kRefused = false;

    Settings settings_;
    ServerContext server_;
    std::uint32_t frame_ = 0;
    std::string last_refused_method_ = "INVITE";
};

TEST_F(Scope, OneUserRefusedRepeatedlyWhileOthersAreServedIsSingleUser) {
    const ScopeFacts facts = after({{kServed, "alice", "carol"},
                                    {kRefused, "alice", "bob"},
                                    {kServed, "dave", "erin"},
                                    {kRefused, "henry", "bob"},
                                    {kServed, "frank", "gina"}});
    EXPECT_EQ(facts.kind, ScopeFacts::Kind::single_user);
    EXPECT_EQ(facts.common_user, hash_text("bob"));
    EXPECT_EQ(facts.failures_of_common_user, 2u);
    EXPECT_EQ(facts.refused_in_window, 2u);
    EXPECT_EQ(facts.served_in_window, 3u);
    EXPECT_EQ(facts.users_served, 6u);
    EXPECT_EQ(facts.first_refused_frame, 2u);
    EXPECT_EQ(facts.last_served_frame, 5u);
}

TEST_F(Scope, CommonUserMayBeTheCaller) {
    const ScopeFacts facts =
        after({{kServed, "dave", "erin"}, {kRefused, "mallory", "bob"}, {kRefused, "mallory", "carol"}});
    EXPECT_EQ(facts.kind, ScopeFacts::Kind::single_user);
    EXPECT_EQ(facts.common_user, hash_text("mallory"));
}

TEST_F(Scope, AUserWhoIsAlsoServedIsNotTheCommonUser) {
    EXPECT_EQ(after({{kServed, "bob", "erin"}, {kRefused, "alice", "bob"}, {kRefused, "carol", "bob"}}).kind,
              ScopeFacts::Kind::several_users);
}

TEST_F(Scope, AUserServedOnlyByAnotherMethodIsStillTheCommonUser) {
    // bob's REGISTER works, yet INVITEs to bob fail: the refusals still follow bob.
    const ScopeFacts facts = after({{kServed, "bob", "bob", "REGISTER"},
                                    {kServed, "dave", "erin"},
                                    {kRefused, "alice", "bob"},
                                    {kRefused, "carol", "bob"}});
    EXPECT_EQ(facts.kind, ScopeFacts::Kind::single_user);
    EXPECT_EQ(facts.common_user, hash_text("bob"));
    EXPECT_EQ(facts.users_served, 2u);  // dave and erin, served by INVITE
    EXPECT_EQ(facts.served_in_window, 2u);
}

TEST_F(Scope, DifferentUsersRefusedWhileOthersServedIsSeveralUsers) {
    const ScopeFacts facts =
        after({{kRefused, "alice", "bob"}, {kServed, "erin", "frank"}, {kRefused, "carol", "dave"}});
    EXPECT_EQ(facts.kind, ScopeFacts::Kind::several_users);
    EXPECT_EQ(facts.common_user, 0u);
    EXPECT_EQ(facts.users_refused, 4u);
    EXPECT_EQ(facts.failures_of_common_user, 0u);
}

TEST_F(Scope, NothingServedIsAllUsersAndCountsMethods) {
    const ScopeFacts facts = after({{kRefused, "alice", "bob", "INVITE"},
                                    {kRefused, "carol", "dave", "REGISTER"},
                                    {kRefused, "erin", "frank", "INVITE"}});
    EXPECT_EQ(facts.kind, ScopeFacts::Kind::all_users);
    EXPECT_EQ(facts.refused_in_window, 3u);
    EXPECT_EQ(facts.users_refused, 6u);
    EXPECT_EQ(facts.methods_refused, 2u);
}

TEST_F(Scope, TooLittleTrafficIsUndetermined) {
    EXPECT_EQ(after({{kRefused, "alice", "bob"}}).kind, ScopeFacts::Kind::undetermined);
}

TEST_F(Scope, NoRefusalIsUndetermined) {
    EXPECT_EQ(after({{kServed, "alice", "bob"}, {kServed, "carol", "dave"}}).kind, ScopeFacts::Kind::undetermined);
}

TEST_F(Scope, OutcomesOutsideTheWindowAreNotCompared) {
    served(0, "alice", "carol");
    served(1, "dave", "erin");
    refused(100, "alice", "bob");
    refused(101, "carol", "dave");
    served(200, "x", "y");  // after "now": not yet seen at the time asked about
    const ScopeFacts facts = assess(102);
    EXPECT_EQ(facts.kind, ScopeFacts::Kind::all_users);
    EXPECT_EQ(facts.served_in_window, 0u);
    EXPECT_EQ(facts.refused_in_window, 2u);
}

TEST_F(Scope, WindowFollowsSettings) {
    settings_.scope_window_s = 5;
    served(0, "alice", "carol");
    refused(10, "alice", "bob");
    refused(11, "carol", "bob");
    EXPECT_EQ(assess(12).kind, ScopeFacts::Kind::all_users);
    settings_.scope_window_s = 60;
    EXPECT_EQ(assess(12).kind, ScopeFacts::Kind::single_user);
}

}  // namespace
}  // namespace diag503
