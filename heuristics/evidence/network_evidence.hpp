// Failures a host met in other protocols (DNS, TLS, ICMP, TCP, databases), kept per host to explain its later 503s.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/bounded_map.hpp"
#include "core/packet_meta.hpp"
#include "core/settings.hpp"
#include "wire/wire_formats.hpp"

namespace diag503 {

// What a failure event is evidence of.
enum class EvidenceKind { dns, tls, transport, database };

struct NetworkEvent {
    EvidenceKind kind = EvidenceKind::transport;
    std::uint32_t frame = 0;          // where the failure showed (the answer, or the unanswered attempt)
    std::uint32_t attempt_frame = 0;  // the query, SYN or ClientHello it answers; 0 when not captured
    std::int64_t time_us = 0;
    std::string peer_address;  // the other end: DNS server, next hop, database ("" for DNS names)
    std::uint16_t peer_port = 0;
    std::string subject;       // what was asked for: a DNS name, "" otherwise
    std::string sentence;      // complete, e.g. "DNS SRV query for _sip._udp.example.net answered SERVFAIL"
};

// TCP flags as Wireshark's tcp.flags carries them.
struct TcpFlags {
    static constexpr std::uint16_t fin = 0x01, syn = 0x02, reset = 0x04, ack = 0x10;
};

bool is_database_port(std::uint16_t port);  // PostgreSQL, MySQL, Redis, MongoDB

class NetworkEvidence {
public:
    explicit NetworkEvidence(const Settings& settings);

    void observe_dns(const PacketMeta& meta, const DnsMessage& message);
    void observe_tls(const PacketMeta& meta, const TlsSummary& records);
    void observe_icmp(const PacketMeta& meta, const IcmpError& error);
    void observe_tcp(const PacketMeta& meta, std::uint16_t flags);
    void observe_database_error(const PacketMeta& meta, const DatabaseError& error);

    // Failures the host at `address` met in [since_us, now_us], oldest first, including queries,
    // connection attempts and TLS handshakes still unanswered at now_us (after a grace period).
    std::vector<NetworkEvent> failures_of(const std::string& address, std::int64_t since_us, std::int64_t now_us) const;
    // Whether this host's evidence was pushed out at the Settings::max_servers bound.
    bool host_forgotten(const std::string& address) const;

private:
    // Something the host started and expects an answer to.
    struct Pending {
        EvidenceKind kind = EvidenceKind::dns;
        std::uint64_t key = 0;     // DNS: id + name; TCP and TLS: the connection
        std::uint32_t frame = 0;
        std::int64_t time_us = 0;
        std::uint32_t repeats = 0;  // retransmissions of the query or SYN
        bool peer_answered = false;  // TLS: ServerHello seen, handshake not yet complete
        bool client_sent_data = false;  // TLS: encrypted records from the client (Finished, or a TLS 1.3 alert)
        std::string peer_address;
        std::uint16_t peer_port = 0;
        std::string subject;
        std::uint16_t question_type = 0;
    };
    // Owner: NetworkEvidence. Key: host address. Lifetime: Settings::context_lifetime_s since last written.
    // Bound: Settings::max_servers hosts, Settings::max_events_per_host failures and twice as many
    // unanswered attempts each.
    struct Host {
        std::deque<NetworkEvent> failures;
        std::deque<Pending> pending;
    };

    Host& host(const std::string& address, std::int64_t time_us);
    Host* find_host(const std::string& address);
    void add_failure(const std::string& address, NetworkEvent event);
    // Records an attempt the sending host expects an answer to, or counts it as a repeat (then nullptr).
    Pending* start_attempt(const PacketMeta& meta, EvidenceKind kind, std::uint64_t key);
    // Removes the attempt and returns it; the returned frame is 0 when none was pending.
    Pending finish_pending(const std::string& address, EvidenceKind kind, std::uint64_t key);
    Pending* find_pending(const std::string& address, EvidenceKind kind, std::uint64_t key);

    Settings settings_;
    BoundedMap<std::uint64_t, Host> hosts_;
    // Key: host address. Hosts pushed out of hosts_ at its count bound, so a verdict can say its network
    // evidence may be missing. Same bounds as hosts_.
    BoundedMap<std::uint64_t, bool> forgotten_hosts_;
};

}  // namespace diag503
