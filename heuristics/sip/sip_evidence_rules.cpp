// Rules on evidence beyond the 503 itself: the request's onward attempts, the sender's DNS/TLS/TCP/database failures, the hop that generated it.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>
#include <array>

#include "sip/sip_classifier.hpp"
#include "core/findings.hpp"
#include "sip/sip_rules.hpp"

namespace diag503 {
namespace {

constexpr std::uint32_t kSentencesPerKind = sip_threshold::sentences_per_failure_kind;

bool event_concerns_hop(const NetworkEvent& event, const SipFacts::Forwarded& attempt) {
    return event.peer_address == attempt.hop_address && (event.peer_port == 0 || event.peer_port == attempt.hop_port);
}

bool concerns_some_attempt(const NetworkEvent& event, const SipFacts& facts) {
    return std::any_of(facts.forwarded.begin(), facts.forwarded.end(),
                       [&](const SipFacts::Forwarded& attempt) { return event_concerns_hop(event, attempt); });
}

// When only one user's requests fail while others are served, the unreachable hop is that user's
// registered contact: a stale registration, not a failed trunk.
bool only_one_user_fails(const SipFacts& facts, const Settings& settings) {
    return facts.scope.kind == ScopeFacts::Kind::single_user &&
           facts.scope.failures_of_common_user >= settings.min_user_failures &&
           facts.scope.users_served >= settings.min_other_users_served;
}

const SipFacts::RegisteredAddress* registered_at(const SipFacts& facts, const std::string& address) {
    for (const auto& registered : facts.registered_addresses)
        if (registered.address == address) return &registered;
    return nullptr;
}

std::string registered_contact_text(const SipFacts::RegisteredAddress& registered) {
    return "the contact user " + quoted(registered.user) + " registered (frame " + std::to_string(registered.frame) + ")";
}

std::string registered_device_note(const SipFacts& facts, const std::string& address) {
    const auto* registered = registered_at(facts, address);
    return registered ? " It is " + registered_contact_text(*registered) + ": a stale registration." : "";
}

// `address`: the unreachable hop. A user registered from there makes it that user's device.
Cause hop_cause(const SipFacts& facts, const Settings& settings, const std::string& address) {
    return only_one_user_fails(facts, settings) || registered_at(facts, address) ? Cause::registration_routing
                                                                                 : Cause::upstream_failure;
}

std::string hop_consequence(const SipFacts& facts, const Settings& settings, const std::string& address) {
    if (const auto* registered = registered_at(facts, address))
        return ": it is " + registered_contact_text(*registered) +
               ", that user's own device rather than a server's next hop: a stale registration.";
    return only_one_user_fails(facts, settings)
               ? ": this user's registered contact is unreachable (a stale registration)."
               : ": a next hop of this server was unreachable.";
}

std::vector<std::uint32_t> frames_of(const NetworkEvent& event) { return {event.attempt_frame, event.frame}; }

Cause cause_of(EvidenceKind kind, const SipFacts& facts, const Settings& settings, const std::string& peer_address) {
    switch (kind) {
        case EvidenceKind::dns: return Cause::dns_failure;
        case EvidenceKind::tls: return Cause::tls_failure;
        case EvidenceKind::database: return Cause::database_failure;
        case EvidenceKind::transport: break;
    }
    return hop_cause(facts, settings, peer_address);
}

std::string consequence(EvidenceKind kind, const SipFacts& facts, const Settings& settings, const std::string& peer_address) {
    switch (kind) {
        case EvidenceKind::dns: return ": the server could not resolve where to send requests.";
        case EvidenceKind::tls: return ": the server's secure connection to its next hop failed.";
        case EvidenceKind::database: return ": the server's database was unreachable or failing.";
        case EvidenceKind::transport: break;
    }
    return hop_consequence(facts, settings, peer_address);
}

// The client's own connection: its address, or on an address several agents share, one of its ports.
bool concerns_client(const NetworkEvent& event, const SipFacts& facts) {
    if (event.peer_address != facts.client_address) return false;
    return !facts.client_address_shared || event.peer_port == facts.client_port || event.peer_port == facts.client_sip_port;
}

// A transport failure counts when it concerns a hop this request was forwarded to, or, when no
// onward attempt is visible (it may have failed before any byte was sent), a peer other than the client.
bool transport_event_counts(const NetworkEvent& event, const SipFacts& facts) {
    if (!facts.forwarded.empty()) return concerns_some_attempt(event, facts);
    return !concerns_client(event, facts) && (facts.request.frame == 0 || event.time_us >= facts.request.time_us);
}

}  // namespace

void add_forwarded_not_refused(Findings& findings, const std::vector<std::uint32_t>& frames) {
    for (SipRule local : {SipRule::forwarded_not_overload, SipRule::forwarded_not_capacity, SipRule::forwarded_not_maintenance})
        findings.add(rule(local), "This server forwarded the request instead of refusing it.", frames);
}

void forwarding_rules(const SipFacts& facts, const Settings& settings, Findings& findings) {
    bool forwarded_unanswered = false;
    for (const auto& attempt : facts.forwarded) {
        const Cause hop = hop_cause(facts, settings, attempt.hop_address);
        const std::string sent = "Forwarded to " + attempt.hop + " in frame " + std::to_string(attempt.frame);
        if (attempt.final_status != 0) {
            findings.note(sent + ", answered " + std::to_string(attempt.final_status) + " in frame " +
                              std::to_string(attempt.final_frame) + ".", {attempt.frame, attempt.final_frame});
            continue;
        }
        forwarded_unanswered = true;
        if (attempt.provisional_frame != 0) {
            findings.add(rule(SipRule::hop_answered_provisionally_only), hop, sent + ": the next hop answered provisionally (frame " +
                                                          std::to_string(attempt.provisional_frame) + ") but never finally." +
                                                          registered_device_note(facts, attempt.hop_address),
                         {attempt.frame, attempt.provisional_frame});
        } else if (attempt.retransmissions > 0) {
            findings.add(rule(SipRule::hop_silent), hop,
                         sent + " and retransmitted " + counted(attempt.retransmissions, "time", "times") +
                             " without any answer: the next hop did not respond (RFC 3261 timer B/F)." +
                             registered_device_note(facts, attempt.hop_address),
                         {attempt.frame});
        } else {
            findings.note(sent + "; no answer from it is in the capture.", {attempt.frame});
        }
    }
    if (forwarded_unanswered) add_forwarded_not_refused(findings, {facts.forwarded.front().frame});
}

bool counts_as_evidence(const NetworkEvent& event, const SipFacts& facts) {
    if (event.tie == Tie::tied_once_earlier) return false;
    return event.kind != EvidenceKind::transport || transport_event_counts(event, facts);
}

bool may_be_remembered(const NetworkEvent& event, const SipFacts& facts) {
    return event.tie == Tie::tied_once_earlier && (event.kind != EvidenceKind::transport || transport_event_counts(event, facts));
}

// The server's own attempt to reach a host other than its client failed before the request came: a
// connection refused or unanswered, a datagram bounced. Not a connection the peer reset later on, and
// not another user's phone (a PBX keeps qualifying phones that are gone): that says nothing of this call.
bool own_attempt_failed_before(const NetworkEvent& event, const SipFacts& facts) {
    if (event.kind != EvidenceKind::transport || (event.attempt_frame == 0 && !event.bounced) ||
        (event.tie != Tie::same_address && event.tie != Tie::another_address_of_host) ||
        concerns_client(event, facts) || facts.request.frame == 0 || event.time_us >= facts.request.time_us)
        return false;
    const auto* phone = registered_at(facts, event.peer_address);
    return !phone || phone->user == facts.response->to_user;
}

bool during_request(const NetworkEvent& event, const SipFacts& facts) {
    return facts.request.frame != 0 && event.time_us >= facts.request.time_us;
}

bool met_failure_during_request(const SipFacts& facts) {
    return std::any_of(facts.network_events.begin(), facts.network_events.end(), [&](const NetworkEvent& event) {
        return counts_as_evidence(event, facts) && during_request(event, facts);
    });
}

const NetworkEvent* first_counted_failure(const SipFacts& facts) {
    for (const NetworkEvent& event : facts.network_events)
        if (counts_as_evidence(event, facts)) return &event;
    return nullptr;
}

bool explains_this_request(const NetworkEvent& event, const SipFacts& facts);

// Failures that explain this 503: the ones met while the request waited (a busy server's other
// lookups and connections fail now and then for other requests), or, when the request was not
// captured, any in the window. Earlier ones of the same kinds are only mentioned as a pattern.
bool explains_this_request(const NetworkEvent& event, const SipFacts& facts) {
    return counts_as_evidence(event, facts) && (facts.request.frame == 0 || during_request(event, facts));
}

const char* kind_label(EvidenceKind kind) {
    switch (kind) {
        case EvidenceKind::dns: return "DNS";
        case EvidenceKind::tls: return "TLS";
        case EvidenceKind::database: return "database";
        case EvidenceKind::transport: break;
    }
    return "connection";
}

// How the failure was tied to this server, for the user to check: "" when it is the 503 sender's own.
std::string tie_text(const NetworkEvent& event, const SipFacts& facts) {
    switch (event.tie) {
        case Tie::same_address: return "";
        case Tie::another_address_of_host:
            return ", met by " + event.host_address + ", another address of this server (" +
                   (event.tie_detail.empty() ? "its failures fell inside this server's earlier requests' waits" : event.tie_detail) + ")";
        case Tie::tied_once_earlier:
            return ", met by " + event.host_address + ", another address than this server's SIP address, whose failure "
                   "fell inside the wait of an earlier request of this server";
        case Tie::during_wait_elsewhere:
            return ", met by " + event.host_address + ", another address than this server's SIP address, started " +
                   format_duration(event.attempt_time_us - facts.request.time_us) + " after this request arrived and failed " +
                   format_duration(facts.time_us - event.time_us) + " before this 503: taken as this server's own";
    }
    return "";
}

// A failure met, not retried since, and then the request refused at once without going anywhere: the
// server answered from what it remembered (a negative DNS cache, a destination set marked down).
const NetworkEvent* remembered_failure(const SipFacts& facts, const Settings& settings) {
    if (facts.request.frame == 0 || !facts.forwarded.empty() || facts.downstream.frame != 0) return nullptr;
    const std::int64_t elapsed = facts.time_us - facts.request.time_us;
    if (elapsed < 0 || elapsed > static_cast<std::int64_t>(settings.immediate_response_ms) * 1000) return nullptr;
    const std::int64_t oldest = facts.request.time_us - std::int64_t{sip_threshold::destination_held_down_s} * 1000000;
    const NetworkEvent* latest = nullptr;
    for (const NetworkEvent& event : facts.network_events)
        if ((counts_as_evidence(event, facts) || may_be_remembered(event, facts) || own_attempt_failed_before(event, facts)) &&
            !event.recovered_since &&
            event.time_us >= oldest && event.time_us < facts.request.time_us)
            latest = &event;
    return latest;
}

void remembered_rule(const NetworkEvent& remembered, const SipFacts& facts, const Settings& settings, Findings& findings) {
    const std::int64_t age = facts.request.time_us - remembered.time_us;
    const bool within_cache = age <= std::int64_t{sip_threshold::remembered_failure_max_age_s} * 1000000;
    if (!within_cache && remembered.tie == Tie::tied_once_earlier) return;  // two weak ties are no tie
    const SipRule which = !within_cache                                ? SipRule::failure_held_down
                          : remembered.tie == Tie::tied_once_earlier ? SipRule::failure_remembered_elsewhere
                                                                     : SipRule::failure_remembered;
    const std::string consequence = within_cache ? "the server answered from the failure it remembered."
                                                 : "the server may still hold that destination as down until its next "
                                                   "keepalive (these run every 30 to 60 s), a lead rather than a finding.";
    findings.add(rule(which), cause_of(remembered.kind, facts, settings, remembered.peer_address),
                 remembered.sentence + tie_text(remembered, facts) + ", " + format_duration(age) +
                     " before this request and not retried since; the request was refused at once without going anywhere: " +
                     consequence,
                 frames_of(remembered));
}

void started_work_rules(const SipFacts& facts, const std::vector<std::uint32_t>& frames, Findings& findings) {
    if (!facts.forwarded.empty() || facts.downstream.frame != 0) return;  // forwarding already says so
    for (SipRule local : {SipRule::started_work_not_overload, SipRule::started_work_not_capacity,
                          SipRule::started_work_not_maintenance})
        findings.add(rule(local), "This server started work on the request (a lookup, connection or query) instead of refusing it.",
                     frames);
}

void network_rules(const SipFacts& facts, const Settings& settings, Findings& findings) {
    constexpr int kKinds = 4;
    std::array<std::uint32_t, kKinds> explaining{};
    std::array<std::vector<std::uint32_t>, kKinds> further_frames;  // failures beyond kSentencesPerKind
    std::array<std::uint32_t, kKinds> earlier{};
    std::array<std::uint32_t, kKinds> first_earlier_frame{};
    std::uint32_t first_explaining_frame = 0;
    std::array<std::string, kKinds> first_peer{};
    for (const NetworkEvent& event : facts.network_events) {
        const int kind = static_cast<int>(event.kind);
        if (!explains_this_request(event, facts)) {
            // a lookup the server made good since (an SRV name missing, its domain resolved) is no failure
            if (counts_as_evidence(event, facts) && !event.recovered_since && earlier[kind]++ == 0)
                first_earlier_frame[kind] = event.frame;
            continue;
        }
        if (first_explaining_frame == 0) first_explaining_frame = event.frame;
        if (++explaining[kind] > kSentencesPerKind) {
            further_frames[kind].push_back(event.frame);
            continue;
        }
        const std::string hop = event.kind == EvidenceKind::transport && concerns_some_attempt(event, facts)
                                    ? ", the hop this request was forwarded to" : "";
        const SipRule first = facts.request.frame == 0                    ? SipRule::failure_request_unseen
                              : event.tie == Tie::during_wait_elsewhere   ? SipRule::failure_while_waiting_elsewhere
                                                                          : SipRule::failure_while_waiting;
        if (explaining[kind] == 1) first_peer[kind] = event.peer_address;
        findings.add(rule(explaining[kind] == 1 ? first : SipRule::further_failure), cause_of(event.kind, facts, settings, event.peer_address),
                     event.sentence + hop + tie_text(event, facts) + consequence(event.kind, facts, settings, event.peer_address),
                     frames_of(event));
    }
    if (first_explaining_frame != 0 && facts.request.frame != 0)
        started_work_rules(facts, {first_explaining_frame}, findings);
    if (first_explaining_frame == 0)
        if (const NetworkEvent* remembered = remembered_failure(facts, settings)) remembered_rule(*remembered, facts, settings, findings);
    for (int kind = 0; kind < kKinds; ++kind) {
        if (explaining[kind] == 0) continue;
        const Cause cause = cause_of(static_cast<EvidenceKind>(kind), facts, settings, first_peer[kind]);
        if (explaining[kind] > kSentencesPerKind)
            findings.add(rule(SipRule::further_failure), cause, counted(explaining[kind] - kSentencesPerKind, "more such failure", "more such failures") +
                                       " while this request waited.", std::move(further_frames[kind]));
        if (earlier[kind] > 0)
            findings.note(counted(earlier[kind], "earlier ", "earlier ") + kind_label(static_cast<EvidenceKind>(kind)) +
                              (earlier[kind] == 1 ? " failure" : " failures") + " of this server since frame " +
                              std::to_string(first_earlier_frame[kind]) + ", before this request.",
                          {first_earlier_frame[kind]});
        // A lookup, handshake or query that failed while the request waited explains the wait better
        // than "a downstream hop failed".
        if (facts.request.frame != 0 && static_cast<EvidenceKind>(kind) != EvidenceKind::transport)
            findings.add(rule(SipRule::wait_went_into_failure),
                         "The time this request waited went into the failed " +
                             std::string(kind == 0 ? "DNS lookup" : kind == 1 ? "TLS handshake" : "database query") + ".",
                         {facts.request.frame, facts.frame});
    }
}

OriginFinding origin_rules(const SipFacts& facts, Findings& findings) {
    OriginFinding origin{"generated here", 0, false};
    if (facts.downstream.frame != 0 && facts.downstream.status == 503) {
        origin.relays_503 = true;
        origin.origin = "relayed from " + facts.downstream.origin_hop;
        origin.frame = facts.downstream.origin_frame;
        std::string sentence = "This 503 relays the 503 that " + facts.downstream.hop + " sent in frame " +
                               std::to_string(facts.downstream.frame);
        if (facts.downstream.origin_frame != facts.downstream.frame)
            sentence += ", itself generated by " + facts.downstream.origin_hop + " in frame " +
                        std::to_string(facts.downstream.origin_frame);
        // A back-to-back agent is the caller's server, not a proxy: §16.7 is not its rule.
        findings.note(sentence + (facts.downstream.own_call ? " on its own onward call."
                                                            : ". RFC 3261 §16.7 asks a proxy to answer 500 instead, so that callers do not "
                                                              "back off from this server for a failure beyond it."),
                      {facts.downstream.origin_frame, facts.downstream.frame, facts.frame});
        return origin;
    }
    const SipMessage& response = *facts.response;
    const std::string& agent = response.server.empty() ? response.user_agent : response.server;
    if (facts.downstream.frame == 0 && !agent.empty() && !facts.own_agent.empty() && agent != facts.own_agent) {
        origin.origin = "relayed from " + quoted(agent);
        findings.add(rule(SipRule::foreign_agent),
                     "The 503 names " + quoted(agent) + " as its sender, but this server's own 100 Trying (frame " +
                         std::to_string(facts.own_agent_frame) + ") names " + quoted(facts.own_agent) +
                         ": an element beyond this server generated it.",
                     {facts.own_agent_frame, facts.frame});
    }
    return origin;
}

}  // namespace diag503
