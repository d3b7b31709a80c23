// The diag503 preferences table: name, title, description and the Settings field behind each.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "preferences.hpp"

#include <array>
#include <string>
#include <type_traits>

namespace diag503 {
namespace {

static_assert(std::is_same_v<std::uint32_t, guint>, "preferences write Settings fields as guint");

struct PreferenceRow {
    const char* name;
    const char* title;
    const char* description;
    std::uint32_t Settings::*field;
};

// Descriptions state the default, which comes from Settings; registration adds the allowed values.
constexpr PreferenceRow kPreferences[] = {
    {"immediate_response_ms", "A 503 is immediate within (ms)",
     "A 503 sent within this many milliseconds of its request was refused without trying another hop. Default 100.",
     &Settings::immediate_response_ms},
    {"delayed_response_ms", "A 503 is delayed from (ms)",
     "A 503 sent this many milliseconds or more after its request followed a downstream attempt. Default 2000.",
     &Settings::delayed_response_ms},
    {"short_retry_after", "A Retry-After is short up to (s)",
     "A Retry-After of at most this many seconds announces a transient condition. Default 60.",
     &Settings::short_retry_after_s},
    {"long_retry_after", "A Retry-After is long from (s)",
     "A Retry-After of at least this many seconds announces maintenance or a long outage. Default 300.",
     &Settings::long_retry_after_s},
    {"scope_window", "Compare users' outcomes over the last (s)",
     "Outcomes of the server within this many seconds are compared to tell one user from all users. Default 60.",
     &Settings::scope_window_s},
    {"surge_window", "Measure the recent request rate over (s)",
     "The recent request rate is measured over this many seconds. Default 2.",
     &Settings::surge_window_s},
    {"baseline_window", "Compare it with the rate over the previous (s)",
     "The recent rate is compared with the rate over this many seconds before it. Default 30.",
     &Settings::baseline_window_s},
    {"surge_factor", "A surge is this many times the earlier rate",
     "A recent request rate this many times the baseline is a surge. Default 3.",
     &Settings::surge_factor},
    {"min_user_failures", "503s to one user before the fault is per-user",
     "503s to one user (others served) before the fault is called per-user. Default 2.",
     &Settings::min_user_failures},
    {"min_other_users_served", "Other users served before the fault is per-user",
     "Distinct other users served before one user's 503s are called per-user. Default 3.",
     &Settings::min_other_users_served},
    {"min_dialogs_for_ceiling", "Calls up before a refusal can be a call limit",
     "Active calls needed before a 503 at the peak count is read as a concurrent-call limit. Default 2.",
     &Settings::min_dialogs_for_ceiling},
    {"ceiling_hold", "Call count steady this long for a call limit (s)",
     "Refusals while the active-call count holds still this long read as a call ceiling, not a rate limit. Default 2.",
     &Settings::ceiling_hold_s},
    {"transaction_lifetime", "Forget a request after (s)",
     "A SIP transaction or RTSP request is forgotten this many seconds after the request. Default 300.",
     &Settings::transaction_lifetime_s},
    {"dialog_lifetime", "Forget a call or RTSP session left open after (s)",
     "A call whose BYE was not captured stops counting as active after this many seconds; no RTSP session is kept longer. Default 3600.",
     &Settings::dialog_lifetime_s},
    {"max_transactions", "Requests remembered, at most",
     "At most this many SIP transactions and RTSP requests are remembered; the oldest are forgotten first. Default 200000.",
     &Settings::max_transactions},
    {"max_dialogs", "Calls and RTSP sessions remembered, at most",
     "At most this many active calls and RTSP sessions are remembered; the oldest are forgotten first. Default 100000.",
     &Settings::max_dialogs},
    {"max_servers", "Servers, devices and hosts remembered, at most",
     "At most this many servers, RTSP devices and hosts with network evidence have context; the least recently seen are forgotten first. Default 10000.",
     &Settings::max_servers},
    {"context_lifetime", "Forget a server or host not seen for (s)",
     "The context of a server, RTSP device, host or client not seen for this many seconds is forgotten. Default 3600.",
     &Settings::context_lifetime_s},
    {"max_events_per_host", "DNS, TLS, TCP and database failures kept per host",
     "DNS, TLS, ICMP, TCP and database failures kept per host; twice as many unanswered attempts. Default 32.",
     &Settings::max_events_per_host},
    {"max_refusals_per_client", "503s remembered per client",
     "Latest 503s remembered per client to recognise its retries and failovers. Default 8.",
     &Settings::max_refusals_per_client},
    {"max_incident_clients", "Clients counted per incident, at most",
     "Distinct clients counted per incident; beyond this every 503 counts as a new client. Default 4096.",
     &Settings::max_incident_clients},
    {"outcome_history", "Answers remembered per server",
     "Final answers remembered per server for load and scope analysis. Default 512.",
     &Settings::outcome_history},
    {"max_sessions_per_device", "RTSP sessions tracked per device, at most",
     "At most this many RTSP sessions are tracked per device. Default 256.",
     &Settings::max_sessions_per_device},
    {"event_window", "An RTSP encoder change or reset explains a 503 within (s)",
     "An encoder change or a reset sent by the device this many seconds before an RTSP 503 explains it. Default 60.",
     &Settings::event_window_s},
    {"evidence_window", "A SIP server's DNS, TLS, TCP or database failure explains its 503 within (s)",
     "DNS, TLS, ICMP, TCP and database failures of a SIP server this many seconds before its 503 explain it. Default 60.",
     &Settings::evidence_window_s},
    {"incident_gap", "503s of one server and cause this close are one incident (s)",
     "503s of one server with one cause at most this many seconds apart belong to one incident. Default 60.",
     &Settings::incident_gap_s},
    {"failover_window", "A request to another server is a failover within (s)",
     "A request for the same call to another server this many seconds after a 503 counts as a failover. Default 32.",
     &Settings::failover_window_s},
    {"min_retry_interval", "Without Retry-After, a retry sooner than this is hammering (ms)",
     "Without a Retry-After, the same call sent again to the same server sooner than this is hammering. Default 1500.",
     &Settings::min_retry_interval_ms},
};

}  // namespace

void register_preferences(module_t* module, Settings& values) {
    // Wireshark keeps the description pointers for the life of the process.
    static std::array<std::string, std::size(kPreferences)> descriptions;
    for (std::size_t index = 0; index < std::size(kPreferences); ++index) {
        const PreferenceRow& row = kPreferences[index];
        descriptions[index] = std::string(row.description) + " " + allowed_values(*setting_range(row.field));
        prefs_register_uint_preference(module, row.name, row.title, descriptions[index].c_str(), 10, &(values.*row.field));
    }
}

}  // namespace diag503
