// End to end without Wireshark: bundled captures replayed through CaptureAnalysis give tshark's golden verdicts.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "capture_replay.hpp"

#ifndef DIAG503_CAPTURES_DIR
#error "DIAG503_CAPTURES_DIR must name the bundled captures folder"
#endif

namespace {

using diag503::test::Table;

// What the golden file says and what the replay produced, for one capture; nullptr when it is missing.
struct Replay {
    Table expected;
    Table actual;
};

const Replay* replay_of(const std::string& stem, std::string& missing) {
    static std::map<std::string, Replay> done;  // each capture is replayed once for all the tests below
    if (auto found = done.find(stem); found != done.end()) return &found->second;
    const auto bundled = diag503::test::find_bundled_capture(DIAG503_CAPTURES_DIR, stem);
    if (!bundled) {
        missing = "no " + stem + ".pcapng or .pcap under " DIAG503_CAPTURES_DIR;
        return nullptr;
    }
    Replay replay;
    replay.expected = diag503::test::read_golden_table(bundled->expected);
    diag503::test::add_golden_evidence(bundled->evidence, replay.expected);
    const auto frames = diag503::test::read_capture_file(bundled->capture);
    diag503::CaptureAnalysis analysis{diag503::Settings{}};
    diag503::test::replay_capture(frames, diag503::test::rtsp_ports(bundled->args), analysis);
    replay.actual = diag503::test::rows_of(analysis, frames);
    return &done.emplace(stem, std::move(replay)).first->second;
}

std::string value_of(const Table& table, std::uint32_t frame, const std::string& column) {
    const auto row = table.find(frame);
    if (row == table.end()) return "";
    const auto cell = row->second.find(column);
    return cell == row->second.end() ? "" : cell->second;
}

// Whether the golden file has the column at all (its column set may change).
bool golden_has(const Table& golden, const std::string& column) {
    for (const auto& [frame, row] : golden)
        if (row.count(column)) return true;
    return false;
}

class BundledCapture : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        std::string missing;
        replay_ = replay_of(GetParam(), missing);
        if (!replay_) GTEST_SKIP() << "capture not bundled: " << missing;
        ASSERT_FALSE(replay_->expected.empty()) << GetParam() << ".expected is missing beside the capture or lists no verdict";
    }

    // Every frame of either table, column by column, against the golden file.
    void expect_columns_equal(bool evidence) const {
        std::map<std::uint32_t, bool> frames;
        for (const auto& [frame, row] : replay_->expected) frames[frame] = true;
        for (const auto& [frame, row] : replay_->actual) frames[frame] = true;
        for (const std::string& column : diag503::test::comparable_columns()) {
            if ((column == "diag503.evidence") != evidence || !golden_has(replay_->expected, column)) continue;
            for (const auto& [frame, unused] : frames)
                EXPECT_EQ(value_of(replay_->actual, frame, column), value_of(replay_->expected, frame, column))
                    << GetParam() << " frame " << frame << " " << column;
        }
    }

    const Replay* replay_ = nullptr;
};

TEST_P(BundledCapture, VerdictsAndReactionsLandOnTheFramesTsharkShowsThem) {
    std::string expected, actual;
    for (const auto& [frame, row] : replay_->expected) expected += std::to_string(frame) + " ";
    for (const auto& [frame, row] : replay_->actual) actual += std::to_string(frame) + " ";
    EXPECT_EQ(actual, expected);
}

TEST_P(BundledCapture, EachFrameHasTsharksCauseConfidenceServerMethodRequestIncidentAndReaction) {
    expect_columns_equal(false);
}

TEST_P(BundledCapture, EachVerdictRestsOnTsharksEvidenceSentences) {
    ASSERT_TRUE(golden_has(replay_->expected, "diag503.evidence")) << GetParam() << ".evidence is missing or empty";
    expect_columns_equal(true);
}

std::string test_name(const ::testing::TestParamInfo<const char*>& info) {
    std::string name = info.param;
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

// Captures left out: each needs Wireshark's reassembly, which this test does not do (tshark -2 shows
// tcp.reassembled_in or ip.reassembled_in on a message diag503 reads):
//   gen-ip_fragments         INVITEs and 503s in IP fragments
//   gen-tcp_segments         SIP over TCP with INVITEs in 5-7 segments and 503s in 3
//   gen-upstream_q850_tcp    one 503 split over two TCP segments (frames 61-62)
//   gen-rtsp_segments        the RTSP 503 split over two TCP segments
//   gen-rtsp_encoder_change  the ONVIF encoder change, an HTTP POST split over two segments (frames 97-98):
//                            causes and confidences still agree, its evidence sentence cannot

// SIP captures whose messages each fit in one UDP datagram or TCP segment. IPv4 and IPv6, UDP, TCP
// with retransmissions, cut frames, VLAN tags, ICMP, DNS, TLS, PostgreSQL and MySQL evidence.
INSTANTIATE_TEST_SUITE_P(
    Sip, BundledCapture,
    ::testing::Values("ast-auth_tcp_carrier_proxy", "ast-auth_udp_carrier_proxy", "ast-carrier_proxy",
                      "ast-auth_tcp_dialplan_congestion", "ast-auth_tcp_graceful_stop", "ast-auth_tcp_group_limit", "ast-auth_tcp_maxcalls",
                      "ast-auth_tcp_maxcalls_ringing", "ast-auth_tcp_maxload", "ast-auth_tcp_odbc_down",
                      "ast-auth_tcp_qualify45_dialplan_congestion", "ast-auth_tcp_qualify45_graceful_stop", "ast-auth_tcp_qualify45_group_limit",
                      "ast-auth_tcp_qualify45_maxcalls", "ast-auth_tcp_qualify45_maxcalls_ringing", "ast-auth_tcp_qualify45_maxload",
                      "ast-auth_tcp_qualify45_relayed_503", "ast-auth_tcp_qualify45_resolver_down", "ast-auth_tcp_qualify45_trunk_dns",
                      "ast-auth_tcp_qualify45_trunk_down", "ast-auth_tcp_qualify45_trunk_tls", "ast-auth_tcp_qualify45_unavailable_contact",
                      "ast-auth_udp_dialplan_congestion", "ast-auth_udp_graceful_stop", "ast-auth_udp_group_limit",
                      "ast-auth_udp_maxcalls", "ast-auth_udp_maxcalls_ringing", "ast-auth_udp_maxload",
                      "ast-auth_udp_odbc_down", "ast-auth_udp_qualify20_dialplan_congestion", "ast-auth_udp_qualify20_graceful_stop",
                      "ast-auth_udp_qualify20_group_limit", "ast-auth_udp_qualify20_maxcalls", "ast-auth_udp_qualify20_maxcalls_ringing",
                      "ast-auth_udp_qualify20_maxload", "ast-auth_udp_qualify20_relayed_503", "ast-auth_udp_qualify20_resolver_down",
                      "ast-auth_udp_qualify20_trunk_dns", "ast-auth_udp_qualify20_trunk_down", "ast-auth_udp_qualify20_trunk_tls",
                      "ast-auth_udp_relayed_503", "ast-auth_udp_resolver_down", "ast-auth_udp_trunk_dns",
                      "ast-auth_udp_trunk_down", "ast-auth_udp_trunk_tls", "ast-auth_udp_unavailable_contact",
                      "ast-auth_tcp_qualify60_trunk_dns", "ast-auth_tcp_qualify60_trunk_down", "ast-auth_tcp_qualify60_trunk_tls",
                      "ast-auth_tcp_qualify30_graceful_stop", "ast-auth_tcp_qualify30_maxcalls", "ast-auth_tcp_qualify30_relayed_503",
                      "ast-auth_tcp_qualify30_resolver_down", "ast-auth_tcp_qualify30_trunk_dns", "ast-auth_tcp_qualify30_trunk_down",
                      "ast-auth_tcp_qualify30_trunk_tls", "ast-auth_tcp_qualify30_unavailable_contact", "ast-auth_tcp_relayed_503",
                      "ast-auth_tcp_resolver_down", "ast-auth_tcp_trunk_dns", "ast-auth_tcp_trunk_down", "ast-auth_tcp_trunk_tls",
                      "ast-auth_tcp_unavailable_contact",
                      "ast-dialplan_congestion", "ast-graceful_stop", "ast-group_limit", "ast-kamailio_front",
                      "ast-maxcalls", "ast-maxcalls_ringing", "ast-maxload", "ast-odbc_down", "ast-registered_contact_gone", "ast-relayed_503", "ast-resolver_down", "ast-sbc_graceful_stop",
                      "ast-sbc_maxcalls", "ast-sbc_trunk_tls", "ast-trunk_dns", "ast-trunk_down",
                      "ast-trunk_tls", "ast-unavailable_contact", "gen-capacity_licence", "gen-capacity_q850", "gen-cut_short", "gen-database_evidence",
                      "gen-database_failure", "gen-dns_evidence", "gen-dns_failure", "gen-duplicates", "gen-failover",
                      "gen-maintenance_drain", "gen-malformed", "gen-missing_requests", "gen-multihop",
                      "gen-out_of_order", "gen-overload_rfc7339", "gen-overload_udp", "gen-registration_routing",
                      "gen-relay_origin", "gen-retry_storm", "gen-snaplen", "gen-tls_evidence", "gen-tls_failure",
                      "gen-unknown_plain", "gen-unreachable_hop", "gen-vlan", "kam-capacity", "kam-capacity_phrase", "kam-capacity_ringing",
                      "kam-capacity_q850_tcp", "kam-chain", "kam-client_side_only", "kam-database_failure",
                      "kam-database_failure_other_address", "kam-dead_tcp", "kam-dns_failure", "kam-dns_failure_other_address",
                      "kam-dns_failure_quiet", "kam-failover", "kam-maintenance", "kam-overload", "kam-overload_ipv6",
                      "kam-overload_tcp", "kam-registration", "kam-responses_only", "kam-retransmit",
                      "kam-retry_early", "kam-sbc_chain_dns", "kam-tls_failure", "kam-tls_failure_other_address",
                      "kam-tls_failure_quiet", "kam-upstream",
                      "kam-upstream_gateways", "pcapplusplus-sip_resp"),
    test_name);

// RTSP captures whose RTSP messages and HTTP requests each fit in one TCP segment (rtsp-encoder_restart
// and rtsp-mixed split only HTTP responses, which diag503 does not read). Ports 554, 8554 and, from
// its .args file, 8555; interleaved RTP; encoder changes over HTTP.
INSTANTIATE_TEST_SUITE_P(
    Rtsp, BundledCapture,
    ::testing::Values("gen-rtsp_hammer", "gen-rtsp_interleaved", "gen-rtsp_malformed", "gen-rtsp_missing_request",
                      "gen-rtsp_nvr", "gen-rtsp_overload", "gen-rtsp_port", "gen-rtsp_reset", "rtsp-device_overload",
                      "rtsp-encoder_busy", "rtsp-encoder_restart", "rtsp-hammer", "rtsp-mixed",
                      "rtsp-nvr_channel_unavailable", "rtsp-too_many_clients", "rtsp-unsupported_profile", "vlc-failover",
                      "vlc-nvr_failover", "vlc-overload_failover", "vlc-restart_failover"),
    test_name);

}  // namespace
