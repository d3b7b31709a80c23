// Incident grouping: per server and cause, a new incident after a quiet gap, running totals per 503.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "evidence/incidents.hpp"

#include <algorithm>

#include "core/findings.hpp"
#include "core/text.hpp"

namespace diag503 {

IncidentTracker::IncidentTracker(const Settings& settings)
    : gap_us_(static_cast<std::int64_t>(settings.incident_gap_s) * 1000000),
      max_clients_counted_(settings.max_incident_clients),
      open_(settings.max_servers, static_cast<std::int64_t>(settings.context_lifetime_s) * 1000000) {}

IncidentFacts IncidentTracker::place(const Verdict& verdict, std::int64_t time_us) {
    const std::uint64_t key = hash_text(verdict.server, static_cast<std::uint64_t>(verdict.cause) + 1);
    Incident& incident = open_.get_or_insert(key, time_us, [](auto&, auto&) {});
    const bool begins = incident.facts.id == 0 || time_us - incident.last_us > gap_us_;
    if (begins) {
        incident = Incident{};
        incident.facts.id = next_id_++;
        incident.facts.first_frame = verdict.frame;
        incident.first_us = time_us;
        incident.last_us = time_us;
        incident.served_at_start = verdict.served_total;
    }
    IncidentFacts& facts = incident.facts;
    const std::int64_t previous_duration = facts.duration_us;
    const std::uint64_t previous_served = facts.served;
    const std::int64_t elapsed = time_us > incident.first_us ? time_us - incident.first_us : 0;
    facts.duration_us = std::max(previous_duration, elapsed);
    incident.last_us = std::max(incident.last_us, time_us);
    ++facts.refusals;
    facts.served = verdict.served_total > incident.served_at_start ? verdict.served_total - incident.served_at_start : 0;
    facts.new_client = incident.clients.size() >= max_clients_counted_ || incident.clients.insert(verdict.client_key).second;
    if (facts.new_client) ++facts.clients;
    facts.added_duration_us = facts.duration_us - previous_duration;
    facts.added_served = facts.served - previous_served;
    return facts;
}

std::string incident_sentence(const IncidentFacts& incident, Cause cause, const std::string& server) {
    const std::string name = "Incident " + std::to_string(incident.id);
    if (incident.refusals == 1)
        return name + " (" + cause_title(cause) + " at " + server + ") begins with this 503.";
    return name + ": 503 number " + std::to_string(incident.refusals) + " in " + format_duration(incident.duration_us) +
           " since frame " + std::to_string(incident.first_frame) + "; " +
           counted(incident.clients, "client", "clients") + " refused, " +
           counted(static_cast<std::uint32_t>(std::min<std::uint64_t>(incident.served, UINT32_MAX)), "request", "requests") +
           " still served meanwhile.";
}

}  // namespace diag503
