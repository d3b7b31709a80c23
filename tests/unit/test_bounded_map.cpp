// Unit tests of BoundedMap: count bound, time-to-live, out-of-order clocks and stale slots after erase.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/bounded_map.hpp"

namespace diag503 {
namespace {

using Map = BoundedMap<std::string, int>;

// A map plus the keys it evicted, in order.
struct Recorded {
    Map map;
    std::vector<std::string> evicted;

    Recorded(std::size_t max_entries, std::int64_t lifetime_us) : map(max_entries, lifetime_us) {}
    int& put(const std::string& key, std::int64_t now_us) {
        return map.get_or_insert(key, now_us, [this](const std::string& k, int&) { evicted.push_back(k); });
    }
    int& reinsert(const std::string& key, std::int64_t now_us) {
        map.erase(key);
        return put(key, now_us);
    }
    void advance(std::int64_t now_us) {
        map.advance_clock(now_us, [this](const std::string& k, int&) { evicted.push_back(k); });
    }
};

using Keys = std::vector<std::string>;

TEST(BoundedMap, InsertsDefaultValueAndFindsIt) {
    Recorded recorded(4, Map::kForever);
    recorded.put("a", 0) = 7;
    ASSERT_NE(recorded.map.find("a"), nullptr);
    EXPECT_EQ(*recorded.map.find("a"), 7);
    EXPECT_EQ(recorded.put("a", 1), 7);  // present: not reset
    EXPECT_EQ(recorded.map.find("b"), nullptr);
    EXPECT_EQ(recorded.map.size(), 1u);
}

TEST(BoundedMap, CountBoundEvictsOldestFirstAndCallsBack) {
    Recorded recorded(3, Map::kForever);
    for (const char* key : {"a", "b", "c", "d", "e"}) recorded.put(key, 0);
    EXPECT_EQ(recorded.evicted, (Keys{"a", "b"}));
    EXPECT_EQ(recorded.map.size(), 3u);
    EXPECT_EQ(recorded.map.evicted_count(), 2u);
    EXPECT_EQ(recorded.map.find("a"), nullptr);
    EXPECT_NE(recorded.map.find("e"), nullptr);
}

TEST(BoundedMap, ReadingAnEntryDoesNotRefreshItsAge) {
    Recorded recorded(2, Map::kForever);
    recorded.put("a", 0);
    recorded.put("b", 0);
    recorded.put("a", 0);  // already present
    recorded.put("c", 0);
    EXPECT_EQ(recorded.evicted, (Keys{"a"}));
}

TEST(BoundedMap, WritingAnEntryPastHalfItsLifetimeRenewsIt) {
    Recorded recorded(10, 100);
    recorded.put("busy", 0);
    recorded.put("idle", 0);
    recorded.put("busy", 60);  // past half of the lifetime: renewed
    recorded.advance(150);
    EXPECT_EQ(recorded.evicted, (Keys{"idle"}));
    recorded.advance(161);
    EXPECT_EQ(recorded.evicted, (Keys{"idle", "busy"}));
}

TEST(BoundedMap, ABusyEntryIsNotPushedOutByManyNewOnes) {
    Recorded recorded(4, Map::kForever);
    recorded.put("busy", 0);
    for (int n = 0; n < 100; ++n) {
        recorded.put("new" + std::to_string(n), 0);
        recorded.put("busy", 0);
    }
    EXPECT_TRUE(recorded.map.find("busy"));
    EXPECT_EQ(recorded.evicted.size(), 97u);
}

TEST(BoundedMap, WritingAnEntryWithinHalfItsLifetimeDoesNotRenewIt) {
    Recorded recorded(10, 100);
    recorded.put("a", 0);
    recorded.put("a", 40);
    recorded.advance(101);
    EXPECT_EQ(recorded.evicted, (Keys{"a"}));
}

TEST(BoundedMap, MakingRoomIsTrueOnlyInsideAnEvictionForRoom) {
    Map map(1, 100);
    std::vector<bool> for_room;
    const auto record = [&](const std::string&, int&) { for_room.push_back(map.making_room()); };
    map.get_or_insert("a", 0, record);
    map.get_or_insert("b", 0, record);    // pushes "a" out to make room
    map.advance_clock(1000, record);      // "b" ages out
    EXPECT_EQ(for_room, (std::vector<bool>{true, false}));
}

TEST(BoundedMap, ZeroMaxEntriesStillKeepsOne) {
    Recorded recorded(0, Map::kForever);
    recorded.put("a", 0);
    EXPECT_EQ(recorded.map.size(), 1u);
    recorded.put("b", 0);
    EXPECT_EQ(recorded.evicted, (Keys{"a"}));
}

TEST(BoundedMap, TimeToLiveEvictsEntriesOlderThanTheLifetime) {
    Recorded recorded(100, 10);
    recorded.put("a", 0);
    recorded.put("b", 5);
    recorded.put("c", 10);  // a is exactly 10 old: kept
    EXPECT_TRUE(recorded.evicted.empty());
    recorded.put("d", 11);
    EXPECT_EQ(recorded.evicted, (Keys{"a"}));
    recorded.advance(100);
    EXPECT_EQ(recorded.evicted, (Keys{"a", "b", "c", "d"}));
    EXPECT_EQ(recorded.map.size(), 0u);
}

TEST(BoundedMap, OutOfOrderOldTimesDoNotEvictNewerEntries) {
    Recorded recorded(100, 10);
    recorded.put("new", 1000);
    recorded.put("old", 5);  // a late straggler: the clock stays at 1000
    recorded.advance(0);
    recorded.put("newer", 1005);
    EXPECT_EQ(recorded.evicted, Keys{});
    EXPECT_NE(recorded.map.find("new"), nullptr);
    recorded.advance(1011);  // the straggler leaves with the entry inserted before it
    EXPECT_EQ(recorded.evicted, (Keys{"new", "old"}));
}

TEST(BoundedMap, EraseThenReinsertIsNotEvictedByTheStaleSlot) {
    Recorded recorded(2, Map::kForever);
    recorded.put("a", 0);
    recorded.put("b", 0);
    recorded.reinsert("a", 0) = 42;  // now the newest
    recorded.put("c", 0);
    EXPECT_EQ(recorded.evicted, (Keys{"b"}));
    ASSERT_NE(recorded.map.find("a"), nullptr);
    EXPECT_EQ(*recorded.map.find("a"), 42);
}

TEST(BoundedMap, EraseThenReinsertIsNotExpiredByTheStaleSlotsTime) {
    Recorded recorded(10, 10);
    recorded.put("a", 0);
    recorded.reinsert("a", 100);
    recorded.advance(105);
    EXPECT_NE(recorded.map.find("a"), nullptr);
    EXPECT_TRUE(recorded.evicted.empty());
    EXPECT_EQ(recorded.map.evicted_count(), 0u);
}

TEST(BoundedMap, ErasedEntriesAreNeverReportedAsEvicted) {
    Recorded recorded(2, 10);
    recorded.put("a", 0);
    recorded.map.erase("a");
    recorded.put("b", 1);
    recorded.put("c", 2);
    recorded.advance(50);
    EXPECT_EQ(recorded.evicted, (Keys{"b", "c"}));
}

TEST(BoundedMap, ManyEraseReinsertCyclesKeepEvictionOrderAndCounts) {
    Recorded recorded(3, Map::kForever);
    recorded.put("first", 0);
    for (int cycle = 0; cycle < 200000; ++cycle) recorded.reinsert("churn", cycle);
    EXPECT_EQ(recorded.map.size(), 2u);
    EXPECT_TRUE(recorded.evicted.empty());
    recorded.put("x", 0);
    recorded.put("y", 0);
    recorded.put("z", 0);
    EXPECT_EQ(recorded.evicted, (Keys{"first", "churn"}));
    EXPECT_EQ(recorded.map.evicted_count(), 2u);
}

TEST(BoundedMap, ManyEraseReinsertCyclesWithTimeToLiveStayBounded) {
    Recorded recorded(4, 1000);
    for (int cycle = 0; cycle < 100000; ++cycle) recorded.reinsert("k" + std::to_string(cycle % 3), cycle);
    EXPECT_EQ(recorded.map.size(), 3u);
    EXPECT_TRUE(recorded.evicted.empty());  // every entry was replaced before it aged out
    recorded.advance(100000 + 2000);
    EXPECT_EQ(recorded.map.size(), 0u);
    EXPECT_EQ(recorded.evicted.size(), 3u);
}

// Keys whose hashes share their low bits pile up in one probe run of the index: erasing from the
// middle of such runs must leave every other key findable.
TEST(BoundedMap, ErasingInsideCrowdedProbeRunsKeepsTheOtherKeysFindable) {
    BoundedMap<std::uint64_t, std::uint64_t> map(100000, BoundedMap<std::uint64_t, std::uint64_t>::kForever);
    for (std::uint64_t key = 0; key < 20000; ++key) map.get_or_insert(key << 32, 0, [](auto&, auto&) {}) = key;
    for (std::uint64_t key = 0; key < 20000; key += 3) map.erase(key << 32);
    for (std::uint64_t key = 0; key < 20000; ++key) {
        const std::uint64_t* value = map.find(key << 32);
        if (key % 3 == 0) {
            EXPECT_EQ(value, nullptr) << key;
        } else {
            ASSERT_NE(value, nullptr) << key;
            EXPECT_EQ(*value, key);
        }
    }
    EXPECT_EQ(map.size(), 20000u - 6667u);
}

// The engines hold a found entry while they insert others: its address must not move when the
// map grows or reuses the room of erased entries.
TEST(BoundedMap, AnEntrysAddressSurvivesGrowthAndOtherEntriesComingAndGoing) {
    Recorded recorded(100000, Map::kForever);
    int* kept = &recorded.put("kept", 0);
    *kept = 42;
    for (int i = 0; i < 50000; ++i) recorded.put("other" + std::to_string(i), 0);
    for (int i = 0; i < 50000; i += 2) recorded.map.erase("other" + std::to_string(i));
    for (int i = 0; i < 20000; ++i) recorded.put("again" + std::to_string(i), 0);
    EXPECT_EQ(recorded.map.find("kept"), kept);
    EXPECT_EQ(*kept, 42);
}

// A map moved into another keeps its entries, their values and its eviction order; the emptied one
// can be given a new map.
TEST(BoundedMap, AMovedMapKeepsItsEntriesAndEvictionOrder) {
    Map source(3, Map::kForever);
    for (const char* key : {"a", "b", "c"}) source.get_or_insert(key, 0, [](auto&, auto&) {}) = 7;
    Map moved(std::move(source));
    ASSERT_NE(moved.find("b"), nullptr);
    EXPECT_EQ(*moved.find("b"), 7);
    Keys evicted;
    moved.get_or_insert("d", 1, [&](const std::string& key, int&) { evicted.push_back(key); });
    EXPECT_EQ(evicted, Keys{"a"});
    source = Map(2, Map::kForever);
    source.get_or_insert("x", 2, [](auto&, auto&) {}) = 1;
    EXPECT_EQ(*source.find("x"), 1);
    EXPECT_EQ(moved.size(), 3u);
}

// An erased entry gives its room back: a value put there later starts from the default.
TEST(BoundedMap, AnEntryPutWhereAnErasedOneWasStartsFromTheDefault) {
    Recorded recorded(4, Map::kForever);
    recorded.put("a", 0) = 7;
    recorded.map.erase("a");
    EXPECT_EQ(recorded.put("b", 1), 0);
    EXPECT_EQ(recorded.put("a", 2), 0);
}

}  // namespace
TEST(BoundedMap, EvictionsForRoomAreCountedApartFromAgeing) {
    diag503::BoundedMap<int, int> map(2, 100);
    map.get_or_insert(1, 0, [](auto&, auto&) {});
    map.get_or_insert(2, 0, [](auto&, auto&) {});
    map.get_or_insert(3, 0, [](auto&, auto&) {});   // full: 1 makes room
    map.get_or_insert(4, 500, [](auto&, auto&) {}); // 2 and 3 aged out, 4 fits
    EXPECT_EQ(map.evicted_count(), 3u);
    EXPECT_EQ(map.evicted_for_room_count(), 1u);
}

}  // namespace diag503
