// libFuzzer target: timed packet sequences between a few endpoints, fed to the SIP and RTSP engines, network evidence, incidents and client reactions the way the plugin feeds them.
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
// Each record becomes a raw IPv4 frame that goes through locate_payloads, as the plugin's frames do
// (plugin/dissector.cpp analyse_contents, plugin/capture_state.cpp).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "client_reactions.hpp"
#include "display_check.hpp"
#include "display_text.hpp"
#include "engine.hpp"
#include "findings.hpp"
#include "frame_contents.hpp"
#include "fuzz_input.hpp"
#include "incidents.hpp"
#include "report.hpp"
#include "rtsp_engine.hpp"
#include "text.hpp"
#include "wire_formats.hpp"

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

// ---- what the engines promise ----

// findings.hpp: the winning cause scores at least 40 and its confidence is at most 95; below that the
// verdict is unknown, with confidence 0, and opens with what is missing.
void check_verdict(const Verdict& verdict, const PacketMeta& meta) {
    FUZZ_CHECK(verdict.frame == meta.frame);
    FUZZ_CHECK(static_cast<int>(verdict.cause) >= 0 && static_cast<int>(verdict.cause) < kCauseCount);
    FUZZ_CHECK(verdict.confidence >= 0 && verdict.confidence <= 95);
    FUZZ_CHECK((verdict.cause == Cause::unknown) == (verdict.confidence == 0));
    if (verdict.cause == Cause::unknown) FUZZ_CHECK(!verdict.evidence.empty());
    if (verdict.is_retransmission) FUZZ_CHECK(verdict.retransmission_of != 0 && verdict.retransmission_of <= meta.frame);
    else FUZZ_CHECK(verdict.server == meta.source.text());  // verdict.hpp: the 503's sender
}

// engine.hpp: a verdict for each 503 fed, nothing for anything else.
void check_sip_outcome(const SipMessage& message, const std::optional<Verdict>& verdict, const PacketMeta& meta) {
    FUZZ_CHECK(verdict.has_value() == (!message.is_request && message.status_code == 503));
    if (!verdict) return;
    check_verdict(*verdict, meta);
    FUZZ_CHECK(!verdict->active_sessions);  // the plugin tells SIP from RTSP verdicts by it
}

// rtsp_engine.hpp: the same for RTSP, whose verdicts always carry the device's active sessions.
void check_rtsp_outcome(const RtspMessage& message, const std::optional<Verdict>& verdict, const PacketMeta& meta) {
    FUZZ_CHECK(verdict.has_value() == (!message.is_request && message.status_code == 503));
    if (!verdict) return;
    check_verdict(*verdict, meta);
    FUZZ_CHECK(verdict->active_sessions.has_value());
}

void check_incident(const IncidentFacts& incident) {
    FUZZ_CHECK(incident.id >= 1 && incident.refusals >= 1);
    FUZZ_CHECK(incident.clients >= 1 && incident.clients <= incident.refusals);
    FUZZ_CHECK(incident.duration_us >= 0);
}

// ---- the plugin's per-capture state, from heuristics only ----

class Capture {
public:
    explicit Capture(const Settings& settings)
        : settings_(settings), engine_(settings), rtsp_engine_(settings), incidents_(settings), reactions_(settings) {}

    void analyse(const PacketMeta& meta, const FrameInput& input);

private:
    void analyse_sip(const PacketMeta& meta, std::string_view text);
    void analyse_rtsp(const PacketMeta& meta, std::string_view text);
    void analyse_side_protocol(const PacketMeta& meta, const LocatedPayload& payload);
    void analyse_tcp_flags(const PacketMeta& meta, std::uint16_t flags);
    void observe_reaction(const ClientRequest& request);
    void store(Verdict verdict, const PacketMeta& meta);
    void place_in_incident(Verdict& verdict, std::int64_t time_us);

    Settings settings_;
    Engine engine_;
    RtspEngine rtsp_engine_;
    IncidentTracker incidents_;
    ClientReactions reactions_;
};

void Capture::analyse(const PacketMeta& meta, const FrameInput& input) {
    const FrameContents contents = locate_payloads(input);
    const std::uint16_t tcp_flags =
        (contents.tcp_flags & (TcpFlags::syn | TcpFlags::reset | TcpFlags::fin)) ? contents.tcp_flags : 0;
    PacketMeta cut_meta = meta;  // for a message that runs into the end of a cut frame
    for (const LocatedPayload& payload : contents.payloads) {
        cut_meta.cut_after_bytes = static_cast<std::uint32_t>(payload.bytes.size());
        const PacketMeta& message_meta = payload.cut ? cut_meta : meta;
        switch (payload.kind) {
            case PayloadKind::sip: analyse_sip(message_meta, payload.bytes); break;
            case PayloadKind::rtsp: analyse_rtsp(message_meta, payload.bytes); break;
            case PayloadKind::http: rtsp_engine_.observe_http_request(meta, payload.bytes); break;
            default: analyse_side_protocol(meta, payload); break;
        }
    }
    if (tcp_flags) analyse_tcp_flags(meta, tcp_flags);
}

void Capture::analyse_sip(const PacketMeta& meta, std::string_view text) {
    const auto message = parse_sip_message(text);
    if (!message) return;
    const auto verdict = engine_.observe(meta, *message);
    check_sip_outcome(*message, verdict, meta);
    const ClientRequest request{&meta, hash_text(message->call_id), cseq_identity(*message)};
    if (message->is_request && may_react(*message)) observe_reaction(request);
    if (!verdict) return;
    if (!verdict->is_retransmission) reactions_.on_503(meta, request, verdict->retry_after_seconds);
    store(*verdict, meta);
}

void Capture::analyse_rtsp(const PacketMeta& meta, std::string_view text) {
    if (!text.empty() && text.front() == '$') {
        rtsp_engine_.observe_interleaved(meta);
        return;
    }
    const auto message = parse_rtsp_message(text);
    if (!message) return;
    const auto verdict = rtsp_engine_.observe(meta, *message);
    check_rtsp_outcome(*message, verdict, meta);
    if (message->is_request && may_react(*message))
        observe_reaction(rtsp_client_request(meta, meta.source, message->url, message->cseq));
    if (!verdict) return;
    reactions_.on_503(meta, rtsp_client_request(meta, meta.destination, verdict->url, message->cseq), verdict->retry_after_seconds);
    store(*verdict, meta);
}

void Capture::analyse_side_protocol(const PacketMeta& meta, const LocatedPayload& payload) {
    NetworkEvidence& network = engine_.network();
    const std::string_view bytes = payload.bytes;
    const bool stream = meta.transport == Transport::tcp || meta.transport == Transport::tls;
    switch (payload.kind) {
        case PayloadKind::dns:
            if (auto message = parse_dns(stream && bytes.size() >= 2 ? bytes.substr(2) : bytes)) network.observe_dns(meta, *message);
            break;
        case PayloadKind::tls: network.observe_tls(meta, summarize_tls_records(bytes)); break;
        case PayloadKind::icmp:
        case PayloadKind::icmpv6:
            if (auto error = parse_icmp_error(bytes, payload.kind == PayloadKind::icmpv6)) network.observe_icmp(meta, *error);
            break;
        case PayloadKind::postgresql:
            if (auto error = parse_postgresql_error(bytes)) network.observe_database_error(meta, *error);
            break;
        case PayloadKind::mysql:
            if (auto error = parse_mysql_error(bytes)) network.observe_database_error(meta, *error);
            break;
        default: break;
    }
}

void Capture::analyse_tcp_flags(const PacketMeta& meta, std::uint16_t flags) {
    engine_.network().observe_tcp(meta, flags);
    if ((flags & (TcpFlags::fin | TcpFlags::reset)) && rtsp_engine_.knows_devices())
        rtsp_engine_.observe_connection_end(meta, flags & TcpFlags::reset);
}

void Capture::observe_reaction(const ClientRequest& request) {
    const auto reaction = reactions_.on_request(request);
    if (!reaction) return;
    FUZZ_CHECK(reaction->frame == request.meta->frame && reaction->refusal_frame <= reaction->frame);
    (void)reaction_summary(*reaction);
}

// The incident and its sentences, as the plugin adds them; a retransmission shares its original's incident.
void Capture::place_in_incident(Verdict& verdict, std::int64_t time_us) {
    if (verdict.is_retransmission) return;
    const IncidentFacts incident = incidents_.place(verdict, time_us);
    check_incident(incident);
    verdict.evidence.push_back({incident_sentence(incident, verdict.cause, verdict.server), {incident.first_frame, verdict.frame}});
    const std::uint32_t early_retries = reactions_.early_retries_recent(verdict.server, time_us);
    if (early_retries > 0) verdict.evidence.push_back({counted(early_retries, "request", "requests"), {verdict.frame}});
}

// The strings the plugin prepares for each verdict, made displayable last.
void Capture::store(Verdict verdict, const PacketMeta& meta) {
    if (meta.cut_after_bytes != 0) {
        verdict.cut = true;
        verdict.malformed = false;
    }
    const std::string expert_text = expert_summary(verdict);
    const std::string info = info_suffix(verdict);
    (void)retry_after_class(verdict, settings_);
    (void)response_time_class(verdict, settings_);
    place_in_incident(verdict, meta.time_us);
    make_displayable(verdict);
    diag503::fuzz::check_displayable(verdict);
    FUZZ_CHECK(diag503::fuzz::is_displayable(displayable(expert_text, kMaxDisplayedExpert)));
    FUZZ_CHECK(diag503::fuzz::is_displayable(displayable(info, kMaxDisplayedIdentifier)));
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
    Capture capture(small_settings());
    std::uint32_t frame = 0;
    std::int64_t time_us = 1700000000LL * 1000000;
    while (!reader.empty()) {
        const Record record = next_record(reader);
        if (!record.same_frame || frame == 0) ++frame;
        time_us += record.time_step_us;
        const std::string bytes = raw_ip_frame(record);
        capture.analyse(packet_meta(record, frame, time_us), frame_input(record, bytes));
    }
    return 0;
}
