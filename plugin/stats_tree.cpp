// Statistics > 503 Diagnostics and `tshark -z diag503,tree`: 503s by cause and server, method, timing, incidents, client reactions.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <epan/stats_tree.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "dissector.hpp"

namespace {

constexpr const char* kByCause = "503 responses by protocol, cause and server";
constexpr const char* kByMethod = "503 responses by request method";
constexpr const char* kByRetryAfter = "503 responses by Retry-After";
constexpr const char* kByTiming = "503 responses by response time";
constexpr const char* kIncidents = "Incidents (503s by incident)";
constexpr const char* kReactions = "Client reactions after a 503";

// Node ids live in the stats_tree itself; these are the roots, set by init for each tree.
struct Roots {
    int by_cause = 0;
    int by_method = 0;
    int by_retry_after = 0;
    int by_timing = 0;
    int incidents = 0;
    int reactions = 0;
};
Roots roots;

void init_tree(stats_tree* tree) {
    roots.by_cause = stats_tree_create_node(tree, kByCause, 0, STAT_DT_INT, TRUE);
    roots.by_method = stats_tree_create_node(tree, kByMethod, 0, STAT_DT_INT, TRUE);
    roots.by_retry_after = stats_tree_create_node(tree, kByRetryAfter, 0, STAT_DT_INT, TRUE);
    roots.by_timing = stats_tree_create_node(tree, kByTiming, 0, STAT_DT_INT, TRUE);
    roots.incidents = stats_tree_create_node(tree, kIncidents, 0, STAT_DT_INT, TRUE);
    roots.reactions = stats_tree_create_node(tree, kReactions, 0, STAT_DT_INT, TRUE);
}

// One node per incident, counting its 503s; below it the clients refused (a count, at most its 503s) and,
// as values recorded at each 503 (Wireshark's Min/Max/Average columns, not counts), the time since the
// incident began and the requests the server still served meanwhile: their maximum is the incident's
// duration and total.
void count_incident(stats_tree* tree, const diag503::FinishedVerdict& rendered) {
    const auto& incident = rendered.verdict.incident;
    if (incident.id == 0) return;
    tick_stat_node(tree, kIncidents, 0, TRUE);
    char number[16];
    std::snprintf(number, sizeof number, "%03u", incident.id);  // the name sorts as the number does
    const std::string name = "incident " + std::string(number) + ": " + rendered.cause + " at " +
                             rendered.verdict.server + " from frame " + std::to_string(incident.first_frame);
    const int node = tick_stat_node(tree, name.c_str(), roots.incidents, TRUE);
    increase_stat_node(tree, "clients refused", node, FALSE, incident.new_client ? 1 : 0);
    avg_stat_node_add_value_int(tree, "time since it began, at each 503 (ms)", node, FALSE,
                                static_cast<gint>(std::min<std::int64_t>(incident.duration_us / 1000, G_MAXINT)));
    avg_stat_node_add_value_int(tree, "requests served since it began, at each 503", node, FALSE,
                                static_cast<gint>(std::min<std::uint64_t>(incident.served, G_MAXINT)));
}

void count_reaction(stats_tree* tree, const diag503::FinishedReaction& rendered) {
    const auto& reaction = rendered.reaction;
    using Kind = diag503::Reaction::Kind;
    tick_stat_node(tree, kReactions, 0, TRUE);
    const char* kind = reaction.kind == Kind::failover               ? "failovers to another server (by the server tried)"
                       : reaction.kind == Kind::request_during_backoff ? "clients sending other requests during a Retry-After (by server)"
                       : reaction.retry_after_s                       ? "refused requests sent again before Retry-After elapsed (by server)"
                                                                      : "refused requests sent again without back-off, no Retry-After (by server)";
    const int node = tick_stat_node(tree, kind, roots.reactions, TRUE);
    tick_stat_node(tree, reaction.server.c_str(), node, TRUE);
}

tap_packet_status count_verdict(stats_tree* tree, packet_info*, epan_dissect_t*, const void* data, tap_flags_t) {
    const auto* record = static_cast<const diag503::TapRecord*>(data);
    if (record->reaction) {
        count_reaction(tree, *record->reaction);
        return TAP_PACKET_REDRAW;
    }
    const auto* rendered = record->verdict;
    const auto& verdict = rendered->verdict;

    tick_stat_node(tree, kByCause, 0, TRUE);
    const int protocol = tick_stat_node(tree, diag503::protocol_name(verdict.protocol()).data(), roots.by_cause, TRUE);
    const int cause = tick_stat_node(tree, rendered->cause.c_str(), protocol, TRUE);
    const int server = tick_stat_node(tree, verdict.server.c_str(), cause, TRUE);
    if (const auto* rtsp = verdict.rtsp(); rtsp && rtsp->channel)
        tick_stat_node(tree, ("channel " + std::to_string(*rtsp->channel)).c_str(), server, TRUE);

    tick_stat_node(tree, kByMethod, 0, TRUE);
    tick_stat_node(tree, verdict.method.empty() ? "(no method)" : verdict.method.c_str(), roots.by_method, TRUE);

    tick_stat_node(tree, kByRetryAfter, 0, TRUE);
    tick_stat_node(tree, rendered->retry_after_class.c_str(), roots.by_retry_after, TRUE);

    tick_stat_node(tree, kByTiming, 0, TRUE);
    tick_stat_node(tree, rendered->response_time_class.c_str(), roots.by_timing, TRUE);
    count_incident(tree, *rendered);
    return TAP_PACKET_REDRAW;
}

}  // namespace

void diag503_register_statistics(void) {
    stats_tree_register_plugin("diag503", "diag503", "503 Diagnostics", 0, count_verdict, init_tree, nullptr);
}
