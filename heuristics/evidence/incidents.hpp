// Incidents: 503s of one server with one cause, close in time, grouped under one id with running totals.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>

#include "core/bounded_map.hpp"
#include "core/settings.hpp"
#include "core/verdict.hpp"

namespace diag503 {

class IncidentTracker {
public:
    explicit IncidentTracker(const Settings& settings);
    // Places a (first-sent, not retransmitted) 503 in its incident, opening one when needed.
    IncidentFacts place(const Verdict& verdict, std::int64_t time_us);

private:
    struct Incident {
        IncidentFacts facts;
        std::int64_t first_us = 0;
        std::int64_t last_us = 0;
        std::uint64_t served_at_start = 0;
        std::unordered_set<std::uint64_t> clients;  // at most Settings::max_incident_clients; then counted as new
    };

    std::int64_t gap_us_;
    std::size_t max_clients_counted_;
    std::uint32_t next_id_ = 1;
    // Owner: the tracker. Key: server and cause. Lifetime: until a 503 of that server and cause comes
    // more than Settings::incident_gap_s after the last (then replaced), or Settings::context_lifetime_s
    // after it was last written. Bound: Settings::max_servers.
    BoundedMap<std::uint64_t, Incident> open_;
};

// "Incident 3 begins with this 503." / "Incident 3: 12th 503 in 4.200 s since frame 40, ..."
std::string incident_sentence(const IncidentFacts& incident, Cause cause, const std::string& server);

}  // namespace diag503
