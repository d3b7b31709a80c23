// Wireshark glue: the diag503 post-dissector hands each frame to the capture analysis on the first pass and renders its results.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "dissector.hpp"

#include <epan/column-utils.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <epan/proto_data.h>
#include <epan/tap.h>
#include <epan/to_str.h>
#include <epan/unit_strings.h>
#include <wiretap/wtap.h>
#include <wsutil/report_message.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>

#include "capture/capture_analysis.hpp"
#include "core/report.hpp"
#include "wire/wire_formats.hpp"
#include "preferences.hpp"
#include "wireshark_compat.hpp"

namespace {

using diag503::CaptureAnalysis;
using diag503::FinishedReaction;
using diag503::FinishedVerdict;

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
    int reaction = -1;
    int reaction_to = -1;
    int reaction_delay = -1;
    // Wireshark's protocols whose presence in a frame (pinfo->layers) tells diag503 what to read.
    int sip = -1;
    int rtsp = -1;
    int http = -1;
    int dns = -1;
    int tls = -1;
    int icmp = -1;
    int icmpv6 = -1;
    int pgsql = -1;
    int mysql = -1;
};
FieldIds fields;
int ett_diag503 = -1;
int ett_evidence = -1;
// One expert item per cause, so that Expert Info groups 503s by cause: a Warning for a confident
// verdict, a Note for a lead (below diag503::kLeadBelowConfidence) and for `unknown`, which has no lead.
std::array<expert_field, diag503::kCauseCount> ei_cause_confident;
std::array<expert_field, diag503::kCauseCount> ei_cause_lead;

expert_field* diagnosis_item(const diag503::Verdict& verdict) {
    const auto index = static_cast<std::size_t>(verdict.cause);
    const bool lead = diag503::is_lead(verdict) && verdict.cause != diag503::Cause::unknown;
    return lead ? &ei_cause_lead[index] : &ei_cause_confident[index];
}
expert_field ei_request_missing = EI_INIT;
expert_field ei_malformed_503 = EI_INIT;
expert_field ei_cut_503 = EI_INIT;
expert_field ei_relayed_503 = EI_INIT;
// Severity follows what a reaction costs the server: the refused request again at once (Warning), one
// client's new traffic during a back-off (Note), a failover the 503 asked for (Chat).
expert_field ei_retry_same_request = EI_INIT;
expert_field ei_request_during_backoff = EI_INIT;
expert_field ei_failover = EI_INIT;

expert_field* reaction_item(diag503::Reaction::Kind kind) {
    switch (kind) {
        case diag503::Reaction::Kind::retry_same_request: return &ei_retry_same_request;
        case diag503::Reaction::Kind::request_during_backoff: return &ei_request_during_backoff;
        case diag503::Reaction::Kind::failover: break;
    }
    return &ei_failover;
}
int diag503_tap = -1;
dissector_handle_t diag503_handle;

// Owner: the preference module; read when a capture's state is created.
diag503::Settings preference_values;
// Owner: this file. Lifetime: one capture file, from the init routine to the cleanup routine.
std::unique_ptr<CaptureAnalysis> capture;
// Where each analysed frame's payloads are listed, kept from frame to frame so that listing them
// allocates nothing once the list has grown. Filled and read only between Wireshark calls.
diag503::FrameContents located;

// diag503 wants no field: a wanted field makes Wireshark build a protocol tree for every packet of
// every capture, which costs more than all of diag503's own work. It finds the bytes itself.
void start_capture() { capture = std::make_unique<CaptureAnalysis>(preference_values); }

// Wireshark's preference editor and `-o` accept any number: values outside a setting's range are
// corrected here, when preferences are applied, and the user is told which and why.
void apply_preferences() {
    for (const std::string& change : diag503::bring_into_range(preference_values)) report_warning("%s", change.c_str());
}
void end_capture() { capture.reset(); }

// Plain data read from Wireshark before any C++ object is made: Wireshark reports errors by
// longjmp, which must never cross a live destructor. The views point into tvbs that live as long
// as the packet's dissection.
struct FrameFacts {
    diag503::FrameInput input;
    bool over_tls;
};

diag503::LinkType link_type_of(const packet_info* pinfo) {
    if (!pinfo->rec || pinfo->rec->rec_type != REC_TYPE_PACKET) return diag503::LinkType::unsupported;
    switch (pinfo->rec->rec_header.packet_header.pkt_encap) {
        case WTAP_ENCAP_ETHERNET: return diag503::LinkType::ethernet;
        case WTAP_ENCAP_SLL: return diag503::LinkType::linux_sll;
        case WTAP_ENCAP_SLL2: return diag503::LinkType::linux_sll2;
        case WTAP_ENCAP_NULL: return diag503::LinkType::bsd_null;
        case WTAP_ENCAP_LOOP: return diag503::LinkType::bsd_loop;
        case WTAP_ENCAP_RAW_IP:
        case WTAP_ENCAP_RAW_IP4:
        case WTAP_ENCAP_RAW_IP6: return diag503::LinkType::raw_ip;
        default: return diag503::LinkType::unsupported;
    }
}

// The watched protocols by id, in a small open-addressed table: each layer of each frame costs one probe.
class WatchedLayers {
public:
    void add(int id, diag503::PayloadKind kind) {
        std::size_t slot = static_cast<unsigned>(id) % kSlots;
        while (slots_[slot].id != kEmpty) slot = (slot + 1) % kSlots;
        slots_[slot] = {id, kind};
    }
    const diag503::PayloadKind* find(int id) const {
        for (std::size_t slot = static_cast<unsigned>(id) % kSlots; slots_[slot].id != kEmpty; slot = (slot + 1) % kSlots)
            if (slots_[slot].id == id) return &slots_[slot].kind;
        return nullptr;
    }

private:
    static constexpr int kEmpty = -1;
    static constexpr std::size_t kSlots = 32;  // more than three times the watched protocols
    struct Slot {
        int id = kEmpty;
        diag503::PayloadKind kind{};
    };
    std::array<Slot, kSlots> slots_{};
};

WatchedLayers make_watched_layers() {
    using diag503::PayloadKind;
    WatchedLayers watched;
    for (const auto& [id, kind] : {std::pair{fields.sip, PayloadKind::sip}, {fields.rtsp, PayloadKind::rtsp},
                                   {fields.http, PayloadKind::http}, {fields.dns, PayloadKind::dns},
                                   {fields.tls, PayloadKind::tls}, {fields.icmp, PayloadKind::icmp},
                                   {fields.icmpv6, PayloadKind::icmpv6}, {fields.pgsql, PayloadKind::postgresql},
                                   {fields.mysql, PayloadKind::mysql}})
        if (id > 0) watched.add(id, kind);
    return watched;
}

// Which of the protocols diag503 reads Wireshark found in the frame: one walk over its layers.
// A protocol's field id is its protocol id, as pinfo->layers lists it.
bool mark_layers(const packet_info* pinfo, FrameFacts& facts) {
    static const WatchedLayers watched = make_watched_layers();  // ids are fixed once protocols are registered
    bool any = false;
    for (wmem_list_frame_t* layer = wmem_list_head(pinfo->layers); layer; layer = wmem_list_frame_next(layer))
        if (const auto* kind = watched.find(GPOINTER_TO_INT(wmem_list_frame_data(layer))))
            any = facts.input.present[static_cast<int>(*kind)] = true;
    facts.over_tls = facts.input.has(diag503::PayloadKind::tls);
    return any;
}

std::string_view tvb_bytes(tvbuff_t* tvb) {
    const guint length = tvb_captured_length(tvb);
    if (length == 0) return {};
    return {reinterpret_cast<const char*>(tvb_get_ptr(tvb, 0, static_cast<gint>(length))), length};
}

bool name_starts_with(const char* name, const char* prefix) { return std::strncmp(name, prefix, std::strlen(prefix)) == 0; }

// Reassembled and decrypted data sources: where Wireshark put messages split over segments or fragments.
void collect_data_sources(const packet_info* pinfo, FrameFacts& facts) {
    auto& input = facts.input;
    for (GSList* item = pinfo->data_src ? pinfo->data_src->next : nullptr; item; item = item->next) {
        const auto* source = static_cast<const struct data_source*>(item->data);
        char* name = diag503_compat::data_source_label(source);
        const bool stream = name_starts_with(name, "Reassembled TCP") || name_starts_with(name, "Decrypted TLS");
        const bool datagram = name_starts_with(name, "Reassembled IPv");
        wmem_free(nullptr, name);
        if (stream && input.stream_count < input.streams.size())
            input.streams[input.stream_count++] = tvb_bytes(get_data_source_tvb(source));
        else if (datagram && input.datagram_count < input.datagrams.size())
            input.datagrams[input.datagram_count++] = tvb_bytes(get_data_source_tvb(source));
    }
}

diag503::Transport transport_of(const packet_info* pinfo, bool over_tls) {
    if (over_tls) return diag503::Transport::tls;
    switch (pinfo->ptype) {
        case PT_UDP: return diag503::Transport::udp;
        case PT_TCP: return diag503::Transport::tcp;
        case PT_SCTP: return diag503::Transport::sctp;
        default: return diag503::Transport::other;
    }
}

// An IPv4 address written directly (every analysed frame has two); other kinds as Wireshark writes them.
std::string address_text(const packet_info* pinfo, const address& where) {
    if (where.type != AT_IPv4 || where.len != 4) return address_to_str(pinfo->pool, &where);
    return diag503::ipv4_text(std::string_view(static_cast<const char*>(where.data), 4));
}

// C++ side: only address formatting and plain reads of pinfo below this point, none of which throws.
// Returns whether anything was analysed.
bool analyse_contents(const FrameFacts& facts, const packet_info* pinfo) {
    CaptureAnalysis::locate(facts.input, located);
    const diag503::FrameContents& contents = located;
    if (!CaptureAnalysis::worth_analysing(contents)) return false;
    diag503::PacketMeta meta;
    meta.frame = pinfo->num;
    meta.time_us = static_cast<std::int64_t>(pinfo->abs_ts.secs) * 1000000 + pinfo->abs_ts.nsecs / 1000;
    meta.transport = transport_of(pinfo, facts.over_tls);
    meta.source = {address_text(pinfo, pinfo->src), static_cast<std::uint16_t>(pinfo->srcport)};
    meta.destination = {address_text(pinfo, pinfo->dst), static_cast<std::uint16_t>(pinfo->destport)};
    capture->analyse(meta, contents);
    return true;
}

bool analyse_frame(tvbuff_t* tvb, packet_info* pinfo) {
    FrameFacts facts{};  // plain data: safe if Wireshark longjmps out of a call below
    const bool watched = mark_layers(pinfo, facts);
    if (!watched && pinfo->ptype != PT_TCP) return false;  // most packets of most captures stop here
    facts.input.link = link_type_of(pinfo);
    facts.input.frame = tvb_bytes(tvb);
    facts.input.cut = tvb_captured_length(tvb) < tvb_reported_length(tvb);
    if (watched && pinfo->data_src && pinfo->data_src->next) collect_data_sources(pinfo, facts);
    return analyse_contents(facts, pinfo);
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

void add_sip_context(proto_tree* tree, tvbuff_t* tvb, const diag503::SipVerdictContext& sip) {
    const auto scope = diag503::scope_name(sip.scope);
    if (!scope.empty()) add_generated(proto_tree_add_string(tree, fields.scope, tvb, 0, 0, scope.data()));
    add_generated(proto_tree_add_uint(tree, fields.active_dialogs, tvb, 0, 0, sip.active_dialogs));
}

void add_rtsp_context(proto_tree* tree, tvbuff_t* tvb, const diag503::RtspVerdictContext& rtsp) {
    if (!rtsp.url.empty()) add_generated(proto_tree_add_string(tree, fields.url, tvb, 0, 0, rtsp.url.c_str()));
    if (rtsp.channel) add_generated(proto_tree_add_uint(tree, fields.channel, tvb, 0, 0, *rtsp.channel));
    if (!rtsp.stream.empty()) add_generated(proto_tree_add_string(tree, fields.stream, tvb, 0, 0, rtsp.stream.c_str()));
    if (!rtsp.profile.empty()) add_generated(proto_tree_add_string(tree, fields.profile, tvb, 0, 0, rtsp.profile.c_str()));
    add_generated(proto_tree_add_uint(tree, fields.active_sessions, tvb, 0, 0, rtsp.active_sessions));
}

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
    if (const auto* sip = verdict.sip()) add_sip_context(tree, tvb, *sip);
    if (const auto* rtsp = verdict.rtsp()) add_rtsp_context(tree, tvb, *rtsp);
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

void add_failover(proto_tree* tree, tvbuff_t* tvb, const FinishedVerdict& rendered) {
    if (rendered.failover_frame == 0) return;
    add_generated(proto_tree_add_uint(tree, fields.failover, tvb, 0, 0, rendered.failover_frame));
    add_generated(proto_tree_add_string(tree, fields.failover_server, tvb, 0, 0, rendered.failover_server.c_str()));
}

// The tap record lives in the packet's memory pool: plain data, freed with the packet by Wireshark.
void queue_tap(packet_info* pinfo, diag503::TapRecord record) {
    auto* queued = wmem_new(pinfo->pool, diag503::TapRecord);
    *queued = record;
    tap_queue_packet(diag503_tap, pinfo, queued);
}

// " [503: cause]", without doubling the space SIP leaves after its own " | " separator.
void append_info(packet_info* pinfo, const char* suffix) {
    const gchar* info = col_get_text(pinfo->cinfo, COL_INFO);
    const bool ends_in_space = info && *info && info[std::strlen(info) - 1] == ' ';
    col_append_str(pinfo->cinfo, COL_INFO, ends_in_space && *suffix == ' ' ? suffix + 1 : suffix);
}

void render(const FinishedVerdict& rendered, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree) {
    const diag503::Verdict& verdict = rendered.verdict;
    append_info(pinfo, rendered.info_suffix.c_str());
    queue_tap(pinfo, {&rendered, nullptr});

    proto_item* root = proto_tree_add_item(tree, fields.protocol_item, tvb, 0, 0, ENC_NA);
    proto_item_append_text(root, ": %s", rendered.cause.c_str());
    proto_tree* subtree = proto_item_add_subtree(root, ett_diag503);
    add_generated(proto_tree_add_string(subtree, fields.protocol, tvb, 0, 0, diag503::protocol_name(verdict.protocol()).data()));
    add_generated(proto_tree_add_string(subtree, fields.cause, tvb, 0, 0, rendered.cause.c_str()));
    add_generated(proto_tree_add_uint(subtree, fields.confidence, tvb, 0, 0, static_cast<guint32>(verdict.confidence)));
    for (const auto& item : verdict.evidence) add_evidence(subtree, tvb, item);
    add_generated(proto_tree_add_string(subtree, fields.recommendation, tvb, 0, 0, verdict.recommendation.c_str()));
    add_context(subtree, tvb, verdict);
    add_origin(subtree, tvb, verdict);
    add_incident(subtree, tvb, verdict.incident);
    add_failover(subtree, tvb, rendered);

    proto_tree_add_expert_format(subtree, pinfo, diagnosis_item(verdict), tvb, 0, 0, "%s", rendered.expert_text.c_str());
    if (verdict.sip() && verdict.sip()->relays_503 && !verdict.is_retransmission) proto_tree_add_expert(subtree, pinfo, &ei_relayed_503, tvb, 0, 0);
    if (verdict.request_frame == 0 && !verdict.is_retransmission && !verdict.cut)  // a cut 503 has its own note
        proto_tree_add_expert(subtree, pinfo, &ei_request_missing, tvb, 0, 0);
    if (verdict.malformed) proto_tree_add_expert(subtree, pinfo, &ei_malformed_503, tvb, 0, 0);
    if (verdict.cut && !verdict.is_retransmission) proto_tree_add_expert(subtree, pinfo, &ei_cut_503, tvb, 0, 0);
}

// A request that reacts to a 503: an item of its own beside the diag503 subtree, so that the filter
// `diag503` keeps selecting 503s only and `diag503.reaction` selects these.
void render_reaction(const FinishedReaction& rendered, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree) {
    const diag503::Reaction& reaction = rendered.reaction;
    queue_tap(pinfo, {nullptr, &rendered});
    proto_item* root = proto_tree_add_string(tree, fields.reaction, tvb, 0, 0, diag503::reaction_name(reaction.kind).data());
    proto_item_set_generated(root);
    proto_tree* subtree = proto_item_add_subtree(root, ett_diag503);
    add_generated(proto_tree_add_uint(subtree, fields.reaction_to, tvb, 0, 0, reaction.refusal_frame));
    const nstime_t delay = as_nstime(reaction.waited_us);
    add_generated(proto_tree_add_time(subtree, fields.reaction_delay, tvb, 0, 0, &delay));
    proto_tree_add_expert_format(subtree, pinfo, reaction_item(reaction.kind), tvb, 0, 0, "%s", rendered.expert_text.c_str());
}

// Frames with something to render carry a mark in Wireshark's per-frame data (file scope), so that
// the other frames cost no look-up on any pass.
constexpr guint32 kRenderMark = 0;

int dissect_diag503(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    if (!capture) return 0;
    if (!pinfo->fd->visited) {  // the first pass knows at once whether this frame has output
        if (!analyse_frame(tvb, pinfo) || !capture->has_output(pinfo->num)) return 0;
        p_add_proto_data(wmem_file_scope(), pinfo, fields.protocol_item, kRenderMark, GINT_TO_POINTER(1));
    } else if (!p_get_proto_data(wmem_file_scope(), pinfo, fields.protocol_item, kRenderMark)) {
        return 0;
    }
    const auto* verdicts = capture->verdicts_of(pinfo->num);
    const FinishedReaction* reaction = capture->reaction_of(pinfo->num);
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
    {&fields.active_dialogs, {"Calls in progress", "diag503.active_dialogs", FT_UINT32, BASE_DEC, nullptr, 0x0,
                              "Calls in progress on that server when the 503 was sent: answered, or accepted (1xx) and not yet answered; not the refused call itself", HFILL}},
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
    {&fields.reaction, {"Reaction to a 503", "diag503.reaction", FT_STRING, BASE_NONE, nullptr, 0x0,
                        "On a client's request after a 503: retry_same_request (the refused request again before the "
                        "back-off elapsed), request_during_backoff (the client's first other request to that server while "
                        "its Retry-After ran) or failover (the refused call sent to another server)", HFILL}},
    {&fields.reaction_to, {"Reacts to", "diag503.reaction_to", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
                           "On a reaction: the 503 this request follows", HFILL}},
    {&fields.reaction_delay, {"Time since the 503", "diag503.reaction_delay", FT_RELATIVE_TIME, BASE_NONE, nullptr, 0x0,
                              "On a reaction: time from the 503 it follows", HFILL}},
};

ei_register_info expert_table[] = {
    {&ei_request_missing, {"diag503.request_missing", PI_SEQUENCE, PI_NOTE,
                           "The request of this 503 is not in the capture: timing and load evidence are unavailable", EXPFILL}},
    {&ei_malformed_503, {"diag503.malformed_503", PI_MALFORMED, PI_NOTE, "The 503 has malformed headers", EXPFILL}},
    {&ei_cut_503, {"diag503.cut_503", PI_UNDECODED, PI_NOTE,
                   "The capture cut this 503 short (snaplen): the diagnosis rests on the bytes kept", EXPFILL}},
    {&ei_relayed_503, {"diag503.origin.relayed_503", PI_PROTOCOL, PI_WARN,
                       "A proxy relayed a downstream 503 upstream; RFC 3261 §16.7 asks for 500, so that callers do not "
                       "back off from the wrong server", EXPFILL}},
    {&ei_retry_same_request, {"diag503.reaction.retry_same_request", PI_SEQUENCE, PI_WARN,
                              "Client sent the refused request again before the 503's back-off elapsed", EXPFILL}},
    {&ei_request_during_backoff, {"diag503.reaction.request_during_backoff", PI_SEQUENCE, PI_NOTE,
                                  "Client sent other requests to a server whose Retry-After was running", EXPFILL}},
    {&ei_failover, {"diag503.reaction.failover", PI_SEQUENCE, PI_CHAT, "Client failed over to another server after a 503", EXPFILL}},
};

// The per-cause expert items, "diag503.cause.<cause>.expert" (Warning; Note for unknown) and ".lead" (Note). Wireshark keeps
// pointers to the names and summaries, hence the static storage.
void register_cause_expert_items(expert_module_t* expert) {
    struct Texts {
        std::string name;
        std::string summary;
    };
    static std::array<Texts, 2 * diag503::kCauseCount> texts;
    static std::array<ei_register_info, 2 * diag503::kCauseCount> items;
    std::size_t count = 0;
    for (int index = 0; index < diag503::kCauseCount; ++index) {
        const auto cause = static_cast<diag503::Cause>(index);
        const std::string name(diag503::cause_name(cause));
        const bool unknown = cause == diag503::Cause::unknown;
        for (const bool lead : {false, true}) {
            if (unknown && lead) continue;
            auto& text = texts[count];
            text.name = "diag503.cause." + name + (lead ? ".lead" : ".expert");
            text.summary = unknown ? "503 diagnosed as unknown: too little evidence for a cause"
                           : lead  ? "503 diagnosed as " + name + ", a lead"
                                   : "503 diagnosed as " + name;
            expert_field* field = lead ? &ei_cause_lead[index] : &ei_cause_confident[index];
            *field = EI_INIT;
            items[count++] = {field, {text.name.c_str(), PI_RESPONSE_CODE, (lead || unknown) ? PI_NOTE : PI_WARN,
                                      text.summary.c_str(), EXPFILL}};
        }
    }
    expert_register_field_array(expert, items.data(), static_cast<int>(count));
}

}  // namespace

void diag503_register_protocol(void) {
    fields.protocol_item = proto_register_protocol("503 Diagnostics", "diag503", "diag503");
    static int* subtrees[] = {&ett_diag503, &ett_evidence};
    proto_register_field_array(fields.protocol_item, field_table, G_N_ELEMENTS(field_table));
    proto_register_subtree_array(subtrees, G_N_ELEMENTS(subtrees));
    expert_module_t* expert = expert_register_protocol(fields.protocol_item);
    expert_register_field_array(expert, expert_table, G_N_ELEMENTS(expert_table));
    register_cause_expert_items(expert);
    module_t* module = prefs_register_protocol(fields.protocol_item, apply_preferences);
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
}
