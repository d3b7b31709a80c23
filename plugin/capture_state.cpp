// Per-capture plugin state: feeds the engine and keeps render-ready verdicts per frame.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture_state.hpp"

#include <exception>

#include "report.hpp"
#include "text.hpp"

namespace diag503 {

CaptureState::CaptureState(const Settings& settings) : settings_(settings), engine_(settings) {}

void CaptureState::analyse_sip(const PacketMeta& meta, std::string_view message_text) noexcept {
    try {
        const auto message = parse_sip_message(message_text);
        if (!message) return;
        if (auto verdict = engine_.observe(meta, *message)) store(std::move(*verdict), meta.frame);
    } catch (const std::exception& failure) {
        store_internal_failure(meta, message_text, failure.what());
    } catch (...) {
        store_internal_failure(meta, message_text, "unexpected error");
    }
}

void CaptureState::store(Verdict verdict, std::uint32_t frame) {
    RenderedVerdict rendered;
    rendered.protocol = "sip";
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
        if (!istarts_with(start, "SIP/2.0 503")) return;
        Verdict verdict;
        verdict.frame = meta.frame;
        verdict.server = meta.source.text();
        verdict.evidence.push_back({std::string("diag503 could not analyse this 503: ") + what, {meta.frame}});
        verdict.recommendation = std::string(cause_recommendation(Cause::unknown));
        store(std::move(verdict), meta.frame);
    } catch (...) {
        // Out of memory while reporting out of memory: nothing sane is left to do.
    }
}

const std::vector<RenderedVerdict>* CaptureState::verdicts_of(std::uint32_t frame) const {
    auto found = verdicts_by_frame_.find(frame);
    return found == verdicts_by_frame_.end() ? nullptr : &found->second;
}

}  // namespace diag503
