// A list of at most N values held inline: no heap allocation, for per-frame scratch such as split messages.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstddef>

namespace diag503 {

// Bound: N values; push_back refuses (returns false) beyond it, so callers state what they drop.
template <typename T, std::size_t N>
class FixedList {
public:
    bool push_back(const T& value) {
        if (size_ == N) return false;
        values_[size_++] = value;
        return true;
    }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const T& operator[](std::size_t index) const { return values_[index]; }
    const T* begin() const { return values_.data(); }
    const T* end() const { return values_.data() + size_; }

private:
    std::array<T, N> values_{};
    std::size_t size_ = 0;
};

}  // namespace diag503
