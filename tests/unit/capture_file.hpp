// A minimal pcapng and classic pcap reader for tests: frames with their number, time, link type and bytes.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace diag503::test {

struct CapturedFrame {
    std::uint32_t number = 0;      // 1-based, in file order, as Wireshark numbers frames
    std::int64_t time_us = 0;      // absolute: seconds * 1e6 + nanoseconds / 1000, as the plugin computes it
    std::uint32_t link_type = 0;   // pcap LINKTYPE_* of the frame's interface
    std::string bytes;             // the captured bytes
    std::uint32_t original_length = 0;  // as sent; more than bytes.size() when the capture cut the frame
};

// Reads every packet of a pcapng file (Section Header, Interface Description with if_tsresol and
// if_tsoffset, Enhanced and Simple Packet Blocks, either byte order, several sections) or a classic
// pcap file (micro- or nanosecond magic, either byte order). Throws std::runtime_error on a file it
// cannot read.
std::vector<CapturedFrame> read_capture_file(const std::string& path);

}  // namespace diag503::test
