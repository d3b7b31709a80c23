// Failures a host met in other protocols (DNS, TLS, ICMP, TCP, databases), kept per host to explain its later 503s.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "core/bounded_map.hpp"
#include "core/packet_meta.hpp"
#include "core/settings.hpp"
#include "wire/wire_formats.hpp"

namespace diag503 {

// What a failure event is evidence of.
enum class EvidenceKind { dns, tls, transport, database };

// How a failure was tied to the server whose 503 is diagnosed. Servers send their DNS queries, database
// connections and outgoing TLS/TCP connections from whatever local address the kernel picks, often not
// the address of their SIP listener.
enum class Tie {
    same_address,             // met by the 503's own address
    another_address_of_host,  // met by an address learned to be the same host (see learn_same_host)
    during_wait_elsewhere,    // met by another address, started and failed while the request waited
    tied_once_earlier,        // met by another address tied once, by timing, to an earlier request of this
                              // server: counted only as a failure the server may answer from memory
};

struct NetworkEvent {
    EvidenceKind kind = EvidenceKind::transport;
    std::uint32_t frame = 0;          // where the failure showed (the answer, or the unanswered attempt)
    std::uint32_t attempt_frame = 0;  // the query, SYN or ClientHello it answers; 0 when not captured
    std::int64_t attempt_time_us = 0; // when that attempt was sent; the failure's own time when not captured
    std::int64_t time_us = 0;
    std::string host_address;  // this end: the host that met the failure
    Tie tie = Tie::same_address;
    bool recovered_since = false;  // DNS: the host resolved the same name after this failure
    bool bounced = false;          // ICMP: a datagram this host sent came back undeliverable
    std::string tie_detail;        // another_address_of_host: how the address was learned, "" for waits
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
    // Addresses that started an attempt or met a failure in [since_us, now_us], each once, newest first:
    // the candidates for another address of a server whose request waited then.
    std::vector<std::string> hosts_active_between(std::int64_t since_us, std::int64_t now_us) const;
    // Failures of `address` whose attempt started in [since_us, now_us] (or, not captured, that showed
    // then), tied as met during a wait of another address's request.
    std::vector<NetworkEvent> failures_started_between(const std::string& address, std::int64_t since_us,
                                                       std::int64_t now_us) const;
    // Counts one request of `server_address` during whose wait `other_address` started and met a failure.
    // After kTiesToLearn such requests the two addresses are taken for one host.
    void learn_same_host(const std::string& server_address, const std::string& other_address, std::int64_t time_us);
    // A server sending a request to `name` right after another address resolved it: that address is its
    // resolver side, learned as the same host at once.
    bool has_recent_lookups() const { return !recent_resolutions_.empty(); }
    void learn_resolver_of(const std::string& server_address, std::string_view name, std::uint32_t frame,
                           std::int64_t time_us);
    struct SameHostAddress {
        std::string address;
        std::string how;  // how it was learned, for the evidence sentence; "" when by failures during waits
    };
    // The addresses learned to be the same host as `server_address`.
    std::vector<SameHostAddress> other_addresses_of(const std::string& server_address) const;
    // The addresses tied to `server_address` by one request so far: not yet learned as the same host.
    std::vector<std::string> addresses_tied_once_to(const std::string& server_address) const;
    static constexpr std::uint32_t kTiesToLearn = 2;
    // Whether the host resolved `name` successfully after `after_us`: its earlier failed lookup is no
    // longer what it remembers.
    bool resolved_since(const std::string& address, const std::string& name, std::int64_t after_us) const;

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
        // Names this host resolved, with the time of the last answer that resolved each: at most
        // kResolvedNamesPerHost, oldest dropped.
        std::deque<std::pair<std::uint64_t, std::int64_t>> resolved;
    };
    static constexpr std::size_t kResolvedNamesPerHost = 16;
    // A host that started an attempt or met a failure, at a time.
    struct Activity {
        std::int64_t time_us = 0;
        std::string address;
    };

    Host& host(const std::string& address, std::int64_t time_us);
    Host* find_host(const std::string& address);
    void add_failure(const std::string& address, NetworkEvent event);
    void observe_late_dns_answer(const PacketMeta& meta, const IcmpError& error);
    void note_activity(const std::string& address, std::int64_t time_us);
    void note_resolved(const std::string& address, const std::string& name, std::uint32_t frame, std::int64_t time_us);
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
    struct OtherAddress {
        std::string address;
        std::uint32_t ties = 0;
        std::string how;  // learned from a lookup followed by a request to the name: says which
    };
    static constexpr std::size_t kOtherAddressesPerHost = 4;
    struct SameHost {
        std::array<OtherAddress, kOtherAddressesPerHost> others{};  // the first ones seen; later ones are not learned
    };
    // Owner: NetworkEvidence. Key: a server's address. Value: other addresses whose failures fell inside its
    // requests' waits. Lifetime: Settings::context_lifetime_s since last written. Bound: Settings::max_servers
    // servers, kOtherAddressesPerHost addresses each.
    BoundedMap<std::uint64_t, SameHost> same_host_;
    // Owner: NetworkEvidence. The hosts behind the latest attempts and failures, in capture order, a host
    // repeated only when another came between. Lifetime: until pushed out. Bound: kRecentActivity entries,
    // oldest dropped (a 503 whose request waited longer than they cover sees fewer other addresses).
    static constexpr std::size_t kRecentActivity = 1024;
    std::deque<Activity> recent_activity_;
    // A successful lookup: who resolved which name, when.
    struct Resolution {
        std::uint64_t name = 0;
        std::string address;
        std::uint32_t frame = 0;
        std::int64_t time_us = 0;
    };
    // Owner: NetworkEvidence. The latest successful lookups of SIP names, in capture order. Lifetime:
    // until pushed out. Bound: kRecentResolutions entries, oldest dropped (a lookup more than that many
    // lookups before the request it served ties nothing).
    static constexpr std::size_t kRecentResolutions = 64;
    // How soon after a lookup a request to the name counts as its use.
    static constexpr std::int64_t kLookupToRequestUs = 2000000;
    std::deque<Resolution> recent_resolutions_;
    // How many of recent_resolutions_ fall in each slot of their name's hash: a request to a name no
    // recent lookup can match (nearly every request) costs one byte read instead of a walk back.
    std::array<std::uint8_t, 256> resolved_name_counts_{};
    static std::size_t name_slot(std::uint64_t name) { return static_cast<std::size_t>((name * 0x9E3779B97F4A7C15ull) >> 56); }
};

}  // namespace diag503
