// Per-capture plugin state: feeds the engine and keeps render-ready verdicts per frame.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture_state.hpp"

#include <exception>

#include "display_text.hpp"
#include "findings.hpp"
#include "report.hpp"
#include "rtsp_message.hpp"
#include "sip_message.hpp"
#include "text.hpp"
#include "wire_formats.hpp"

namespace diag503 {


CaptureState::CaptureState(const Settings& settings)
    : settings_(settings), engine_(settings), rtsp_engine_(settings), incidents_(settings), reactions_(settings) {}

// Runs one message through an engine; an internal failure on a 503 still leaves an unknown verdict.
template <typename Analyse>
void CaptureState::guarded(const PacketMeta& meta, std::string_view message_text, Analyse&& analyse) noexcept {
    try {
        analyse();
    } catch (const std::exception& failure) {
        store_internal_failure(meta, message_text, failure.what());
    } catch (...) {
        store_internal_failure(meta, message_text, "unexpected error");
    }
}

void CaptureState::analyse_sip(const PacketMeta& meta, std::string_view message_text) noexcept {
    guarded(meta, message_text, [&] {
        const auto message = parse_sip_message(message_text);
        if (!message) return;
        auto verdict = engine_.observe(meta, *message);
        const ClientRequest request{&meta, hash_text(message->call_id), cseq_identity(*message)};
        if (message->is_request && may_react(*message)) observe_reaction(request);
        if (!verdict) return;
        if (!verdict->is_retransmission) reactions_.on_503(meta, request, verdict->retry_after_seconds);
        store(std::move(*verdict), meta, "sip");
    });
}

void CaptureState::analyse_rtsp(const PacketMeta& meta, std::string_view message_text) noexcept {
    guarded(meta, message_text, [&] {
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
        reactions_.on_503(meta, rtsp_client_request(meta, meta.destination, verdict->url, message->cseq), verdict->retry_after_seconds);
        store(std::move(*verdict), meta, "rtsp");
    });
}

void CaptureState::analyse_http_request(const PacketMeta& meta, std::string_view request_text) noexcept {
    try {
        rtsp_engine_.observe_http_request(meta, request_text);
    } catch (...) {
        // Side evidence only: losing it loses no 503.
    }
}

void CaptureState::analyse_side_protocol(const PacketMeta& meta, SideProtocol protocol, std::string_view bytes) noexcept {
    try {
        NetworkEvidence& network = engine_.network();
        switch (protocol) {
            case SideProtocol::dns: {
                // Over TCP, Wireshark's dns item starts at the two-byte length prefix.
                const bool stream = meta.transport == Transport::tcp || meta.transport == Transport::tls;
                if (auto message = parse_dns(stream && bytes.size() >= 2 ? bytes.substr(2) : bytes)) network.observe_dns(meta, *message);
                break;
            }
            case SideProtocol::tls: network.observe_tls(meta, summarize_tls_records(bytes)); break;
            case SideProtocol::icmp:
            case SideProtocol::icmpv6:
                if (auto error = parse_icmp_error(bytes, protocol == SideProtocol::icmpv6)) network.observe_icmp(meta, *error);
                break;
            case SideProtocol::postgresql:
                if (auto error = parse_postgresql_error(bytes)) network.observe_database_error(meta, *error);
                break;
            case SideProtocol::mysql:
                if (auto error = parse_mysql_error(bytes)) network.observe_database_error(meta, *error);
                break;
        }
    } catch (...) {
        // Side evidence only: losing it loses no 503.
    }
}

void CaptureState::analyse_tcp_flags(const PacketMeta& meta, std::uint16_t flags) noexcept {
    try {
        engine_.network().observe_tcp(meta, flags);
        // Ends of connections matter to RTSP only once a device is known.
        if ((flags & (TcpFlags::fin | TcpFlags::reset)) && rtsp_engine_.knows_devices())
            rtsp_engine_.observe_connection_end(meta, flags & TcpFlags::reset);
    } catch (...) {
        // Side evidence only: losing it loses no 503.
    }
}

void CaptureState::observe_reaction(const ClientRequest& request) {
    auto reaction = reactions_.on_request(request);
    if (!reaction) return;
    if (reaction->kind == Reaction::Kind::failover) {
        auto refused = verdicts_by_frame_.find(reaction->refusal_frame);
        if (refused != verdicts_by_frame_.end())
            for (RenderedVerdict& rendered : refused->second)
                if (rendered.failover_frame == 0) {
                    rendered.failover_frame = reaction->frame;
                    rendered.failover_server = reaction->server;
                }
    }
    RenderedReaction rendered;
    rendered.reaction = *reaction;
    rendered.expert_text = reaction_summary(*reaction);
    reactions_by_frame_.emplace(reaction->frame, std::move(rendered));
    last_output_frame_ = reaction->frame;
}

void CaptureState::place_in_incident(RenderedVerdict& rendered, std::int64_t time_us) {
    Verdict& verdict = rendered.verdict;
    if (verdict.is_retransmission) {
        if (const auto* original = verdicts_of(verdict.retransmission_of); original && !original->empty())
            rendered.incident = original->front().incident;
        return;
    }
    rendered.incident = incidents_.place(verdict, time_us);
    verdict.evidence.push_back({incident_sentence(rendered.incident, verdict.cause, verdict.server),
                                {rendered.incident.first_frame, verdict.frame}});
    const std::uint32_t early_retries = reactions_.early_retries_recent(verdict.server, time_us);
    if (early_retries > 0)
        verdict.evidence.push_back({counted(early_retries, "request", "requests") +
                                        " reached this server in the last minute before the back-off of an earlier 503 "
                                        "elapsed: clients are not honouring Retry-After.", {verdict.frame}});
}

void CaptureState::store(Verdict verdict, const PacketMeta& meta, const char* protocol) {
    if (meta.cut_after_bytes != 0) {  // RTSP as SIP: what the cut left unfinished is not malformed
        verdict.cut = true;
        verdict.malformed = false;
    }
    RenderedVerdict rendered;
    rendered.protocol = protocol;
    rendered.cause = std::string(cause_name(verdict.cause));
    rendered.expert_text = expert_summary(verdict);
    rendered.info_suffix = info_suffix(verdict);
    rendered.retry_after_class = retry_after_class(verdict, settings_);
    rendered.response_time_class = response_time_class(verdict, settings_);
    rendered.verdict = std::move(verdict);
    place_in_incident(rendered, meta.time_us);
    // Last, once every sentence is written and keys are taken: nothing unescaped reaches the tree.
    make_displayable(rendered.verdict);
    rendered.expert_text = displayable(rendered.expert_text, kMaxDisplayedExpert);
    rendered.info_suffix = displayable(rendered.info_suffix, kMaxDisplayedIdentifier);
    verdicts_by_frame_[meta.frame].push_back(std::move(rendered));
    last_output_frame_ = meta.frame;
}

void CaptureState::store_internal_failure(const PacketMeta& meta, std::string_view message_text, const char* what) noexcept {
    try {
        const auto start = trim(message_text.substr(0, message_text.find('\n')));
        const bool sip = istarts_with(start, "SIP/2.0 503");
        if (!sip && !(istarts_with(start, "RTSP/") && start.find(" 503") != std::string_view::npos)) return;
        Verdict verdict;
        verdict.frame = meta.frame;
        verdict.server = meta.source.text();
        verdict.evidence.push_back({std::string("diag503 could not analyse this 503: ") + what, {meta.frame}});
        verdict.recommendation = std::string(cause_recommendation(Cause::unknown));
        store(std::move(verdict), meta, sip ? "sip" : "rtsp");
    } catch (...) {
        // Out of memory while reporting out of memory: nothing sane is left to do.
    }
}

const RenderedReaction* CaptureState::reaction_of(std::uint32_t frame) const {
    if (reactions_by_frame_.empty()) return nullptr;  // the usual case: no lookup per packet
    auto found = reactions_by_frame_.find(frame);
    return found == reactions_by_frame_.end() ? nullptr : &found->second;
}

const std::vector<RenderedVerdict>* CaptureState::verdicts_of(std::uint32_t frame) const {
    if (verdicts_by_frame_.empty()) return nullptr;
    auto found = verdicts_by_frame_.find(frame);
    return found == verdicts_by_frame_.end() ? nullptr : &found->second;
}

}  // namespace diag503
