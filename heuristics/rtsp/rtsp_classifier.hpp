// Turns the facts gathered about one RTSP 503 into a verdict from the RTSP cause vocabulary.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rtsp/camera_url.hpp"
#include "rtsp/rtsp_engine.hpp"
#include "rtsp/rtsp_message.hpp"
#include "core/settings.hpp"
#include "core/verdict.hpp"

namespace diag503 {

// A session another client held on the device when the 503 was sent.
struct HeldStream {
    std::string profile;
    std::string client;
    std::uint32_t setup_frame = 0;
    bool ghost = false;   // its connection closed without TEARDOWN
    bool idle = false;    // no activity for over half its timeout
    std::optional<std::uint32_t> channel;
    CameraStreamType stream = CameraStreamType::unknown;
    VendorLayout layout = VendorLayout::unknown;
    bool custom_encoding = false;  // the URL asks for codec, resolution, fps, bitrate or a named profile
    std::string encoding;          // as its SDP announced it, "" if unseen
};

// Whether the URL's query asks the encoder for something of its own.
bool asks_custom_encoding(const CameraStream& stream);

struct RtspFacts {
    const RtspMessage* response = nullptr;  // the 503; required
    std::uint32_t frame = 0;
    std::int64_t time_us = 0;
    std::string device;
    std::string method;
    CameraStream stream;                    // what the refused request asked for
    std::string requested_encoding;         // its SDP from an earlier answer, "" if never seen
    std::uint32_t request_frame = 0;
    std::int64_t request_time_us = 0;
    std::uint64_t requests_forgotten = 0;   // pushed out so far at Settings::max_transactions
    std::uint64_t sessions_forgotten = 0;   // pushed out so far at Settings::max_dialogs
    std::uint32_t max_transactions = 0;
    std::uint32_t max_dialogs = 0;

    std::uint32_t active_sessions = 0;      // on the device, every client
    std::uint32_t peak_sessions = 0;
    std::uint32_t previous_503_frame = 0;
    std::uint32_t sessions_at_previous_503 = 0;
    std::vector<HeldStream> held_by_others;

    std::uint32_t same_stream_successes = 0;   // this exact stream and profile worked before
    std::uint32_t last_same_stream_success_frame = 0;
    std::uint32_t same_stream_refusals = 0;    // earlier 503s to this stream and profile
    std::uint32_t same_channel_refusals = 0;   // earlier 503s to any stream of this channel
    std::uint32_t same_channel_other_profile_successes = 0;
    std::uint32_t same_channel_other_profile_frame = 0;
    std::uint32_t other_channel_successes = 0;
    std::optional<std::uint32_t> other_channel;
    std::uint32_t other_channel_frame = 0;
    std::uint32_t recent_refusals = 0;         // earlier 503s of the device in the scope window
    std::uint32_t recent_successes = 0;
    std::uint32_t streams_refused_recently = 0;  // distinct streams refused, this one included
    std::uint32_t clients_refused_recently = 0;

    DeviceEvent encoder_change;   // frame 0 when none
    DeviceEvent device_reset;
};

Verdict classify_rtsp(const RtspFacts& facts, const Settings& settings);

std::optional<Cause> rtsp_cause_of_phrase(const std::string& text);

}  // namespace diag503
