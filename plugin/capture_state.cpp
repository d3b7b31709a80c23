// Per-capture plugin state: feeds the engine and keeps render-ready verdicts per frame.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture_state.hpp"

#include <exception>

#include "report.hpp"
#include "text.hpp"

namespace diag503 {

CaptureState::CaptureState(const Settings& settings) : settings_(settings), engine_(settings), rtsp_engine_(settings) {}

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
        if (auto verdict = engine_.observe(meta, *message)) store(std::move(*verdict), meta.frame, "sip");
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
        if (auto verdict = rtsp_engine_.observe(meta, *message)) store(std::move(*verdict), meta.frame, "rtsp");
    });
}

void CaptureState::analyse_http_request(const PacketMeta& meta, std::string_view request_text) noexcept {
    try {
        rtsp_engine_.observe_http_request(meta, request_text);
    } catch (...) {
        // Side evidence only: losing it loses no 503.
    }
}

void CaptureState::analyse_connection_end(const PacketMeta& meta, bool reset) noexcept {
    try {
        rtsp_engine_.observe_connection_end(meta, reset);
    } catch (...) {
        // Side evidence only: losing it loses no 503.
    }
}

void CaptureState::store(Verdict verdict, std::uint32_t frame, const char* protocol) {
    RenderedVerdict rendered;
    rendered.protocol = protocol;
    rendered.cause = std::string(cause_name(verdict.cause));
    rendered.expert_text = expert_summary(verdict);
    rendered.info_suffix = info_suffix(verdict);
    rendered.retry_after_class = retry_after_class(verdict, settings_);
    rendered.response_time_class = response_time_class(verdict, settings_);
    rendered.verdict = std::move(verdict);
    verdicts_by_frame_[frame].push_back(std::move(rendered));
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
        store(std::move(verdict), meta.frame, sip ? "sip" : "rtsp");
    } catch (...) {
        // Out of memory while reporting out of memory: nothing sane is left to do.
    }
}

const std::vector<RenderedVerdict>* CaptureState::verdicts_of(std::uint32_t frame) const {
    auto found = verdicts_by_frame_.find(frame);
    return found == verdicts_by_frame_.end() ? nullptr : &found->second;
}

}  // namespace diag503
