// The rule tables of both classifiers: every rule is listed once, with a cause of its protocol, a weight and a reason.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/rules.hpp"
#include "rtsp/rtsp_rules.hpp"
#include "sip/sip_rules.hpp"

namespace diag503 {
namespace {

void expect_well_formed(Table<Rule> rules, Protocol protocol) {
    std::set<std::string_view> names;
    for (const Rule& rule : rules) {
        SCOPED_TRACE(std::string(rule.name) + " (" + std::string(cause_name(rule.cause)) + ", " +
                     std::to_string(rule.weight) + "): " + std::string(rule.rationale));
        EXPECT_TRUE(names.insert(rule.name).second) << "listed twice";
        EXPECT_FALSE(rule.rationale.empty());
        EXPECT_NE(rule.weight, 0) << "a rule that weighs nothing is a note, not a rule";
        EXPECT_LE(rule.weight, 100);
        EXPECT_GE(rule.weight, -100);
        EXPECT_TRUE(rule.cause == kCauseNamedBySignal || cause_applies_to(rule.cause, protocol));
    }
    EXPECT_GT(names.size(), 10u);
}

void expect_well_formed(Table<Threshold> thresholds) {
    for (const Threshold& threshold : thresholds) {
        SCOPED_TRACE(std::string(threshold.name));
        EXPECT_FALSE(threshold.rationale.empty());
        EXPECT_GT(threshold.value, 0);
    }
}

TEST(RuleTables, EverySipRuleHasAUniqueNameASipCauseAWeightAndARationale) {
    expect_well_formed(rule_table<SipRule>(), Protocol::sip);
    expect_well_formed(threshold_table<SipRule>());
}

TEST(RuleTables, EveryRtspRuleHasAUniqueNameAnRtspCauseAWeightAndARationale) {
    expect_well_formed(rule_table<RtspRule>(), Protocol::rtsp);
    expect_well_formed(threshold_table<RtspRule>());
}

TEST(RuleTables, ARuleIdentityFindsItsOwnRow) {
    EXPECT_EQ(rule(SipRule::relayed_failure).name, "relayed_failure");
    EXPECT_EQ(rule(SipRule::relayed_failure).cause, Cause::upstream_failure);
    EXPECT_EQ(rule(RtspRule::other_profile_held).name, "other_profile_held");
    EXPECT_EQ(rule(RtspRule::other_profile_held).cause, Cause::encoder_busy);
    EXPECT_EQ(sip_threshold::sentences_per_failure_kind, 3);
}

}  // namespace
}  // namespace diag503
