// A hash map with a count bound and a time-to-live, evicting oldest-inserted first.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

namespace diag503 {

// Entries leave oldest first: when the map holds more than `max_entries`, or when an entry was last
// written more than `lifetime_us` before the newest time seen. Writing an entry (get_or_insert) renews
// it once half its lifetime has passed or half the map was written since, so busy state is neither
// aged out nor pushed out (an approximate least-recently-written order at one slot per renewal). Times may arrive out of order;
// the newest one seen is the clock, so an old frame can never evict newer state.
//
// Layout, for the cache: values live in a pool whose addresses never move (a pointer from find() stays
// valid until that entry is erased or evicted); a flat, linearly probed index of 8-byte buckets maps a
// key's hash to its place in the pool. A look-up reads one bucket line and one entry, where a node-based
// map read a bucket, a node pointer and a node, each likely a cache miss on maps of 100 000 entries.
template <typename Key, typename Value>
class BoundedMap {
public:
    static constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();

    BoundedMap(std::size_t max_entries, std::int64_t lifetime_us)
        : max_entries_(max_entries == 0 ? 1 : max_entries), lifetime_us_(lifetime_us) {}

    Value* find(const Key& key) {
        const std::size_t bucket = bucket_of(key, hash_of(key));
        return bucket == kAbsent ? nullptr : &pool_[buckets_[bucket].entry].value;
    }
    const Value* find(const Key& key) const { return const_cast<BoundedMap*>(this)->find(key); }

    // Inserts a default value when absent. `evicted(key, value)` is called for each entry pushed out.
    template <typename OnEvict>
    Value& get_or_insert(const Key& key, std::int64_t now_us, OnEvict&& evicted) {
        advance_clock(now_us, evicted);
        const std::uint32_t hash = hash_of(key);
        std::size_t bucket = bucket_of(key, hash);
        const bool inserted = bucket == kAbsent;
        if (inserted) bucket = insert_new(key, hash);
        const std::uint32_t index = buckets_[bucket].entry;
        Entry& entry = pool_[index];
        const bool renew = !inserted && (sequence_ - entry.sequence > max_entries_ / 2 ||
                                         (lifetime_us_ != kForever && now_us - entry.written_us > lifetime_us_ / 2));
        if (inserted || renew) {
            entry.sequence = ++sequence_;
            entry.written_us = now_us;
            order_.push_back({now_us, index, sequence_});  // a renewed entry's older slot becomes stale
            while (size_ > max_entries_) {
                if (evict_front(evicted)) ++evicted_for_room_count_;
            }
            if (order_.size() > 2 * max_entries_ + 16) drop_stale_slots();
        }
        return entry.value;  // pool addresses are stable: evicting others did not move it
    }

    template <typename OnEvict>
    void advance_clock(std::int64_t now_us, OnEvict&& evicted) {
        if (now_us > clock_us_) clock_us_ = now_us;
        if (lifetime_us_ == kForever) return;
        while (!order_.empty() && order_.front().inserted_us < clock_us_ - lifetime_us_) evict_front(evicted);
    }

    // Its order slot becomes stale and is skipped.
    void erase(const Key& key) {
        const std::size_t bucket = bucket_of(key, hash_of(key));
        if (bucket != kAbsent) release(bucket);
    }
    std::size_t size() const { return size_; }
    std::uint64_t evicted_count() const { return evicted_count_; }
    // Entries pushed out because the map was full (not because they aged): the bound was reached.
    std::uint64_t evicted_for_room_count() const { return evicted_for_room_count_; }
    // True inside an eviction callback when the entry leaves to make room (not because it aged).
    bool making_room() const { return size_ > max_entries_; }

private:
    static constexpr std::size_t kAbsent = std::numeric_limits<std::size_t>::max();
    static constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();

    struct Entry {
        Key key{};
        std::uint64_t sequence = 0;  // 0: free
        std::int64_t written_us = 0;
        Value value{};
    };
    struct Bucket {
        std::uint32_t entry = kEmpty;  // index into pool_
        std::uint32_t hash = 0;        // the key's hash, to skip other keys and find a bucket's home
    };
    struct Slot {
        std::int64_t inserted_us;
        std::uint32_t entry;
        std::uint64_t sequence;
    };

    static std::uint32_t hash_of(const Key& key) {
        // Keys are often hashes already; mixing keeps their low bits, the bucket's, well spread either way.
        const std::uint64_t mixed = static_cast<std::uint64_t>(std::hash<Key>{}(key)) * 0x9E3779B97F4A7C15ull;
        return static_cast<std::uint32_t>(mixed >> 32);
    }
    std::size_t mask() const { return buckets_.size() - 1; }

    std::size_t bucket_of(const Key& key, std::uint32_t hash) const {
        if (buckets_.empty()) return kAbsent;
        for (std::size_t bucket = hash & mask();; bucket = (bucket + 1) & mask()) {
            const Bucket& candidate = buckets_[bucket];
            if (candidate.entry == kEmpty) return kAbsent;
            if (candidate.hash == hash && pool_[candidate.entry].key == key) return bucket;
        }
    }

    std::size_t insert_new(const Key& key, std::uint32_t hash) {
        if ((size_ + 1) * 2 > buckets_.size()) grow();
        std::uint32_t index;
        if (!free_.empty()) {
            index = free_.back();
            free_.pop_back();
        } else {
            index = static_cast<std::uint32_t>(pool_.size());
            pool_.emplace_back();
        }
        pool_[index].key = key;
        ++size_;
        return place(index, hash);
    }

    std::size_t place(std::uint32_t index, std::uint32_t hash) {
        std::size_t bucket = hash & mask();
        while (buckets_[bucket].entry != kEmpty) bucket = (bucket + 1) & mask();
        buckets_[bucket] = {index, hash};
        return bucket;
    }

    void grow() {
        std::vector<Bucket> old(std::max<std::size_t>(16, buckets_.size() * 2));
        old.swap(buckets_);
        for (const Bucket& bucket : old)
            if (bucket.entry != kEmpty) place(bucket.entry, bucket.hash);
    }

    // Frees the entry and closes the gap in its probe run (backward-shift deletion: no tombstones).
    void release(std::size_t bucket) {
        const std::uint32_t index = buckets_[bucket].entry;
        pool_[index] = Entry{};  // gives its strings and vectors back now
        free_.push_back(index);
        --size_;
        std::size_t hole = bucket;
        for (std::size_t next = (hole + 1) & mask(); buckets_[next].entry != kEmpty; next = (next + 1) & mask()) {
            const std::size_t home = buckets_[next].hash & mask();
            const bool can_move = ((next - home) & mask()) >= ((next - hole) & mask());
            if (!can_move) continue;
            buckets_[hole] = buckets_[next];
            hole = next;
        }
        buckets_[hole] = Bucket{};
    }

    template <typename OnEvict>
    bool evict_front(OnEvict&& evicted) {  // false when the front slot was stale
        const Slot slot = order_.front();
        order_.pop_front();
        Entry& entry = pool_[slot.entry];
        if (entry.sequence != slot.sequence) return false;
        evicted(std::as_const(entry.key), entry.value);
        ++evicted_count_;
        const std::size_t bucket = bucket_of(entry.key, hash_of(entry.key));
        if (bucket != kAbsent) release(bucket);  // absent only if the callback erased it itself
        return true;
    }

    void drop_stale_slots() {
        std::deque<Slot> live;
        for (const Slot& slot : order_)
            if (pool_[slot.entry].sequence == slot.sequence) live.push_back(slot);
        order_.swap(live);
    }

    std::size_t max_entries_;
    std::int64_t lifetime_us_;
    std::int64_t clock_us_ = std::numeric_limits<std::int64_t>::min();
    std::uint64_t sequence_ = 0;
    std::deque<Entry> pool_;            // stable addresses; freed entries are reused through free_
    std::vector<std::uint32_t> free_;
    std::vector<Bucket> buckets_;       // a power of two, at most half full
    std::size_t size_ = 0;
    std::deque<Slot> order_;
    std::uint64_t evicted_count_ = 0;
    std::uint64_t evicted_for_room_count_ = 0;
};

}  // namespace diag503
