// Per-capture plugin state: the engine and every verdict it produced, keyed by frame, ready to render.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine.hpp"
#include "rtsp_engine.hpp"

namespace diag503 {

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
    // Side evidence for RTSP: HTTP requests to devices and ends of TCP connections.
    void analyse_http_request(const PacketMeta& meta, std::string_view request_text) noexcept;
    void analyse_connection_end(const PacketMeta& meta, bool reset) noexcept;
    bool watches_connections() const { return rtsp_engine_.knows_devices(); }

    const std::vector<RenderedVerdict>* verdicts_of(std::uint32_t frame) const;

private:
    template <typename Analyse>
    void guarded(const PacketMeta& meta, std::string_view message_text, Analyse&& analyse) noexcept;
    void store(Verdict verdict, std::uint32_t frame, const char* protocol);
    void store_internal_failure(const PacketMeta& meta, std::string_view message_text, const char* what) noexcept;

    Settings settings_;
    Engine engine_;
    RtspEngine rtsp_engine_;
    std::unordered_map<std::uint32_t, std::vector<RenderedVerdict>> verdicts_by_frame_;
};

}  // namespace diag503
