// Unit tests of FlatIndex: set, find, erase with probe runs kept whole, growth, and the key 0.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>

#include "core/flat_index.hpp"

namespace diag503 {
namespace {

TEST(FlatIndex, FindsWhatWasSetAndNothingElse) {
    FlatIndex index;
    EXPECT_EQ(index.find(42), nullptr);
    index.set(42, 7);
    ASSERT_NE(index.find(42), nullptr);
    EXPECT_EQ(*index.find(42), 7u);
    EXPECT_EQ(index.find(43), nullptr);
    EXPECT_EQ(index.size(), 1u);
}

TEST(FlatIndex, SettingAKeyAgainReplacesItsValue) {
    FlatIndex index;
    index.set(42, 7);
    index.set(42, 8);
    EXPECT_EQ(*index.find(42), 8u);
    EXPECT_EQ(index.size(), 1u);
}

TEST(FlatIndex, KeyZeroIsAKeyLikeAnyOther) {
    FlatIndex index;
    EXPECT_EQ(index.find(0), nullptr);
    index.set(0, 5);
    ASSERT_NE(index.find(0), nullptr);
    EXPECT_EQ(*index.find(0), 5u);
    EXPECT_EQ(index.size(), 1u);
    index.erase(0);
    EXPECT_EQ(index.find(0), nullptr);
    EXPECT_EQ(index.size(), 0u);
}

TEST(FlatIndex, ErasingAbsentKeysChangesNothing) {
    FlatIndex index;
    index.erase(9);
    index.set(1, 1);
    index.erase(9);
    EXPECT_EQ(index.size(), 1u);
    EXPECT_EQ(*index.find(1), 1u);
}

// Seven keys in the first sixteen slots form probe runs: erasing any one must keep the others reachable.
TEST(FlatIndex, ErasingFromAProbeRunKeepsTheOtherKeysReachable) {
    for (std::uint64_t erased = 1; erased <= 7; ++erased) {
        FlatIndex index;
        for (std::uint64_t key = 1; key <= 7; ++key) index.set(key, key * 10);
        index.erase(erased);
        EXPECT_EQ(index.find(erased), nullptr);
        for (std::uint64_t key = 1; key <= 7; ++key) {
            if (key == erased) continue;
            ASSERT_NE(index.find(key), nullptr) << "erased " << erased << ", lost " << key;
            EXPECT_EQ(*index.find(key), key * 10);
        }
    }
}

// Against std::map as the reference, through growth and many erasures.
TEST(FlatIndex, AgreesWithAnOrderedMapUnderRandomSetsAndErasures) {
    FlatIndex index;
    std::map<std::uint64_t, std::uint64_t> reference;
    std::mt19937_64 random(503);
    for (int step = 0; step < 50000; ++step) {
        const std::uint64_t key = random() % 4096;  // collisions and re-use of erased keys
        if (random() % 3 == 0) {
            index.erase(key);
            reference.erase(key);
        } else {
            const std::uint64_t value = random();
            index.set(key, value);
            reference[key] = value;
        }
    }
    EXPECT_EQ(index.size(), reference.size());
    for (std::uint64_t key = 0; key < 4096; ++key) {
        const auto found = reference.find(key);
        if (found == reference.end()) EXPECT_EQ(index.find(key), nullptr) << key;
        else {
            ASSERT_NE(index.find(key), nullptr) << key;
            EXPECT_EQ(*index.find(key), found->second) << key;
        }
    }
}

}  // namespace
}  // namespace diag503
