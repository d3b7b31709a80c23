// A hash map with a count bound and a time-to-live, evicting oldest-inserted first.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <unordered_map>
#include <utility>

namespace diag503 {

// Entries leave oldest first: when the map holds more than `max_entries`, or when an entry was last
// written more than `lifetime_us` before the newest time seen. Writing an entry (get_or_insert) renews
// it once half its lifetime has passed or half the map was written since, so busy state is neither
// aged out nor pushed out (an approximate least-recently-written order at one slot per renewal). Times may arrive out of order;
// the newest one seen is the clock, so an old frame can never evict newer state.
template <typename Key, typename Value>
class BoundedMap {
public:
    static constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();

    BoundedMap(std::size_t max_entries, std::int64_t lifetime_us)
        : max_entries_(max_entries == 0 ? 1 : max_entries), lifetime_us_(lifetime_us) {}

    Value* find(const Key& key) {
        auto found = entries_.find(key);
        return found == entries_.end() ? nullptr : &found->second.value;
    }
    const Value* find(const Key& key) const {
        auto found = entries_.find(key);
        return found == entries_.end() ? nullptr : &found->second.value;
    }

    // Inserts a default value when absent. `evicted(key, value)` is called for each entry pushed out.
    template <typename OnEvict>
    Value& get_or_insert(const Key& key, std::int64_t now_us, OnEvict&& evicted) {
        advance_clock(now_us, evicted);
        auto [position, inserted] = entries_.try_emplace(key);
        const bool renew = !inserted && (sequence_ - position->second.sequence > max_entries_ / 2 ||
                                         (lifetime_us_ != kForever && now_us - position->second.written_us > lifetime_us_ / 2));
        if (inserted || renew) {
            position->second.sequence = ++sequence_;
            position->second.written_us = now_us;
            order_.push_back({now_us, key, sequence_});  // a renewed entry's older slot becomes stale
            while (entries_.size() > max_entries_) {
                if (evict_front(evicted)) ++evicted_for_room_count_;
            }
            if (order_.size() > 2 * max_entries_ + 16) drop_stale_slots();
        }
        return entries_.find(key)->second.value;
    }

    template <typename OnEvict>
    void advance_clock(std::int64_t now_us, OnEvict&& evicted) {
        if (now_us > clock_us_) clock_us_ = now_us;
        if (lifetime_us_ == kForever) return;
        while (!order_.empty() && order_.front().inserted_us < clock_us_ - lifetime_us_) evict_front(evicted);
    }

    void erase(const Key& key) { entries_.erase(key); }  // its order slot becomes stale and is skipped
    std::size_t size() const { return entries_.size(); }
    std::uint64_t evicted_count() const { return evicted_count_; }
    // Entries pushed out because the map was full (not because they aged): the bound was reached.
    std::uint64_t evicted_for_room_count() const { return evicted_for_room_count_; }
    // True inside an eviction callback when the entry leaves to make room (not because it aged).
    bool making_room() const { return entries_.size() > max_entries_; }

private:
    struct Entry {
        std::uint64_t sequence = 0;
        std::int64_t written_us = 0;
        Value value{};
    };
    struct Slot {
        std::int64_t inserted_us;
        Key key;
        std::uint64_t sequence;
    };

    bool is_live(const Slot& slot) const {
        auto found = entries_.find(slot.key);
        return found != entries_.end() && found->second.sequence == slot.sequence;
    }

    template <typename OnEvict>
    bool evict_front(OnEvict&& evicted) {  // false when the front slot was stale
        const Slot slot = order_.front();
        order_.pop_front();
        if (!is_live(slot)) return false;
        auto found = entries_.find(slot.key);
        evicted(found->first, found->second.value);
        entries_.erase(found);
        ++evicted_count_;
        return true;
    }

    void drop_stale_slots() {
        std::deque<Slot> live;
        for (const Slot& slot : order_)
            if (is_live(slot)) live.push_back(slot);
        order_.swap(live);
    }

    std::size_t max_entries_;
    std::int64_t lifetime_us_;
    std::int64_t clock_us_ = std::numeric_limits<std::int64_t>::min();
    std::uint64_t sequence_ = 0;
    std::unordered_map<Key, Entry> entries_;
    std::deque<Slot> order_;
    std::uint64_t evicted_count_ = 0;
    std::uint64_t evicted_for_room_count_ = 0;
};

}  // namespace diag503
