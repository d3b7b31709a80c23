// The engine: correlates SIP messages into transactions, keeps per-server context, and diagnoses each 503.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/bounded_map.hpp"
#include "core/flat_index.hpp"
#include "evidence/network_evidence.hpp"
#include "core/packet_meta.hpp"
#include "sip/server_context.hpp"
#include "sip/sip_classifier.hpp"
#include "core/settings.hpp"
#include "sip/sip_message.hpp"
#include "core/verdict.hpp"

namespace diag503 {

class SipEngine {
public:
    // A forked call is answered by a few servers; a Call-ID answered by thousands is an attack on the
    // count, so legs past this bound are not counted as active calls.
    static constexpr std::size_t kMaxLegsPerCall = 16;
    explicit SipEngine(const Settings& settings = Settings{});

    // Feed every SIP message in capture order (first pass only). Returns the verdict for a 503, else nothing.
    std::optional<Verdict> observe(const PacketMeta& meta, const SipMessage& message);

    struct Counters {
        std::uint64_t transactions_evicted = 0;
        std::uint64_t dialogs_evicted = 0;
        std::uint64_t servers_evicted = 0;
    };
    Counters counters() const;

    // DNS, TLS, ICMP, TCP and database traffic of the capture, read as evidence for later 503s.
    NetworkEvidence& network() { return network_; }

private:
    struct Transaction {
        std::uint32_t request_frame = 0;  // 0 when only responses were seen
        std::int64_t request_time_us = 0;
        std::uint32_t request_retransmissions = 0;
        std::uint32_t provisional_frame = 0;
        std::int64_t provisional_time_us = 0;
        int final_status = 0;
        std::uint32_t final_frame = 0;
        std::int64_t final_time_us = 0;
        std::uint64_t by_cseq_key = 0;           // its key in transactions_by_cseq_
        // The server whose calls in progress count this INVITE, from its first provisional answer to its
        // final one: ceilings (call limits, licences, channels) count a call from when it is accepted.
        std::uint64_t setting_up_at = 0;
        bool setup_raised_peak = false;
        bool setup_raised_peak_since_503 = false;
        std::unique_ptr<Verdict> verdict_503;    // kept so a retransmitted 503 gets the same diagnosis
    };
    struct DialogLegs {
        std::vector<std::uint64_t> servers;      // each server that answered 2xx to the INVITE, at most kMaxLegsPerCall
    };
    struct Registration {
        std::string user;                        // the To user of the REGISTER (its address of record)
        std::uint32_t frame = 0;                 // the 2xx that accepted it
    };
    struct DownstreamFailure {
        std::uint64_t receiver_address = 0;      // hash of the address that got the failure
        std::uint32_t frame = 0;
        int status = 0;
        std::string hop;                          // who sent it, "address:port"
        std::string origin_hop;                   // for a 503: the hop that generated it (hop itself or further on)
        std::uint32_t origin_frame = 0;
    };
    // A failure answered to a request that a server sent itself, under any Call-ID: a back-to-back
    // agent's onward call.
    struct OnwardFailure {
        std::uint64_t call = 0;                  // hash of its Call-ID
        std::uint64_t method = 0;
        std::uint64_t callee = 0;
        std::string callee_name;
        std::int64_t request_time_us = 0;
        std::uint32_t request_frame = 0;
        std::int64_t time_us = 0;
        DownstreamFailure failure;
    };
    static constexpr std::size_t kOnwardFailuresPerServer = 8;
    struct OnwardFailures {
        std::array<OnwardFailure, kOnwardFailuresPerServer> latest{};  // a ring, the newest overwriting the oldest
        std::size_t next = 0;
    };
    // A request a server sent itself that its next hop has not answered at all, though sent again:
    // a back-to-back agent's onward call to a hop that is silent (a hung gateway, a dropped route).
    struct UnansweredOnward {
        std::uint64_t transaction = 0;           // key into transactions_
        std::uint64_t call = 0;
        std::uint64_t method = 0;
        std::uint64_t callee = 0;                // its Request-URI user
        std::string callee_name;
        std::string hop;                         // "address:port" it was sent to
        std::int64_t request_time_us = 0;
        std::uint32_t request_frame = 0;
        std::int64_t last_sent_us = 0;
        std::uint32_t last_sent_frame = 0;
        std::uint32_t transmissions = 0;
    };
    static constexpr std::size_t kUnansweredOnwardPerServer = 8;
    struct UnansweredOnwards {
        // The requests sent again most lately; one more replaces the one sent again least lately.
        std::array<UnansweredOnward, kUnansweredOnwardPerServer> latest{};
    };
    // How a server's next hops fared lately, by its address.
    struct HopHealth {
        std::int64_t failed_us = 0;
        std::uint32_t failed_frame = 0;
        std::string failed_hop;                  // "address:port"
        std::string failed_hop_address;
        std::int64_t succeeded_us = 0;
    };
    // A request a host sent onward: one transaction of the forwarding. Small, for the cache: the hop is
    // its key into servers_, whose context (made when the request was seen) holds its address.
    struct ForwardedAttempt {
        std::uint64_t transaction = 0;           // key into transactions_
        std::uint64_t hop = 0;                   // key into servers_
        std::uint32_t frame = 0;
    };
    static constexpr std::size_t kMaxForwardedAttempts = 4;
    struct Forwarding {
        std::array<ForwardedAttempt, kMaxForwardedAttempts> attempts{};  // the first ones
        std::size_t count = 0;
    };

    void on_request(const PacketMeta& meta, const SipMessage& request);
    std::optional<Verdict> on_response(const PacketMeta& meta, const SipMessage& response);
    std::optional<Verdict> on_final_response(const PacketMeta& meta, const SipMessage& response,
                                             Transaction& transaction);
    Verdict diagnose(const PacketMeta& meta, const SipMessage& response, const Transaction& transaction,
                     ServerContext& server);
    static RequestFacts request_facts(const Transaction& transaction, const SipMessage& response);
    BoundFacts bound_facts(const ServerContext& server, const PacketMeta& meta) const;
    Verdict retransmitted_verdict(const PacketMeta& meta, const Verdict& original, std::int64_t original_time_us) const;

    Transaction* find_transaction(const PacketMeta& meta, const SipMessage& response);
    Transaction& insert_transaction(std::uint64_t key, std::uint64_t by_cseq_key, std::int64_t time_us);
    ServerContext& server_at(const Endpoint& endpoint, const PacketMeta& meta);
    void begin_call_setup(ServerContext& server, Transaction& transaction, std::uint64_t call);
    static void raise_peaks(ServerContext& server);
    static void lower_peaks_raised_by(const Transaction& refused, ServerContext& server);
    void end_call_setup(Transaction& transaction, int final_status, std::uint64_t call, std::int64_t time_us);
    void open_dialog(std::uint64_t call, std::uint64_t server, std::int64_t time_us, bool counted_in_setup = false);
    void close_dialogs(std::uint64_t call);
    void release(const DialogLegs& legs, bool forgotten_at_bound);
    static void release_one_call(ServerContext& server);
    bool call_is_up_at(std::uint64_t call, std::uint64_t server_key) const;
    void note_refusal_at_call_count(ServerContext& server, const PacketMeta& meta);  // the servers of an ended or expired dialog lose one active call
    void remember_downstream_failure(const PacketMeta& meta, const SipMessage& response, const Verdict* verdict_503);
    void remember_forwarding(const PacketMeta& meta, const SipMessage& request, std::uint64_t transaction_key,
                             std::uint64_t hop_key);
    // The SIP agent at one end of a message, for the maps keyed by host: see shared_addresses_.
    void note_shared_address(const PacketMeta& meta);
    std::uint64_t node_key(const std::string& address, std::uint16_t port) const;
    std::uint64_t sender_node(const PacketMeta& meta, const SipMessage& request) const;      // who sent a request
    std::uint64_t requester_node(const PacketMeta& meta, const SipMessage& response) const;  // who a response goes to
    std::uint64_t responder_node(const PacketMeta& meta) const;                              // who sent a response
    void gather_forwarding(const PacketMeta& meta, const SipMessage& response, SipFacts& facts);
    static DownstreamFacts downstream_facts(const DownstreamFailure& failure);
    void note_failed_hops(const PacketMeta& meta, const SipFacts::Forwarded& attempt);
    void note_hop_outcome(const PacketMeta& meta, const SipMessage& response, const Transaction& transaction);
    void remember_onward_failure(const PacketMeta& meta, const SipMessage& response, const Transaction& transaction);
    std::optional<DownstreamFacts> failed_onward_call(const PacketMeta& meta, const SipMessage& response,
                                                      const Transaction& transaction) const;
    void remember_unanswered_onward(const PacketMeta& meta, const SipMessage& request, std::uint64_t key,
                                    const Transaction& transaction);
    std::optional<DownstreamFacts> silent_onward_call(const PacketMeta& meta, const SipMessage& response,
                                                      const Transaction& transaction) const;
    // The server's DNS, TLS, TCP, ICMP and database failures in the evidence window, from its own address,
    // from addresses learned to be the same host, and, unless it relays a next hop's 503, from other
    // addresses while the request waited.
    std::vector<NetworkEvent> tied_failures(const PacketMeta& meta, const Transaction& transaction, bool relays_a_503);
    bool may_be_another_address_of(const std::string& address, const PacketMeta& meta_503) const;
    void remember_registration(const PacketMeta& meta, const SipMessage& response);
    static void drop_tied_once_copies(std::vector<NetworkEvent>& tied, const std::vector<NetworkEvent>& started);
    void gather_registered_addresses(SipFacts& facts) const;

    Settings settings_;
    // Owner: this engine. Key: Call-ID, CSeq, method, top-Via branch (or the server endpoint when the
    // branch is missing). Lifetime: Settings::transaction_lifetime_s. Bound: Settings::max_transactions.
    BoundedMap<std::uint64_t, Transaction> transactions_;
    // The latest transaction of each Call-ID, CSeq, method and server, for responses whose branch does
    // not match: its key in transactions_. Erased when that transaction leaves transactions_, so it has
    // that map's lifetime and bound.
    FlatIndex transactions_by_cseq_;
    // Key: Call-ID. Lifetime: Settings::dialog_lifetime_s (a dialog whose BYE was not captured). Bound: max_dialogs.
    BoundedMap<std::uint64_t, DialogLegs> dialogs_;
    // Key: server endpoint. Lifetime: Settings::context_lifetime_s since last written. Bound: Settings::max_servers.
    BoundedMap<std::uint64_t, ServerContext> servers_;
    // Key: server endpoint. Servers whose context was pushed out at the bound, so that a new context of
    // the same server can say its history is partial. Same bounds as servers_.
    BoundedMap<std::uint64_t, bool> forgotten_servers_;
    // Key: Call-ID, CSeq and method. Last 5xx/408 answered to a hop for that transaction. Same bounds as transactions.
    BoundedMap<std::uint64_t, DownstreamFailure> downstream_failures_;
    // Key: Call-ID, CSeq, method and the sending host's node_key. The requests that host sent for that
    // transaction: a proxy's onward attempts. Kept only for hosts that also receive requests (a
    // client that only sends forwards nothing). Same bounds as transactions.
    BoundedMap<std::uint64_t, Forwarding> forwardings_;
    // Key: the host of the contact a 2xx to REGISTER accepted (where the 2xx went when it lists none).
    // The latest user registered there. Lifetime: Settings::context_lifetime_s. Bound: max_servers.
    BoundedMap<std::uint64_t, Registration> registrations_;
    // Key: address of a host that carried SIP between two of its own ports: several SIP agents share it (a lab
    // host running SIPp, a gateway and a PBX side by side). The maps below keyed by a host's address key such a
    // host's agents by address and SIP port instead (node_key), lest a caller's requests read as the PBX's own
    // onward ones. Lifetime: Settings::context_lifetime_s since last seen. Bound: max_servers.
    BoundedMap<std::uint64_t, bool> shared_addresses_;
    // Key: node_key of a host that was sent a SIP request. Lifetime: Settings::context_lifetime_s. Bound: max_servers.
    BoundedMap<std::uint64_t, bool> receivers_;
    // Key: node_key of a host that receives requests and sent one onward. Value: when it last did, so a
    // 503 can tell a request that was not forwarded from onward legs the capture does not show.
    // Lifetime: Settings::context_lifetime_s. Bound: max_servers.
    BoundedMap<std::uint64_t, std::int64_t> last_onward_request_us_;
    // Key: node_key of a host that receives requests. The last kOnwardFailuresPerServer failures answered
    // to requests it sent. Lifetime: Settings::context_lifetime_s since the last one. Bound: max_servers.
    BoundedMap<std::uint64_t, OnwardFailures> onward_failures_;
    // Key: node_key of a host that receives requests. The kUnansweredOnwardPerServer requests it sent
    // again most lately without any answer (a request the next hop answers stays there until a 503
    // looks it up, which skips it). Lifetime: Settings::context_lifetime_s since the last. Bound: max_servers.
    BoundedMap<std::uint64_t, UnansweredOnwards> unanswered_onward_;
    // Key: node_key of a host that receives requests. Its next hops' latest failure and success, so a
    // later refusal at once can be read as "its hops are marked down". Lifetime: Settings::context_lifetime_s.
    // Bound: max_servers.
    BoundedMap<std::uint64_t, HopHealth> hop_health_;
    NetworkEvidence network_;
};

}  // namespace diag503
