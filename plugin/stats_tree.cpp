// Statistics > 503 Diagnostics and `tshark -z diag503,tree`: 503s by protocol, cause, server (RTSP: channel), method, timing.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <epan/stats_tree.h>

#include <string>

#include "capture_state.hpp"
#include "dissector.hpp"

namespace {

constexpr const char* kByCause = "503 responses by protocol, cause and server";
constexpr const char* kByMethod = "503 responses by request method";
constexpr const char* kByRetryAfter = "503 responses by Retry-After";
constexpr const char* kByTiming = "503 responses by response time";

// Node ids live in the stats_tree itself; these are the roots, set by init for each tree.
struct Roots {
    int by_cause = 0;
    int by_method = 0;
    int by_retry_after = 0;
    int by_timing = 0;
};
Roots roots;

void init_tree(stats_tree* tree) {
    roots.by_cause = stats_tree_create_node(tree, kByCause, 0, STAT_DT_INT, TRUE);
    roots.by_method = stats_tree_create_node(tree, kByMethod, 0, STAT_DT_INT, TRUE);
    roots.by_retry_after = stats_tree_create_node(tree, kByRetryAfter, 0, STAT_DT_INT, TRUE);
    roots.by_timing = stats_tree_create_node(tree, kByTiming, 0, STAT_DT_INT, TRUE);
}

tap_packet_status count_verdict(stats_tree* tree, packet_info*, epan_dissect_t*, const void* data, tap_flags_t) {
    const auto* rendered = static_cast<const diag503::RenderedVerdict*>(data);
    const auto& verdict = rendered->verdict;

    tick_stat_node(tree, kByCause, 0, TRUE);
    const int protocol = tick_stat_node(tree, rendered->protocol.c_str(), roots.by_cause, TRUE);
    const int cause = tick_stat_node(tree, rendered->cause.c_str(), protocol, TRUE);
    const int server = tick_stat_node(tree, verdict.server.c_str(), cause, TRUE);
    if (verdict.channel) tick_stat_node(tree, ("channel " + std::to_string(*verdict.channel)).c_str(), server, TRUE);

    tick_stat_node(tree, kByMethod, 0, TRUE);
    tick_stat_node(tree, verdict.method.empty() ? "(no method)" : verdict.method.c_str(), roots.by_method, TRUE);

    tick_stat_node(tree, kByRetryAfter, 0, TRUE);
    tick_stat_node(tree, std::string(rendered->retry_after_class).c_str(), roots.by_retry_after, TRUE);

    tick_stat_node(tree, kByTiming, 0, TRUE);
    tick_stat_node(tree, std::string(rendered->response_time_class).c_str(), roots.by_timing, TRUE);
    return TAP_PACKET_REDRAW;
}

}  // namespace

void diag503_register_statistics(void) {
    stats_tree_register_plugin("diag503", "diag503", "503 Diagnostics", 0, count_verdict, init_tree, nullptr);
}
