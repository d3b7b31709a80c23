// RTSP classification rules: sessions held, profiles per channel, stream history, NVR channels, encoder events, load.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "rtsp/rtsp_classifier.hpp"

#include <algorithm>
#include <array>

#include "core/findings.hpp"
#include "core/text.hpp"
#include "rtsp/rtsp_rules.hpp"

namespace diag503 {
namespace {

struct PhraseRule {
    Cause cause;
    std::array<std::string_view, 8> needles;
};
const std::array<PhraseRule, 4> kPhraseRules = {{
    {Cause::too_many_clients, {"too many", "max session", "maximum session", "session limit", "connection limit",
                               "no free", "max client", "maximum client"}},
    {Cause::encoder_busy, {"encoder busy", "stream busy", "encoder in use", "channel busy"}},
    {Cause::unsupported_profile, {"unsupported", "not supported", "invalid profile", "no such stream"}},
    {Cause::device_overload, {"overload", "busy", "insufficient resource", "out of resource"}},
}};

std::string frame_ref(std::uint32_t frame) { return "frame " + std::to_string(frame); }

// "\"third\" (H264 640x360 10fps)": the profile from the URL and, when seen, the encoding from the SDP.
std::string described(const std::string& profile, const std::string& encoding) {
    return quoted(profile) + (encoding.empty() ? "" : " (" + encoding + ")");
}


// A vendor layout without a channel means the vendor's first one (Axis camera=1, Hikvision and Dahua
// channel 1); generic and unknown paths have no such default.
std::optional<std::uint32_t> effective_channel(std::optional<std::uint32_t> channel, VendorLayout layout) {
    if (channel || layout == VendorLayout::generic || layout == VendorLayout::unknown) return channel;
    return 1u;
}

std::string channel_text(const CameraStream& stream) {
    const auto channel = effective_channel(stream.channel, stream.vendor_layout);
    return channel ? "channel " + std::to_string(*channel) : std::string("this stream");
}

// The same encoder input of the device. Two unrecognised paths prove nothing.
bool same_channel(const HeldStream& held, const CameraStream& stream) {
    const auto held_channel = effective_channel(held.channel, held.layout);
    const auto wanted_channel = effective_channel(stream.channel, stream.vendor_layout);
    return held_channel && wanted_channel && *held_channel == *wanted_channel;
}

// Cameras encode their main and sub streams all the time (dual stream); a third stream or a custom
// encoding takes an encoder of its own.
bool needs_another_encoder(const HeldStream& held, const CameraStream& wanted) {
    if (held.profile == wanted.profile) return false;
    auto standard = [](CameraStreamType type, bool custom) {
        return !custom && (type == CameraStreamType::main || type == CameraStreamType::sub);
    };
    return !(standard(held.stream, held.custom_encoding) && standard(wanted.stream, asks_custom_encoding(wanted)));
}

void phrase_rules(const RtspFacts& facts, Findings& findings) {
    const std::string& phrase = facts.response->reason_phrase;
    if (auto cause = rtsp_cause_of_phrase(phrase))
        findings.add(rule(RtspRule::phrase_names_cause), *cause, "Reason phrase " + quoted(phrase) + " names the cause.", {facts.frame});
}

void session_rules(const RtspFacts& facts, Findings& findings) {
    const auto others = static_cast<std::uint32_t>(facts.held_by_others.size());
    if (others == 0) {
        findings.add(rule(RtspRule::no_other_session), "No other client held a session on the device.", {facts.frame});
        findings.add(rule(RtspRule::no_other_stream), "No other client held a stream of the device.", {facts.frame});
        return;
    }
    std::uint32_t ghosts = 0;
    std::uint32_t idle = 0;
    std::vector<std::uint32_t> frames;
    for (const HeldStream& held : facts.held_by_others) {
        ghosts += held.ghost;
        idle += held.idle && !held.ghost;
        frames.push_back(held.setup_frame);
    }
    frames.push_back(facts.frame);
    std::string sentence = counted(others, "session", "sessions") + " of other clients were active on the device (" +
                           std::to_string(facts.active_sessions) + " in all, the most seen: " +
                           std::to_string(facts.peak_sessions) + ")";
    if (ghosts) sentence += "; " + counted(ghosts, "was", "were") + " left open without TEARDOWN after its connection closed";
    if (idle) sentence += "; " + counted(idle, "shows", "show") + " no activity for over half its timeout";
    const bool at_peak = facts.active_sessions >= facts.peak_sessions;
    // One other session is trivially "the most seen" at a first refusal, and cameras allow several.
    const RtspRule held = !at_peak                                         ? RtspRule::sessions_below_peak
                          : others >= rtsp_threshold::several_sessions ? RtspRule::sessions_at_peak
                                                                       : RtspRule::one_session_at_peak;
    findings.add(rule(held), sentence + ".", frames);
    if (ghosts) findings.add(rule(RtspRule::ghost_sessions), "Ghost sessions still count against the device's limit until they time out.", frames);
    if (facts.previous_503_frame && facts.sessions_at_previous_503 == facts.active_sessions && at_peak)
        findings.add(rule(RtspRule::same_count_as_previous_refusal),
                     "The previous refusal (" + frame_ref(facts.previous_503_frame) + ") came at the same session count.",
                     {facts.previous_503_frame, facts.frame});
}

void encoder_rules(const RtspFacts& facts, Findings& findings) {
    const CameraStream& wanted = facts.stream;
    for (const HeldStream& held : facts.held_by_others) {
        if (!same_channel(held, wanted)) continue;
        if (held.profile == wanted.profile) {
            findings.add(rule(RtspRule::same_profile_held),
                         "Another client already receives the same profile of " + channel_text(wanted) + " (" +
                             frame_ref(held.setup_frame) + "): a second copy needs no new encoder.",
                         {held.setup_frame, facts.frame});
            return;
        }
    }
    for (const HeldStream& held : facts.held_by_others) {
        if (!same_channel(held, wanted) || !needs_another_encoder(held, wanted)) continue;
        findings.add(rule(RtspRule::other_profile_held),
                     "Client " + held.client + " holds " + channel_text(wanted) + " with profile " +
                         described(held.profile, held.encoding) + " (" + frame_ref(held.setup_frame) +
                         "); this request asks for " + described(wanted.profile, facts.requested_encoding) +
                         ", which needs another encoder.",
                     {held.setup_frame, facts.frame});
        findings.add(rule(RtspRule::profile_not_client_count), "The refusal follows the profile asked for, not the number of clients.",
                     {facts.frame});
        if (facts.same_channel_other_profile_successes || facts.last_same_stream_success_frame)
            findings.add(rule(RtspRule::other_profiles_served),
                         "Other profiles of " + channel_text(wanted) + " were still served (" +
                             frame_ref(std::max(facts.same_channel_other_profile_frame, facts.last_same_stream_success_frame)) + ").",
                         {facts.same_channel_other_profile_frame, facts.frame});
        return;
    }
}

void history_rules(const RtspFacts& facts, Findings& findings) {
    const CameraStream& wanted = facts.stream;
    if (facts.same_stream_successes > 0) {
        findings.add(rule(RtspRule::profile_worked_before),
                     "The same stream and profile worked before (" + frame_ref(facts.last_same_stream_success_frame) + ").",
                     {facts.last_same_stream_success_frame, facts.frame});
        return;
    }
    const std::uint32_t refusals = facts.same_stream_refusals + 1;
    if (facts.held_by_others.empty()) {
        std::string sentence = "Profile " + quoted(wanted.profile) + " was refused " + counted(refusals, "time", "times") +
                               " and never served, even with no other client on the device";
        const bool encoding_asked = asks_custom_encoding(wanted);
        if (encoding_asked) sentence += "; the URL asks for a specific encoding";
        const int weight = refusals >= rtsp_threshold::repeated_refusals
                               ? rule(RtspRule::profile_refused_again).weight
                               : rule(RtspRule::profile_refused).weight + (encoding_asked ? rule(RtspRule::profile_custom_encoding).weight : 0);
        findings.add(Cause::unsupported_profile, weight, sentence + ".", {facts.frame});
    }
}

void nvr_rules(const RtspFacts& facts, Findings& findings) {
    const CameraStream& wanted = facts.stream;
    if (!wanted.channel || facts.other_channel_successes == 0 || facts.same_stream_successes > 0) return;
    // A channel that fails always: stronger with each refusal, and when the URL names a recorder input.
    const int weight = rule(RtspRule::channel_refused_others_served).weight +
                       (wanted.looks_like_nvr_channel ? rule(RtspRule::channel_named_as_recorder_input).weight : 0) +
                       (facts.same_channel_refusals > 0 ? rule(RtspRule::channel_refused_before).weight : 0);
    findings.add(Cause::nvr_channel_unavailable, weight,
                 channel_text(wanted) + " of " + facts.device + " is refused while channel " +
                     std::to_string(*facts.other_channel) + " of the same device was served (" +
                     frame_ref(facts.other_channel_frame) + ")" +
                     (wanted.looks_like_nvr_channel ? ": the URL names a recorder input." : "."),
                 {facts.other_channel_frame, facts.frame});
    findings.add(rule(RtspRule::other_channels_served), "Other channels of the device are served.", {facts.frame});
}

void event_rules(const RtspFacts& facts, const Settings& settings, Findings& findings) {
    const std::int64_t window = static_cast<std::int64_t>(settings.event_window_s) * 1000000;
    if (facts.encoder_change.frame && facts.time_us - facts.encoder_change.time_us <= window)
        findings.add(rule(RtspRule::encoder_changed),
                     facts.encoder_change.what + " in " + frame_ref(facts.encoder_change.frame) + ", " +
                         format_duration(facts.time_us - facts.encoder_change.time_us) +
                         " before: the encoder restarts with its new settings.",
                     {facts.encoder_change.frame, facts.frame});
    if (facts.device_reset.frame && facts.time_us - facts.device_reset.time_us <= window)
        findings.add(rule(RtspRule::device_reset),
                     "A " + facts.device_reset.what + " in " + frame_ref(facts.device_reset.frame) + ", " +
                         format_duration(facts.time_us - facts.device_reset.time_us) + " before: the device may be restarting.",
                     {facts.device_reset.frame, facts.frame});
}

void load_rules(const RtspFacts& facts, const Settings& settings, Findings& findings) {
    const auto& retry = facts.response->retry_after;
    if (retry.valid && retry.seconds <= settings.short_retry_after_s) {
        const std::string sentence =
            "Retry-After: " + std::to_string(retry.seconds) + " s is short: the device expects to recover within seconds.";
        for (RtspRule short_retry : {RtspRule::retry_after_short, RtspRule::retry_after_short_not_channel,
                                     RtspRule::retry_after_short_not_profile})
            findings.add(rule(short_retry), sentence, {facts.frame});
    }
    const bool intermittent = facts.recent_successes > 0 && facts.recent_refusals > 0 &&
                              (facts.streams_refused_recently >= rtsp_threshold::intermittent_min_streams ||
                               facts.clients_refused_recently >= rtsp_threshold::intermittent_min_clients);
    if (intermittent)
        findings.add(rule(RtspRule::intermittent_refusals),
                     "Refusals across " + counted(facts.streams_refused_recently, "stream", "streams") + " and " +
                         counted(facts.clients_refused_recently, "client", "clients") + " alternate with " +
                         counted(facts.recent_successes, "served request", "served requests") + " in the last " +
                         std::to_string(settings.scope_window_s) + " s: intermittent, not tied to one stream.",
                     {facts.frame});
}

std::string missing_evidence(const RtspFacts& facts) {
    std::string missing = "Not enough evidence for a cause:";
    if (facts.request_frame == 0) missing += " request not captured;";
    if (facts.stream.vendor_layout == VendorLayout::unknown) missing += " URL layout not recognised;";
    if (facts.held_by_others.empty()) missing += " no other client active on the device;";
    if (facts.recent_successes == 0 && facts.same_stream_successes == 0) missing += " nothing served by the device to compare;";
    if (!facts.response->retry_after.valid) missing += " no Retry-After;";
    missing.back() = '.';
    return missing;
}

}  // namespace

bool asks_custom_encoding(const CameraStream& stream) {
    const auto& asked = stream.encoding_parameters;
    return asked.codec || asked.resolution || asked.fps || asked.bitrate || asked.compression || asked.stream_profile;
}

std::optional<Cause> rtsp_cause_of_phrase(const std::string& text) {
    for (const auto& rule : kPhraseRules)
        for (std::string_view needle : rule.needles)
            if (!needle.empty() && icontains(text, needle)) return rule.cause;
    return std::nullopt;
}

Verdict classify_rtsp(const RtspFacts& facts, const Settings& settings) {
    Findings findings;
    phrase_rules(facts, findings);
    session_rules(facts, findings);
    if (facts.request_frame != 0) {  // without the request, the stream asked for is unknown
        encoder_rules(facts, findings);
        history_rules(facts, findings);
        nvr_rules(facts, findings);
    }
    event_rules(facts, settings, findings);
    load_rules(facts, settings, findings);
    if (facts.request_frame == 0 && facts.requests_forgotten > 0)
        findings.note("The request may be in the capture but forgotten: diag503 reached its bound of " +
                      std::to_string(facts.max_transactions) + " requests (preference diag503.max_transactions); the URL and profile are unknown.");
    else if (facts.request_frame == 0)
        findings.note("The request was not captured: the URL and profile are unknown.");
    if (facts.sessions_forgotten > 0)
        findings.note("Sessions were forgotten at the bound of " + std::to_string(facts.max_dialogs) +
                      " (preference diag503.max_dialogs): the device's session count may be low.");
    for (std::size_t i = 0; i < facts.response->anomalies.size() && i < 3; ++i)
        findings.note("Malformed 503: " + facts.response->anomalies[i], {facts.frame});
    return decide(findings, missing_evidence(facts), Protocol::rtsp);
}

}  // namespace diag503
