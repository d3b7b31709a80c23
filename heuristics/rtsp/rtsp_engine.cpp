// RTSP engine: correlation, session life cycle, per-device history and side events, gathered into facts for the classifier.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "rtsp/rtsp_engine.hpp"

#include <algorithm>
#include <unordered_set>

#include "rtsp/rtsp_classifier.hpp"
#include "rtsp/sdp.hpp"
#include "core/text.hpp"

namespace diag503 {
namespace {

constexpr std::int64_t kMicrosecondsPerSecond = 1000000;
std::int64_t seconds_to_us(std::uint32_t seconds) { return static_cast<std::int64_t>(seconds) * kMicrosecondsPerSecond; }

std::uint64_t connection_key(const PacketMeta& meta) {
    const std::string a = meta.source.text();
    const std::string b = meta.destination.text();
    const std::uint64_t transport = static_cast<std::uint64_t>(meta.transport) + 1;
    return a < b ? hash_text(b, hash_text(a, transport)) : hash_text(a, hash_text(b, transport));
}

std::uint64_t request_key(const PacketMeta& meta, std::uint32_t cseq) {
    return hash_text(std::to_string(cseq), connection_key(meta));
}

std::uint64_t session_key(std::uint64_t device, const std::string& id) { return hash_text(id, device); }

std::uint64_t channel_key(std::uint64_t device, const CameraStream& stream) {
    return hash_text(stream.channel ? std::to_string(*stream.channel) : std::string("-"), device);
}

std::uint64_t stream_key(std::uint64_t device, const CameraStream& stream) {
    return hash_text(stream.profile, hash_text(std::string(stream_type_name(stream.stream)), channel_key(device, stream)));
}

bool is_stream_request(const std::string& method) {
    return iequals(method, "DESCRIBE") || iequals(method, "SETUP") || iequals(method, "PLAY");
}

// Encoder changes as the field knows them: ONVIF, Hikvision ISAPI, Dahua CGI.
std::optional<std::string> encoder_change_in(std::string_view request) {
    const auto line_end = request.find('\n');
    const std::string_view line = request.substr(0, line_end);
    if (icontains(request, "SetVideoEncoderConfiguration")) return std::string("ONVIF SetVideoEncoderConfiguration");
    if (istarts_with(line, "PUT ") && icontains(line, "/ISAPI/Streaming/channels/"))
        return "Hikvision ISAPI " + printable(trim(line.substr(0, line.rfind(' '))), 120);
    if (icontains(line, "configManager.cgi") && icontains(line, "setConfig") && icontains(line, "Encode"))
        return std::string("Dahua configManager setConfig Encode");
    return std::nullopt;
}

}  // namespace

RtspEngine::RtspEngine(const Settings& settings)
    : settings_(settings),
      requests_(settings.max_transactions, seconds_to_us(settings.transaction_lifetime_s)),
      sessions_(settings.max_dialogs, seconds_to_us(settings.dialog_lifetime_s)),
      devices_(settings.max_servers, static_cast<std::int64_t>(settings.context_lifetime_s) * 1000000),
      encoder_changes_(settings.max_servers, seconds_to_us(settings.event_window_s)),
      device_resets_(settings.max_servers, seconds_to_us(settings.event_window_s)),
      stream_encodings_(settings.max_dialogs, seconds_to_us(settings.dialog_lifetime_s)),
      connection_activity_(settings.max_transactions, seconds_to_us(settings.dialog_lifetime_s)) {}

RtspDevice& RtspEngine::device_at(const Endpoint& endpoint, std::int64_t time_us) {
    const std::string name = endpoint.text();
    RtspDevice& device = devices_.get_or_insert(hash_text(name), time_us, [](auto&, auto&) {});
    if (device.name.empty()) {
        device.name = name;
        device.address = endpoint.address;
    }
    return device;
}

void RtspEngine::touch_session(std::uint64_t device, const std::string& id, std::int64_t time_us) {
    if (RtspSession* session = sessions_.find(session_key(device, id)))
        session->last_activity_us = std::max(session->last_activity_us, time_us);
}

void RtspEngine::end_session(std::uint64_t key) {
    RtspSession* session = sessions_.find(key);
    if (!session) return;
    if (RtspDevice* device = devices_.find(session->device)) {
        auto& keys = device->sessions;
        keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
    }
    sessions_.erase(key);
}

void RtspEngine::expire_sessions(RtspDevice& device, std::int64_t now_us) {
    std::vector<std::uint64_t> expired;
    for (std::uint64_t key : device.sessions) {
        RtspSession* session = sessions_.find(key);
        if (!session) {
            expired.push_back(key);
            continue;
        }
        if (const std::int64_t* data = connection_activity_.find(session->connection); data && !session->connection_closed)
            session->last_activity_us = std::max(session->last_activity_us, *data);
        if (session->last_activity_us + seconds_to_us(session->timeout_s) < now_us) expired.push_back(key);
    }
    for (std::uint64_t key : expired) {
        end_session(key);
        auto& keys = device.sessions;
        keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
    }
}

std::optional<Verdict> RtspEngine::observe(const PacketMeta& meta, const RtspMessage& message) {
    requests_.advance_clock(meta.time_us, [](auto&, auto&) {});
    if (!message.is_request) return on_response(meta, message);
    if (message.has_cseq)
        requests_.get_or_insert(request_key(meta, message.cseq), meta.time_us, [](auto&, auto&) {}) =
            PendingRequest{meta.frame, meta.time_us, message.method, message.url, message.session};
    const std::uint64_t device = hash_text(meta.destination.text());
    if (!message.session.empty()) {
        touch_session(device, message.session, meta.time_us);
        if (iequals(message.method, "TEARDOWN")) end_session(session_key(device, message.session));
    }
    return std::nullopt;
}

void RtspEngine::observe_interleaved(const PacketMeta& meta) {
    connection_activity_.get_or_insert(connection_key(meta), meta.time_us, [](auto&, auto&) {}) = meta.time_us;
}

void RtspEngine::observe_http_request(const PacketMeta& meta, std::string_view request_text) {
    if (auto change = encoder_change_in(request_text))
        encoder_changes_.get_or_insert(hash_text(meta.destination.address), meta.time_us, [](auto&, auto&) {}) =
            DeviceEvent{meta.frame, meta.time_us, *change + " from " + meta.source.address};
}

void RtspEngine::observe_connection_end(const PacketMeta& meta, bool reset) {
    const std::uint64_t connection = connection_key(meta);
    // The device's end of an RTSP connection is where the sessions were granted.
    for (const Endpoint* device_side : {&meta.source, &meta.destination}) {
        RtspDevice* device = devices_.find(hash_text(device_side->text()));
        if (!device) continue;
        const bool closed_by_device = device_side == &meta.source;
        std::vector<std::uint64_t> on_connection;
        for (std::uint64_t key : device->sessions)
            if (RtspSession* session = sessions_.find(key); session && session->connection == connection)
                on_connection.push_back(key);
        // A client that leaves without TEARDOWN leaves its sessions counting against the device until they
        // time out (ghosts); the device closing its side afterwards is only the reply. A device that closes
        // or resets the connection first (a reboot) drops them.
        for (std::uint64_t key : on_connection) {
            RtspSession* session = sessions_.find(key);
            if (!closed_by_device) session->connection_closed = true;
            else if (!session->connection_closed) end_session(key);
        }
        if (reset && device_side == &meta.source)
            device_resets_.get_or_insert(hash_text(device->address), meta.time_us, [](auto&, auto&) {}) =
                DeviceEvent{meta.frame, meta.time_us, "connection reset sent by " + device->name};
    }
}

void RtspEngine::on_success(const PacketMeta& meta, const RtspMessage& response, const PendingRequest* request,
                            const CameraStream& stream) {
    RtspDevice& device = device_at(meta.source, meta.time_us);
    const std::uint64_t device_key = hash_text(device.name);
    if (request && iequals(request->method, "DESCRIBE") && icontains(response.content_type, "sdp")) {
        const std::string encoding = parse_sdp(response.body).text;
        if (!encoding.empty())
            stream_encodings_.get_or_insert(stream_key(device_key, stream), meta.time_us, [](auto&, auto&) {}) = encoding;
    }
    if (request && iequals(request->method, "SETUP") && !response.session.empty()) {
        const std::uint64_t key = session_key(device_key, response.session);
        const bool known = sessions_.find(key) != nullptr;
        RtspSession& session = sessions_.get_or_insert(key, meta.time_us, [this](const std::uint64_t& evicted, const RtspSession& old) {
            if (RtspDevice* owner = devices_.find(old.device)) {
                auto& keys = owner->sessions;
                keys.erase(std::remove(keys.begin(), keys.end(), evicted), keys.end());
            }
        });
        if (!known) {
            session.id = response.session;
            session.device = device_key;
            session.connection = connection_key(meta);
            session.client = meta.destination.text();
            session.stream = stream;
            if (const std::string* encoding = stream_encodings_.find(stream_key(device_key, stream))) session.encoding = *encoding;
            session.setup_frame = meta.frame;
            if (device.sessions.size() < settings_.max_sessions_per_device) device.sessions.push_back(key);
        }
        session.last_activity_us = meta.time_us;
        if (response.session_timeout_s && *response.session_timeout_s > 0) session.timeout_s = *response.session_timeout_s;
        expire_sessions(device, meta.time_us);
        device.peak_sessions = std::max<std::uint32_t>(device.peak_sessions, static_cast<std::uint32_t>(device.sessions.size()));
    }
    if (request && is_stream_request(request->method)) {
        device.outcomes.push_back({meta.time_us, meta.frame, false, stream_key(device_key, stream),
                                   channel_key(device_key, stream), stream.channel, hash_text(meta.destination.text())});
        while (device.outcomes.size() > std::max<std::uint32_t>(settings_.outcome_history, 1)) device.outcomes.pop_front();
    }
}

std::optional<Verdict> RtspEngine::on_response(const PacketMeta& meta, const RtspMessage& response) {
    const PendingRequest* request = response.has_cseq ? requests_.find(request_key(meta, response.cseq)) : nullptr;
    const CameraStream stream = parse_camera_url(request ? request->url : std::string());
    if (response.status_code >= 200 && response.status_code < 300) {
        ++device_at(meta.source, meta.time_us).served_total;
        on_success(meta, response, request, stream);
        return std::nullopt;
    }
    if (response.status_code != 503) return std::nullopt;
    RtspDevice& device = device_at(meta.source, meta.time_us);
    Verdict verdict = diagnose(meta, response, request, stream, device);
    const std::uint64_t device_key = hash_text(device.name);
    device.outcomes.push_back({meta.time_us, meta.frame, true, stream_key(device_key, stream), channel_key(device_key, stream),
                               stream.channel, hash_text(meta.destination.text())});
    while (device.outcomes.size() > std::max<std::uint32_t>(settings_.outcome_history, 1)) device.outcomes.pop_front();
    device.previous_503_frame = meta.frame;
    device.sessions_at_previous_503 = static_cast<std::uint32_t>(device.sessions.size());
    return verdict;
}

Verdict RtspEngine::diagnose(const PacketMeta& meta, const RtspMessage& response, const PendingRequest* request,
                             const CameraStream& stream, RtspDevice& device) {
    const std::int64_t now = meta.time_us;
    const std::uint64_t device_key = hash_text(device.name);
    expire_sessions(device, now);

    RtspFacts facts;
    facts.response = &response;
    facts.frame = meta.frame;
    facts.time_us = now;
    facts.device = device.name;
    facts.stream = stream;
    if (request) {
        facts.method = request->method;
        facts.request_frame = request->frame;
        facts.request_time_us = request->time_us;
    }
    facts.requests_forgotten = requests_.evicted_for_room_count();
    facts.sessions_forgotten = sessions_.evicted_for_room_count();
    facts.max_transactions = settings_.max_transactions;
    facts.max_dialogs = settings_.max_dialogs;
    facts.active_sessions = static_cast<std::uint32_t>(device.sessions.size());
    facts.peak_sessions = device.peak_sessions;
    facts.previous_503_frame = device.previous_503_frame;
    facts.sessions_at_previous_503 = device.sessions_at_previous_503;
    for (std::uint64_t key : device.sessions) {
        const RtspSession* session = sessions_.find(key);
        // Another client is another connection: one host may run several clients (a VMS, two players).
        if (!session || session->connection == connection_key(meta)) continue;
        const bool idle = now - session->last_activity_us > seconds_to_us(session->timeout_s) / 2;
        facts.held_by_others.push_back({session->stream.profile, session->client, session->setup_frame,
                                        session->connection_closed, idle, session->stream.channel, session->stream.stream,
                                        session->stream.vendor_layout, asks_custom_encoding(session->stream),
                                        session->encoding});
    }

    const std::uint64_t this_stream = stream_key(device_key, stream);
    if (const std::string* encoding = stream_encodings_.find(this_stream)) facts.requested_encoding = *encoding;
    const std::uint64_t this_channel = channel_key(device_key, stream);
    const std::int64_t window_start = now - seconds_to_us(settings_.scope_window_s);
    std::unordered_set<std::uint64_t> refused_streams, refused_clients;
    for (const RtspOutcome& outcome : device.outcomes) {
        const bool same_stream = outcome.stream_key == this_stream;
        const bool same_channel = outcome.channel_key == this_channel;
        if (outcome.refused_503) {
            if (same_stream) ++facts.same_stream_refusals;
            if (same_channel) ++facts.same_channel_refusals;
        } else if (same_stream) {
            ++facts.same_stream_successes;
            facts.last_same_stream_success_frame = outcome.frame;
        } else if (same_channel) {
            ++facts.same_channel_other_profile_successes;
            facts.same_channel_other_profile_frame = outcome.frame;
        } else if (outcome.channel && stream.channel && *outcome.channel != *stream.channel) {
            ++facts.other_channel_successes;
            facts.other_channel = outcome.channel;
            facts.other_channel_frame = outcome.frame;
        }
        if (outcome.time_us < window_start) continue;
        if (outcome.refused_503) {
            ++facts.recent_refusals;
            refused_streams.insert(outcome.stream_key);
            refused_clients.insert(outcome.client);
        } else {
            ++facts.recent_successes;
        }
    }
    refused_streams.insert(this_stream);
    refused_clients.insert(hash_text(meta.destination.text()));
    facts.streams_refused_recently = static_cast<std::uint32_t>(refused_streams.size());
    facts.clients_refused_recently = static_cast<std::uint32_t>(refused_clients.size());
    if (const DeviceEvent* change = encoder_changes_.find(hash_text(device.address)); change && change->time_us <= now)
        facts.encoder_change = *change;
    if (const DeviceEvent* reset = device_resets_.find(hash_text(device.address)); reset && reset->time_us <= now)
        facts.device_reset = *reset;

    Verdict verdict = classify_rtsp(facts, settings_);
    verdict.frame = meta.frame;
    verdict.request_frame = facts.request_frame;
    if (request && now >= request->time_us) verdict.response_time_us = now - request->time_us;
    if (response.retry_after.valid) verdict.retry_after_seconds = response.retry_after.seconds;
    verdict.server = device.name;
    verdict.method = facts.method;
    RtspVerdictContext& context = verdict.context.emplace<RtspVerdictContext>();
    context.url = request ? url_without_credentials(request->url) : std::string();
    context.channel = stream.channel;
    context.stream = std::string(stream_type_name(stream.stream));
    context.profile = facts.requested_encoding.empty() ? stream.profile : stream.profile + " (" + facts.requested_encoding + ")";
    context.active_sessions = facts.active_sessions;
    verdict.malformed = !response.anomalies.empty();
    verdict.client_key = hash_text(meta.destination.address);
    verdict.served_total = device.served_total;
    return verdict;
}

}  // namespace diag503
