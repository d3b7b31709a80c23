// libFuzzer target: timed packet sequences between a few endpoints, fed frame by frame to the capture analysis the plugin uses.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Input layout (tools/fuzz/make_seeds.py writes seeds in it): records until the input ends, each
//   u8    time step: 0x00-0x7f that many 10 ms, 0x80-0xef (value - 0x80) s, 0xf0-0xfe (value - 0xef) s back
//         (out of order), 0xff one hour on
//   u8    endpoints: bits 0-3 the sender, bits 4-7 the receiver, indexes into kEndpoints
//   u8    bits 0-3 what Wireshark found in the frame, modulo 10: sip, rtsp, http, dns, tls, icmp, icmpv6,
//         postgresql, mysql, nothing (a bare TCP segment); bits 4-5 transport: udp, tcp, tls over tcp, sctp;
//         bit 6: in the same frame as the previous record; bit 7: the capture cut the frame short (snaplen)
//   u8    TCP flags (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10)
//   be16  payload length, then the payload: message text, or DNS/TLS/ICMP/database bytes
// Each record becomes a raw IPv4 frame that goes through CaptureAnalysis, as the plugin's frames do.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "capture/capture_analysis.hpp"
#include "core/display_text.hpp"
#include "display_check.hpp"
#include "fuzz_input.hpp"
#include "rtsp/rtsp_message.hpp"
#include "sip/sip_message.hpp"

namespace {

using namespace diag503;

// Callers, a proxy with its own client port and TLS port, next hops, an IPv6 server, DNS, databases,
// a camera with its web server, an NVR and an RTSP client: roles the engines tell apart by address and port.
const std::array<Endpoint, 16> kEndpoints = {{
    {"192.0.2.10", 5060}, {"192.0.2.11", 5060}, {"198.51.100.20", 5060}, {"198.51.100.20", 40000},
    {"203.0.113.30", 5060}, {"203.0.113.31", 5061}, {"2001:db8::40", 5060}, {"198.51.100.53", 53},
    {"198.51.100.60", 5432}, {"198.51.100.61", 3306}, {"203.0.113.70", 554}, {"203.0.113.70", 80},
    {"203.0.113.71", 8554}, {"192.0.2.80", 51000}, {"192.0.2.80", 51001}, {"198.51.100.20", 5061},
}};

constexpr int kFoundNothing = 9;  // the record kind after the nine PayloadKinds: a TCP segment only
enum class Carrier { udp, tcp, tls, sctp };
constexpr std::uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmpv6 = 58, kSctp = 132;

// Small bounds, so that every map evicts by count and by age within a short input.
Settings small_settings() {
    Settings settings;
    settings.transaction_lifetime_s = 30;
    settings.dialog_lifetime_s = 90;
    settings.max_transactions = 32;
    settings.max_dialogs = 8;
    settings.max_servers = 4;
    settings.outcome_history = 16;
    settings.max_sessions_per_device = 3;
    settings.context_lifetime_s = 120;
    settings.max_events_per_host = 4;
    settings.max_refusals_per_client = 2;
    settings.max_incident_clients = 3;
    return settings;
}

struct Record {
    std::int64_t time_step_us = 0;
    const Endpoint* source = nullptr;
    const Endpoint* destination = nullptr;
    int found = kFoundNothing;
    Carrier carrier = Carrier::udp;
    bool same_frame = false;
    bool cut_frame = false;
    std::uint8_t tcp_flags = 0;
    std::string_view payload;
};

std::int64_t time_step_us(std::uint8_t step) {
    constexpr std::int64_t kSecond = 1000000;
    if (step == 0xff) return 3600 * kSecond;
    if (step >= 0xf0) return -static_cast<std::int64_t>(step - 0xef) * kSecond;
    if (step >= 0x80) return static_cast<std::int64_t>(step - 0x80) * kSecond;
    return static_cast<std::int64_t>(step) * 10000;
}

Record next_record(diag503::fuzz::ByteReader& reader) {
    Record record;
    record.time_step_us = time_step_us(reader.u8());
    const std::uint8_t endpoints = reader.u8();
    record.source = &kEndpoints[endpoints & 0x0f];
    record.destination = &kEndpoints[endpoints >> 4];
    const std::uint8_t kind = reader.u8();
    record.found = (kind & 0x0f) % (kFoundNothing + 1);
    record.carrier = static_cast<Carrier>((kind >> 4) & 0x3);
    record.same_frame = kind & 0x40;
    record.cut_frame = kind & 0x80;
    record.tcp_flags = reader.u8();
    record.payload = reader.chunk();
    return record;
}

// ---- the frame the record travels in ----

void append_be16(std::string& bytes, std::uint16_t value) {
    bytes.push_back(static_cast<char>(value >> 8));
    bytes.push_back(static_cast<char>(value & 0xff));
}

std::string ipv4_header(std::uint8_t protocol, std::size_t payload_length) {
    std::string header("\x45\x00", 2);
    append_be16(header, static_cast<std::uint16_t>(20 + payload_length));
    header.append("\x00\x00\x00\x00\x40", 5);  // id, flags and fragment offset, TTL
    header.push_back(static_cast<char>(protocol));
    header.append("\x00\x00\xc0\x00\x02\x01\xc0\x00\x02\x02", 10);  // checksum, addresses (meta carries the real ones)
    return header;
}

std::string transport_header(const Record& record, std::uint8_t protocol) {
    std::string header;
    if (protocol != kUdp && protocol != kTcp && protocol != kSctp) return header;  // ICMP: the payload is the message
    append_be16(header, record.source->port);
    append_be16(header, record.destination->port);
    if (protocol == kUdp) {
        append_be16(header, static_cast<std::uint16_t>(8 + record.payload.size()));
        append_be16(header, 0);
    } else if (protocol == kTcp) {
        header.append("\x00\x00\x10\x00\x00\x00\x00\x00\x50", 9);  // sequence, acknowledgement, data offset 5
        header.push_back(static_cast<char>(record.tcp_flags));
        header.append("\xff\xff\x00\x00\x00\x00", 6);  // window, checksum, urgent pointer
    } else if (protocol == kSctp) {
        header.append(8, '\0');  // verification tag, checksum
    }
    return header;
}

std::uint8_t ip_protocol_of(const Record& record) {
    if (record.found == static_cast<int>(PayloadKind::icmp)) return kIcmp;
    if (record.found == static_cast<int>(PayloadKind::icmpv6)) return kIcmpv6;
    switch (record.carrier) {
        case Carrier::udp: return kUdp;
        case Carrier::tcp:
        case Carrier::tls: return kTcp;
        case Carrier::sctp: return kSctp;
    }
    return kUdp;
}

std::string raw_ip_frame(const Record& record) {
    const std::uint8_t protocol = ip_protocol_of(record);
    const std::string transport = transport_header(record, protocol);
    return ipv4_header(protocol, transport.size() + record.payload.size()) + transport + std::string(record.payload);
}

// What the plugin hands locate_payloads: the protocols found, and for TLS the decrypted stream.
FrameInput frame_input(const Record& record, std::string_view frame) {
    FrameInput input;
    input.link = LinkType::raw_ip;
    input.frame = frame;
    input.cut = record.cut_frame;
    if (record.found != kFoundNothing) input.present[record.found] = true;
    if (record.carrier == Carrier::tls && ip_protocol_of(record) == kTcp) {
        input.present[static_cast<int>(PayloadKind::tls)] = true;
        input.streams[input.stream_count++] = record.payload;
    }
    return input;
}

Transport transport_of(const Record& record) {
    switch (ip_protocol_of(record)) {
        case kUdp: return Transport::udp;
        case kTcp: return record.carrier == Carrier::tls ? Transport::tls : Transport::tcp;
        case kSctp: return Transport::sctp;
        default: return Transport::other;
    }
}

// ---- what the capture analysis promises ----

// findings.hpp: the winning cause scores at least 40 and its confidence is at most 95; below that the
// verdict is unknown, with confidence 0, and opens with what is missing.
void check_verdict(const FinishedVerdict& finished, const PacketMeta& meta) {
    const Verdict& verdict = finished.verdict;
    FUZZ_CHECK(verdict.frame == meta.frame);
    FUZZ_CHECK(static_cast<int>(verdict.cause) >= 0 && static_cast<int>(verdict.cause) < kCauseCount);
    FUZZ_CHECK(verdict.confidence >= 0 && verdict.confidence <= 95);
    FUZZ_CHECK((verdict.cause == Cause::unknown) == (verdict.confidence == 0));
    if (verdict.cause == Cause::unknown) FUZZ_CHECK(!verdict.evidence.empty());
    if (verdict.is_retransmission) {
        FUZZ_CHECK(verdict.retransmission_of != 0 && verdict.retransmission_of <= meta.frame);
    } else {
        FUZZ_CHECK(verdict.server == displayable(meta.source.text(), kMaxDisplayedIdentifier));  // the 503's sender
        const IncidentFacts& incident = verdict.incident;
        FUZZ_CHECK(incident.id >= 1 && incident.refusals >= 1);
        FUZZ_CHECK(incident.clients >= 1 && incident.clients <= incident.refusals);
        FUZZ_CHECK(incident.duration_us >= 0);
    }
    FUZZ_CHECK(cause_applies_to(verdict.cause, verdict.protocol()));
    diag503::fuzz::check_displayable(verdict);
    FUZZ_CHECK(diag503::fuzz::is_displayable(finished.expert_text));
    FUZZ_CHECK(diag503::fuzz::is_displayable(finished.info_suffix));
}

// The oracle of "one verdict per 503, none for anything else": 503 responses among the located messages.
std::size_t count_503s(const FrameContents& contents) {
    std::size_t count = 0;
    for (const LocatedPayload& payload : contents.payloads) {
        if (payload.kind == PayloadKind::sip) {
            const auto message = parse_sip_message(payload.bytes);
            count += message && !message->is_request && message->status_code == 503;
        } else if (payload.kind == PayloadKind::rtsp && !payload.bytes.empty() && payload.bytes.front() != '$') {
            const auto message = parse_rtsp_message(payload.bytes);
            count += message && !message->is_request && message->status_code == 503;
        }
    }
    return count;
}

void check_reaction(const FinishedReaction* finished, const PacketMeta& meta) {
    if (!finished) return;
    FUZZ_CHECK(finished->reaction.frame == meta.frame && finished->reaction.refusal_frame <= meta.frame);
    FUZZ_CHECK(diag503::fuzz::is_displayable(displayable(finished->expert_text, kMaxDisplayedExpert)));
}

PacketMeta packet_meta(const Record& record, std::uint32_t frame, std::int64_t time_us) {
    PacketMeta meta;
    meta.frame = frame;
    meta.time_us = time_us;
    meta.transport = transport_of(record);
    meta.source = *record.source;
    meta.destination = *record.destination;
    return meta;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    diag503::fuzz::ByteReader reader(data, size);
    CaptureAnalysis capture(small_settings());
    std::uint32_t frame = 0;
    std::size_t expected_verdicts = 0;  // 503s located in the current frame so far
    std::int64_t time_us = 1700000000LL * 1000000;
    while (!reader.empty()) {
        const Record record = next_record(reader);
        if (!record.same_frame || frame == 0) {
            ++frame;
            expected_verdicts = 0;
        }
        time_us += record.time_step_us;
        const std::string bytes = raw_ip_frame(record);
        const PacketMeta meta = packet_meta(record, frame, time_us);
        const FrameContents contents = CaptureAnalysis::locate(frame_input(record, bytes));
        const std::size_t earlier_verdicts = expected_verdicts;  // of earlier records in the same frame
        expected_verdicts += count_503s(contents);
        if (CaptureAnalysis::worth_analysing(contents)) capture.analyse(meta, contents);
        const auto* verdicts = capture.verdicts_of(frame);
        FUZZ_CHECK((verdicts ? verdicts->size() : 0) == expected_verdicts);
        for (std::size_t i = earlier_verdicts; i < expected_verdicts; ++i) check_verdict((*verdicts)[i], meta);
        check_reaction(capture.reaction_of(frame), meta);
    }
    return 0;
}
