// Requests per second in fixed one-second buckets: the rate memory of servers and of client reactions.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>

namespace diag503 {

// Requests per second over the last minute, in fixed one-second buckets: constant memory at any rate.
class RequestRate {
public:
    static constexpr int kSeconds = 64;
    void add(std::int64_t time_us);
    // Requests in the `seconds` whole seconds ending `seconds_before_now` seconds before `now_us`'s second.
    std::uint32_t count(std::int64_t now_us, int seconds, int seconds_before_now = 0) const;
    // Median requests per second over those seconds: a baseline that one burst does not distort.
    double median_per_second(std::int64_t now_us, int seconds, int seconds_before_now) const;
    // Seconds of history this server has, capped at kSeconds.
    int history_seconds(std::int64_t now_us) const;

private:
    std::array<std::uint32_t, kSeconds> counts_{};
    std::int64_t newest_second_ = 0;
    std::int64_t first_second_ = 0;
    bool empty_ = true;
};

}  // namespace diag503
