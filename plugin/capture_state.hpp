// Per-capture plugin state: the engine and every verdict it produced, keyed by frame, ready to render.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client_reactions.hpp"
#include "engine.hpp"
#include "incidents.hpp"
#include "rtsp_engine.hpp"

namespace diag503 {

struct RenderedVerdict;
struct RenderedReaction;
// What the diag503 tap delivers to statistics: exactly one of the two is set.
struct TapRecord {
    const RenderedVerdict* verdict = nullptr;
    const RenderedReaction* reaction = nullptr;
};

// A verdict with every string the tree, expert info, Info column and statistics need, built once,
// so rendering (where Wireshark may longjmp) creates no C++ objects.
struct RenderedVerdict {
    Verdict verdict;
    std::string protocol;  // "sip" or "rtsp"
    std::string cause;
    std::string expert_text;
    std::string info_suffix;
    std::string_view retry_after_class;
    std::string_view response_time_class;
    IncidentFacts incident;
    // The client's failover attempt after this 503: known only once the attempt was read, so shown
    // by two-pass tshark and the GUI, not by one-pass tshark.
    std::uint32_t failover_frame = 0;
    std::string failover_server;
    mutable TapRecord tap;  // points at this verdict once it is rendered
};

// A request that reacts to an earlier 503 (an early retry or a failover), ready to render.
struct RenderedReaction {
    Reaction reaction;
    std::string expert_text;
    mutable TapRecord tap;  // points at this reaction once it is rendered
};

// Owner: the plugin, one per open capture file (created by the init routine, destroyed by cleanup).
// Key: frame number. Bound: one entry per 503 in the capture, each with a bounded evidence list.
class CaptureState {
public:
    explicit CaptureState(const Settings& settings);

    // Reads one SIP message (first pass only). Never throws: an internal failure on a 503 still yields
    // an `unknown` verdict that says so, so no 503 is lost.
    void analyse_sip(const PacketMeta& meta, std::string_view message_text) noexcept;
    // RTSP messages and interleaved data ('$' frames), read the same way.
    void analyse_rtsp(const PacketMeta& meta, std::string_view message_text) noexcept;
    // Side evidence for RTSP: HTTP requests to devices.
    void analyse_http_request(const PacketMeta& meta, std::string_view request_text) noexcept;
    // Evidence for SIP from other protocols: the raw bytes of a DNS message, TLS records, an ICMP
    // error, or a database server's answer; and the SYN, RST and FIN flags of TCP segments, which
    // also end RTSP connections.
    enum class SideProtocol { dns, tls, icmp, icmpv6, postgresql, mysql };
    void analyse_side_protocol(const PacketMeta& meta, SideProtocol protocol, std::string_view bytes) noexcept;
    void analyse_tcp_flags(const PacketMeta& meta, std::uint16_t flags) noexcept;

    // Whether the frame analysed last got a verdict or reaction: answered without a map look-up.
    bool has_output(std::uint32_t frame) const { return last_output_frame_ == frame && frame != 0; }
    const std::vector<RenderedVerdict>* verdicts_of(std::uint32_t frame) const;
    const RenderedReaction* reaction_of(std::uint32_t frame) const;

private:
    template <typename Analyse>
    void guarded(const PacketMeta& meta, std::string_view message_text, Analyse&& analyse) noexcept;
    void store(Verdict verdict, const PacketMeta& meta, const char* protocol);
    void place_in_incident(RenderedVerdict& rendered, std::int64_t time_us);
    void observe_reaction(const ClientRequest& request);
    void store_internal_failure(const PacketMeta& meta, std::string_view message_text, const char* what) noexcept;

    Settings settings_;
    Engine engine_;
    RtspEngine rtsp_engine_;
    IncidentTracker incidents_;
    ClientReactions reactions_;
    std::unordered_map<std::uint32_t, std::vector<RenderedVerdict>> verdicts_by_frame_;
    // Key: frame of a request that reacts to a 503. Bound: one per such request in the capture.
    std::unordered_map<std::uint32_t, RenderedReaction> reactions_by_frame_;
    std::uint32_t last_output_frame_ = 0;  // the newest frame given a verdict or reaction
};

}  // namespace diag503
