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
        ASSERT_FALSE(replay_->expected.empty()) << GetParam() << ".expected lists no verdict";
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

TEST_P(BundledCapture, EachVerdictRestsOnTsharksEvidenceSentences) { expect_columns_equal(true); }

std::string test_name(const ::testing::TestParamInfo<const char*>& info) {
    std::string name = info.param;
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

// SIP captures whose messages each fit in one UDP datagram or TCP segment.
INSTANTIATE_TEST_SUITE_P(Sip, BundledCapture,
                         ::testing::Values("gen-overload_udp", "gen-capacity_q850", "gen-dns_failure"),
                         test_name);

// RTSP captures whose messages each fit in one TCP segment.
INSTANTIATE_TEST_SUITE_P(Rtsp, BundledCapture, ::testing::Values("rtsp-encoder_busy", "gen-rtsp_nvr"), test_name);

}  // namespace
