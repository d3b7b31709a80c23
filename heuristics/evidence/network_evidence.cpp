// Network evidence: turns DNS, TLS, ICMP, TCP and database messages into per-host failure events.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "evidence/network_evidence.hpp"

#include <algorithm>

#include "core/findings.hpp"
#include "core/text.hpp"

namespace diag503 {
namespace {

// An attempt unanswered for this long when a 503 is diagnosed counts as never answered.
constexpr std::int64_t kUnansweredGraceUs = 500000;

std::uint64_t connection_key(const Endpoint& client, const Endpoint& server) {
    return server.key() * 0x9e3779b97f4a7c15ull ^ client.key();
}

bool is_sip_lookup(std::uint16_t question_type) {
    return question_type == 1 || question_type == 28 || question_type == 33 || question_type == 35;
}

bool is_dns_failure(std::uint8_t rcode) { return rcode == 2 || rcode == 3 || rcode == 5; }

EvidenceKind kind_of_port(std::uint16_t port) {
    if (port == 53) return EvidenceKind::dns;
    return is_database_port(port) ? EvidenceKind::database : EvidenceKind::transport;
}

std::string frame_ref(std::uint32_t frame) { return frame ? " (frame " + std::to_string(frame) + ")" : ""; }

std::string query_label(std::uint16_t type, const std::string& name) {
    const std::string_view type_name = dns_type_name(type);
    return "DNS " + (type_name.empty() ? "type " + std::to_string(type) : std::string(type_name)) + " query for " +
           printable(name, 120);
}

std::string endpoint_text(const std::string& address, std::uint16_t port) { return Endpoint{address, port}.text(); }

}  // namespace

bool is_database_port(std::uint16_t port) {
    return port == 5432 || port == 3306 || port == 6379 || port == 27017;
}

NetworkEvidence::NetworkEvidence(const Settings& settings)
    : settings_(settings), hosts_(settings.max_servers, static_cast<std::int64_t>(settings.context_lifetime_s) * 1000000),
      forgotten_hosts_(settings.max_servers, static_cast<std::int64_t>(settings.context_lifetime_s) * 1000000),
      same_host_(settings.max_servers, static_cast<std::int64_t>(settings.context_lifetime_s) * 1000000) {}

NetworkEvidence::Host& NetworkEvidence::host(const std::string& address, std::int64_t time_us) {
    return hosts_.get_or_insert(hash_text(address), time_us, [&](const std::uint64_t& evicted, const Host&) {
        if (hosts_.making_room()) forgotten_hosts_.get_or_insert(evicted, time_us, [](auto&, auto&) {}) = true;
    });
}

bool NetworkEvidence::host_forgotten(const std::string& address) const { return forgotten_hosts_.find(hash_text(address)); }

NetworkEvidence::Host* NetworkEvidence::find_host(const std::string& address) { return hosts_.find(hash_text(address)); }

void NetworkEvidence::note_activity(const std::string& address, std::int64_t time_us) {
    if (!recent_activity_.empty() && recent_activity_.back().address == address) {
        recent_activity_.back().time_us = std::max(recent_activity_.back().time_us, time_us);
        return;
    }
    recent_activity_.push_back({time_us, address});
    if (recent_activity_.size() > kRecentActivity) recent_activity_.pop_front();
}

std::vector<std::string> NetworkEvidence::hosts_active_between(std::int64_t since_us, std::int64_t now_us) const {
    std::vector<std::string> found;
    for (auto it = recent_activity_.rbegin(); it != recent_activity_.rend(); ++it) {
        if (it->time_us < since_us) break;
        if (it->time_us > now_us) continue;
        if (std::find(found.begin(), found.end(), it->address) == found.end()) found.push_back(it->address);
    }
    return found;
}

std::vector<NetworkEvent> NetworkEvidence::failures_started_between(const std::string& address, std::int64_t since_us,
                                                                   std::int64_t now_us) const {
    std::vector<NetworkEvent> started = failures_of(address, since_us, now_us);
    started.erase(std::remove_if(started.begin(), started.end(),
                                 [&](const NetworkEvent& event) { return event.attempt_time_us < since_us; }),
                  started.end());
    for (NetworkEvent& event : started) event.tie = Tie::during_wait_elsewhere;
    return started;
}

void NetworkEvidence::learn_same_host(const std::string& server_address, const std::string& other_address, std::int64_t time_us) {
    SameHost& known = same_host_.get_or_insert(hash_text(server_address), time_us, [](auto&, auto&) {});
    for (OtherAddress& other : known.others) {
        if (other.address.empty()) other.address = other_address;
        if (other.address != other_address) continue;
        ++other.ties;
        return;
    }
}

void NetworkEvidence::learn_resolver_of(const std::string& server_address, std::string_view name, std::uint32_t frame,
                                        std::int64_t time_us) {
    if (recent_resolutions_.empty() || name.empty()) return;
    const std::uint64_t key = hash_text(name);
    if (resolved_name_counts_[name_slot(key)] == 0) return;  // no recent lookup of it: skip the scan
    for (auto lookup = recent_resolutions_.rbegin(); lookup != recent_resolutions_.rend(); ++lookup) {
        if (time_us - lookup->time_us > kLookupToRequestUs) return;
        if (lookup->name != key || lookup->time_us > time_us) continue;
        if (lookup->address == server_address) return;  // it resolves for itself
        SameHost& known = same_host_.get_or_insert(hash_text(server_address), time_us, [](auto&, auto&) {});
        for (OtherAddress& other : known.others) {
            if (other.address.empty()) other.address = lookup->address;
            if (other.address != lookup->address) continue;
            if (other.ties < kTiesToLearn) {
                other.ties = kTiesToLearn;
                other.how = "it looked " + std::string(name) + " up in frame " + std::to_string(lookup->frame) +
                            " and this server sent a request to that name in frame " + std::to_string(frame);
            }
            return;
        }
        return;
    }
}

std::vector<NetworkEvidence::SameHostAddress> NetworkEvidence::other_addresses_of(const std::string& server_address) const {
    std::vector<SameHostAddress> found;
    if (const SameHost* known = same_host_.find(hash_text(server_address)))
        for (const OtherAddress& other : known->others)
            if (other.ties >= kTiesToLearn) found.push_back({other.address, other.how});
    return found;
}

std::vector<std::string> NetworkEvidence::addresses_tied_once_to(const std::string& server_address) const {
    std::vector<std::string> found;
    if (const SameHost* known = same_host_.find(hash_text(server_address)))
        for (const OtherAddress& other : known->others)
            if (other.ties > 0 && other.ties < kTiesToLearn) found.push_back(other.address);
    return found;
}

void NetworkEvidence::note_resolved(const std::string& address, const std::string& name, std::uint32_t frame,
                                    std::int64_t time_us) {
    Host& owner = host(address, time_us);
    const std::uint64_t key = hash_text(name);
    recent_resolutions_.push_back({key, address, frame, time_us});
    ++resolved_name_counts_[name_slot(key)];
    if (recent_resolutions_.size() > kRecentResolutions) {
        --resolved_name_counts_[name_slot(recent_resolutions_.front().name)];
        recent_resolutions_.pop_front();
    }
    auto known = std::find_if(owner.resolved.begin(), owner.resolved.end(), [&](const auto& entry) { return entry.first == key; });
    if (known != owner.resolved.end()) owner.resolved.erase(known);
    owner.resolved.emplace_back(key, time_us);
    if (owner.resolved.size() > kResolvedNamesPerHost) owner.resolved.pop_front();
}

bool NetworkEvidence::resolved_since(const std::string& address, const std::string& name, std::int64_t after_us) const {
    const Host* owner = hosts_.find(hash_text(address));
    if (!owner) return false;
    const std::uint64_t key = hash_text(name);
    return std::any_of(owner->resolved.begin(), owner->resolved.end(),
                       [&](const auto& entry) { return entry.first == key && entry.second > after_us; });
}

void NetworkEvidence::add_failure(const std::string& address, NetworkEvent event) {
    if (event.attempt_time_us == 0) event.attempt_time_us = event.time_us;
    event.host_address = address;
    note_activity(address, event.time_us);
    Host& owner = host(address, event.time_us);
    owner.failures.push_back(std::move(event));
    if (owner.failures.size() > settings_.max_events_per_host) owner.failures.pop_front();
}

NetworkEvidence::Pending* NetworkEvidence::start_attempt(const PacketMeta& meta, EvidenceKind kind, std::uint64_t key) {
    if (Pending* repeated = find_pending(meta.source.address, kind, key)) {
        ++repeated->repeats;
        return nullptr;
    }
    Host& owner = host(meta.source.address, meta.time_us);
    note_activity(meta.source.address, meta.time_us);
    Pending& attempt = owner.pending.emplace_back();
    attempt.kind = kind;
    attempt.key = key;
    attempt.frame = meta.frame;
    attempt.time_us = meta.time_us;
    attempt.peer_address = meta.destination.address;
    attempt.peer_port = meta.destination.port;
    if (owner.pending.size() > 2 * std::size_t{settings_.max_events_per_host}) owner.pending.pop_front();
    return &owner.pending.back();
}

NetworkEvidence::Pending* NetworkEvidence::find_pending(const std::string& address, EvidenceKind kind, std::uint64_t key) {
    Host* owner = find_host(address);
    if (!owner) return nullptr;
    auto found = std::find_if(owner->pending.begin(), owner->pending.end(),
                              [&](const Pending& attempt) { return attempt.kind == kind && attempt.key == key; });
    return found == owner->pending.end() ? nullptr : &*found;
}

NetworkEvidence::Pending NetworkEvidence::finish_pending(const std::string& address, EvidenceKind kind, std::uint64_t key) {
    Host* owner = find_host(address);
    if (!owner) return {};
    auto found = std::find_if(owner->pending.begin(), owner->pending.end(),
                              [&](const Pending& attempt) { return attempt.kind == kind && attempt.key == key; });
    if (found == owner->pending.end()) return {};
    Pending finished = std::move(*found);
    owner->pending.erase(found);
    return finished;
}

void NetworkEvidence::observe_dns(const PacketMeta& meta, const DnsMessage& message) {
    if (!is_sip_lookup(message.question_type)) return;
    const std::uint64_t key = hash_text(message.question_name, message.id);
    if (!message.is_response) {
        if (Pending* query = start_attempt(meta, EvidenceKind::dns, key)) {
            query->subject = message.question_name;
            query->question_type = message.question_type;
        }
        return;
    }
    const Pending query = finish_pending(meta.destination.address, EvidenceKind::dns, key);
    if (!is_dns_failure(message.rcode)) {
        if (message.rcode == 0 && message.answer_count > 0)
            note_resolved(meta.destination.address, message.question_name, meta.frame, meta.time_us);
        return;
    }
    NetworkEvent event;
    event.kind = EvidenceKind::dns;
    event.frame = meta.frame;
    event.attempt_frame = query.frame;
    event.attempt_time_us = query.time_us;
    event.time_us = meta.time_us;
    event.peer_address = meta.source.address;
    event.peer_port = meta.source.port;
    event.subject = message.question_name;
    event.sentence = query_label(message.question_type, message.question_name) + frame_ref(query.frame) +
                     " answered " + std::string(dns_rcode_name(message.rcode)) + " by " + meta.source.address +
                     frame_ref(meta.frame);
    add_failure(meta.destination.address, std::move(event));
}

void NetworkEvidence::observe_tls(const PacketMeta& meta, const TlsSummary& records) {
    const std::uint64_t sent_by_client = connection_key(meta.source, meta.destination);
    const std::uint64_t sent_by_server = connection_key(meta.destination, meta.source);
    if (records.client_hello) start_attempt(meta, EvidenceKind::tls, sent_by_client);
    Pending* as_client = find_pending(meta.source.address, EvidenceKind::tls, sent_by_client);
    Pending* as_server = find_pending(meta.destination.address, EvidenceKind::tls, sent_by_server);
    if (records.server_hello && as_server) as_server->peer_answered = true;
    if (records.alert && records.alert->level == 2) {
        const std::string name(tls_alert_name(records.alert->description));
        const std::string alert = "fatal TLS alert " + (name.empty() ? std::to_string(records.alert->description) : name);
        NetworkEvent event;
        event.kind = EvidenceKind::tls;
        event.frame = meta.frame;
        event.time_us = meta.time_us;
        // Without the ClientHello, the end on the lower (well-known) port is taken for the server.
        const bool sent_by_server_end = as_server || (!as_client && meta.source.port < meta.destination.port);
        if (sent_by_server_end) {  // the server end refused the handshake
            event.attempt_frame = as_server ? as_server->frame : 0;
            event.attempt_time_us = as_server ? as_server->time_us : 0;
            event.peer_address = meta.source.address;
            event.peer_port = meta.source.port;
            event.sentence = "TLS handshake with " + meta.source.text() + frame_ref(event.attempt_frame) + " refused: " +
                             meta.source.text() + " sent a " + alert + frame_ref(meta.frame);
            if (as_server) finish_pending(meta.destination.address, EvidenceKind::tls, sent_by_server);
            add_failure(meta.destination.address, std::move(event));
        } else {  // the client end rejected what the server presented
            event.attempt_frame = as_client ? as_client->frame : 0;
            event.attempt_time_us = as_client ? as_client->time_us : 0;
            event.peer_address = meta.destination.address;
            event.peer_port = meta.destination.port;
            event.sentence = "TLS handshake with " + meta.destination.text() + frame_ref(event.attempt_frame) +
                             " aborted: this host sent a " + alert + frame_ref(meta.frame);
            if (as_client) finish_pending(meta.source.address, EvidenceKind::tls, sent_by_client);
            add_failure(meta.source.address, std::move(event));
        }
        return;
    }
    if (!records.application_data) return;
    // Encrypted records from the client may be its Finished or a TLS 1.3 alert; the server's encrypted
    // answer after them shows the handshake completed.
    if (as_client && !records.client_hello) as_client->client_sent_data = true;
    if (as_server && as_server->client_sent_data)
        finish_pending(meta.destination.address, EvidenceKind::tls, sent_by_server);
}

// A DNS answer bounced as port unreachable came after its querier had closed the socket: the
// querier's lookup timed out. It says nothing of the resolver that answered.
void NetworkEvidence::observe_late_dns_answer(const PacketMeta& meta, const IcmpError& error) {
    NetworkEvent event;
    event.kind = EvidenceKind::dns;
    event.frame = meta.frame;
    event.time_us = meta.time_us;
    event.peer_address = error.original_source;
    event.peer_port = error.original_source_port;
    event.sentence = "A DNS answer from " + error.original_source + " reached " + error.original_destination +
                     " after it had stopped waiting, bounced as port unreachable" + frame_ref(meta.frame) +
                     ": its lookup timed out";
    add_failure(error.original_destination, std::move(event));
}

void NetworkEvidence::observe_icmp(const PacketMeta& meta, const IcmpError& error) {
    if (error.original_protocol == 17 && error.original_source_port == 53 && error.kind == IcmpError::Kind::port_unreachable)
        return observe_late_dns_answer(meta, error);
    NetworkEvent event;
    event.kind = kind_of_port(error.original_destination_port);
    event.frame = meta.frame;
    event.time_us = meta.time_us;
    event.peer_address = error.original_destination;
    event.peer_port = error.original_destination_port;
    event.bounced = true;
    const char* protocol = error.original_protocol == 6 ? "TCP" : error.original_protocol == 17 ? "UDP" : "IP";
    event.sentence = std::string(error.original_destination.find(':') != std::string::npos ? "ICMPv6 " : "ICMP ") +
                     std::string(icmp_kind_name(error.kind)) + " from " + meta.source.address + " for " + protocol +
                     " to " + endpoint_text(error.original_destination, error.original_destination_port) +
                     frame_ref(meta.frame);
    add_failure(error.original_source, std::move(event));
}

void NetworkEvidence::observe_tcp(const PacketMeta& meta, std::uint16_t flags) {
    const bool syn = flags & TcpFlags::syn, ack = flags & TcpFlags::ack;
    const bool reset = flags & TcpFlags::reset, fin = flags & TcpFlags::fin;
    if (syn && !ack) {
        start_attempt(meta, EvidenceKind::transport, connection_key(meta.source, meta.destination));
        return;
    }
    const std::uint64_t to_client = connection_key(meta.destination, meta.source);
    if (syn && ack) {
        finish_pending(meta.destination.address, EvidenceKind::transport, to_client);
        return;
    }
    if (!reset && !fin) return;
    // A connection that ends before its TLS handshake completed is a failed handshake, nothing more.
    bool ended_handshake = false;
    for (bool client_ends : {true, false}) {
        const Endpoint& client = client_ends ? meta.source : meta.destination;
        const Endpoint& server = client_ends ? meta.destination : meta.source;
        const Pending hello = finish_pending(client.address, EvidenceKind::tls, connection_key(client, server));
        if (hello.frame == 0) continue;
        NetworkEvent event;
        event.kind = EvidenceKind::tls;
        event.frame = meta.frame;
        event.attempt_frame = hello.frame;
        event.attempt_time_us = hello.time_us;
        event.time_us = meta.time_us;
        event.peer_address = server.address;
        event.peer_port = server.port;
        event.sentence = "TLS handshake with " + server.text() + frame_ref(hello.frame) + " never completed: " +
                         (hello.peer_answered ? "after its ServerHello, " : "") + "the connection was " +
                         (reset ? "reset" : "closed") + " by " + (client_ends ? "this host" : server.text()) +
                         frame_ref(meta.frame);
        add_failure(client.address, std::move(event));
        ended_handshake = true;
    }
    if (!reset || ended_handshake) return;
    const Pending refused = finish_pending(meta.destination.address, EvidenceKind::transport, to_client);
    NetworkEvent event;
    event.kind = kind_of_port(meta.source.port);
    event.frame = meta.frame;
    event.attempt_frame = refused.frame;
    event.attempt_time_us = refused.time_us;
    event.time_us = meta.time_us;
    event.peer_address = meta.source.address;
    event.peer_port = meta.source.port;
    event.sentence = refused.frame ? "TCP connection to " + meta.source.text() + frame_ref(refused.frame) +
                                         " refused: answered by RST" + frame_ref(meta.frame)
                                   : "TCP connection with " + meta.source.text() + " reset by it" + frame_ref(meta.frame);
    add_failure(meta.destination.address, std::move(event));
}

void NetworkEvidence::observe_database_error(const PacketMeta& meta, const DatabaseError& error) {
    NetworkEvent event;
    event.kind = EvidenceKind::database;
    event.frame = meta.frame;
    event.time_us = meta.time_us;
    event.peer_address = meta.source.address;
    event.peer_port = meta.source.port;
    std::string label = error.product;
    if (!error.severity.empty()) label += " " + error.severity;
    if (!error.code.empty()) label += " " + error.code;
    event.sentence = label + " error from " + meta.source.text() + frame_ref(meta.frame) + ": " +
                     quoted(printable(error.message, 120));
    add_failure(meta.destination.address, std::move(event));
}

std::vector<NetworkEvent> NetworkEvidence::failures_of(const std::string& address, std::int64_t since_us,
                                                       std::int64_t now_us) const {
    std::vector<NetworkEvent> found;
    const Host* owner = hosts_.find(hash_text(address));
    if (!owner) return found;
    for (const NetworkEvent& event : owner->failures)
        if (event.time_us >= since_us && event.time_us <= now_us) found.push_back(event);
    for (const Pending& attempt : owner->pending) {
        if (attempt.time_us < since_us || attempt.time_us > now_us - kUnansweredGraceUs) continue;
        NetworkEvent event;
        event.kind = attempt.kind == EvidenceKind::transport ? kind_of_port(attempt.peer_port) : attempt.kind;
        event.frame = attempt.frame;
        event.attempt_frame = attempt.frame;
        event.attempt_time_us = attempt.time_us;
        event.time_us = attempt.time_us;
        event.host_address = address;
        event.peer_address = attempt.peer_address;
        event.peer_port = attempt.peer_port;
        event.subject = attempt.subject;
        const std::string repeats =
            attempt.repeats ? ", sent " + counted(attempt.repeats + 1, "time", "times") : std::string();
        const std::string waited = " within " + format_duration(now_us - attempt.time_us);
        const std::string peer = endpoint_text(attempt.peer_address, attempt.peer_port);
        switch (attempt.kind) {
            case EvidenceKind::dns:
                event.sentence = query_label(attempt.question_type, attempt.subject) + " to " + attempt.peer_address +
                                 frame_ref(attempt.frame) + repeats + ": no answer" + waited;
                break;
            case EvidenceKind::tls:
                event.sentence = "TLS handshake with " + peer + frame_ref(attempt.frame) +
                                 (attempt.peer_answered ? " did not complete after its ServerHello" : ": no ServerHello") + waited;
                break;
            default:
                event.sentence = "TCP connection attempt to " + peer + frame_ref(attempt.frame) + repeats +
                                 ": no SYN-ACK" + waited;
                break;
        }
        found.push_back(std::move(event));
    }
    std::sort(found.begin(), found.end(), [](const NetworkEvent& a, const NetworkEvent& b) { return a.time_us < b.time_us; });
    return found;
}

}  // namespace diag503
