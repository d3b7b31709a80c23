// Client reactions: matches each new request against the latest 503s its client received.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "evidence/client_reactions.hpp"

#include <algorithm>
#include <utility>

#include "core/findings.hpp"
#include "core/text.hpp"

namespace diag503 {
namespace {

constexpr std::int64_t kMicrosecondsPerSecond = 1000000;
constexpr std::uint64_t kLongestBackoffS = 10ull * 24 * 3600;  // beyond this a Retry-After is not a back-off
constexpr int kStormWindowS = 60;

}  // namespace

std::string_view reaction_name(Reaction::Kind kind) {
    switch (kind) {
        case Reaction::Kind::retry_same_request: return "retry_same_request";
        case Reaction::Kind::request_during_backoff: return "request_during_backoff";
        case Reaction::Kind::failover: return "failover";
    }
    return "failover";
}

std::string reaction_summary(const Reaction& reaction) {
    const std::string after = format_duration(reaction.waited_us) + " after the 503 in frame " + std::to_string(reaction.refusal_frame);
    switch (reaction.kind) {
        case Reaction::Kind::failover:
            return "Failover: the client sent the refused call to another server, " + reaction.server + ", " + after +
                   " (RFC 3261 §21.5.4)";
        case Reaction::Kind::request_during_backoff:
            return "New request to " + reaction.server + " " + after + ", while its Retry-After of " +
                   std::to_string(reaction.retry_after_s.value_or(0)) +
                   " s ran; later ones from this client in that back-off are not flagged (RFC 3261 §21.5.4)";
        case Reaction::Kind::retry_same_request: break;
    }
    if (reaction.retry_after_s)
        return "The refused request sent again to " + reaction.server + " " + after + ", before its Retry-After of " +
               std::to_string(*reaction.retry_after_s) + " s elapsed (RFC 3261 §21.5.4)";
    return "Hammering: the refused request sent again to " + reaction.server + " " + after +
           ", which had no Retry-After; sooner than the " + format_duration(reaction.backoff_us) + " minimum back-off";
}

bool ClientReactions::Refusal::knows(std::uint64_t identity) const {
    return identity == refused_identity ||
           std::find(retry_identities.begin(), retry_identities.end(), identity) != retry_identities.end();
}

ClientReactions::ClientReactions(const Settings& settings)
    : settings_(settings),
      clients_(settings.max_dialogs, static_cast<std::int64_t>(settings.context_lifetime_s) * 1000000),
      early_retries_(settings.max_servers, static_cast<std::int64_t>(settings.context_lifetime_s) * 1000000) {}

void ClientReactions::on_503(const PacketMeta& meta, const ClientRequest& refused, std::optional<std::uint64_t> retry_after_s) {
    Refusal refusal;
    refusal.server = meta.source.key();
    refusal.call = refused.call;
    refusal.refused_identity = refused.identity;
    refusal.frame = meta.frame;
    refusal.time_us = meta.time_us;
    refusal.retry_after_s = retry_after_s;
    refusal.backoff_us = retry_after_s ? static_cast<std::int64_t>(std::min(*retry_after_s, kLongestBackoffS)) * kMicrosecondsPerSecond
                                       : static_cast<std::int64_t>(settings_.min_retry_interval_ms) * 1000;
    Client& client = clients_.get_or_insert(hash_text(meta.destination.address), meta.time_us, [](auto&, auto&) {});
    // The client's next attempt at this call elsewhere answers its latest refusal, not an earlier one.
    for (Refusal& earlier : client.refusals)
        if (earlier.call == refusal.call) earlier.failed_over = true;
    client.refusals.push_back(refusal);
    if (client.refusals.size() > settings_.max_refusals_per_client) client.refusals.pop_front();
}

std::optional<Reaction> ClientReactions::on_request(const ClientRequest& request) {
    const PacketMeta& meta = *request.meta;
    Client* client = clients_.find(hash_text(meta.source.address));
    if (!client) return std::nullopt;
    // A retransmission of a refused request or of a counted retry, whichever 503 it crossed, is no reaction.
    for (const Refusal& refusal : client->refusals)
        if (refusal.knows(request.identity)) return std::nullopt;
    const std::uint64_t server = meta.destination.key();  // no text built for each request
    if (Refusal* refused = latest_refusal_of_call(*client, server, request))
        if (auto retry = early_request(request, *refused)) return retry;
    const std::int64_t failover_window_us = static_cast<std::int64_t>(settings_.failover_window_s) * kMicrosecondsPerSecond;
    bool same_server_seen = false;
    for (auto refusal = client->refusals.rbegin(); refusal != client->refusals.rend(); ++refusal) {
        const std::int64_t waited = meta.time_us - refusal->time_us;
        if (waited < 0) continue;
        if (refusal->server == server) {
            if (same_server_seen) continue;  // only the latest 503 of this server sets the back-off
            same_server_seen = true;
            if (refusal->call == request.call) continue;  // weighed above as a retry of that call
            if (auto reaction = early_request(request, *refusal)) return reaction;
            continue;
        }
        if (refusal->failed_over || refusal->call != request.call || waited > failover_window_us) continue;
        refusal->failed_over = true;
        Reaction failover;
        failover.kind = Reaction::Kind::failover;
        failover.frame = meta.frame;
        failover.refusal_frame = refusal->frame;
        failover.waited_us = waited;
        failover.retry_after_s = refusal->retry_after_s;
        failover.server = meta.destination.text();
        return failover;
    }
    return std::nullopt;
}

// A client that sends several calls in a burst retries each after its own 503, while later 503s of
// other calls arrive in between: a retry belongs to the latest 503 of its own call at that server.
ClientReactions::Refusal* ClientReactions::latest_refusal_of_call(Client& client, std::uint64_t server,
                                                                  const ClientRequest& request) {
    for (auto refusal = client.refusals.rbegin(); refusal != client.refusals.rend(); ++refusal)
        if (refusal->server == server && refusal->call == request.call && refusal->time_us <= request.meta->time_us)
            return &*refusal;
    return nullptr;
}

std::optional<Reaction> ClientReactions::early_request(const ClientRequest& request, Refusal& refusal) {
    const PacketMeta& meta = *request.meta;
    const bool same_request = request.call == refusal.call;
    // RFC 3261 §21.5.4: with a Retry-After no other request may go to that server meanwhile; without
    // one, only sending the same call again at once is hammering.
    if (!refusal.retry_after_s && (!same_request || refusal.hammered)) return std::nullopt;
    const std::int64_t waited = meta.time_us - refusal.time_us;
    if (waited >= refusal.backoff_us) return std::nullopt;
    refusal.retry_identities[refusal.next_retry_slot++ % refusal.retry_identities.size()] = request.identity;
    refusal.hammered = !refusal.retry_after_s;
    // Every early request counts towards the server's storm, reported or not.
    early_retries_.get_or_insert(hash_text(meta.destination.text()), meta.time_us, [](auto&, auto&) {}).add(meta.time_us);
    if (!same_request && std::exchange(refusal.backoff_reported, true)) return std::nullopt;
    Reaction retry;
    retry.kind = same_request ? Reaction::Kind::retry_same_request : Reaction::Kind::request_during_backoff;
    retry.frame = meta.frame;
    retry.refusal_frame = refusal.frame;
    retry.waited_us = waited;
    retry.retry_after_s = refusal.retry_after_s;
    retry.backoff_us = refusal.backoff_us;
    retry.server = meta.destination.text();
    return retry;
}

std::uint32_t ClientReactions::early_retries_recent(const std::string& server, std::int64_t now_us) const {
    const RequestRate* rate = early_retries_.find(hash_text(server));
    return rate ? rate->count(now_us, kStormWindowS) : 0;
}

}  // namespace diag503
