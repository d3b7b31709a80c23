// SipEngine: transaction matching, retransmissions, dialogs, per-server outcomes, and the facts handed to the classifier.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sip/sip_engine.hpp"

#include <algorithm>
#include <utility>

#include "sip/sip_classifier.hpp"
#include "core/text.hpp"

namespace diag503 {
namespace {

constexpr std::int64_t kMicrosecondsPerSecond = 1000000;
constexpr std::int64_t kOverloadSignalMemoryUs = 60 * kMicrosecondsPerSecond;

std::int64_t seconds_to_us(std::uint32_t seconds) { return static_cast<std::int64_t>(seconds) * kMicrosecondsPerSecond; }

// The endpoint that answers the transaction: a request's destination, a response's source.
const Endpoint& server_side(const PacketMeta& meta, const SipMessage& message) {
    return message.is_request ? meta.destination : meta.source;
}

std::uint64_t mixed(std::uint64_t a, std::uint64_t b) {
    const char bytes[8] = {static_cast<char>(b), static_cast<char>(b >> 8), static_cast<char>(b >> 16), static_cast<char>(b >> 24),
                           static_cast<char>(b >> 32), static_cast<char>(b >> 40), static_cast<char>(b >> 48), static_cast<char>(b >> 56)};
    return hash_text(std::string_view(bytes, 8), a);
}

std::uint64_t transaction_key(const PacketMeta& meta, const SipMessage& message) {
    const std::string& branch = message.top_branch();
    if (!branch.empty()) return hash_text(branch, cseq_identity(message));
    return mixed(cseq_identity(message) ^ 0x5bd1e995u, server_side(meta, message).key());
}

std::uint64_t by_cseq_key(const PacketMeta& meta, const SipMessage& message) {
    return mixed(cseq_identity(message), server_side(meta, message).key());
}

// Without Call-ID and CSeq a message cannot be matched to its transaction (a snaplen cut them off, or
// the sender left them out): every such response stands alone.
bool has_identity(const SipMessage& message) { return !message.call_id.empty() && message.has_cseq; }

// Two copies of one message captured this close together are one sending seen twice (a SPAN session
// mirroring two ports), not a retransmission: RFC 3261's first retransmission waits T1, 500 ms.
constexpr std::int64_t kDuplicateCopyUs = 1000;

std::uint64_t user_key(const std::string& user) { return user.empty() ? 0 : hash_text(user); }

// The domain an SRV name such as _sip._udp.example.net is asked for. A missing SRV record is not a
// failure when the domain itself resolves next: RFC 3263 falls back to its A/AAAA records.
std::string srv_target_name(const std::string& name) {
    std::size_t start = 0;
    while (start < name.size() && name[start] == '_') {
        const std::size_t dot = name.find('.', start);
        if (dot == std::string::npos) return name;
        start = dot + 1;
    }
    return name.substr(start);
}

bool is_failure_worth_relaying(int status) { return status >= 500 || status == 408; }

// A final answer that shows the server processing requests. A digest challenge does not: a PBX
// challenges every INVITE of its users first, also while it shuts down or sits at its call limit.
bool is_service(int status) { return (status < 500 && status != 401 && status != 407) || status >= 600; }

std::uint64_t forwarding_key(const SipMessage& message, std::uint64_t sender_node) {
    return hash_text(std::string_view(reinterpret_cast<const char*>(&sender_node), sizeof sender_node), cseq_identity(message));
}

// A host's key (hash_text of its address) narrowed to one of its ports.
std::uint64_t with_port(std::uint64_t host_key, std::uint16_t port) {
    const char port_bytes[2] = {static_cast<char>(port >> 8), static_cast<char>(port & 0xff)};
    return hash_text(std::string_view(port_bytes, 2), host_key);
}

// The port a message's top Via names for answers, or `otherwise` when it names none.
std::uint16_t top_via_port_or(const SipMessage& message, std::uint16_t otherwise) {
    const std::uint16_t via_port = message.vias.empty() ? 0 : message.vias.front().sent_by_port;
    return via_port != 0 ? via_port : otherwise;
}

const std::string& agent_of(const SipMessage& message) {
    return message.server.empty() ? message.user_agent : message.server;
}

}  // namespace

std::string Endpoint::text() const {
    const bool ipv6 = address.find(':') != std::string::npos;
    return (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

std::uint64_t Endpoint::key() const { return with_port(hash_text(address), port); }

SipEngine::SipEngine(const Settings& settings)
    : settings_(settings),
      transactions_(settings.max_transactions, seconds_to_us(settings.transaction_lifetime_s)),
      dialogs_(settings.max_dialogs, seconds_to_us(settings.dialog_lifetime_s)),
      servers_(settings.max_servers, seconds_to_us(settings.context_lifetime_s)),
      forgotten_servers_(settings.max_servers, seconds_to_us(settings.context_lifetime_s)),
      downstream_failures_(settings.max_transactions, seconds_to_us(settings.transaction_lifetime_s)),
      forwardings_(settings.max_transactions, seconds_to_us(settings.transaction_lifetime_s)),
      registrations_(settings.max_servers, seconds_to_us(settings.context_lifetime_s)),
      shared_addresses_(settings.max_servers, seconds_to_us(settings.context_lifetime_s)),
      receivers_(settings.max_servers, seconds_to_us(settings.context_lifetime_s)),
      last_onward_request_us_(settings.max_servers, seconds_to_us(settings.context_lifetime_s)),
      onward_failures_(settings.max_servers, seconds_to_us(settings.context_lifetime_s)),
      unanswered_onward_(settings.max_servers, seconds_to_us(settings.context_lifetime_s)),
      hop_health_(settings.max_servers, seconds_to_us(settings.context_lifetime_s)),
      network_(settings) {}

SipEngine::Counters SipEngine::counters() const {
    return {transactions_.evicted_count(), dialogs_.evicted_count(), servers_.evicted_count()};
}

std::optional<Verdict> SipEngine::observe(const PacketMeta& meta, const SipMessage& message) {
    dialogs_.advance_clock(meta.time_us, [this](const std::uint64_t&, const DialogLegs& legs) { release(legs, false); });
    note_shared_address(meta);
    if (message.is_request) {
        on_request(meta, message);
        return std::nullopt;
    }
    return on_response(meta, message);
}

ServerContext& SipEngine::server_at(const Endpoint& endpoint, const PacketMeta& meta) {
    // Keyed without building the "address:port" text, which only a new server needs.
    const std::uint64_t key = endpoint.key();
    ServerContext& server = servers_.get_or_insert(key, meta.time_us, [&](const std::uint64_t& evicted, const ServerContext&) {
        if (servers_.making_room()) forgotten_servers_.get_or_insert(evicted, meta.time_us, [](auto&, auto&) {}) = true;
    });
    if (server.name.empty()) {
        server.name = endpoint.text();
        server.endpoint = endpoint;
        server.key = key;
        if (forgotten_servers_.find(key)) {
            server.context_since_frame = meta.frame;
            forgotten_servers_.erase(key);
        }
    }
    return server;
}

SipEngine::Transaction& SipEngine::insert_transaction(std::uint64_t key, std::uint64_t by_cseq, std::int64_t time_us) {
    auto forget_cseq_index = [this](const std::uint64_t& evicted_key, const Transaction& evicted) {
        const auto* indexed = transactions_by_cseq_.find(evicted.by_cseq_key);
        if (indexed && *indexed == evicted_key) transactions_by_cseq_.erase(evicted.by_cseq_key);
        // A call whose final answer never came is no longer counted once its transaction is forgotten.
        if (evicted.setting_up_at != 0)
            if (ServerContext* server = servers_.find(evicted.setting_up_at)) release_one_call(*server);
    };
    Transaction& transaction = transactions_.get_or_insert(key, time_us, forget_cseq_index);
    transaction.by_cseq_key = by_cseq;
    transactions_by_cseq_.set(by_cseq, key);
    return transaction;
}

void SipEngine::on_request(const PacketMeta& meta, const SipMessage& request) {
    if (iequals(request.method, "ACK")) return;  // no response expected; ends nothing we track
    if (!has_identity(request)) {
        server_at(meta.destination, meta).requests.add(meta.time_us);  // still load on the server
        return;
    }
    const std::uint64_t key = transaction_key(meta, request);
    if (Transaction* known = transactions_.find(key)) {
        if (known->request_frame == 0) {  // its responses came first (out-of-order capture)
            known->request_frame = meta.frame;
            known->request_time_us = meta.time_us;
        } else if (std::llabs(meta.time_us - known->request_time_us) >= kDuplicateCopyUs) {
            ++known->request_retransmissions;
            remember_unanswered_onward(meta, request, key, *known);
        }
        return;
    }
    Transaction& transaction = insert_transaction(key, by_cseq_key(meta, request), meta.time_us);
    transaction.request_frame = meta.frame;
    transaction.request_time_us = meta.time_us;
    ServerContext& hop = server_at(meta.destination, meta);
    hop.requests.add(meta.time_us);
    remember_forwarding(meta, request, key, hop.key);
    receivers_.get_or_insert(node_key(meta.destination.address, meta.destination.port), meta.time_us, [](auto&, auto&) {}) = true;
    if (iequals(request.method, "BYE")) close_dialogs(call_identity(request));
}

void SipEngine::remember_forwarding(const PacketMeta& meta, const SipMessage& request, std::uint64_t transaction_key,
                                    std::uint64_t hop_key) {
    const std::uint64_t sender = sender_node(meta, request);
    if (!receivers_.find(sender)) return;  // a client, not a proxy
    last_onward_request_us_.get_or_insert(sender, meta.time_us, [](auto&, auto&) {}) = meta.time_us;
    if (network_.has_recent_lookups()) {
        // The host as uri_host stores it, without copying it in the usual case where it is plain text.
        const std::string_view host = uri_host_text(request.request_uri);
        if (plain_and_short(host, kMaxStoredText)) network_.learn_resolver_of(meta.source.address, host, meta.frame, meta.time_us);
        else network_.learn_resolver_of(meta.source.address, uri_host(request.request_uri), meta.frame, meta.time_us);
    }
    Forwarding& forwarding =
        forwardings_.get_or_insert(forwarding_key(request, sender), meta.time_us, [](auto&, auto&) {});
    if (forwarding.count < kMaxForwardedAttempts)
        forwarding.attempts[forwarding.count++] = {transaction_key, hop_key, meta.frame};
}

void SipEngine::note_shared_address(const PacketMeta& meta) {
    if (meta.source.address == meta.destination.address && meta.source.port != meta.destination.port)
        shared_addresses_.get_or_insert(hash_text(meta.source.address), meta.time_us, [](auto&, auto&) {}) = true;
}

// A host's address, which covers its onward requests over TCP from ports of the kernel's choosing; on an
// address several agents share, the address and the agent's SIP port.
std::uint64_t SipEngine::node_key(const std::string& address, std::uint16_t port) const {
    const std::uint64_t host = hash_text(address);
    if (shared_addresses_.size() == 0 || !shared_addresses_.find(host)) return host;
    return with_port(host, port);
}

// A request's sender: the port its top Via names for answers (over TCP its connection's port is the kernel's).
std::uint64_t SipEngine::sender_node(const PacketMeta& meta, const SipMessage& request) const {
    return node_key(meta.source.address, top_via_port_or(request, meta.source.port));
}

// A response's receiver: the agent its top Via names, which sent the request.
std::uint64_t SipEngine::requester_node(const PacketMeta& meta, const SipMessage& response) const {
    return node_key(meta.destination.address, top_via_port_or(response, meta.destination.port));
}

std::uint64_t SipEngine::responder_node(const PacketMeta& meta) const {
    return node_key(meta.source.address, meta.source.port);
}

SipEngine::Transaction* SipEngine::find_transaction(const PacketMeta& meta, const SipMessage& response) {
    if (Transaction* exact = transactions_.find(transaction_key(meta, response))) return exact;
    if (const std::uint64_t* key = transactions_by_cseq_.find(by_cseq_key(meta, response)))
        return transactions_.find(*key);
    return nullptr;
}

std::optional<Verdict> SipEngine::on_response(const PacketMeta& meta, const SipMessage& response) {
    ServerContext& server = server_at(meta.source, meta);
    if (!response.vias.empty() && response.vias.front().overload_control &&
        response.vias.front().overload_control->asks_to_reduce()) {
        server.overload_signal_frame = meta.frame;
        server.overload_signal_us = meta.time_us;
    }
    Transaction* transaction = has_identity(response) ? find_transaction(meta, response) : nullptr;
    if (!transaction) {
        // Identity-less responses get a key of their own, so none is taken for another's retransmission.
        const std::uint64_t key = has_identity(response) ? transaction_key(meta, response) : hash_text("frame", meta.frame);
        transaction = &insert_transaction(key, has_identity(response) ? by_cseq_key(meta, response) : key, meta.time_us);
    }
    if (response.status_code == 100 && !agent_of(response).empty() && server.own_agent != agent_of(response)) {
        server.own_agent = agent_of(response);
        server.own_agent_frame = meta.frame;
    }
    if (response.status_code < 200) {
        if (transaction->provisional_frame == 0) {
            transaction->provisional_frame = meta.frame;
            transaction->provisional_time_us = meta.time_us;
            if (iequals(response.cseq_method, "INVITE") && transaction->final_frame == 0)
                begin_call_setup(server, *transaction, call_identity(response));
        }
        return std::nullopt;
    }
    return on_final_response(meta, response, *transaction);
}

std::optional<Verdict> SipEngine::on_final_response(const PacketMeta& meta, const SipMessage& response,
                                                 Transaction& transaction) {
    const bool repeated = transaction.final_frame != 0 && transaction.final_status == response.status_code;
    if (repeated) {
        if (response.status_code == 503 && transaction.verdict_503) return retransmitted_verdict(meta, *transaction.verdict_503, transaction.final_time_us);
        return std::nullopt;
    }
    transaction.final_time_us = meta.time_us;
    transaction.final_status = response.status_code;
    transaction.final_frame = meta.frame;

    ServerContext& server = server_at(meta.source, meta);
    // A call whose set-up this server began is new; otherwise look for a call it already carries.
    const bool new_call = iequals(response.cseq_method, "INVITE") &&
                          (transaction.setting_up_at != 0 || !call_is_up_at(call_identity(response), server.key));
    // Before the 503 is judged: the refused call itself no longer counts as one in progress.
    if (transaction.setting_up_at != 0)
        end_call_setup(transaction, response.status_code, call_identity(response), meta.time_us);
    if (new_call && response.status_code == 503)
        server.note_new_call_refused(meta.frame, user_key(response.from_user), user_key(response.to_user));
    else if (new_call && is_service(response.status_code))
        server.note_new_call_taken();
    Outcome outcome;
    outcome.time_us = meta.time_us;
    outcome.frame = meta.frame;
    outcome.served = is_service(response.status_code);
    outcome.refused_503 = response.status_code == 503;
    outcome.caller = user_key(response.from_user);
    outcome.callee = user_key(response.to_user);
    outcome.method = hash_text(response.cseq_method);
    server.record(outcome, settings_.outcome_history);
    if (iequals(response.cseq_method, "INVITE") && response.status_code < 300)
        open_dialog(call_identity(response), server.key, meta.time_us);
    if (response.status_code < 300 && iequals(response.cseq_method, "REGISTER")) remember_registration(meta, response);
    // A 2xx to BYE ends the call too: the BYE itself may be outside the capture.
    if (iequals(response.cseq_method, "BYE") && response.status_code < 300) close_dialogs(call_identity(response));

    std::optional<Verdict> verdict;
    if (response.status_code == 503) {
        verdict = diagnose(meta, response, transaction, server);
        transaction.verdict_503 = std::make_unique<Verdict>(*verdict);
        server.previous_503_frame = meta.frame;
        server.dialogs_at_previous_503 = server.active_dialogs;
        server.dialogs_dipped_since_previous_503 = false;
        note_refusal_at_call_count(server, meta);
        if (server.active_dialogs < server.lowest_dialogs_at_a_503) {
            server.lowest_dialogs_at_a_503 = server.active_dialogs;
            server.lowest_dialogs_503_frame = meta.frame;
            server.peak_since_lowest_503 = server.active_dialogs;
        }
    }
    note_hop_outcome(meta, response, transaction);
    if (is_failure_worth_relaying(response.status_code)) {
        remember_downstream_failure(meta, response, response.status_code == 503 ? verdict ? &*verdict : transaction.verdict_503.get() : nullptr);
        remember_onward_failure(meta, response, transaction);
    }
    return verdict;
}

Verdict SipEngine::retransmitted_verdict(const PacketMeta& meta, const Verdict& original, std::int64_t original_time_us) const {
    Verdict copy = original;
    copy.frame = meta.frame;
    copy.is_retransmission = true;
    copy.retransmission_of = original.frame;
    const bool copy_of_one_sending = std::llabs(meta.time_us - original_time_us) < kDuplicateCopyUs;
    copy.evidence.insert(copy.evidence.begin(),
                         Evidence{(copy_of_one_sending ? "Second copy of the 503 in frame " : "Retransmission of the 503 in frame ") +
                                      std::to_string(original.frame) +
                                      (copy_of_one_sending ? ", captured twice (e.g. a SPAN session mirroring two ports); same diagnosis."
                                                           : "; same diagnosis."),
                                  {original.frame, meta.frame}});
    return copy;
}

void SipEngine::note_refusal_at_call_count(ServerContext& server, const PacketMeta& meta) {
    if (server.refusal_plateau && server.plateau_dialogs == server.active_dialogs) {
        ++server.plateau_refusals;
        return;
    }
    server.refusal_plateau = true;
    server.plateau_dialogs = server.active_dialogs;
    server.plateau_first_frame = meta.frame;
    server.plateau_first_us = meta.time_us;
    server.plateau_refusals = 1;
}

void SipEngine::release_one_call(ServerContext& server) {
    if (server.active_dialogs == 0) return;
    server.refusal_plateau = false;
    if (--server.active_dialogs < server.dialogs_at_previous_503) server.dialogs_dipped_since_previous_503 = true;
}

void SipEngine::release(const DialogLegs& legs, bool forgotten_at_bound) {
    for (std::uint64_t leg : legs.servers) {
        ServerContext* server = servers_.find(leg);
        if (!server || server->active_dialogs == 0) continue;
        if (forgotten_at_bound) ++server->dialogs_forgotten;
        release_one_call(*server);
    }
}

bool SipEngine::call_is_up_at(std::uint64_t call, std::uint64_t server_key) const {
    const DialogLegs* legs = dialogs_.find(call);
    return legs && std::find(legs->servers.begin(), legs->servers.end(), server_key) != legs->servers.end();
}

void SipEngine::begin_call_setup(ServerContext& server, Transaction& transaction, std::uint64_t call) {
    if (transaction.setting_up_at != 0 || call_is_up_at(call, server.key)) return;  // a re-INVITE adds no call
    transaction.setting_up_at = server.key;
    ++server.active_dialogs;
    transaction.setup_raised_peak = server.active_dialogs > server.peak_active_dialogs;
    transaction.setup_raised_peak_since_503 = server.active_dialogs > server.peak_since_lowest_503;
    raise_peaks(server);
}

// A call the server accepted (1xx) and then refused with a 503 was never admitted: it leaves no trace in
// the counts, so a server that answers 100 Trying before refusing (Asterisk) keeps its ceiling and plateau.
// Any other end of a call being set up (busy, cancelled, timed out) freed a place, like a call ending.
void SipEngine::end_call_setup(Transaction& transaction, int final_status, std::uint64_t call, std::int64_t time_us) {
    const std::uint64_t server_key = std::exchange(transaction.setting_up_at, 0);
    ServerContext* server = servers_.find(server_key);
    if (!server) return;
    if (final_status < 300) {
        server->refusal_plateau = false;
        open_dialog(call, server_key, time_us, true);
    } else if (final_status == 503) {
        lower_peaks_raised_by(transaction, *server);
        if (server->active_dialogs > 0) --server->active_dialogs;
    } else {
        release_one_call(*server);
    }
}

void SipEngine::open_dialog(std::uint64_t call, std::uint64_t server_key, std::int64_t time_us, bool counted_in_setup) {
    DialogLegs& legs = dialogs_.get_or_insert(call, time_us, [this](const std::uint64_t&, const DialogLegs& evicted) {
        release(evicted, dialogs_.making_room());
    });
    ServerContext* server = servers_.find(server_key);
    if (legs.servers.size() >= kMaxLegsPerCall ||
        std::find(legs.servers.begin(), legs.servers.end(), server_key) != legs.servers.end()) {
        if (counted_in_setup && server) release_one_call(*server);  // not kept as a leg: not counted either
        return;
    }
    legs.servers.push_back(server_key);
    if (!server || counted_in_setup) return;  // a call counted since its setup is not admitted twice
    server->refusal_plateau = false;
    ++server->active_dialogs;
    raise_peaks(*server);
}

void SipEngine::raise_peaks(ServerContext& server) {
    server.peak_active_dialogs = std::max(server.peak_active_dialogs, server.active_dialogs);
    server.peak_since_lowest_503 = std::max(server.peak_since_lowest_503, server.active_dialogs);
}

// A refused call's own set-up raised no peak: a ceiling's count never included it.
void SipEngine::lower_peaks_raised_by(const Transaction& refused, ServerContext& server) {
    if (refused.setup_raised_peak && server.peak_active_dialogs == server.active_dialogs) --server.peak_active_dialogs;
    if (refused.setup_raised_peak_since_503 && server.peak_since_lowest_503 == server.active_dialogs) --server.peak_since_lowest_503;
}

void SipEngine::close_dialogs(std::uint64_t call) {
    DialogLegs* legs = dialogs_.find(call);
    if (!legs) return;
    release(*legs, false);
    dialogs_.erase(call);
}

void SipEngine::remember_downstream_failure(const PacketMeta& meta, const SipMessage& response, const Verdict* verdict_503) {
    if (!has_identity(response)) return;  // nobody could recognise its forwarded request
    DownstreamFailure& failure =
        downstream_failures_.get_or_insert(cseq_identity(response), meta.time_us, [](auto&, auto&) {});
    const bool stream = meta.transport == Transport::tcp || meta.transport == Transport::tls;
    failure.receiver_address = stream ? requester_node(meta, response) : meta.destination.key();
    failure.frame = meta.frame;
    failure.status = response.status_code;
    failure.hop = meta.source.text();
    const bool relayed_further = verdict_503 && verdict_503->origin_frame != 0;
    failure.origin_hop = relayed_further ? verdict_503->origin.substr(verdict_503->origin.find("from ") + 5) : failure.hop;
    failure.origin_frame = relayed_further ? verdict_503->origin_frame : meta.frame;
}

DownstreamFacts SipEngine::downstream_facts(const DownstreamFailure& failure) {
    DownstreamFacts facts;
    facts.frame = failure.frame;
    facts.status = failure.status;
    facts.hop = failure.hop;
    facts.origin_hop = failure.origin_hop;
    facts.origin_frame = failure.origin_frame;
    return facts;
}

// A 503 whose request this server sent on and whose hops failed or stayed silent (no failure on the wire
// when the hop never answered) marks its hops as failed just like a hop's own 5xx would.
void SipEngine::note_failed_hops(const PacketMeta& meta, const SipFacts::Forwarded& attempt) {
    HopHealth& health = hop_health_.get_or_insert(responder_node(meta), meta.time_us, [](auto&, auto&) {});
    if (health.failed_us >= meta.time_us) return;
    health.failed_us = meta.time_us;
    health.failed_frame = meta.frame;
    health.failed_hop = attempt.hop;
    health.failed_hop_address = attempt.hop_address;
}

void SipEngine::note_hop_outcome(const PacketMeta& meta, const SipMessage& response, const Transaction& transaction) {
    const bool failed = is_failure_worth_relaying(response.status_code);
    const bool succeeded = response.status_code >= 200 && response.status_code < 300;
    if ((!failed && !succeeded) || transaction.request_frame == 0) return;
    const std::uint64_t requester = requester_node(meta, response);
    if (!receivers_.find(requester)) return;  // a client's own request, not a server's onward one
    HopHealth& health = hop_health_.get_or_insert(requester, meta.time_us, [](auto&, auto&) {});
    if (succeeded) {
        health.succeeded_us = meta.time_us;
        return;
    }
    health.failed_us = meta.time_us;
    health.failed_frame = meta.frame;
    health.failed_hop = meta.source.text();
    health.failed_hop_address = meta.source.address;
}

void SipEngine::remember_onward_failure(const PacketMeta& meta, const SipMessage& response, const Transaction& transaction) {
    // Only a host that is itself asked for service sends requests of its own on behalf of its callers.
    if (!has_identity(response) || transaction.request_frame == 0) return;
    const std::uint64_t requester = requester_node(meta, response);
    if (!receivers_.find(requester)) return;
    const DownstreamFailure* failure = downstream_failures_.find(cseq_identity(response));
    if (!failure) return;
    OnwardFailures& failures = onward_failures_.get_or_insert(requester, meta.time_us, [](auto&, auto&) {});
    OnwardFailure& slot = failures.latest[failures.next++ % kOnwardFailuresPerServer];
    slot.call = call_identity(response);
    slot.method = hash_text(response.cseq_method);
    slot.callee = user_key(response.to_user);
    slot.callee_name = response.to_user;
    slot.request_time_us = transaction.request_time_us;
    slot.request_frame = transaction.request_frame;
    slot.time_us = meta.time_us;
    slot.failure = *failure;
}

// A back-to-back agent (Asterisk, FreeSWITCH, an SBC) answers its caller with the failure of the call it
// placed itself: under a new Call-ID, placed after this request arrived, failed before this 503.
std::optional<DownstreamFacts> SipEngine::failed_onward_call(const PacketMeta& meta, const SipMessage& response,
                                                             const Transaction& transaction) const {
    if (transaction.request_frame == 0 || !has_identity(response)) return std::nullopt;
    const OnwardFailures* failures = onward_failures_.find(responder_node(meta));
    if (!failures) return std::nullopt;
    const std::uint64_t call = call_identity(response);
    const std::uint64_t method = hash_text(response.cseq_method);
    const std::uint64_t callee = user_key(response.to_user);
    const OnwardFailure* best = nullptr;
    for (const OnwardFailure& candidate : failures->latest) {
        if (candidate.request_frame == 0 || candidate.call == call || candidate.method != method) continue;
        if (candidate.request_time_us < transaction.request_time_us || candidate.time_us > meta.time_us) continue;
        const bool same_callee = callee != 0 && candidate.callee == callee;
        const bool best_same_callee = best && callee != 0 && best->callee == callee;
        if (!best || (same_callee && !best_same_callee) || (same_callee == best_same_callee && candidate.time_us > best->time_us))
            best = &candidate;
    }
    if (!best) return std::nullopt;
    DownstreamFacts facts = downstream_facts(best->failure);
    facts.own_call = true;
    facts.same_callee = callee != 0 && best->callee == callee;
    facts.callee = best->callee_name;
    facts.onward_request_frame = best->request_frame;
    facts.onward_request_after_us = best->request_time_us - transaction.request_time_us;
    return facts;
}

void SipEngine::remember_unanswered_onward(const PacketMeta& meta, const SipMessage& request, std::uint64_t key,
                                           const Transaction& transaction) {
    if (transaction.provisional_frame != 0 || transaction.final_status != 0) return;
    const std::uint64_t sender = sender_node(meta, request);
    if (!receivers_.find(sender)) return;  // a client's own request, not a server's
    UnansweredOnwards& onwards = unanswered_onward_.get_or_insert(sender, meta.time_us, [](auto&, auto&) {});
    UnansweredOnward* slot = &onwards.latest[0];
    for (UnansweredOnward& candidate : onwards.latest) {
        if (candidate.transaction == key) {
            slot = &candidate;
            break;
        }
        if (candidate.last_sent_us < slot->last_sent_us) slot = &candidate;
    }
    if (slot->transaction != key) {
        *slot = UnansweredOnward{};
        slot->transaction = key;
        slot->call = call_identity(request);
        slot->method = hash_text(request.method);
        slot->callee_name = uri_user(request.request_uri);
        slot->callee = user_key(slot->callee_name);
        slot->hop = meta.destination.text();
        slot->request_time_us = transaction.request_time_us;
        slot->request_frame = transaction.request_frame;
    }
    slot->last_sent_us = meta.time_us;
    slot->last_sent_frame = meta.frame;
    slot->transmissions = transaction.request_retransmissions + 1;
}

// A back-to-back agent whose own onward call got no answer at all gives up when its transaction times
// out (RFC 3261 timer B, 32 s) and answers its caller then: an onward request placed while this request
// waited, sent again and never answered, at least delayed_response_ms before this 503.
std::optional<DownstreamFacts> SipEngine::silent_onward_call(const PacketMeta& meta, const SipMessage& response,
                                                             const Transaction& transaction) const {
    if (transaction.request_frame == 0 || !has_identity(response)) return std::nullopt;
    const std::int64_t long_wait_us = static_cast<std::int64_t>(settings_.delayed_response_ms) * 1000;
    if (meta.time_us - transaction.request_time_us < long_wait_us) return std::nullopt;
    const UnansweredOnwards* onwards = unanswered_onward_.find(responder_node(meta));
    if (!onwards) return std::nullopt;
    const std::uint64_t call = call_identity(response);
    const std::uint64_t method = hash_text(response.cseq_method);
    const std::uint64_t callee = user_key(response.to_user);
    const UnansweredOnward* best = nullptr;
    for (const UnansweredOnward& candidate : onwards->latest) {
        if (candidate.request_frame == 0 || candidate.call == call || candidate.method != method) continue;
        if (candidate.request_time_us < transaction.request_time_us || meta.time_us - candidate.request_time_us < long_wait_us)
            continue;
        const Transaction* onward = transactions_.find(candidate.transaction);
        if (!onward || onward->provisional_frame != 0 || onward->final_status != 0) continue;  // answered since
        const bool same_callee = callee != 0 && candidate.callee == callee;
        const bool best_same_callee = best && callee != 0 && best->callee == callee;
        if (!best || (same_callee && !best_same_callee) ||
            (same_callee == best_same_callee && candidate.request_time_us < best->request_time_us))
            best = &candidate;
    }
    if (!best) return std::nullopt;
    DownstreamFacts facts;
    facts.frame = best->last_sent_frame;
    facts.hop = best->hop;
    facts.own_call = true;
    facts.unanswered = true;
    facts.transmissions = best->transmissions;
    facts.same_callee = callee != 0 && best->callee == callee;
    facts.callee = best->callee_name;
    facts.onward_request_frame = best->request_frame;
    facts.onward_request_after_us = best->request_time_us - transaction.request_time_us;
    facts.unanswered_for_us = meta.time_us - best->request_time_us;
    return facts;
}

void SipEngine::gather_forwarding(const PacketMeta& meta, const SipMessage& response, SipFacts& facts) {
    if (!has_identity(response)) return;
    const Forwarding* forwarding = forwardings_.find(forwarding_key(response, responder_node(meta)));
    if (!forwarding) return;
    for (std::size_t i = 0; i < forwarding->count; ++i) {
        const ForwardedAttempt& attempt = forwarding->attempts[i];
        // A hop forgotten since (more servers than max_servers meanwhile) cannot be named: left out.
        const ServerContext* hop = servers_.find(attempt.hop);
        if (!hop) continue;
        const Transaction* onward = transactions_.find(attempt.transaction);
        SipFacts::Forwarded forwarded;
        forwarded.hop = hop->name;
        forwarded.hop_address = hop->endpoint.address;
        forwarded.hop_port = hop->endpoint.port;
        forwarded.frame = attempt.frame;
        if (onward) {
            forwarded.retransmissions = onward->request_retransmissions;
            forwarded.provisional_frame = onward->provisional_frame;
            forwarded.final_status = onward->final_status;
            forwarded.final_frame = onward->final_frame;
        }
        facts.forwarded.push_back(std::move(forwarded));
    }
}

RequestFacts SipEngine::request_facts(const Transaction& transaction, const SipMessage& response) {
    RequestFacts request;
    request.frame = transaction.request_frame;
    request.time_us = transaction.request_time_us;
    request.retransmissions = transaction.request_retransmissions;
    request.provisional_frame = transaction.provisional_frame;
    request.provisional_time_us = transaction.provisional_time_us;
    request.identity_missing = !has_identity(response);
    return request;
}

BoundFacts SipEngine::bound_facts(const ServerContext& server, const PacketMeta& meta) const {
    BoundFacts bounds;
    bounds.transactions_forgotten = transactions_.evicted_for_room_count();
    bounds.max_transactions = settings_.max_transactions;
    bounds.server_context_since_frame = server.context_since_frame;
    bounds.max_servers = settings_.max_servers;
    bounds.dialogs_forgotten = server.dialogs_forgotten;
    bounds.max_dialogs = settings_.max_dialogs;
    bounds.network_evidence_forgotten = network_.host_forgotten(meta.source.address);
    return bounds;
}

// Another address may be this server's own when it is neither the client nor a host that receives SIP
// requests itself (a SIP server's failures are its own).
bool SipEngine::may_be_another_address_of(const std::string& address, const PacketMeta& meta_503) const {
    return address != meta_503.source.address && address != meta_503.destination.address &&
           !receivers_.find(hash_text(address));
}

std::vector<NetworkEvent> SipEngine::tied_failures(const PacketMeta& meta, const Transaction& transaction, bool relays_a_503) {
    const std::int64_t now = meta.time_us;
    const std::int64_t since = now - seconds_to_us(settings_.evidence_window_s);
    const std::string& server = meta.source.address;
    // A 503 passed on from a next hop, by an agent whose address other agents share (its next hop among them
    // on one lab host): the address's failures cannot be told apart from that hop's, where the 503 began.
    if (relays_a_503 && shared_addresses_.find(hash_text(server))) return {};
    std::vector<NetworkEvent> tied = network_.failures_of(server, since, now);
    const std::vector<NetworkEvidence::SameHostAddress> same_host = network_.other_addresses_of(server);
    for (const auto& other : same_host) {
        for (NetworkEvent& event : network_.failures_of(other.address, since, now)) {
            event.tie = Tie::another_address_of_host;
            event.tie_detail = other.how;
            tied.push_back(std::move(event));
        }
    }
    // Tied once: its failures count only as what the server may have remembered (a negative DNS cache)
    // when it refuses at once; read before this request's own ties are learned.
    for (const std::string& other : network_.addresses_tied_once_to(server)) {
        for (NetworkEvent& event : network_.failures_of(other, since, now)) {
            event.tie = Tie::tied_once_earlier;
            tied.push_back(std::move(event));
        }
    }
    // A 503 passed on from the next hop began there: a failure tied by timing alone belongs to that hop
    // as much as to this server, and must not teach that its address is this server's.
    if (!relays_a_503 && transaction.request_frame != 0 && transaction.request_time_us <= now) {
        for (const std::string& other : network_.hosts_active_between(transaction.request_time_us, now)) {
            if (!may_be_another_address_of(other, meta) ||
                std::any_of(same_host.begin(), same_host.end(), [&](const auto& known) { return known.address == other; }))
                continue;
            std::vector<NetworkEvent> started = network_.failures_started_between(other, transaction.request_time_us, now);
            if (started.empty()) continue;
            network_.learn_same_host(server, other, now);
            drop_tied_once_copies(tied, started);
            tied.insert(tied.end(), std::make_move_iterator(started.begin()), std::make_move_iterator(started.end()));
        }
    }
    for (NetworkEvent& event : tied)
        if (event.kind == EvidenceKind::dns && !event.subject.empty())
            event.recovered_since = network_.resolved_since(event.host_address, event.subject, event.time_us) ||
                                    network_.resolved_since(event.host_address, srv_target_name(event.subject), event.time_us);
    std::stable_sort(tied.begin(), tied.end(), [](const NetworkEvent& a, const NetworkEvent& b) { return a.time_us < b.time_us; });
    return tied;
}

// A failure tied by this request's wait is tied more strongly than through an earlier request.
void SipEngine::drop_tied_once_copies(std::vector<NetworkEvent>& tied, const std::vector<NetworkEvent>& started) {
    tied.erase(std::remove_if(tied.begin(), tied.end(),
                              [&](const NetworkEvent& event) {
                                  return event.tie == Tie::tied_once_earlier &&
                                         std::any_of(started.begin(), started.end(),
                                                     [&](const NetworkEvent& other) { return other.frame == event.frame; });
                              }),
               tied.end());
}

// The device is where the Contact points (a third party may register for it); without a Contact in
// the answer, where the answer went.
void SipEngine::remember_registration(const PacketMeta& meta, const SipMessage& response) {
    if (response.to_user.empty()) return;
    const std::string& address = response.contact_host.empty() ? meta.destination.address : response.contact_host;
    Registration& registration = registrations_.get_or_insert(hash_text(address), meta.time_us, [](auto&, auto&) {});
    registration.user = response.to_user;
    registration.frame = meta.frame;
}

void SipEngine::gather_registered_addresses(SipFacts& facts) const {
    auto add = [&](const std::string& address) {
        const Registration* registration = registrations_.find(hash_text(address));
        if (!registration || address.empty()) return;
        for (const auto& known : facts.registered_addresses)
            if (known.address == address) return;
        facts.registered_addresses.push_back({address, registration->user, registration->frame});
    };
    for (const auto& attempt : facts.forwarded) add(attempt.hop_address);
    for (const NetworkEvent& event : facts.network_events)
        if (event.kind == EvidenceKind::transport) add(event.peer_address);
}

Verdict SipEngine::diagnose(const PacketMeta& meta, const SipMessage& response, const Transaction& transaction,
                         ServerContext& server) {
    const std::int64_t now = meta.time_us;
    SipFacts facts;
    facts.response = &response;
    facts.frame = meta.frame;
    facts.time_us = now;
    facts.server = server.name;
    facts.method = response.cseq_method;
    facts.response_cut_after_bytes = meta.cut_after_bytes;
    facts.request = request_facts(transaction, response);
    facts.bounds = bound_facts(server, meta);
    facts.load = server.load_at(now, settings_);
    facts.calls = server.call_counts();
    facts.scope = assess_scope(server, now, hash_text(response.cseq_method), settings_);
    if (facts.scope.common_user != 0) {
        facts.common_user_is_caller = facts.scope.common_user != user_key(response.to_user);
        facts.common_user_name = facts.common_user_is_caller ? response.from_user : response.to_user;
    }

    facts.onset = server.onset();
    if (server.overload_signal_frame != 0 && server.overload_signal_frame != meta.frame &&
        now - server.overload_signal_us <= kOverloadSignalMemoryUs)
        facts.overload_signal_frame = server.overload_signal_frame;

    const DownstreamFailure* failure = has_identity(response) ? downstream_failures_.find(cseq_identity(response)) : nullptr;
    if (failure) {
        const bool stream = meta.transport == Transport::tcp || meta.transport == Transport::tls;
        if (failure->receiver_address == (stream ? responder_node(meta) : meta.source.key())) {
            facts.downstream = downstream_facts(*failure);
        }
    }
    gather_forwarding(meta, response, facts);
    if (facts.downstream.frame == 0 && facts.forwarded.empty()) {
        if (auto own_call = failed_onward_call(meta, response, transaction)) facts.downstream = std::move(*own_call);
        else if (auto silent = silent_onward_call(meta, response, transaction)) facts.downstream = std::move(*silent);
    }
    facts.network_events = tied_failures(meta, transaction, facts.downstream.frame != 0 && facts.downstream.status == 503);
    gather_registered_addresses(facts);
    if (const HopHealth* health = hop_health_.find(responder_node(meta)); health && health->failed_frame != 0) {
        facts.hop_failure.frame = health->failed_frame;
        facts.hop_failure.time_us = health->failed_us;
        facts.hop_failure.hop = health->failed_hop;
        facts.hop_failure.hop_address = health->failed_hop_address;
        facts.hop_failure.succeeded_since = health->succeeded_us > health->failed_us;
    }
    if (const std::int64_t* onward = last_onward_request_us_.find(responder_node(meta)))
        facts.onward_requests_seen = now - *onward <= seconds_to_us(settings_.evidence_window_s);
    facts.client_address = meta.destination.address;
    facts.client_address_shared = shared_addresses_.find(hash_text(meta.destination.address)) != nullptr;
    facts.client_port = meta.destination.port;
    facts.client_sip_port = top_via_port_or(response, 0);
    facts.own_agent = server.own_agent;
    facts.own_agent_frame = server.own_agent_frame;

    Verdict verdict = classify_sip(facts, settings_);
    if (verdict.cause == Cause::upstream_failure && facts.downstream.frame == 0 && !facts.forwarded.empty())
        note_failed_hops(meta, facts.forwarded.back());
    const bool relays_503 = verdict.sip() && verdict.sip()->relays_503;
    verdict.frame = meta.frame;
    verdict.request_frame = transaction.request_frame;
    if (transaction.request_frame != 0 && now >= transaction.request_time_us)
        verdict.response_time_us = now - transaction.request_time_us;
    if (response.retry_after.valid) verdict.retry_after_seconds = response.retry_after.seconds;
    verdict.server = server.name;
    verdict.method = response.cseq_method;
    verdict.cut = meta.cut_after_bytes != 0;
    verdict.malformed = !response.anomalies.empty() && !verdict.cut;  // what a cut left unfinished is not malformed
    verdict.client_key = hash_text(response.from_user.empty() ? meta.destination.address : response.from_user);
    verdict.served_total = server.served_total;
    SipVerdictContext& context = verdict.context.emplace<SipVerdictContext>();
    context.active_dialogs = server.active_dialogs;
    context.relays_503 = relays_503;
    switch (facts.scope.kind) {
        case ScopeFacts::Kind::single_user: context.scope = Scope::single_user; break;
        case ScopeFacts::Kind::several_users: context.scope = Scope::several_users; break;
        case ScopeFacts::Kind::all_users: context.scope = Scope::all_users; break;
        case ScopeFacts::Kind::undetermined: context.scope = Scope::undetermined; break;
    }
    return verdict;
}

}  // namespace diag503
