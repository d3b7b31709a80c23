// What clients did after a 503: the refused request sent again too soon, other requests during the back-off, failover.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "core/bounded_map.hpp"
#include "core/packet_meta.hpp"
#include "evidence/request_rate.hpp"
#include "core/settings.hpp"

namespace diag503 {

// One request as the reaction tracker sees it, for SIP and RTSP alike.
struct ClientRequest {
    const PacketMeta* meta = nullptr;  // source: the client; destination: the server
    std::uint64_t call = 0;            // SIP Call-ID, RTSP URL path: what a failover carries over
    std::uint64_t identity = 0;        // the same for a retransmission, different for a new request
};


struct Reaction {
    // retry_same_request: the refused call again before the back-off elapsed (each one);
    // request_during_backoff: another call to that server while its Retry-After ran (the first per client and 503);
    // failover: the refused call at another server.
    enum class Kind { retry_same_request, request_during_backoff, failover };
    Kind kind = Kind::retry_same_request;
    std::uint32_t frame = 0;             // the request
    std::uint32_t refusal_frame = 0;     // the 503 it reacts to
    std::int64_t waited_us = 0;          // from the 503 to the request
    std::optional<std::uint64_t> retry_after_s;  // of that 503, when valid
    std::int64_t backoff_us = 0;         // retries: how long the client should have waited
    std::string server;                  // the server the request went to
};

std::string_view reaction_name(Reaction::Kind kind);     // as diag503.reaction shows it
std::string reaction_summary(const Reaction& reaction);  // the expert-info sentence of a reaction

class ClientReactions {
public:
    explicit ClientReactions(const Settings& settings);
    // A 503 sent to meta.destination for the request `refused` (meta: the 503's own).
    void on_503(const PacketMeta& meta, const ClientRequest& refused, std::optional<std::uint64_t> retry_after_s);
    // A request; returns the reaction it is, if any.
    std::optional<Reaction> on_request(const ClientRequest& request);
    // Early retries that reached `server` in the minute before now_us.
    std::uint32_t early_retries_recent(const std::string& server, std::int64_t now_us) const;

private:
    struct Refusal {
        std::uint64_t server = 0;        // Endpoint::key() of the server that refused
        std::uint64_t call = 0;
        std::uint64_t refused_identity = 0;
        std::array<std::uint64_t, 8> retry_identities{};  // the latest retries already counted, ring
        std::size_t next_retry_slot = 0;
        bool hammered = false;           // without Retry-After only the first new attempt is counted
        bool backoff_reported = false;   // the client's first other request during the back-off was reported
        bool knows(std::uint64_t identity) const;  // the refused request or a counted retry: a retransmission
        std::uint32_t frame = 0;
        std::int64_t time_us = 0;
        std::int64_t backoff_us = 0;
        std::optional<std::uint64_t> retry_after_s;
        bool failed_over = false;
    };
    // Owner: this tracker. Key: client address. Lifetime: Settings::context_lifetime_s since last written.
    // Bound: Settings::max_dialogs clients, Settings::max_refusals_per_client latest 503s each.
    struct Client {
        std::deque<Refusal> refusals;  // newest last
    };

    static Refusal* latest_refusal_of_call(Client& client, std::uint64_t server, const ClientRequest& request);
    std::optional<Reaction> early_request(const ClientRequest& request, Refusal& refusal);

    Settings settings_;
    BoundedMap<std::uint64_t, Client> clients_;
    // Key: server address:port. Lifetime: Settings::context_lifetime_s. Bound: Settings::max_servers.
    // Early retries per second over the last minute.
    BoundedMap<std::uint64_t, RequestRate> early_retries_;
};

}  // namespace diag503
