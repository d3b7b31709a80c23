// The whole capture analysis: frames in capture order in, finished display-ready verdicts and client reactions out.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/packet_meta.hpp"
#include "core/settings.hpp"
#include "core/verdict.hpp"
#include "evidence/client_reactions.hpp"
#include "evidence/incidents.hpp"
#include "rtsp/rtsp_engine.hpp"
#include "sip/sip_engine.hpp"
#include "wire/frame_contents.hpp"

namespace diag503 {

// A verdict with every string the tree, expert info, Info column and statistics need, built once,
// so rendering (where Wireshark may longjmp) creates no C++ objects.
struct FinishedVerdict {
    Verdict verdict;
    std::string cause;
    std::string expert_text;
    std::string info_suffix;
    std::string retry_after_class;
    std::string response_time_class;
    // The client's failover attempt after this 503: known only once the attempt was read, so shown
    // by two-pass tshark and the GUI, not by one-pass tshark.
    std::uint32_t failover_frame = 0;
    std::string failover_server;
};

// A request that reacts to an earlier 503 (an early retry or a failover), ready to render.
struct FinishedReaction {
    Reaction reaction;
    std::string expert_text;
};

// Owner: whoever reads the capture (the plugin: one per open capture file). Fed every frame once, in
// capture order. Key of the results: frame number. Bound: one entry per 503 and per reacting request
// in the capture, each with a bounded evidence list; every engine map is bounded by `Settings`.
class CaptureAnalysis {
public:
    explicit CaptureAnalysis(const Settings& settings);

    // Where the frame's SIP, RTSP, HTTP and evidence bytes are. Touches no state: a caller may skip the
    // frame, and the cost of describing it, when nothing is found.
    static FrameContents locate(const FrameInput& input);
    // The same into a FrameContents the caller keeps from frame to frame (no allocation once grown).
    static void locate(const FrameInput& input, FrameContents& into);
    // Whether `locate` found anything `analyse` reads.
    static bool worth_analysing(const FrameContents& contents);
    // Reads everything located in one frame. `meta` holds the frame's number, time, transport and
    // addresses. Never throws: an internal failure on a 503 still yields an `unknown` verdict that says so.
    void analyse(const PacketMeta& meta, const FrameContents& contents) noexcept;
    // Both steps at once.
    void analyse(const PacketMeta& meta, const FrameInput& input) noexcept;

    // Whether the frame analysed last got a verdict or reaction: answered without a map look-up.
    bool has_output(std::uint32_t frame) const { return last_output_frame_ == frame && frame != 0; }
    const std::vector<FinishedVerdict>* verdicts_of(std::uint32_t frame) const;
    const FinishedReaction* reaction_of(std::uint32_t frame) const;

private:
    void analyse_sip(const PacketMeta& meta, std::string_view message_text);
    void analyse_rtsp(const PacketMeta& meta, std::string_view message_text);
    void analyse_http_request(const PacketMeta& meta, std::string_view request_text) noexcept;
    void analyse_side_protocol(const PacketMeta& meta, const LocatedPayload& payload) noexcept;
    void analyse_tcp_flags(const PacketMeta& meta, std::uint16_t flags) noexcept;
    template <typename Analyse>
    void guarded(const PacketMeta& meta, std::string_view message_text, Analyse&& analyse) noexcept;
    void store(Verdict verdict, const PacketMeta& meta);
    void place_in_incident(Verdict& verdict, std::int64_t time_us);
    void observe_reaction(const ClientRequest& request);
    void store_internal_failure(const PacketMeta& meta, std::string_view message_text, const char* what) noexcept;

    Settings settings_;
    FrameContents located_;  // the frame analysed by analyse(meta, input), its storage kept for the next
    SipEngine sip_engine_;
    SipMessage sip_message_;  // each SIP message is parsed into this one, which keeps its storage
    RtspEngine rtsp_engine_;
    IncidentTracker incidents_;
    ClientReactions reactions_;
    std::unordered_map<std::uint32_t, std::vector<FinishedVerdict>> verdicts_by_frame_;
    // Key: frame of a request that reacts to a 503. Bound: one per such request in the capture.
    std::unordered_map<std::uint32_t, FinishedReaction> reactions_by_frame_;
    std::uint32_t last_output_frame_ = 0;  // the newest frame given a verdict or reaction
};

}  // namespace diag503
