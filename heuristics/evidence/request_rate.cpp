// Request-rate buckets: counts, medians and history length over the last minute.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "evidence/request_rate.hpp"

#include <algorithm>
#include <vector>

namespace diag503 {
namespace {

std::int64_t second_of(std::int64_t time_us) {
    return time_us >= 0 ? time_us / 1000000 : -((-time_us + 999999) / 1000000);
}
std::size_t bucket_of(std::int64_t second) {
    const auto modulo = second % RequestRate::kSeconds;
    return static_cast<std::size_t>(modulo < 0 ? modulo + RequestRate::kSeconds : modulo);
}

}  // namespace

void RequestRate::add(std::int64_t time_us) {
    const auto second = second_of(time_us);
    if (empty_) {
        empty_ = false;
        newest_second_ = first_second_ = second;
    }
    if (second > newest_second_) {
        const auto gap = std::min<std::int64_t>(second - newest_second_, kSeconds);
        for (std::int64_t step = 1; step <= gap; ++step) counts_[bucket_of(newest_second_ + step)] = 0;
        newest_second_ = second;
    }
    if (second <= newest_second_ - kSeconds) return;  // older than the window: out-of-order straggler
    first_second_ = std::min(first_second_, second);
    ++counts_[bucket_of(second)];
}

std::uint32_t RequestRate::count(std::int64_t now_us, int seconds, int seconds_before_now) const {
    if (empty_) return 0;
    const auto last = second_of(now_us) - seconds_before_now;
    std::uint32_t total = 0;
    for (std::int64_t second = last - seconds + 1; second <= last; ++second) {
        if (second > newest_second_ || second <= newest_second_ - kSeconds) continue;
        total += counts_[bucket_of(second)];
    }
    return total;
}

double RequestRate::median_per_second(std::int64_t now_us, int seconds, int seconds_before_now) const {
    if (seconds <= 0) return 0.0;
    std::vector<std::uint32_t> per_second;
    const auto last = second_of(now_us) - seconds_before_now;
    for (std::int64_t second = last - seconds + 1; second <= last; ++second)
        per_second.push_back(second > newest_second_ || second <= newest_second_ - kSeconds ? 0 : counts_[bucket_of(second)]);
    const auto middle = per_second.begin() + static_cast<std::ptrdiff_t>(per_second.size() / 2);
    std::nth_element(per_second.begin(), middle, per_second.end());
    if (per_second.size() % 2 == 1) return *middle;
    const auto lower = *std::max_element(per_second.begin(), middle);
    return (static_cast<double>(lower) + *middle) / 2.0;
}

int RequestRate::history_seconds(std::int64_t now_us) const {
    if (empty_) return 0;
    return static_cast<int>(std::clamp<std::int64_t>(second_of(now_us) - first_second_, 0, kSeconds));
}

}  // namespace diag503
