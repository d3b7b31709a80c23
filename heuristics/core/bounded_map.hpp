// A hash map with a count bound and a time-to-live, evicting oldest-inserted first.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace diag503 {

// Entries leave oldest first: when the map holds more than `max_entries`, or when an entry was last
// written more than `lifetime_us` before the newest time seen. Writing an entry (get_or_insert) renews
// it once half its lifetime has passed or half the map was written since, so busy state is neither
// aged out nor pushed out (an approximate least-recently-written order at one slot per renewal). Times may arrive out of order;
// the newest one seen is the clock, so an old frame can never evict newer state.
//
// Layout, for the cache: values live in a pool of large chunks whose addresses never move (a pointer
// from find() stays valid until that entry is erased or evicted); a flat, linearly probed index of 8-byte
// buckets maps a key's hash to its place in the pool. A look-up reads one bucket line and one entry, where
// a node-based map read a bucket, a node pointer and a node, each likely a cache miss on maps of 100 000
// entries. Chunks of about 16 KiB keep the table of chunks small enough to stay cached (a std::deque's
// 512-byte blocks made it one pointer per few entries) and cost one allocation per many entries; the
// eviction order is a ring in one array for the same reason.
template <typename Key, typename Value>
class BoundedMap {
public:
    static constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();

    BoundedMap(std::size_t max_entries, std::int64_t lifetime_us)
        : max_entries_(max_entries == 0 ? 1 : max_entries), lifetime_us_(lifetime_us) {}

    Value* find(const Key& key) {
        const std::size_t bucket = bucket_of(key, hash_of(key));
        return bucket == kAbsent ? nullptr : &entry_at(buckets_[bucket].entry).value;
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
        Entry& entry = entry_at(index);
        const bool renew = !inserted && (sequence_ - entry.sequence > max_entries_ / 2 ||
                                         (lifetime_us_ != kForever && now_us - entry.written_us > lifetime_us_ / 2));
        if (inserted || renew) {
            entry.sequence = ++sequence_;
            entry.written_us = now_us;
            order_.push({now_us, index, sequence_});  // a renewed entry's older slot becomes stale
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
            if (candidate.hash == hash && entry_at(candidate.entry).key == key) return bucket;
        }
    }

    std::size_t insert_new(const Key& key, std::uint32_t hash) {
        if ((size_ + 1) * 2 > buckets_.size()) grow();
        std::uint32_t index;
        if (!free_.empty()) {
            index = free_.back();
            free_.pop_back();
        } else {
            index = pool_.add();
        }
        entry_at(index).key = key;
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
        entry_at(index) = Entry{};  // gives its strings and vectors back now
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
        order_.pop();
        Entry& entry = entry_at(slot.entry);
        if (entry.sequence != slot.sequence) return false;
        evicted(std::as_const(entry.key), entry.value);
        ++evicted_count_;
        const std::size_t bucket = bucket_of(entry.key, hash_of(entry.key));
        if (bucket != kAbsent) release(bucket);  // absent only if the callback erased it itself
        return true;
    }

    void drop_stale_slots() {
        order_.keep_only([this](const Slot& slot) { return entry_at(slot.entry).sequence == slot.sequence; });
    }

    Entry& entry_at(std::uint32_t index) { return pool_.at(index); }
    const Entry& entry_at(std::uint32_t index) const { return const_cast<Pool&>(pool_).at(index); }

    // Entries in chunks that never move; an entry is built when first used and lives until the map goes.
    class Pool {
    public:
        Pool() = default;
        Pool(const Pool&) = delete;
        Pool& operator=(const Pool&) = delete;
        Pool(Pool&& other) noexcept : chunks_(std::move(other.chunks_)), size_(std::exchange(other.size_, 0)) {}
        Pool& operator=(Pool&& other) noexcept {
            if (this != &other) {
                destroy();
                chunks_ = std::move(other.chunks_);
                size_ = std::exchange(other.size_, 0);
            }
            return *this;
        }
        ~Pool() { destroy(); }
        Entry& at(std::uint32_t index) {
            return *std::launder(reinterpret_cast<Entry*>(chunks_[index / kPerChunk].get()) + index % kPerChunk);
        }
        std::uint32_t add() {
            if (size_ % kPerChunk == 0) chunks_.push_back(std::make_unique<Storage[]>(kPerChunk));
            const auto index = static_cast<std::uint32_t>(size_);
            new (reinterpret_cast<Entry*>(chunks_.back().get()) + index % kPerChunk) Entry{};
            ++size_;
            return index;
        }

    private:
        void destroy() {
            for (std::size_t index = 0; index < size_; ++index) at(static_cast<std::uint32_t>(index)).~Entry();
            size_ = 0;
        }
        static constexpr std::size_t kPerChunk = sizeof(Entry) >= 16384 ? 1 : 16384 / sizeof(Entry);
        struct Storage {
            alignas(Entry) unsigned char bytes[sizeof(Entry)];
        };
        std::vector<std::unique_ptr<Storage[]>> chunks_;
        std::size_t size_ = 0;
    };

    // A first-in, first-out queue in one array that doubles when full.
    class Ring {
    public:
        bool empty() const { return count_ == 0; }
        std::size_t size() const { return count_; }
        const Slot& front() const { return slots_[head_]; }
        void pop() {
            head_ = (head_ + 1) & (slots_.size() - 1);
            --count_;
        }
        void push(const Slot& slot) {
            if (count_ == slots_.size()) grow();
            slots_[(head_ + count_) & (slots_.size() - 1)] = slot;
            ++count_;
        }
        template <typename Keep>
        void keep_only(Keep&& keep) {
            std::size_t kept = 0;
            for (std::size_t i = 0; i < count_; ++i) {
                const Slot slot = slots_[(head_ + i) & (slots_.size() - 1)];
                if (keep(slot)) slots_[(head_ + kept++) & (slots_.size() - 1)] = slot;
            }
            count_ = kept;
        }

    private:
        void grow() {
            std::vector<Slot> bigger(std::max<std::size_t>(16, slots_.size() * 2));
            for (std::size_t i = 0; i < count_; ++i) bigger[i] = slots_[(head_ + i) & (slots_.size() - 1)];
            slots_.swap(bigger);
            head_ = 0;
        }
        std::vector<Slot> slots_;  // a power of two
        std::size_t head_ = 0;
        std::size_t count_ = 0;
    };

    std::size_t max_entries_;
    std::int64_t lifetime_us_;
    std::int64_t clock_us_ = std::numeric_limits<std::int64_t>::min();
    std::uint64_t sequence_ = 0;
    Pool pool_;                         // stable addresses; freed entries are reused through free_
    std::vector<std::uint32_t> free_;
    std::vector<Bucket> buckets_;       // a power of two, at most half full
    std::size_t size_ = 0;
    Ring order_;
    std::uint64_t evicted_count_ = 0;
    std::uint64_t evicted_for_room_count_ = 0;
};

}  // namespace diag503
