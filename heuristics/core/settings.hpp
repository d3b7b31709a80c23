// Every threshold and state bound of the engine, with defaults drawn from the RFCs and field practice.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace diag503 {

struct Settings {
    // Timing of the 503 relative to its request.
    // Under this, the server refused without trying anyone else (local admission or load shedding).
    std::uint32_t immediate_response_ms = 100;
    // At or over this, the server most likely waited on a downstream hop (RFC 3261 timer B/F run
    // 32 s; carriers commonly fail over after 2-8 s).
    std::uint32_t delayed_response_ms = 2000;

    // Retry-After classes: RFC 7339 and carrier practice use seconds for transient load;
    // planned work announces minutes to hours.
    std::uint32_t short_retry_after_s = 60;
    std::uint32_t long_retry_after_s = 300;

    // Context windows.
    std::uint32_t scope_window_s = 60;      // outcomes compared for "one user vs all users"
    std::uint32_t surge_window_s = 2;       // recent request rate ...
    std::uint32_t baseline_window_s = 30;   // ... against the rate over this longer window before it
    std::uint32_t surge_factor = 3;         // recent rate at least this many times the baseline
    std::uint32_t min_user_failures = 2;    // 503s to one user before it is called a per-user problem
    std::uint32_t min_other_users_served = 3;
    std::uint32_t min_dialogs_for_ceiling = 2;
    // Refusals while the call count holds still this long show a ceiling, not a rate limit, whose
    // windows are about a second.
    std::uint32_t ceiling_hold_s = 2;

    // State bounds (each map is evicted by time and by count; see where the map is declared).
    std::uint32_t transaction_lifetime_s = 300;     // well past RFC 3261 timer B/F (32 s)
    std::uint32_t dialog_lifetime_s = 3600;         // a dialog with no BYE seen is dropped after this
    std::uint32_t max_transactions = 200000;
    std::uint32_t max_dialogs = 100000;
    std::uint32_t max_servers = 10000;
    std::uint32_t outcome_history = 512;            // per server
    std::uint32_t max_sessions_per_device = 256;    // RTSP sessions tracked per device
    // Context of a server, device, host or client (and an open incident) not seen for this long is forgotten.
    std::uint32_t context_lifetime_s = 3600;
    std::uint32_t max_events_per_host = 32;         // network failures kept per host (twice as many unanswered attempts)
    std::uint32_t max_refusals_per_client = 8;      // latest 503s per client, for its reactions
    std::uint32_t max_incident_clients = 4096;      // distinct clients counted per incident; beyond, each 503 counts as new

    // RTSP: an encoder change or a device reset this recent explains a refusal.
    std::uint32_t event_window_s = 60;

    // SIP: failures the 503's sender met in DNS, TLS, ICMP, TCP or database traffic this recent
    // explain its 503 (RFC 3261 timer B/F is 32 s; a lookup or connection failure precedes the answer).
    std::uint32_t evidence_window_s = 60;
    // 503s of one server with one cause belong to one incident while they are at most this far apart.
    std::uint32_t incident_gap_s = 60;
    // Client reactions: a request to another server for the same call this soon after a 503 is a
    // failover (RFC 3261 §21.5.4); without a Retry-After, the same call sent to the same server again
    // sooner than min_retry_interval_ms is hammering (cameradar-style scanners retry every second).
    std::uint32_t failover_window_s = 32;
    std::uint32_t min_retry_interval_ms = 1500;
};

// The values a setting may take: outside them a window or table stops meaning what its name says
// (the request rate is kept per second for 64 s, so a surge window over 8 s cannot be measured).
struct SettingRange {
    const char* name;  // the preference, diag503.<name>
    std::uint32_t Settings::*field;
    std::uint32_t min;
    std::uint32_t max;
};
const std::vector<SettingRange>& setting_ranges();
const SettingRange* setting_range(std::uint32_t Settings::*field);
std::string allowed_values(const SettingRange& range);  // "Allowed: 1 to 8."

// Brings every setting into its range, and each lower threshold under the upper one it pairs with;
// returns one sentence per value changed, for the user who set it.
std::vector<std::string> bring_into_range(Settings& settings);

}  // namespace diag503
