// Wireshark glue: the diag503 post-dissector reads SIP, RTSP and HTTP text and TCP ends, runs the engines on the first pass, renders verdicts.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "dissector.hpp"

#include <epan/column-utils.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <epan/tap.h>
#include <epan/to_str.h>
#include <epan/unit_strings.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "capture_state.hpp"
#include "preferences.hpp"

namespace {

using diag503::CaptureState;
using diag503::RenderedReaction;
using diag503::RenderedVerdict;

// Registration handles, written once at start-up by Wireshark's registration calls.
struct FieldIds {
    int protocol_item = -1;
    int protocol = -1;
    int cause = -1;
    int confidence = -1;
    int evidence = -1;
    int evidence_frame = -1;
    int recommendation = -1;
    int request_in = -1;
    int response_time = -1;
    int retry_after = -1;
    int server = -1;
    int method = -1;
    int scope = -1;
    int active_dialogs = -1;
    int url = -1;
    int channel = -1;
    int stream = -1;
    int profile = -1;
    int active_sessions = -1;
    int origin = -1;
    int origin_frame = -1;
    int incident = -1;
    int incident_first_frame = -1;
    int incident_refusals = -1;
    int incident_clients = -1;
    int incident_served = -1;
    int incident_duration = -1;
    int failover = -1;
    int failover_server = -1;
    int failover_from = -1;
    int retry_early = -1;
    int reaction_delay = -1;
    // Wireshark's own items, the only fields diag503 asks for: the protocol items whose bytes it
    // parses itself, and TCP's flags.
    int sip = -1;
    int rtsp = -1;
    int http = -1;
    int dns = -1;
    int tls = -1;
    int icmp = -1;
    int icmpv6 = -1;
    int pgsql = -1;
    int mysql = -1;
    int tcp_flags = -1;
};
FieldIds fields;
int ett_diag503 = -1;
int ett_evidence = -1;
expert_field ei_diagnosis = EI_INIT;
expert_field ei_request_missing = EI_INIT;
expert_field ei_malformed_503 = EI_INIT;
expert_field ei_relayed_503 = EI_INIT;
expert_field ei_retry_early = EI_INIT;
expert_field ei_failover = EI_INIT;
int diag503_tap = -1;
dissector_handle_t diag503_handle;

// Owner: the preference module; read when a capture's state is created.
diag503::Settings preference_values;
// Owner: this file. Lifetime: one capture file, from the init routine to the cleanup routine.
std::unique_ptr<CaptureState> capture;

// The fields diag503 reads; any wanted field makes Wireshark build a tree for every packet.
GArray* wanted_fields() {
    GArray* wanted = g_array_new(FALSE, FALSE, static_cast<guint>(sizeof(int)));
    for (int field : {fields.sip, fields.rtsp, fields.http, fields.dns, fields.tls, fields.icmp, fields.icmpv6, fields.pgsql,
                      fields.mysql, fields.tcp_flags})
        if (field > 0) g_array_append_val(wanted, field);
    return wanted;
}

// A disabled diag503 wants nothing, so it costs nothing.
void start_capture() {
    const bool enabled = proto_is_protocol_enabled(find_protocol_by_id(fields.protocol_item));
    set_postdissector_wanted_hfids(diag503_handle, enabled ? wanted_fields() : nullptr);
    capture = std::make_unique<CaptureState>(preference_values);
}
void end_capture() { capture.reset(); }

diag503::Transport transport_of(const packet_info* pinfo) {
    if (proto_is_frame_protocol(pinfo->layers, "tls")) return diag503::Transport::tls;
    switch (pinfo->ptype) {
        case PT_UDP: return diag503::Transport::udp;
        case PT_TCP: return diag503::Transport::tcp;
        case PT_SCTP: return diag503::Transport::sctp;
        default: return diag503::Transport::other;
    }
}

// Plain data read from Wireshark before any C++ object is made: Wireshark reports errors by
// longjmp, which must never cross a live destructor.
enum class MessageKind : unsigned char { sip, rtsp, http, dns, tls, icmp, icmpv6, pgsql, mysql };
struct MessageBytes {
    const char* data = nullptr;
    std::size_t size = 0;
    MessageKind kind = MessageKind::sip;
};
constexpr guint kMaxMessagesPerFrame = 64;  // messages read from one frame; more is no real traffic
constexpr gint kMaxHttpBytes = 4096;        // enough for a request line and an encoder-change body
constexpr gint kMaxSideBytes = 2048;        // DNS questions, TLS record headers, ICMP quotes, database errors
struct FrameFacts {
    std::uint32_t frame;
    std::int64_t time_us;
    diag503::Transport transport;
    const char* source;
    std::uint16_t source_port;
    const char* destination;
    std::uint16_t destination_port;
    MessageBytes messages[kMaxMessagesPerFrame];
    guint message_count;
    std::uint16_t tcp_flags;  // only SYN, RST and FIN matter; 0 when none of them is set
};

// Which of the protocols diag503 reads are in the frame: one walk over its layers.
struct FrameLayers {
    bool sip = false, rtsp = false, http = false, dns = false, tls = false, icmp = false, icmpv6 = false;
    bool pgsql = false, mysql = false;
    bool any() const { return sip || rtsp || http || dns || tls || icmp || icmpv6 || pgsql || mysql; }
};
// A protocol's field id is its protocol id, as pinfo->layers lists it.
FrameLayers layers_of(const packet_info* pinfo) {
    FrameLayers layers;
    for (wmem_list_frame_t* layer = wmem_list_head(pinfo->layers); layer; layer = wmem_list_frame_next(layer)) {
        const int id = GPOINTER_TO_INT(wmem_list_frame_data(layer));
        layers.sip |= id == fields.sip;
        layers.rtsp |= id == fields.rtsp;
        layers.http |= id == fields.http;
        layers.dns |= id == fields.dns;
        layers.tls |= id == fields.tls;
        layers.icmp |= id == fields.icmp;
        layers.icmpv6 |= id == fields.icmpv6;
        layers.pgsql |= id == fields.pgsql;
        layers.mysql |= id == fields.mysql;
    }
    return layers;
}

// The bytes of one message: the protocol item's range in its data source (reassembled when needed).
// Every bound is checked first so that no tvb call can throw.
MessageBytes message_bytes(const field_info* item, MessageKind kind, gint cap) {
    if (!item->ds_tvb || item->start < 0 || item->length <= 0) return {};
    const gint available = tvb_captured_length_remaining(item->ds_tvb, item->start);
    if (available <= 0) return {};
    const gint length = std::min({available, item->length, cap});
    return {reinterpret_cast<const char*>(tvb_get_ptr(item->ds_tvb, item->start, length)), static_cast<std::size_t>(length), kind};
}

void collect(FrameFacts& facts, proto_tree* tree, int field, MessageKind kind, gint cap) {
    GPtrArray* items = proto_get_finfo_ptr_array(tree, field);
    for (guint i = 0; items && i < items->len && facts.message_count < kMaxMessagesPerFrame; ++i)
        facts.messages[facts.message_count++] = message_bytes(static_cast<const field_info*>(g_ptr_array_index(items, i)), kind, cap);
}

// The frame's TCP flags when SYN, RST or FIN is set (with ACK kept), else 0: other segments open or end nothing.
std::uint16_t connection_flags(proto_tree* tree) {
    GPtrArray* items = proto_get_finfo_ptr_array(tree, fields.tcp_flags);
    if (!items || items->len == 0) return 0;
    using diag503::TcpFlags;
    constexpr guint32 kOpensOrEnds = TcpFlags::syn | TcpFlags::reset | TcpFlags::fin;
    const guint32 flags = fvalue_get_uinteger(&static_cast<field_info*>(g_ptr_array_index(items, 0))->value);
    return (flags & kOpensOrEnds) ? static_cast<std::uint16_t>(flags & (kOpensOrEnds | TcpFlags::ack)) : 0;
}

// C++ side: no Wireshark call below this point.
void analyse_messages(const FrameFacts& facts) {
    diag503::PacketMeta meta;
    meta.frame = facts.frame;
    meta.time_us = facts.time_us;
    meta.transport = facts.transport;
    meta.source = {facts.source, facts.source_port};
    meta.destination = {facts.destination, facts.destination_port};
    for (guint i = 0; i < facts.message_count; ++i) {
        const MessageBytes& message = facts.messages[i];
        if (!message.data) continue;
        const std::string_view text(message.data, message.size);
        using Side = CaptureState::SideProtocol;
        switch (message.kind) {
            case MessageKind::sip: capture->analyse_sip(meta, text); break;
            case MessageKind::rtsp: capture->analyse_rtsp(meta, text); break;
            case MessageKind::http: capture->analyse_http_request(meta, text); break;
            case MessageKind::dns: capture->analyse_side_protocol(meta, Side::dns, text); break;
            case MessageKind::tls: capture->analyse_side_protocol(meta, Side::tls, text); break;
            case MessageKind::icmp: capture->analyse_side_protocol(meta, Side::icmp, text); break;
            case MessageKind::icmpv6: capture->analyse_side_protocol(meta, Side::icmpv6, text); break;
            case MessageKind::pgsql: capture->analyse_side_protocol(meta, Side::postgresql, text); break;
            case MessageKind::mysql: capture->analyse_side_protocol(meta, Side::mysql, text); break;
        }
    }
    if (facts.tcp_flags) capture->analyse_tcp_flags(meta, facts.tcp_flags);
}

void analyse_frame(packet_info* pinfo, proto_tree* tree) {
    if (!tree) return;
    const FrameLayers layers = layers_of(pinfo);
    const bool tcp = pinfo->ptype == PT_TCP;
    if (!layers.any() && !tcp) return;
    FrameFacts facts;  // plain data: safe if Wireshark longjmps out of a call below
    facts.message_count = 0;
    // An ICMP error quotes the datagram it is about: that SIP or RTSP text was not sent again.
    const bool quoted = layers.icmp || layers.icmpv6;
    if (layers.sip && !quoted) collect(facts, tree, fields.sip, MessageKind::sip, G_MAXINT);
    if (layers.rtsp && !quoted) collect(facts, tree, fields.rtsp, MessageKind::rtsp, G_MAXINT);
    if (layers.http && !quoted) collect(facts, tree, fields.http, MessageKind::http, kMaxHttpBytes);
    if (layers.dns && !quoted) collect(facts, tree, fields.dns, MessageKind::dns, kMaxSideBytes);
    if (layers.tls) collect(facts, tree, fields.tls, MessageKind::tls, kMaxSideBytes);
    if (layers.icmp) collect(facts, tree, fields.icmp, MessageKind::icmp, kMaxSideBytes);
    if (layers.icmpv6) collect(facts, tree, fields.icmpv6, MessageKind::icmpv6, kMaxSideBytes);
    if (layers.pgsql) collect(facts, tree, fields.pgsql, MessageKind::pgsql, kMaxSideBytes);
    if (layers.mysql) collect(facts, tree, fields.mysql, MessageKind::mysql, kMaxSideBytes);
    facts.tcp_flags = tcp && !quoted ? connection_flags(tree) : 0;
    if (facts.message_count == 0 && facts.tcp_flags == 0) return;
    facts.frame = pinfo->num;
    facts.time_us = static_cast<std::int64_t>(pinfo->abs_ts.secs) * 1000000 + pinfo->abs_ts.nsecs / 1000;
    facts.transport = transport_of(pinfo);
    facts.source = address_to_str(pinfo->pool, &pinfo->src);
    facts.source_port = static_cast<std::uint16_t>(pinfo->srcport);
    facts.destination = address_to_str(pinfo->pool, &pinfo->dst);
    facts.destination_port = static_cast<std::uint16_t>(pinfo->destport);
    analyse_messages(facts);
}

// Rendering uses only stored strings: nothing here owns memory across a call that may longjmp.
void add_evidence(proto_tree* tree, tvbuff_t* tvb, const diag503::Evidence& item) {
    proto_item* sentence = proto_tree_add_string(tree, fields.evidence, tvb, 0, 0, item.sentence.c_str());
    proto_item_set_generated(sentence);
    if (item.frames.empty()) return;
    proto_tree* frames = proto_item_add_subtree(sentence, ett_evidence);
    for (std::uint32_t frame : item.frames) {
        if (frame == 0) continue;
        proto_item_set_generated(proto_tree_add_uint(frames, fields.evidence_frame, tvb, 0, 0, frame));
    }
}

nstime_t as_nstime(std::int64_t microseconds) {
    nstime_t time;
    time.secs = static_cast<time_t>(microseconds / 1000000);
    time.nsecs = static_cast<int>((microseconds % 1000000) * 1000);
    return time;
}

void add_generated(proto_item* item) { proto_item_set_generated(item); }

void add_context(proto_tree* tree, tvbuff_t* tvb, const diag503::Verdict& verdict) {
    if (verdict.request_frame != 0)
        add_generated(proto_tree_add_uint(tree, fields.request_in, tvb, 0, 0, verdict.request_frame));
    if (verdict.response_time_us) {
        const nstime_t elapsed = as_nstime(*verdict.response_time_us);
        add_generated(proto_tree_add_time(tree, fields.response_time, tvb, 0, 0, &elapsed));
    }
    if (verdict.retry_after_seconds)
        add_generated(proto_tree_add_uint(tree, fields.retry_after, tvb, 0, 0, static_cast<guint32>(*verdict.retry_after_seconds)));
    add_generated(proto_tree_add_string(tree, fields.server, tvb, 0, 0, verdict.server.c_str()));
    if (!verdict.method.empty()) add_generated(proto_tree_add_string(tree, fields.method, tvb, 0, 0, verdict.method.c_str()));
    const auto scope = diag503::scope_name(verdict.scope);
    if (!scope.empty()) add_generated(proto_tree_add_string(tree, fields.scope, tvb, 0, 0, scope.data()));
    if (!verdict.active_sessions) {  // SIP
        add_generated(proto_tree_add_uint(tree, fields.active_dialogs, tvb, 0, 0, verdict.active_dialogs));
        return;
    }
    if (!verdict.url.empty()) add_generated(proto_tree_add_string(tree, fields.url, tvb, 0, 0, verdict.url.c_str()));
    if (verdict.channel) add_generated(proto_tree_add_uint(tree, fields.channel, tvb, 0, 0, *verdict.channel));
    if (!verdict.stream.empty()) add_generated(proto_tree_add_string(tree, fields.stream, tvb, 0, 0, verdict.stream.c_str()));
    if (!verdict.profile.empty()) add_generated(proto_tree_add_string(tree, fields.profile, tvb, 0, 0, verdict.profile.c_str()));
    add_generated(proto_tree_add_uint(tree, fields.active_sessions, tvb, 0, 0, *verdict.active_sessions));
}

guint32 clamped(std::uint64_t value) { return static_cast<guint32>(std::min<std::uint64_t>(value, G_MAXUINT32)); }

void add_origin(proto_tree* tree, tvbuff_t* tvb, const diag503::Verdict& verdict) {
    if (verdict.origin.empty()) return;
    add_generated(proto_tree_add_string(tree, fields.origin, tvb, 0, 0, verdict.origin.c_str()));
    if (verdict.origin_frame != 0) add_generated(proto_tree_add_uint(tree, fields.origin_frame, tvb, 0, 0, verdict.origin_frame));
}

void add_incident(proto_tree* tree, tvbuff_t* tvb, const diag503::IncidentFacts& incident) {
    if (incident.id == 0) return;
    add_generated(proto_tree_add_uint(tree, fields.incident, tvb, 0, 0, incident.id));
    add_generated(proto_tree_add_uint(tree, fields.incident_first_frame, tvb, 0, 0, incident.first_frame));
    add_generated(proto_tree_add_uint(tree, fields.incident_refusals, tvb, 0, 0, incident.refusals));
    add_generated(proto_tree_add_uint(tree, fields.incident_clients, tvb, 0, 0, incident.clients));
    add_generated(proto_tree_add_uint(tree, fields.incident_served, tvb, 0, 0, clamped(incident.served)));
    const nstime_t duration = as_nstime(incident.duration_us);
    add_generated(proto_tree_add_time(tree, fields.incident_duration, tvb, 0, 0, &duration));
}

void add_failover(proto_tree* tree, tvbuff_t* tvb, const RenderedVerdict& rendered) {
    if (rendered.failover_frame == 0) return;
    add_generated(proto_tree_add_uint(tree, fields.failover, tvb, 0, 0, rendered.failover_frame));
    add_generated(proto_tree_add_string(tree, fields.failover_server, tvb, 0, 0, rendered.failover_server.c_str()));
}

// " [503: cause]", without doubling the space SIP leaves after its own " | " separator.
void append_info(packet_info* pinfo, const char* suffix) {
    const gchar* info = col_get_text(pinfo->cinfo, COL_INFO);
    const bool ends_in_space = info && *info && info[std::strlen(info) - 1] == ' ';
    col_append_str(pinfo->cinfo, COL_INFO, ends_in_space && *suffix == ' ' ? suffix + 1 : suffix);
}

void render(const RenderedVerdict& rendered, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree) {
    const diag503::Verdict& verdict = rendered.verdict;
    append_info(pinfo, rendered.info_suffix.c_str());
    rendered.tap = {&rendered, nullptr};
    tap_queue_packet(diag503_tap, pinfo, &rendered.tap);

    proto_item* root = proto_tree_add_item(tree, fields.protocol_item, tvb, 0, 0, ENC_NA);
    proto_item_append_text(root, ": %s", rendered.cause.c_str());
    proto_tree* subtree = proto_item_add_subtree(root, ett_diag503);
    add_generated(proto_tree_add_string(subtree, fields.protocol, tvb, 0, 0, rendered.protocol.c_str()));
    add_generated(proto_tree_add_string(subtree, fields.cause, tvb, 0, 0, rendered.cause.c_str()));
    add_generated(proto_tree_add_uint(subtree, fields.confidence, tvb, 0, 0, static_cast<guint32>(verdict.confidence)));
    for (const auto& item : verdict.evidence) add_evidence(subtree, tvb, item);
    add_generated(proto_tree_add_string(subtree, fields.recommendation, tvb, 0, 0, verdict.recommendation.c_str()));
    add_context(subtree, tvb, verdict);
    add_origin(subtree, tvb, verdict);
    add_incident(subtree, tvb, rendered.incident);
    add_failover(subtree, tvb, rendered);

    proto_tree_add_expert_format(subtree, pinfo, &ei_diagnosis, tvb, 0, 0, "%s", rendered.expert_text.c_str());
    if (verdict.relays_503 && !verdict.is_retransmission) proto_tree_add_expert(subtree, pinfo, &ei_relayed_503, tvb, 0, 0);
    if (verdict.request_frame == 0 && !verdict.is_retransmission)
        proto_tree_add_expert(subtree, pinfo, &ei_request_missing, tvb, 0, 0);
    if (verdict.malformed) proto_tree_add_expert(subtree, pinfo, &ei_malformed_503, tvb, 0, 0);
}

// A request that retried too early or failed over: a small subtree and an expert item on the request.
void render_reaction(const RenderedReaction& rendered, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree) {
    const diag503::Reaction& reaction = rendered.reaction;
    const bool failover = reaction.kind == diag503::Reaction::Kind::failover;
    rendered.tap = {nullptr, &rendered};
    tap_queue_packet(diag503_tap, pinfo, &rendered.tap);
    proto_item* root = proto_tree_add_item(tree, fields.protocol_item, tvb, 0, 0, ENC_NA);
    proto_item_append_text(root, failover ? ": failover after a 503" : ": early retry after a 503");
    proto_tree* subtree = proto_item_add_subtree(root, ett_diag503);
    add_generated(proto_tree_add_uint(subtree, failover ? fields.failover_from : fields.retry_early, tvb, 0, 0, reaction.refusal_frame));
    const nstime_t delay = as_nstime(reaction.waited_us);
    add_generated(proto_tree_add_time(subtree, fields.reaction_delay, tvb, 0, 0, &delay));
    proto_tree_add_expert_format(subtree, pinfo, failover ? &ei_failover : &ei_retry_early, tvb, 0, 0, "%s",
                                 rendered.expert_text.c_str());
}

int dissect_diag503(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    if (!capture) return 0;
    if (!pinfo->fd->visited) analyse_frame(pinfo, tree);
    const auto* verdicts = capture->verdicts_of(pinfo->num);
    const RenderedReaction* reaction = capture->reaction_of(pinfo->num);
    if (!verdicts && !reaction) return 0;
    if (reaction) render_reaction(*reaction, tvb, pinfo, tree);
    if (verdicts)
        for (const auto& rendered : *verdicts) render(rendered, tvb, pinfo, tree);
    return static_cast<int>(tvb_captured_length(tvb));
}

hf_register_info field_table[] = {
    {&fields.protocol, {"Protocol", "diag503.protocol", FT_STRING, BASE_NONE, nullptr, 0x0,
                        "The protocol of the diagnosed 503: sip or rtsp", HFILL}},
    {&fields.cause, {"Cause", "diag503.cause", FT_STRING, BASE_NONE, nullptr, 0x0,
                     "Why the server answered 503, from the fixed diag503 cause vocabulary", HFILL}},
    {&fields.confidence, {"Confidence", "diag503.confidence", FT_UINT8, BASE_DEC | BASE_UNIT_STRING, &units_percent, 0x0,
                          "How strongly the evidence supports the cause, 0 to 100 (0 for unknown)", HFILL}},
    {&fields.evidence, {"Evidence", "diag503.evidence", FT_STRING, BASE_NONE, nullptr, 0x0,
                        "One observation from the capture that the verdict rests on", HFILL}},
    {&fields.evidence_frame, {"Evidence frame", "diag503.evidence_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
                              "A frame that the evidence sentence above refers to", HFILL}},
    {&fields.recommendation, {"Recommendation", "diag503.recommendation", FT_STRING, BASE_NONE, nullptr, 0x0,
                              "What to check or change next, given the cause", HFILL}},
    {&fields.request_in, {"Request in", "diag503.request_in", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0,
                          "The frame of the request this 503 answers, when it was captured", HFILL}},
    {&fields.response_time, {"Response time", "diag503.response_time", FT_RELATIVE_TIME, BASE_NONE, nullptr, 0x0,
                             "Time from the first sending of the request to this 503", HFILL}},
    {&fields.retry_after, {"Retry-After", "diag503.retry_after", FT_UINT32, BASE_DEC | BASE_UNIT_STRING, &units_seconds, 0x0,
                           "The Retry-After value of the 503 in seconds, present only when it is valid", HFILL}},
    {&fields.server, {"Server", "diag503.server", FT_STRING, BASE_NONE, nullptr, 0x0,
                      "Address and port of the server that sent the 503", HFILL}},
    {&fields.method, {"Method", "diag503.method", FT_STRING, BASE_NONE, nullptr, 0x0,
                      "The method of the refused request", HFILL}},
    {&fields.scope, {"Scope", "diag503.scope", FT_STRING, BASE_NONE, nullptr, 0x0,
                     "Whom the server refused recently: single_user, several_users or all_users", HFILL}},
    {&fields.active_dialogs, {"Active dialogs", "diag503.active_dialogs", FT_UINT32, BASE_DEC, nullptr, 0x0,
                              "Calls established and not yet ended on that server when the 503 was sent", HFILL}},
    {&fields.url, {"URL", "diag503.url", FT_STRING, BASE_NONE, nullptr, 0x0,
                   "The RTSP URL of the refused request (user name and password are never shown)", HFILL}},
    {&fields.channel, {"Channel", "diag503.channel", FT_UINT32, BASE_DEC, nullptr, 0x0,
                       "The camera or NVR channel the refused RTSP URL names, in the vendor's own numbering", HFILL}},
    {&fields.stream, {"Stream", "diag503.stream", FT_STRING, BASE_NONE, nullptr, 0x0,
                      "Which encoder stream the refused RTSP request asked for: main, sub, third or unknown", HFILL}},
    {&fields.profile, {"Profile", "diag503.profile", FT_STRING, BASE_NONE, nullptr, 0x0,
                       "The encoding the refused RTSP request asked for, as text (stream, codec, resolution, fps)", HFILL}},
    {&fields.active_sessions, {"Active sessions", "diag503.active_sessions", FT_UINT32, BASE_DEC, nullptr, 0x0,
                               "RTSP sessions active on that device, ghosts included, when the 503 was sent", HFILL}},
    {&fields.origin, {"Origin", "diag503.origin", FT_STRING, BASE_NONE, nullptr, 0x0,
                      "Which hop generated the 503: generated here, or relayed from the hop (address or Server) beyond", HFILL}},
    {&fields.origin_frame, {"Origin frame", "diag503.origin_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
                            "The frame of the 503 that the generating hop sent, when it was captured", HFILL}},
    {&fields.incident, {"Incident", "diag503.incident", FT_UINT32, BASE_DEC, nullptr, 0x0,
                        "Number of the incident this 503 belongs to: 503s of one server with one cause, close in time", HFILL}},
    {&fields.incident_first_frame, {"Incident began in", "diag503.incident_first_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
                                    "The first 503 of this incident", HFILL}},
    {&fields.incident_refusals, {"Incident 503s so far", "diag503.incident_refusals", FT_UINT32, BASE_DEC, nullptr, 0x0,
                                 "503s of this incident up to and including this one; its last 503 shows the total", HFILL}},
    {&fields.incident_clients, {"Incident clients so far", "diag503.incident_clients", FT_UINT32, BASE_DEC, nullptr, 0x0,
                                "Distinct callers (SIP From user) or client addresses (RTSP) refused in this incident so far", HFILL}},
    {&fields.incident_served, {"Served during incident", "diag503.incident_served", FT_UINT32, BASE_DEC, nullptr, 0x0,
                               "Requests the same server still answered without refusal since the incident began", HFILL}},
    {&fields.incident_duration, {"Incident duration so far", "diag503.incident_duration", FT_RELATIVE_TIME, BASE_NONE, nullptr, 0x0,
                                 "Time from the incident's first 503 to this one", HFILL}},
    {&fields.failover, {"Failover in", "diag503.failover", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
                        "The client's attempt at another server after this 503 (two-pass tshark and the GUI only)", HFILL}},
    {&fields.failover_server, {"Failover server", "diag503.failover_server", FT_STRING, BASE_NONE, nullptr, 0x0,
                               "The server the client failed over to after this 503 (two-pass tshark and the GUI only)", HFILL}},
    {&fields.failover_from, {"Failover from", "diag503.failover_from", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
                             "On a request: the 503 from another server that this request fails over from", HFILL}},
    {&fields.retry_early, {"Early retry of", "diag503.retry_early", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
                           "On a request: the 503 of the same server whose Retry-After (or minimum back-off) it did not wait for", HFILL}},
    {&fields.reaction_delay, {"Time since the 503", "diag503.reaction_delay", FT_RELATIVE_TIME, BASE_NONE, nullptr, 0x0,
                              "On a retry or failover request: time from the 503 it reacts to", HFILL}},
};

ei_register_info expert_table[] = {
    {&ei_diagnosis, {"diag503.diagnosis", PI_RESPONSE_CODE, PI_WARN, "503 diagnosed", EXPFILL}},
    {&ei_request_missing, {"diag503.request_missing", PI_SEQUENCE, PI_NOTE,
                           "The request of this 503 is not in the capture: timing and load evidence are unavailable", EXPFILL}},
    {&ei_malformed_503, {"diag503.malformed_503", PI_MALFORMED, PI_NOTE, "The 503 has malformed headers", EXPFILL}},
    {&ei_relayed_503, {"diag503.origin.relayed_503", PI_PROTOCOL, PI_WARN,
                       "A proxy relayed a downstream 503 upstream; RFC 3261 §16.7 asks for 500, so that callers do not "
                       "back off from the wrong server", EXPFILL}},
    {&ei_retry_early, {"diag503.retry_early.expert", PI_SEQUENCE, PI_WARN, "Client retried before the 503's back-off elapsed", EXPFILL}},
    {&ei_failover, {"diag503.failover_from.expert", PI_SEQUENCE, PI_CHAT, "Client failed over to another server after a 503", EXPFILL}},
};

}  // namespace

void diag503_register_protocol(void) {
    fields.protocol_item = proto_register_protocol("503 Diagnostics", "diag503", "diag503");
    static int* subtrees[] = {&ett_diag503, &ett_evidence};
    proto_register_field_array(fields.protocol_item, field_table, G_N_ELEMENTS(field_table));
    proto_register_subtree_array(subtrees, G_N_ELEMENTS(subtrees));
    expert_module_t* expert = expert_register_protocol(fields.protocol_item);
    expert_register_field_array(expert, expert_table, G_N_ELEMENTS(expert_table));
    module_t* module = prefs_register_protocol(fields.protocol_item, nullptr);
    diag503::register_preferences(module, preference_values);
    register_init_routine(start_capture);
    register_cleanup_routine(end_capture);
    diag503_tap = register_tap("diag503");
    diag503_handle = register_dissector("diag503", dissect_diag503, fields.protocol_item);
    register_postdissector(diag503_handle);
}

void diag503_register_handoff(void) {
    fields.sip = proto_registrar_get_id_byname("sip");
    fields.rtsp = proto_registrar_get_id_byname("rtsp");
    fields.http = proto_registrar_get_id_byname("http");
    fields.dns = proto_registrar_get_id_byname("dns");
    fields.tls = proto_registrar_get_id_byname("tls");
    fields.icmp = proto_registrar_get_id_byname("icmp");
    fields.icmpv6 = proto_registrar_get_id_byname("icmpv6");
    fields.pgsql = proto_registrar_get_id_byname("pgsql");
    fields.mysql = proto_registrar_get_id_byname("mysql");
    fields.tcp_flags = proto_registrar_get_id_byname("tcp.flags");
    set_postdissector_wanted_hfids(diag503_handle, wanted_fields());
}
