// The capture analysis: hands each located payload to its reader and engine, then finishes every verdict.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/capture_analysis.hpp"

#include <exception>

#include "core/display_text.hpp"
#include "core/findings.hpp"
#include "core/report.hpp"
#include "core/text.hpp"
#include "rtsp/rtsp_message.hpp"
#include "rtsp/rtsp_reactions.hpp"
#include "sip/sip_message.hpp"
#include "sip/sip_reactions.hpp"
#include "wire/wire_formats.hpp"

namespace diag503 {
namespace {

// TCP flags that end or open connections: the only ones any engine reads.
constexpr std::uint16_t kWatchedTcpFlags = TcpFlags::syn | TcpFlags::reset | TcpFlags::fin;

std::uint16_t watched_tcp_flags(const FrameContents& contents) {
    return (contents.tcp_flags & kWatchedTcpFlags) ? contents.tcp_flags : 0;
}

}  // namespace

CaptureAnalysis::CaptureAnalysis(const Settings& settings)
    : settings_(settings), sip_engine_(settings), rtsp_engine_(settings), incidents_(settings), reactions_(settings) {}

FrameContents CaptureAnalysis::locate(const FrameInput& input) { return locate_payloads(input); }
void CaptureAnalysis::locate(const FrameInput& input, FrameContents& into) { locate_payloads(input, into); }

bool CaptureAnalysis::worth_analysing(const FrameContents& contents) {
    return !contents.payloads.empty() || watched_tcp_flags(contents) != 0;
}

void CaptureAnalysis::analyse(const PacketMeta& meta, const FrameInput& input) noexcept {
    try {
        locate(input, located_);
        if (worth_analysing(located_)) analyse(meta, located_);
    } catch (...) {
        // Locating allocates only its list of payloads: out of memory there loses the frame, not the capture.
    }
}

void CaptureAnalysis::analyse(const PacketMeta& meta, const FrameContents& contents) noexcept {
    PacketMeta cut_meta = meta;  // for a message that runs into the end of a frame the capture cut short
    for (const LocatedPayload& payload : contents.payloads) {
        cut_meta.cut_after_bytes = static_cast<std::uint32_t>(payload.bytes.size());
        const PacketMeta& message_meta = payload.cut ? cut_meta : meta;
        switch (payload.kind) {
            case PayloadKind::sip:
                guarded(message_meta, payload.bytes, [&] { analyse_sip(message_meta, payload.bytes); });
                break;
            case PayloadKind::rtsp:
                guarded(message_meta, payload.bytes, [&] { analyse_rtsp(message_meta, payload.bytes); });
                break;
            case PayloadKind::http: analyse_http_request(meta, payload.bytes); break;
            default: analyse_side_protocol(meta, payload); break;
        }
    }
    if (const std::uint16_t flags = watched_tcp_flags(contents)) analyse_tcp_flags(meta, flags);
}

// Runs one message through an engine; an internal failure on a 503 still leaves an unknown verdict.
template <typename Analyse>
void CaptureAnalysis::guarded(const PacketMeta& meta, std::string_view message_text, Analyse&& analyse) noexcept {
    try {
        analyse();
    } catch (const std::exception& failure) {
        store_internal_failure(meta, message_text, failure.what());
    } catch (...) {
        store_internal_failure(meta, message_text, "unexpected error");
    }
}

void CaptureAnalysis::analyse_sip(const PacketMeta& meta, std::string_view message_text) {
    if (!parse_sip_message_into(message_text, sip_message_)) return;
    const SipMessage& message = sip_message_;
    auto verdict = sip_engine_.observe(meta, message);
    const ClientRequest request = sip_client_request(meta, message);
    if (message.is_request && may_react(message)) observe_reaction(request);
    if (!verdict) return;
    if (!verdict->is_retransmission) reactions_.on_503(meta, request, verdict->retry_after_seconds);
    store(std::move(*verdict), meta);
}

void CaptureAnalysis::analyse_rtsp(const PacketMeta& meta, std::string_view message_text) {
    if (!message_text.empty() && message_text.front() == '$') {
        rtsp_engine_.observe_interleaved(meta);
        return;
    }
    const auto message = parse_rtsp_message(message_text);
    if (!message) return;
    auto verdict = rtsp_engine_.observe(meta, *message);
    if (message->is_request && may_react(*message))
        observe_reaction(rtsp_client_request(meta, meta.source, message->url, message->cseq));
    if (!verdict) return;
    const std::string& url = verdict->rtsp() ? verdict->rtsp()->url : message->url;
    reactions_.on_503(meta, rtsp_client_request(meta, meta.destination, url, message->cseq), verdict->retry_after_seconds);
    store(std::move(*verdict), meta);
}

void CaptureAnalysis::analyse_http_request(const PacketMeta& meta, std::string_view request_text) noexcept {
    try {
        rtsp_engine_.observe_http_request(meta, request_text);
    } catch (...) {
        // Side evidence only: losing it loses no 503.
    }
}

void CaptureAnalysis::analyse_side_protocol(const PacketMeta& meta, const LocatedPayload& payload) noexcept {
    try {
        NetworkEvidence& network = sip_engine_.network();
        const std::string_view bytes = payload.bytes;
        switch (payload.kind) {
            case PayloadKind::dns: {
                // Over TCP, a DNS message starts after a two-byte length prefix.
                const bool stream = meta.transport == Transport::tcp || meta.transport == Transport::tls;
                if (auto message = parse_dns(stream && bytes.size() >= 2 ? bytes.substr(2) : bytes)) network.observe_dns(meta, *message);
                break;
            }
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
    } catch (...) {
        // Side evidence only: losing it loses no 503.
    }
}

void CaptureAnalysis::analyse_tcp_flags(const PacketMeta& meta, std::uint16_t flags) noexcept {
    try {
        sip_engine_.network().observe_tcp(meta, flags);
        // Ends of connections matter to RTSP only once a device is known.
        if ((flags & (TcpFlags::fin | TcpFlags::reset)) && rtsp_engine_.knows_devices())
            rtsp_engine_.observe_connection_end(meta, flags & TcpFlags::reset);
    } catch (...) {
        // Side evidence only: losing it loses no 503.
    }
}

void CaptureAnalysis::observe_reaction(const ClientRequest& request) {
    auto reaction = reactions_.on_request(request);
    if (!reaction) return;
    if (reaction->kind == Reaction::Kind::failover) {
        auto refused = verdicts_by_frame_.find(reaction->refusal_frame);
        if (refused != verdicts_by_frame_.end())
            for (FinishedVerdict& finished : refused->second)
                if (finished.failover_frame == 0) {
                    finished.failover_frame = reaction->frame;
                    finished.failover_server = reaction->server;
                }
    }
    FinishedReaction finished;
    finished.reaction = *reaction;
    finished.expert_text = reaction_summary(*reaction);
    reactions_by_frame_.emplace(reaction->frame, std::move(finished));
    last_output_frame_ = reaction->frame;
}

void CaptureAnalysis::place_in_incident(Verdict& verdict, std::int64_t time_us) {
    if (verdict.is_retransmission) {
        if (const auto* original = verdicts_of(verdict.retransmission_of); original && !original->empty())
            verdict.incident = original->front().verdict.incident;
        return;
    }
    verdict.incident = incidents_.place(verdict, time_us);
    verdict.evidence.push_back({incident_sentence(verdict.incident, verdict.cause, verdict.server),
                                {verdict.incident.first_frame, verdict.frame}});
    const std::uint32_t early_retries = reactions_.early_retries_recent(verdict.server, time_us);
    if (early_retries > 0)
        verdict.evidence.push_back({counted(early_retries, "request", "requests") +
                                        " reached this server in the last minute before the back-off of an earlier 503 "
                                        "elapsed: clients are not honouring Retry-After.", {verdict.frame}});
}

void CaptureAnalysis::store(Verdict verdict, const PacketMeta& meta) {
    if (meta.cut_after_bytes != 0) {  // RTSP as SIP: what the cut left unfinished is not malformed
        verdict.cut = true;
        verdict.malformed = false;
    }
    FinishedVerdict finished;
    finished.cause = std::string(cause_name(verdict.cause));
    finished.expert_text = expert_summary(verdict);
    finished.info_suffix = info_suffix(verdict);
    finished.retry_after_class = retry_after_class(verdict, settings_);
    finished.response_time_class = response_time_class(verdict, settings_);
    finished.verdict = std::move(verdict);
    place_in_incident(finished.verdict, meta.time_us);
    keep_useful_links(finished.verdict);
    // Last, once every sentence is written and keys are taken: nothing unescaped reaches the tree.
    make_displayable(finished.verdict);
    finished.expert_text = displayable(finished.expert_text, kMaxDisplayedExpert);
    finished.info_suffix = displayable(finished.info_suffix, kMaxDisplayedIdentifier);
    verdicts_by_frame_[meta.frame].push_back(std::move(finished));
    last_output_frame_ = meta.frame;
}

void CaptureAnalysis::store_internal_failure(const PacketMeta& meta, std::string_view message_text, const char* what) noexcept {
    try {
        const auto start = trim(message_text.substr(0, message_text.find('\n')));
        const bool sip = istarts_with(start, "SIP/2.0 503");
        if (!sip && !(istarts_with(start, "RTSP/") && start.find(" 503") != std::string_view::npos)) return;
        Verdict verdict;
        verdict.frame = meta.frame;
        verdict.server = meta.source.text();
        verdict.evidence.push_back({std::string("diag503 could not analyse this 503: ") + what, {meta.frame}});
        verdict.recommendation = std::string(cause_recommendation(Cause::unknown, sip ? Protocol::sip : Protocol::rtsp));
        if (!sip) verdict.context = RtspVerdictContext{};
        store(std::move(verdict), meta);
    } catch (...) {
        // Out of memory while reporting out of memory: nothing sane is left to do.
    }
}

const FinishedReaction* CaptureAnalysis::reaction_of(std::uint32_t frame) const {
    if (reactions_by_frame_.empty()) return nullptr;  // the usual case: no lookup per packet
    auto found = reactions_by_frame_.find(frame);
    return found == reactions_by_frame_.end() ? nullptr : &found->second;
}

const std::vector<FinishedVerdict>* CaptureAnalysis::verdicts_of(std::uint32_t frame) const {
    if (verdicts_by_frame_.empty()) return nullptr;
    auto found = verdicts_by_frame_.find(frame);
    return found == verdicts_by_frame_.end() ? nullptr : &found->second;
}

}  // namespace diag503
