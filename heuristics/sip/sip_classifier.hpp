// Turns the facts gathered about one 503 into a verdict: each rule adds weighted findings, the strongest cause wins.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <vector>

#include "evidence/network_evidence.hpp"
#include "sip/server_context.hpp"
#include "core/settings.hpp"
#include "sip/sip_message.hpp"
#include "core/verdict.hpp"

namespace diag503 {

// The refused request, as the engine's transaction knows it.
struct RequestFacts {
    std::uint32_t frame = 0;              // 0: not captured
    std::int64_t time_us = 0;
    std::uint32_t retransmissions = 0;
    std::uint32_t provisional_frame = 0;  // first 1xx of the transaction
    std::int64_t provisional_time_us = 0;
    bool identity_missing = false;        // no Call-ID or CSeq in what was captured: the request cannot be found
};

// Evictions at the state bounds that touch this 503 (0: none), and the bounds, to name them.
struct BoundFacts {
    std::uint64_t transactions_forgotten = 0;       // pushed out so far because Settings::max_transactions was reached
    std::uint32_t max_transactions = 0;
    std::uint32_t server_context_since_frame = 0;   // the server's earlier context was forgotten at max_servers
    std::uint32_t max_servers = 0;
    std::uint32_t dialogs_forgotten = 0;            // the server's active calls forgotten at max_dialogs
    std::uint32_t max_dialogs = 0;
    bool network_evidence_forgotten = false;        // the server host's network evidence was forgotten at max_servers
};

// A failure answered to this server by the hop it sent the request on to: for the same call (a proxy),
// or for a call of its own that it started while this request waited (a back-to-back agent).
struct DownstreamFacts {
    std::uint32_t frame = 0;  // 0: none
    int status = 0;
    std::string hop;
    std::string origin_hop;   // for a downstream 503: who generated it
    std::uint32_t origin_frame = 0;
    bool own_call = false;            // the server's own onward call, under another Call-ID
    bool same_callee = false;         // that onward call went to this request's callee
    std::string callee;
    std::uint32_t onward_request_frame = 0;
    std::int64_t onward_request_after_us = 0;  // how long after this request the onward one left
    bool unanswered = false;          // the onward call got no answer at all (status 0); frame: its last sending
    std::uint32_t transmissions = 0;  // how often it was sent, when unanswered
    std::int64_t unanswered_for_us = 0;  // from its first sending to this 503
};

// Everything the rules may look at, gathered at the moment the 503 was seen: snapshots from the
// owners of each piece of state.
struct SipFacts {
    const SipMessage* response = nullptr;  // the 503; required
    std::uint32_t frame = 0;
    std::int64_t time_us = 0;
    std::string server;
    std::string method;
    std::uint32_t response_cut_after_bytes = 0;  // non-zero: the capture kept only this much of the 503 (snaplen)

    RequestFacts request;
    BoundFacts bounds;
    LoadFacts load;
    CallCountFacts calls;
    OnsetFacts onset;
    ScopeFacts scope;
    std::string common_user_name;
    bool common_user_is_caller = false;  // the refused user is the From user, not the To user

    std::uint32_t overload_signal_frame = 0;  // a recent response of this server with RFC 7339 oc=

    DownstreamFacts downstream;

    // The latest failure of this server's next hops before this request (a hop's 5xx/408, or an earlier
    // 503 of this server explained by its hops), and whether any onward request succeeded since.
    struct HopFailure {
        std::uint32_t frame = 0;  // 0: none known
        std::int64_t time_us = 0;
        std::string hop;          // "address:port"
        std::string hop_address;
        bool succeeded_since = false;
    } hop_failure;

    // The request as this server sent it onward, and what became of each attempt.
    struct Forwarded {
        std::string hop;                     // "address:port"
        std::string hop_address;
        std::uint16_t hop_port = 0;
        std::uint32_t frame = 0;
        std::uint32_t retransmissions = 0;
        std::uint32_t provisional_frame = 0;
        int final_status = 0;                // 0: no final answer captured
        std::uint32_t final_frame = 0;
    };
    std::vector<Forwarded> forwarded;

    // Failures the server met in DNS, TLS, ICMP, TCP or database traffic within the evidence window.
    std::vector<NetworkEvent> network_events;
    // Addresses among the forwarded hops and the failures' peers that a user registered as its contact
    // (a 2xx to REGISTER accepted it): that user's own device, not a server's next hop.
    struct RegisteredAddress {
        std::string address;
        std::string user;
        std::uint32_t frame = 0;  // the 2xx to the REGISTER
    };
    std::vector<RegisteredAddress> registered_addresses;
    std::string client_address;              // where the 503 went: its own transport events are not a next hop
    // Where several SIP agents share the client's address (one lab host), only the client's own ports are it:
    // the one the 503 went to and the one its top Via names.
    bool client_address_shared = false;
    std::uint16_t client_port = 0;
    std::uint16_t client_sip_port = 0;
    bool onward_requests_seen = false;       // the capture shows this server sending requests onward lately

    // The server's own Server/User-Agent, from its 100 Trying.
    std::string own_agent;
    std::uint32_t own_agent_frame = 0;
};

Verdict classify_sip(const SipFacts& facts, const Settings& settings);

// Rules on evidence beyond the 503 itself (evidence_rules.cpp).
class Findings;
void forwarding_rules(const SipFacts& facts, const Settings& settings, Findings& findings);
void network_rules(const SipFacts& facts, const Settings& settings, Findings& findings);
// The server forwarded the request, so its own load, call limit or maintenance did not refuse it.
void add_forwarded_not_refused(Findings& findings, const std::vector<std::uint32_t>& frames);
// Whether a DNS, TLS, TCP, ICMP or database failure of the server fell while this request waited.
bool met_failure_during_request(const SipFacts& facts);
// The earliest failure that counts as evidence for this 503; nullptr when none does.
const NetworkEvent* first_counted_failure(const SipFacts& facts);
struct OriginFinding {
    std::string origin;        // "generated here" or "relayed from <hop>"
    std::uint32_t frame = 0;
    bool relays_503 = false;
};
OriginFinding origin_rules(const SipFacts& facts, Findings& findings);

// Building blocks, exposed for unit tests.
std::optional<Cause> cause_of_phrase(const std::string& text);
std::optional<Cause> cause_of_q850(std::uint32_t q850_cause);

}  // namespace diag503
