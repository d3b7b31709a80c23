// Unit tests of the settings' ranges: every default allowed, values outside corrected and said so.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/settings.hpp"

namespace diag503 {
namespace {

TEST(SettingRanges, EveryDefaultIsAllowedAndNeedsNoCorrection) {
    Settings settings;
    for (const SettingRange& range : setting_ranges()) {
        EXPECT_GE(settings.*range.field, range.min) << range.name;
        EXPECT_LE(settings.*range.field, range.max) << range.name;
    }
    EXPECT_TRUE(bring_into_range(settings).empty());
}

TEST(SettingRanges, EverySettingHasOneRangeUnderItsOwnName) {
    std::set<std::string> names;
    for (const SettingRange& range : setting_ranges()) EXPECT_TRUE(names.insert(range.name).second) << range.name;
    EXPECT_EQ(names.size(), sizeof(Settings) / sizeof(std::uint32_t));
}

TEST(SettingRanges, AValueAboveItsRangeIsLoweredToTheMostAllowedAndSaidSo) {
    Settings settings;
    settings.surge_window_s = 20;
    const auto changes = bring_into_range(settings);
    EXPECT_EQ(settings.surge_window_s, 8u);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0], "diag503.surge_window: 20 is more than the most allowed; 8 is used instead.");
}

TEST(SettingRanges, AValueBelowItsRangeIsRaisedToTheLeastAllowed) {
    Settings settings;
    settings.max_transactions = 0;
    settings.surge_factor = 1;
    const auto changes = bring_into_range(settings);
    EXPECT_EQ(settings.max_transactions, 1u);
    EXPECT_EQ(settings.surge_factor, 2u);
    EXPECT_EQ(changes.size(), 2u);
}

TEST(SettingRanges, ZeroTurnsAWindowOffWhereTheRangeAllowsIt) {
    Settings settings;
    settings.evidence_window_s = 0;
    settings.failover_window_s = 0;
    EXPECT_TRUE(bring_into_range(settings).empty());
}

TEST(SettingRanges, AnImmediateBoundNotBelowTheDelayedOneIsPutJustUnderIt) {
    Settings settings;
    settings.immediate_response_ms = 5000;
    const auto changes = bring_into_range(settings);
    EXPECT_EQ(settings.immediate_response_ms, 1999u);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0], "diag503.immediate_response_ms: 5000 is not below diag503.delayed_response_ms (2000); 1999 is used instead.");
}

TEST(SettingRanges, AShortRetryAfterNotBelowTheLongOneIsPutJustUnderIt) {
    Settings settings;
    settings.short_retry_after_s = 300;
    bring_into_range(settings);
    EXPECT_EQ(settings.short_retry_after_s, 299u);
}

TEST(SettingRanges, AllowedValuesReadAsASentence) {
    EXPECT_EQ(allowed_values(*setting_range(&Settings::surge_window_s)), "Allowed: 1 to 8.");
    EXPECT_EQ(allowed_values(*setting_range(&Settings::max_transactions)), "Allowed: 1 or more.");
}

}  // namespace
}  // namespace diag503
