// The RTSP engine: requests and answers by connection and CSeq, sessions per device, stream history, side events.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bounded_map.hpp"
#include "rtsp/camera_url.hpp"
#include "core/packet_meta.hpp"
#include "rtsp/rtsp_message.hpp"
#include "core/settings.hpp"
#include "core/verdict.hpp"

namespace diag503 {

// One RTSP session a device granted (SETUP answered 2xx with a Session id).
struct RtspSession {
    std::string id;
    std::uint64_t device = 0;         // key of the device that granted it
    std::uint64_t connection = 0;     // key of the connection it was set up on
    std::string client;               // address:port of the client's end of the connection
    CameraStream stream;              // what it receives
    std::string encoding;             // from the stream's SDP, e.g. "H264 1280x720 15fps"; "" if unseen
    std::uint32_t setup_frame = 0;
    std::int64_t last_activity_us = 0;
    std::uint32_t timeout_s = 60;     // RFC 2326 §12.37 default
    bool connection_closed = false;   // its TCP connection ended without TEARDOWN: a ghost until timeout
};

// One final answer of a device to DESCRIBE/SETUP/PLAY, for stream history and intermittency.
struct RtspOutcome {
    std::int64_t time_us = 0;
    std::uint32_t frame = 0;
    bool refused_503 = false;
    std::uint64_t stream_key = 0;     // device + channel + stream + profile
    std::uint64_t channel_key = 0;    // device + channel
    std::optional<std::uint32_t> channel;
    std::uint64_t client = 0;         // the client's endpoint
};

// Owner: RtspEngine, one per device (RTSP server endpoint). Bounded: outcomes by Settings::outcome_history,
// sessions by Settings::max_sessions_per_device.
struct RtspDevice {
    std::string name;
    std::string address;
    std::deque<RtspOutcome> outcomes;
    std::vector<std::uint64_t> sessions;  // keys into RtspEngine::sessions_
    std::uint32_t peak_sessions = 0;
    std::uint64_t served_total = 0;       // 2xx answers so far
    std::uint32_t previous_503_frame = 0;
    std::uint32_t sessions_at_previous_503 = 0;
};

// A side event tied to a device address: an HTTP request that changes the encoder, or a connection
// reset sent by the device (a reboot or a refusal).
struct DeviceEvent {
    std::uint32_t frame = 0;
    std::int64_t time_us = 0;
    std::string what;
};

class RtspEngine {
public:
    explicit RtspEngine(const Settings& settings = Settings{});

    // Every RTSP message in capture order (first pass only). Returns the verdict for a 503.
    std::optional<Verdict> observe(const PacketMeta& meta, const RtspMessage& message);
    // Interleaved RTP/RTCP ('$' frames) on a connection keeps its sessions alive.
    void observe_interleaved(const PacketMeta& meta);
    // An HTTP request to a device; only encoder changes (ONVIF SetVideoEncoderConfiguration, Hikvision ISAPI
    // PUT .../Streaming/channels/..., Dahua configManager setConfig Encode) are remembered.
    void observe_http_request(const PacketMeta& meta, std::string_view request_text);
    // A TCP FIN or RST: a client's closed connection leaves its sessions as ghosts; a reset sent by a
    // device is a sign of a restart.
    void observe_connection_end(const PacketMeta& meta, bool reset);
    // Whether any RTSP device has been seen: before that, connection ends cannot matter.
    bool knows_devices() const { return devices_.size() > 0; }

private:
    struct PendingRequest {
        std::uint32_t frame = 0;
        std::int64_t time_us = 0;
        std::string method;
        std::string url;
        std::string session;
    };

    std::optional<Verdict> on_response(const PacketMeta& meta, const RtspMessage& response);
    void on_success(const PacketMeta& meta, const RtspMessage& response, const PendingRequest* request,
                    const CameraStream& stream);
    Verdict diagnose(const PacketMeta& meta, const RtspMessage& response, const PendingRequest* request,
                     const CameraStream& stream, RtspDevice& device);
    RtspDevice& device_at(const Endpoint& endpoint, std::int64_t time_us);
    void expire_sessions(RtspDevice& device, std::int64_t now_us);
    void end_session(std::uint64_t key);
    void touch_session(std::uint64_t device, const std::string& id, std::int64_t time_us);

    Settings settings_;
    // Key: connection + CSeq. Lifetime: Settings::transaction_lifetime_s. Bound: max_transactions.
    BoundedMap<std::uint64_t, PendingRequest> requests_;
    // Key: device + session id. Lifetime: session timeout after last activity (checked on use), at most
    // Settings::dialog_lifetime_s. Bound: Settings::max_dialogs.
    BoundedMap<std::uint64_t, RtspSession> sessions_;
    // Key: device endpoint. Lifetime: Settings::context_lifetime_s since last written. Bound: Settings::max_servers.
    BoundedMap<std::uint64_t, RtspDevice> devices_;
    // Key: device address. Last encoder change and last reset sent by it. Bound: max_servers each.
    BoundedMap<std::uint64_t, DeviceEvent> encoder_changes_;
    BoundedMap<std::uint64_t, DeviceEvent> device_resets_;
    // Key: device + stream + profile. The encoding its last DESCRIBE answer's SDP announced.
    // Lifetime: Settings::dialog_lifetime_s. Bound: Settings::max_dialogs.
    BoundedMap<std::uint64_t, std::string> stream_encodings_;
    // Key: connection. Last interleaved data time. Bound: max_transactions.
    BoundedMap<std::uint64_t, std::int64_t> connection_activity_;
};

}  // namespace diag503
