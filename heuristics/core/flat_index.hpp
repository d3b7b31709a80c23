// A flat hash index from one 64-bit key to another, for secondary keys of entries a BoundedMap owns.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace diag503 {

// Key and value sit together in one 16-byte slot of a linearly probed table at most half full, so a
// look-up reads one cache line where a BoundedMap reads a bucket and a pooled entry. It has no clock
// and no bound of its own: its owner erases a key when the entry it names leaves the owning map, so
// it never holds more keys than that map holds entries.
class FlatIndex {
public:
    const std::uint64_t* find(std::uint64_t key) const {
        if (key == kEmpty) return zero_used_ ? &zero_value_ : nullptr;
        const std::size_t slot = slot_of(key);
        return slot == kAbsent ? nullptr : &slots_[slot].value;
    }

    // Sets key's value, adding the key when absent.
    void set(std::uint64_t key, std::uint64_t value) {
        if (key == kEmpty) {
            size_ += zero_used_ ? 0 : 1;
            zero_used_ = true;
            zero_value_ = value;
            return;
        }
        std::size_t slot = slot_of(key);
        if (slot == kAbsent) {
            if ((size_ + 1) * 2 > slots_.size()) grow();  // size_ may count the key 0: growing early is harmless
            slot = place(key);
            ++size_;
        }
        slots_[slot].value = value;
    }

    // Backward-shift deletion: no tombstones, so probe runs stay short.
    void erase(std::uint64_t key) {
        if (key == kEmpty) {
            size_ -= zero_used_ ? 1 : 0;
            zero_used_ = false;
            return;
        }
        std::size_t hole = slot_of(key);
        if (hole == kAbsent) return;
        --size_;
        for (std::size_t next = (hole + 1) & mask(); slots_[next].key != kEmpty; next = (next + 1) & mask()) {
            const std::size_t home = home_of(slots_[next].key);
            if (((next - home) & mask()) < ((next - hole) & mask())) continue;
            slots_[hole] = slots_[next];
            hole = next;
        }
        slots_[hole] = Slot{};
    }

    std::size_t size() const { return size_; }

private:
    static constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);
    static constexpr std::uint64_t kEmpty = 0;  // marks a free slot; the key 0 itself is kept beside the table
    struct Slot {
        std::uint64_t key = kEmpty;
        std::uint64_t value = 0;
    };

    std::size_t mask() const { return slots_.size() - 1; }
    std::size_t home_of(std::uint64_t key) const {
        // Keys are hashes already; mixing spreads them over the low bits the table indexes by.
        return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask();
    }
    std::size_t slot_of(std::uint64_t key) const {
        if (slots_.empty()) return kAbsent;
        for (std::size_t slot = home_of(key);; slot = (slot + 1) & mask()) {
            if (slots_[slot].key == kEmpty) return kAbsent;
            if (slots_[slot].key == key) return slot;
        }
    }
    std::size_t place(std::uint64_t key) {
        std::size_t slot = home_of(key);
        while (slots_[slot].key != kEmpty) slot = (slot + 1) & mask();
        slots_[slot].key = key;
        return slot;
    }
    void grow() {
        std::vector<Slot> old(slots_.empty() ? 16 : slots_.size() * 2);
        old.swap(slots_);
        for (const Slot& slot : old)
            if (slot.key != kEmpty) slots_[place(slot.key)].value = slot.value;
    }

    std::vector<Slot> slots_;  // a power of two
    std::size_t size_ = 0;     // keys held, the key 0 included
    bool zero_used_ = false;
    std::uint64_t zero_value_ = 0;
};

}  // namespace diag503
