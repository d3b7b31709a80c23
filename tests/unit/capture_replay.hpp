// Replays a capture file through CaptureAnalysis as the plugin would, and reads the golden tshark output to compare.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "capture/capture_analysis.hpp"
#include "capture_file.hpp"

namespace diag503::test {

// The bundled capture `<stem>.pcapng` or `<stem>.pcap` anywhere under `folder`, with its golden output.
struct BundledCapture {
    std::string capture;   // path of the capture file
    std::string expected;  // path of `<stem>.expected` beside it
    std::string evidence;  // path of `<stem>.evidence` beside it
    std::string args;      // path of `<stem>.args` beside it, "" when there is none
};
std::optional<BundledCapture> find_bundled_capture(const std::string& folder, const std::string& stem);

// TCP ports tshark decodes as RTSP: Wireshark's own (554, 8554) plus `-d tcp.port==N,rtsp` in the `.args` file.
std::set<std::uint16_t> rtsp_ports(const std::string& args_path);

// What the plugin would hand CaptureAnalysis for one frame.
struct ReplayedFrame {
    bool analysed = false;  // the plugin would have called analyse() for this frame
    FrameInput input;
    PacketMeta meta;
};

// Stands in for Wireshark's dissection of a capture, frame by frame in capture order: `present` comes
// from a simple classifier (ports, the first bytes of the transport payload, TLS conversations begun
// by a ClientHello), and TCP retransmissions reach no dissector above TCP, as in Wireshark.
class FrameReplay {
public:
    explicit FrameReplay(std::set<std::uint16_t> rtsp_tcp_ports) : rtsp_tcp_ports_(std::move(rtsp_tcp_ports)) {}
    ReplayedFrame next(const CapturedFrame& frame);
    struct Flow;  // a frame's addresses and ports

private:
    void mark_layers(const TransportPayload& walked, const Flow& flow, FrameInput& input);
    bool retransmitted(const TransportPayload& walked, const std::string& direction);

    std::set<std::uint16_t> rtsp_tcp_ports_;
    std::set<std::string> tls_conversations_;             // both directions, once a ClientHello was seen
    std::map<std::string, std::uint32_t> next_sequence_;  // per TCP direction: the end of the data seen
};

// Runs every frame of `frames`, in order, through `analysis`.
void replay_capture(const std::vector<CapturedFrame>& frames, const std::set<std::uint16_t>& rtsp_tcp_ports,
                    CaptureAnalysis& analysis);

// One tshark output row: column name (a tshark field such as "diag503.cause") to its text, several
// occurrences joined by '|'. Key of a table: frame number.
using Row = std::map<std::string, std::string>;
using Table = std::map<std::uint32_t, Row>;

// The rows of a golden `.expected` file (tab-separated, header of field names), frame.number left out.
Table read_golden_table(const std::string& path);
// Adds the sentences of a golden `.evidence` file (a line `frame N`, then one indented sentence per line)
// to `table` as the column diag503.evidence, joined by '|' as tshark joins them.
void add_golden_evidence(const std::string& path, Table& table);

// The columns `rows_of` can produce, in tshark's text form.
const std::vector<std::string>& comparable_columns();
// What tshark would print for the frames of `frames` that got a verdict or a reaction.
Table rows_of(const CaptureAnalysis& analysis, const std::vector<CapturedFrame>& frames);

}  // namespace diag503::test
