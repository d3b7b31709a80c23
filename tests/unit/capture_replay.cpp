// Replays capture frames as plugin/dissector.cpp does (layers, addresses, time) and renders verdicts as tshark prints them.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture_replay.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "core/verdict.hpp"
#include "wire/frame_walk.hpp"

namespace diag503::test {

// The network addresses and ports Wireshark puts in pinfo->src, dst, srcport and destport.
struct FrameReplay::Flow {
    std::string source, destination;
    std::uint16_t source_port = 0, destination_port = 0;
    // Keys of one TCP direction: this frame's, and the one its answers take.
    std::string direction() const { return key(source, source_port, destination, destination_port); }
    std::string reverse() const { return key(destination, destination_port, source, source_port); }
    static std::string key(const std::string& from, std::uint16_t from_port, const std::string& to, std::uint16_t to_port) {
        return from + " " + std::to_string(from_port) + " " + to + " " + std::to_string(to_port);
    }
};

namespace {

constexpr std::uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kIcmpv6 = 58, kSctp = 132;

// pcap LINKTYPE_* numbers to the link layers the plugin maps from Wireshark's WTAP_ENCAP_*.
LinkType link_type_of(std::uint32_t link_type) {
    switch (link_type) {
        case 1: return LinkType::ethernet;
        case 113: return LinkType::linux_sll;
        case 276: return LinkType::linux_sll2;
        case 0: return LinkType::bsd_null;
        case 108: return LinkType::bsd_loop;
        case 101: case 228: case 229: return LinkType::raw_ip;
        default: return LinkType::unsupported;
    }
}

std::uint16_t be16(std::string_view bytes, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(bytes[at]) << 8) | static_cast<std::uint8_t>(bytes[at + 1]));
}

// Text as Wireshark's address_to_str prints it: inet_ntop, which Wireshark itself calls (RFC 5952 for IPv6).
std::string address_text(int family, std::string_view raw) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, raw.data(), text, sizeof text);
    return text;
}

// Offset of the IP header in a frame of `link`, npos when there is none the test knows.
std::size_t ip_offset(LinkType link, std::string_view frame) {
    std::size_t at = 0;
    std::uint16_t ether_type = 0;
    switch (link) {
        case LinkType::ethernet:
            if (frame.size() < 14) return std::string_view::npos;
            ether_type = be16(frame, 12);
            at = 14;
            for (int tags = 0; (ether_type == 0x8100 || ether_type == 0x88A8) && tags < 2 && frame.size() >= at + 4; ++tags) {
                ether_type = be16(frame, at + 2);
                at += 4;
            }
            return ether_type == 0x0800 || ether_type == 0x86DD ? at : std::string_view::npos;
        case LinkType::linux_sll: return 16;
        case LinkType::linux_sll2: return 20;
        case LinkType::bsd_null:
        case LinkType::bsd_loop: return 4;
        case LinkType::raw_ip: return 0;
        default: return std::string_view::npos;
    }
}

// The outer IP header's addresses and, unless it is a later fragment, the UDP/TCP/SCTP ports.
std::optional<FrameReplay::Flow> addresses_of(LinkType link, std::string_view frame) {
    const std::size_t at = ip_offset(link, frame);
    if (at == std::string_view::npos || frame.size() < at + 1) return std::nullopt;
    const std::string_view ip = frame.substr(at);
    FrameReplay::Flow found;
    std::uint8_t protocol = 0;
    std::size_t transport = 0;
    bool later_fragment = false;
    if ((ip[0] >> 4) == 4 && ip.size() >= 20) {
        found.source = address_text(AF_INET, ip.substr(12, 4));
        found.destination = address_text(AF_INET, ip.substr(16, 4));
        protocol = static_cast<std::uint8_t>(ip[9]);
        transport = (static_cast<std::uint8_t>(ip[0]) & 0x0F) * 4u;
        later_fragment = (be16(ip, 6) & 0x1FFF) != 0;
    } else if ((ip[0] >> 4) == 6 && ip.size() >= 40) {
        found.source = address_text(AF_INET6, ip.substr(8, 16));
        found.destination = address_text(AF_INET6, ip.substr(24, 16));
        protocol = static_cast<std::uint8_t>(ip[6]);
        transport = 40;
        // Hop-by-hop, routing, destination options, fragment: skipped to reach the ports.
        while ((protocol == 0 || protocol == 43 || protocol == 60 || protocol == 44) && ip.size() >= transport + 8) {
            if (protocol == 44) later_fragment = (be16(ip, transport + 2) & 0xFFF8) != 0;
            const std::size_t length = protocol == 44 ? 8 : (static_cast<std::uint8_t>(ip[transport + 1]) + 1u) * 8;
            protocol = static_cast<std::uint8_t>(ip[transport]);
            transport += length;
        }
    } else {
        return std::nullopt;
    }
    const bool has_ports = protocol == kTcp || protocol == kUdp || protocol == kSctp;
    if (has_ports && !later_fragment && ip.size() >= transport + 4) {
        found.source_port = be16(ip, transport);
        found.destination_port = be16(ip, transport + 2);
    }
    return found;
}

std::string_view first_line(std::string_view payload) {
    const std::string_view line = payload.substr(0, std::min(payload.find('\n'), payload.size()));
    return !line.empty() && line.back() == '\r' ? line.substr(0, line.size() - 1) : line;
}

bool ends_with(std::string_view text, std::string_view tail) {
    return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

// A start line of a text protocol: "<version> <code> ..." or "<METHOD> <uri> <version>".
bool starts_like(std::string_view payload, std::string_view version) {
    const std::string_view line = first_line(payload);
    const std::string response = std::string(version) + " ";
    if (line.substr(0, response.size()) == response) return true;
    const std::size_t space = line.find(' ');
    return space != std::string_view::npos && space > 0 && ends_with(line, " " + std::string(version));
}

bool is_tls_record(std::string_view payload) {
    if (payload.size() < 2) return false;
    const auto type = static_cast<std::uint8_t>(payload[0]);
    return type >= 0x14 && type <= 0x17 && payload[1] == 0x03;
}

bool is_client_hello(std::string_view payload) { return is_tls_record(payload) && payload[0] == 0x16 && payload.size() > 5 && payload[5] == 0x01; }

void mark(FrameInput& input, PayloadKind kind) { input.present[static_cast<int>(kind)] = true; }

Transport transport_of(const FrameInput& input, std::uint8_t ip_protocol) {
    if (input.has(PayloadKind::tls)) return Transport::tls;
    switch (ip_protocol) {
        case kUdp: return Transport::udp;
        case kTcp: return Transport::tcp;
        case kSctp: return Transport::sctp;
        default: return Transport::other;
    }
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
        const std::size_t end = text.find(separator, start);
        parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

// Every occurrence of one field in a frame's tree, joined as tshark -E occurrence=a -E aggregator='|' does.
void add(Row& row, const std::string& column, const std::string& value) {
    std::string& joined = row[column];
    joined += joined.empty() ? value : "|" + value;
}

// FT_RELATIVE_TIME as tshark prints it: seconds with nine decimals, the sign in front.
std::string relative_time(std::int64_t microseconds) {
    const std::int64_t magnitude = microseconds < 0 ? -microseconds : microseconds;
    char text[48];
    std::snprintf(text, sizeof text, "%s%lld.%09lld", microseconds < 0 ? "-" : "", static_cast<long long>(magnitude / 1000000),
                  static_cast<long long>(magnitude % 1000000 * 1000));
    return text;
}

// The fields plugin/dissector.cpp render() adds for one verdict, in the order it adds them.
void add_verdict(Row& row, const FinishedVerdict& finished) {
    const Verdict& verdict = finished.verdict;
    add(row, "diag503.protocol", std::string(protocol_name(verdict.protocol())));
    add(row, "diag503.cause", finished.cause);
    add(row, "diag503.confidence", std::to_string(verdict.confidence));
    for (const Evidence& item : verdict.evidence) add(row, "diag503.evidence", item.sentence);
    if (verdict.request_frame != 0) add(row, "diag503.request_in", std::to_string(verdict.request_frame));
    if (verdict.response_time_us) add(row, "diag503.response_time", relative_time(*verdict.response_time_us));
    if (verdict.retry_after_seconds) add(row, "diag503.retry_after", std::to_string(*verdict.retry_after_seconds));
    add(row, "diag503.server", verdict.server);
    if (!verdict.method.empty()) add(row, "diag503.method", verdict.method);
    if (const auto* sip = verdict.sip()) {
        const auto scope = scope_name(sip->scope);
        if (!scope.empty()) add(row, "diag503.scope", std::string(scope));
        add(row, "diag503.active_dialogs", std::to_string(sip->active_dialogs));
    }
    if (!verdict.origin.empty()) {
        add(row, "diag503.origin", verdict.origin);
        if (verdict.origin_frame != 0) add(row, "diag503.origin_frame", std::to_string(verdict.origin_frame));
    }
    if (verdict.incident.id != 0) {
        add(row, "diag503.incident", std::to_string(verdict.incident.id));
        add(row, "diag503.incident_refusals", std::to_string(verdict.incident.refusals));
        add(row, "diag503.incident_clients", std::to_string(verdict.incident.clients));
        add(row, "diag503.incident_served", std::to_string(std::min<std::uint64_t>(verdict.incident.served, 0xFFFFFFFFu)));
    }
}

void add_reaction(Row& row, const FinishedReaction& finished) {
    const Reaction& reaction = finished.reaction;
    add(row, "diag503.reaction", std::string(reaction_name(reaction.kind)));
    add(row, "diag503.reaction_to", std::to_string(reaction.refusal_frame));
    add(row, "diag503.reaction_delay", relative_time(reaction.waited_us));
}

}  // namespace

std::optional<BundledCapture> find_bundled_capture(const std::string& folder, const std::string& stem) {
    namespace fs = std::filesystem;
    std::error_code error;
    if (!fs::is_directory(folder, error)) return std::nullopt;
    for (auto entry = fs::recursive_directory_iterator(folder, error); !error && entry != fs::recursive_directory_iterator();
         entry.increment(error)) {
        const fs::path& path = entry->path();
        if (path.stem() != stem || (path.extension() != ".pcapng" && path.extension() != ".pcap")) continue;
        fs::path expected = path, evidence = path, args = path;
        expected.replace_extension(".expected");
        evidence.replace_extension(".evidence");
        args.replace_extension(".args");
        return BundledCapture{path.string(), expected.string(), evidence.string(), fs::exists(args) ? args.string() : ""};
    }
    return std::nullopt;
}

std::set<std::uint16_t> rtsp_ports(const std::string& args_path) {
    std::set<std::uint16_t> ports{554, 8554};  // Wireshark's RTSP TCP port range
    if (args_path.empty()) return ports;
    const std::string args = read_text(args_path);
    // Each "tcp.port==N,rtsp" (a Decode As rule) adds port N.
    static constexpr std::string_view kRule = "tcp.port==";
    for (std::size_t at = args.find(kRule); at != std::string::npos; at = args.find(kRule, at + 1)) {
        std::size_t end = at + kRule.size();
        unsigned long port = 0;
        while (end < args.size() && std::isdigit(static_cast<unsigned char>(args[end])) && port <= 65535)
            port = port * 10 + static_cast<unsigned long>(args[end++] - '0');
        if (end > at + kRule.size() && port <= 65535 && args.compare(end, 5, ",rtsp") == 0)
            ports.insert(static_cast<std::uint16_t>(port));
    }
    return ports;
}

// Which protocols Wireshark's dissectors would find in the frame (pinfo->layers).
void FrameReplay::mark_layers(const TransportPayload& walked, const Flow& flow, FrameInput& input) {
    if (walked.fragment) return;  // Wireshark dissects the datagram only once reassembled
    const auto on_port = [&](std::uint16_t port) { return flow.source_port == port || flow.destination_port == port; };
    const std::string_view payload = walked.payload;
    switch (walked.ip_protocol) {
        case kIcmp: mark(input, PayloadKind::icmp); return;
        case kIcmpv6: mark(input, PayloadKind::icmpv6); return;
        case kUdp:
            if (starts_like(payload, "SIP/2.0")) mark(input, PayloadKind::sip);
            if (on_port(53) && !payload.empty()) mark(input, PayloadKind::dns);
            return;
        case kTcp: {
            if (payload.empty() || retransmitted(walked, flow.direction())) return;
            if (starts_like(payload, "SIP/2.0")) mark(input, PayloadKind::sip);
            const bool rtsp_port = rtsp_tcp_ports_.count(flow.source_port) || rtsp_tcp_ports_.count(flow.destination_port);
            if (rtsp_port && (payload[0] == '$' || starts_like(payload, "RTSP/1.0"))) mark(input, PayloadKind::rtsp);
            if (starts_like(payload, "HTTP/1.1") || starts_like(payload, "HTTP/1.0")) mark(input, PayloadKind::http);
            if (on_port(53)) mark(input, PayloadKind::dns);
            if (is_client_hello(payload)) {  // Wireshark's TLS heuristic takes the conversation from here on
                tls_conversations_.insert(flow.direction());
                tls_conversations_.insert(flow.reverse());
            }
            if (((on_port(443) || on_port(5061)) && is_tls_record(payload)) || tls_conversations_.count(flow.direction()))
                mark(input, PayloadKind::tls);
            if (on_port(5432)) mark(input, PayloadKind::postgresql);
            if (on_port(3306)) mark(input, PayloadKind::mysql);
            return;
        }
        default: return;
    }
}

// Data that ends where data of this direction already ended: a retransmission, which Wireshark's TCP
// analysis hands to no dissector above TCP.
bool FrameReplay::retransmitted(const TransportPayload& walked, const std::string& direction) {
    const std::uint32_t end = walked.tcp_sequence + static_cast<std::uint32_t>(walked.payload.size());
    const auto seen = next_sequence_.find(direction);
    if (seen != next_sequence_.end() && static_cast<std::int32_t>(end - seen->second) <= 0) return true;
    next_sequence_[direction] = end;
    return false;
}

ReplayedFrame FrameReplay::next(const CapturedFrame& frame) {
    ReplayedFrame replayed;
    FrameInput& input = replayed.input;
    input.link = link_type_of(frame.link_type);
    input.frame = frame.bytes;
    input.cut = frame.bytes.size() < frame.original_length;
    const auto walked = walk_frame(input.link, input.frame);
    const auto flow = addresses_of(input.link, input.frame);
    if (!walked || !flow) return replayed;
    mark_layers(*walked, *flow, input);
    const bool watched = std::find(input.present.begin(), input.present.end(), true) != input.present.end();
    const bool tcp = walked->ip_protocol == kTcp && !walked->fragment;
    if (!watched && !tcp) return replayed;  // as analyse_frame: most packets stop here
    if (!CaptureAnalysis::worth_analysing(CaptureAnalysis::locate(input))) return replayed;
    replayed.analysed = true;
    PacketMeta& meta = replayed.meta;
    meta.frame = frame.number;
    meta.time_us = frame.time_us;
    meta.transport = walked->fragment ? Transport::other : transport_of(input, walked->ip_protocol);
    meta.source = {flow->source, flow->source_port};
    meta.destination = {flow->destination, flow->destination_port};
    return replayed;
}

void replay_capture(const std::vector<CapturedFrame>& frames, const std::set<std::uint16_t>& rtsp_tcp_ports,
                    CaptureAnalysis& analysis) {
    FrameReplay replay(rtsp_tcp_ports);
    for (const CapturedFrame& frame : frames) {
        const ReplayedFrame replayed = replay.next(frame);
        if (replayed.analysed) analysis.analyse(replayed.meta, CaptureAnalysis::locate(replayed.input));
    }
}

Table read_golden_table(const std::string& path) {
    const std::vector<std::string> lines = split(read_text(path), '\n');
    Table table;
    if (lines.empty()) return table;
    const std::vector<std::string> header = split(lines[0], '\t');
    for (std::size_t i = 1; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        const std::vector<std::string> cells = split(lines[i], '\t');
        Row row;
        std::uint32_t frame = 0;
        for (std::size_t column = 0; column < header.size() && column < cells.size(); ++column) {
            if (header[column] == "frame.number") frame = static_cast<std::uint32_t>(std::stoul(cells[column]));
            else if (!cells[column].empty()) row[header[column]] = cells[column];
        }
        table[frame] = std::move(row);
    }
    return table;
}

void add_golden_evidence(const std::string& path, Table& table) {
    constexpr std::string_view kFrame = "frame ", kIndent = "  ";
    Row* row = nullptr;
    for (const std::string& line : split(read_text(path), '\n')) {
        if (line.rfind(kFrame, 0) == 0) {
            row = &table[static_cast<std::uint32_t>(std::stoul(line.substr(kFrame.size())))];
        } else if (row && line.rfind(kIndent, 0) == 0) {
            add(*row, "diag503.evidence", line.substr(kIndent.size()));
        }
    }
}

const std::vector<std::string>& comparable_columns() {
    static const std::vector<std::string> columns = {
        "diag503.protocol", "diag503.server", "diag503.method", "diag503.cause", "diag503.confidence",
        "diag503.scope", "diag503.retry_after", "diag503.request_in", "diag503.response_time",
        "diag503.active_dialogs", "diag503.origin", "diag503.origin_frame", "diag503.incident",
        "diag503.incident_refusals", "diag503.incident_clients", "diag503.incident_served",
        "diag503.reaction", "diag503.reaction_to", "diag503.reaction_delay", "diag503.evidence"};
    return columns;
}

Table rows_of(const CaptureAnalysis& analysis, const std::vector<CapturedFrame>& frames) {
    Table table;
    for (const CapturedFrame& frame : frames) {
        const auto* verdicts = analysis.verdicts_of(frame.number);
        const FinishedReaction* reaction = analysis.reaction_of(frame.number);
        if (!reaction && (!verdicts || verdicts->empty())) continue;
        Row& row = table[frame.number];
        if (reaction) add_reaction(row, *reaction);
        if (verdicts)
            for (const FinishedVerdict& finished : *verdicts) add_verdict(row, finished);
    }
    return table;
}

}  // namespace diag503::test
