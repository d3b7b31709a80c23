// Classification rules: phrases, Q.850 causes, Retry-After, overload control, timing, load, dialogs, scope, relays.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sip/sip_classifier.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "core/findings.hpp"
#include "core/text.hpp"
#include "sip/sip_rules.hpp"

namespace diag503 {
namespace {

// Ordered from the most specific to the most generic: a DNS failure toward a carrier is a DNS failure.
struct PhraseRule {
    Cause cause;
    std::array<std::string_view, 16> needles;  // unused slots stay empty
};
const std::array<PhraseRule, 7> kPhraseRules = {{
    {Cause::dns_failure, {"dns", "srv lookup", "naptr", "resolv", "nxdomain", "servfail", "no such host",
                          "host not found", "name lookup"}},
    {Cause::tls_failure, {"tls", "ssl", "certificate", "handshake", "x509"}},
    {Cause::database_failure, {"database", "db connection", "db error", "db unavailable", "sql", "postgres",
                               "redis", "mongo", "odbc"}},
    {Cause::maintenance, {"maintenance", "draining", "drain", "paused", "shutting down", "shutdown",
                          "out of service", "administratively"}},
    {Cause::capacity_limit, {"maximum calls", "max calls", "call limit", "calls limit", "too many calls",
                             "concurrent", "licen", "limit reached", "channel", "circuit", "capacity",
                             "congestion"}},
    {Cause::overload, {"overload", "too busy", "server busy", "system busy", "rate limit", "ratelimit", "throttl",
                       "too many requests", "load shed", "flood", "cps", "calls per second"}},
    {Cause::upstream_failure, {"gateway", "trunk", "no route", "unreachable", "timed out", "timeout",
                               "out of order", "temporary failure", "no response", "next hop", "carrier",
                               "no destination", "destination unavailable"}},
}};

}  // namespace

std::optional<Cause> cause_of_phrase(const std::string& text) {
    for (const auto& rule : kPhraseRules)
        for (std::string_view needle : rule.needles)
            if (!needle.empty() && icontains(text, needle)) return rule.cause;
    return std::nullopt;
}

std::optional<Cause> cause_of_q850(std::uint32_t q850_cause) {
    switch (q850_cause) {
        case 34:  // no circuit/channel available
        case 42:  // switching equipment congestion
            return Cause::capacity_limit;
        case 3:   // no route to destination
        case 27:  // destination out of order
        case 38:  // network out of order
        case 41:  // temporary failure
        case 47:  // resource unavailable, unspecified
        case 58:  // bearer capability not presently available
        case 88:  // incompatible destination
        case 102: // recovery on timer expiry
            return Cause::upstream_failure;
        default:
            return std::nullopt;
    }
}

namespace {

void phrase_rules(const SipMessage& response, std::uint32_t frame, Findings& findings) {
    auto consider = [&](const std::string& text, const char* where, SipRule rule_id) {
        if (auto cause = cause_of_phrase(text))
            findings.add(rule(rule_id), *cause, std::string(where) + " " + quoted(text) + " names the cause.", {frame});
    };
    consider(response.reason_phrase, "Reason phrase", SipRule::phrase_names_cause);
    for (const auto& warning : response.warnings)
        consider(warning.text, ("Warning " + std::to_string(warning.code) + " from " + warning.agent + ":").c_str(),
                 SipRule::phrase_names_cause);
    for (const auto& header : response.reason_headers) consider(header, "Header", SipRule::phrase_names_cause);
    for (const auto& reason : response.reasons)
        if (!reason.text.empty() && !reason.cause) consider(reason.text, "Reason text", SipRule::reason_text_names_cause);
}

// The major version of an "Asterisk PBX 22.10.1..." agent, or 0.
int asterisk_major_version(const std::string& agent) {
    constexpr std::string_view prefix = "Asterisk PBX ";
    if (agent.compare(0, prefix.size(), prefix) != 0) return 0;
    int major = 0;
    for (std::size_t i = prefix.size(); i < agent.size() && i < prefix.size() + 3 && std::isdigit(static_cast<unsigned char>(agent[i])); ++i)
        major = major * 10 + (agent[i] - '0');
    return major;
}

bool is_asterisk(const std::string& agent) { return asterisk_major_version(agent) > 0; }

// Who sent the 503: its Server or User-Agent header, else the agent of the server's own 100 Trying.
const std::string& agent_of(const SipFacts& facts) {
    const SipMessage& response = *facts.response;
    return !response.server.empty() ? response.server : !response.user_agent.empty() ? response.user_agent : facts.own_agent;
}

constexpr std::uint32_t kQ850NoCircuit = 34;
constexpr std::uint32_t kQ850NoRoute = 3;

bool onward_call_unseen(const SipFacts& facts) {
    return facts.forwarded.empty() && facts.downstream.frame == 0 && first_counted_failure(facts) == nullptr;
}

// No call was up when the server refused a new one, on a server whose calls and onward requests the
// capture shows: a limit on concurrent calls or circuits cannot be what refused it.
bool refused_with_no_call_up(const SipFacts& facts) {
    return iequals(facts.method, "INVITE") && facts.calls.active_dialogs == 0 && facts.calls.peak_active_dialogs > 0 &&
           facts.bounds.dialogs_forgotten == 0 && facts.onward_requests_seen && facts.forwarded.empty() &&
           facts.downstream.frame == 0;
}

// Words of the 503 that name a cause (its reason phrase, a Warning, a Reason's text), codes aside.
bool words_name_a_cause(const SipMessage& response) {
    if (cause_of_phrase(response.reason_phrase)) return true;
    for (const auto& warning : response.warnings)
        if (cause_of_phrase(warning.text)) return true;
    for (const auto& reason : response.reasons)
        if (cause_of_phrase(reason.text)) return true;
    for (const auto& header : response.reason_headers)
        if (cause_of_phrase(header)) return true;
    return false;
}

bool some_text_names_a_cause(const SipMessage& response) {
    if (words_name_a_cause(response)) return true;
    for (const auto& reason : response.reasons)
        if (reason.cause && cause_of_q850(*reason.cause)) return true;
    return false;
}

// A server that stopped taking calls keeps the calls it has and refuses every new one at once; a ceiling
// would take a new call once calls ended. Three or more new calls in a row from several users, refused
// at once and not sent on, after the server had taken calls, while its calls in progress went on and ended.
bool stopped_taking_new_calls(const SipFacts& facts, const Settings& settings) {
    const CallCountFacts& calls = facts.calls;
    using namespace sip_threshold;
    if (!iequals(facts.method, "INVITE") || calls.new_call_refusals < everyone_min_refusals || calls.new_call_run_users < 2)
        return false;
    if (calls.new_calls_taken_before_run < settings.min_other_users_served || !onward_call_unseen(facts)) return false;
    if (facts.hop_failure.frame != 0 && !facts.hop_failure.succeeded_since) return false;  // next hops held as down
    const std::int64_t elapsed = facts.time_us - facts.request.time_us;
    if (facts.request.frame == 0 || elapsed < 0 || elapsed > static_cast<std::int64_t>(settings.immediate_response_ms) * 1000)
        return false;
    return calls.active_dialogs < calls.active_at_new_call_run_start;  // a call ended meanwhile: no ceiling
}

void q850_rules(const SipFacts& facts, const Settings& settings, Findings& findings) {
    const SipMessage& response = *facts.response;
    const std::uint32_t frame = facts.frame;
    // A back-to-back agent that lost its own onward call writes its own Reason, its mapping of "the onward
    // call failed" (Asterisk: 34 for any 503 it got). A proxy passes the next hop's 503 on unchanged, so
    // there the Reason still names the cause where the 503 began.
    const bool own_mapping_of_onward_failure = facts.downstream.own_call && facts.downstream.status == 503;
    for (const auto& reason : response.reasons) {
        if (!reason.cause) continue;
        const std::string label = "Reason: " + reason.protocol + " cause " + std::to_string(*reason.cause) +
                                  (reason.text.empty() ? "" : " (" + quoted(reason.text) + ")");
        if (!iequals(reason.protocol, "Q.850")) {
            findings.note(label + " is carried along; it does not name a Q.850 cause.", {frame});
            continue;
        }
        if (auto cause = cause_of_q850(*reason.cause)) {
            if (*reason.cause == kQ850NoCircuit && is_asterisk(agent_of(facts)) && !own_mapping_of_onward_failure) {
                const std::string sentence = label + " from " + quoted(agent_of(facts)) +
                                             ": Asterisk's word for a failed dial or a dialplan Congestion(), not for its own "
                                             "circuits or limits (those carry cause 42)";
                // The vendor's word stands in for the onward call only where the capture does not show it.
                if (onward_call_unseen(facts))
                    findings.add(rule(SipRule::asterisk_q850_failed_dial), sentence + ".", {frame});
                else
                    findings.note(sentence + "; the server's own traffic shows what failed.", {frame});
            }
            else if (*reason.cause == kQ850NoRoute && is_asterisk(agent_of(facts)))
                findings.add(rule(SipRule::asterisk_q850_no_contact),
                             label + " from " + quoted(agent_of(facts)) +
                                 ": Asterisk's word for a destination with no usable contact (a phone not registered, a "
                                 "trunk whose keepalive failed), not a statement of what failed.", {frame});
            else if (*cause == Cause::capacity_limit && own_mapping_of_onward_failure)
                findings.note(label + ": this server's own wording for the failed onward call; it says nothing of its own circuits.", {frame});
            else if (*cause == Cause::capacity_limit && refused_with_no_call_up(facts))
                findings.add(rule(SipRule::q850_congestion_without_calls),
                             label + ": congestion named with no call up on the server, so its load, not a call limit.", {frame});
            else if (*cause == Cause::capacity_limit && stopped_taking_new_calls(facts, settings))
                findings.add(rule(SipRule::q850_congestion_without_calls),
                             label + ": congestion named while every new call is refused though calls in progress ended, "
                                     "so its load, not a call limit.", {frame});
            else if (*cause == Cause::capacity_limit)
                findings.add(rule(SipRule::q850_congestion), label + ": no free circuit or congestion, as the server maps it "
                                                             "(some send it for any failed call).", {frame});
            else
                findings.add(rule(SipRule::q850_network_failure), label + ": the next network or hop failed.", {frame});
        } else if (*reason.cause == 0 || *reason.cause > 127) {
            findings.note(label + " is not a defined Q.850 cause value; ignored.", {frame});
        } else {
            findings.note(label + " does not point at a cause of unavailability.", {frame});
        }
    }
}

// The cause the server's words name (reason phrase, Warning, Reason text, vendor headers); codes excluded.
std::optional<Cause> cause_named_in_words(const SipMessage& response) {
    if (auto cause = cause_of_phrase(response.reason_phrase)) return cause;
    for (const auto& warning : response.warnings)
        if (auto cause = cause_of_phrase(warning.text)) return cause;
    for (const auto& reason : response.reasons)
        if (auto cause = cause_of_phrase(reason.text)) return cause;
    for (const auto& header : response.reason_headers)
        if (auto cause = cause_of_phrase(header)) return cause;
    return std::nullopt;
}

void retry_after_rules(const SipMessage& response, std::uint32_t frame, const Settings& settings, Findings& findings) {
    const auto& retry = response.retry_after;
    if (!retry.present) {
        findings.note("No Retry-After: per RFC 3261 §21.5.4 clients treat this 503 like a 500 and do not back off.", {frame});
        return;
    }
    if (retry.conflicting) {
        findings.note("Retry-After is repeated with different values (" + retry.raw + "); neither is trusted.", {frame});
        return;
    }
    if (!retry.valid) {
        findings.note("Retry-After " + quoted(retry.raw) + " is not a valid delta-seconds value (RFC 3261 §20.33); ignored.", {frame});
        return;
    }
    std::string label = "Retry-After: " + std::to_string(retry.seconds) + " s";
    if (retry.clamped) label += " (sent as " + quoted(retry.raw) + ", beyond 2^32-1)";
    if (retry.duration_seconds) label += " (duration " + std::to_string(*retry.duration_seconds) + " s)";
    if (!retry.comment.empty()) label += " " + quoted(retry.comment);
    const std::optional<Cause> named = cause_named_in_words(response);
    const Cause suggested = retry.seconds <= settings.short_retry_after_s ? Cause::overload : Cause::maintenance;
    if (named && *named != suggested && (retry.seconds <= settings.short_retry_after_s || retry.seconds >= settings.long_retry_after_s)) {
        findings.add(rule(SipRule::retry_after_beside_own_words), suggested,
                     label + " weighs little beside the server's own words naming " + std::string(cause_name(*named)) +
                         ": a fixed back-off policy of the server, not a statement of the cause.", {frame});
        findings.add(rule(SipRule::retry_after_against_own_words), *named,
                     label + " does not fit " + std::string(cause_name(*named)) + ", which lowers the confidence.", {frame});
    } else if (retry.seconds <= settings.short_retry_after_s) {
        findings.add(rule(retry.seconds == 0 ? SipRule::retry_after_zero : SipRule::retry_after_short),
                     label + " is short: the server expects to recover within seconds (transient load).", {frame});
    } else if (retry.seconds >= settings.long_retry_after_s) {
        findings.add(rule(SipRule::retry_after_long), label + " is long: a planned or lengthy unavailability.", {frame});
        findings.add(rule(SipRule::retry_after_long_not_load), label + " is too long for transient load.", {frame});
    } else {
        findings.note(label + " is between a transient pause and planned downtime.", {frame});
    }
}

void overload_control_rules(const SipFacts& facts, Findings& findings) {
    const auto& vias = facts.response->vias;
    if (!vias.empty() && vias.front().overload_control && vias.front().overload_control->asks_to_reduce()) {
        const auto& control = *vias.front().overload_control;
        std::string sentence = "RFC 7339 overload control on this 503's Via";
        if (control.reduction_percent) sentence += ": reduce traffic by " + std::to_string(*control.reduction_percent) + "%";
        if (!control.algorithm.empty()) sentence += " (oc-algo " + control.algorithm + ")";
        findings.add(rule(SipRule::overload_control_on_503), sentence + ".", {facts.frame});
    } else if (facts.overload_signal_frame != 0) {
        findings.add(rule(SipRule::overload_control_recent),
                     "The server signalled RFC 7339 overload control shortly before (frame " +
                         std::to_string(facts.overload_signal_frame) + ").", {facts.overload_signal_frame});
    }
}

// What the state bounds cost this verdict: said, so that a thin verdict is not read as a clean one.
void eviction_notes(const SipFacts& facts, Findings& findings) {
    if (facts.bounds.server_context_since_frame != 0)
        findings.note("This server's earlier history was forgotten at the bound of " + std::to_string(facts.bounds.max_servers) +
                          " servers (preference diag503.max_servers): its load and scope evidence starts at frame " +
                          std::to_string(facts.bounds.server_context_since_frame) + ".",
                      {facts.bounds.server_context_since_frame});
    if (facts.bounds.dialogs_forgotten != 0)
        findings.note(counted(facts.bounds.dialogs_forgotten, "active call", "active calls") + " of this server were forgotten at the bound of " +
                      std::to_string(facts.bounds.max_dialogs) + " dialogs (preference diag503.max_dialogs): its active-call count may be low.");
    if (facts.bounds.network_evidence_forgotten)
        findings.note("This server's earlier DNS, TLS, ICMP, TCP and database evidence was forgotten at the bound of " +
                      std::to_string(facts.bounds.max_servers) + " hosts (preference diag503.max_servers): a failure may be missing.");
}

// The server's own traffic to the failed hop (its keepalive OPTIONS, a new connection) failing again
// after the hop's failure and before this request: the hop is still down, whatever its first failure's age.
const NetworkEvent* hop_still_failing(const SipFacts& facts) {
    const std::string& hop_address = facts.hop_failure.hop_address;
    const NetworkEvent* latest = nullptr;
    for (const NetworkEvent& event : facts.network_events)
        if (event.kind == EvidenceKind::transport && event.tie != Tie::during_wait_elsewhere &&
            event.tie != Tie::tied_once_earlier && event.peer_address == hop_address &&
            event.time_us > facts.hop_failure.time_us && event.time_us < facts.request.time_us)
            latest = &event;
    return latest;
}

bool hops_marked_down_rule(const SipFacts& facts, Findings& findings) {
    const SipFacts::HopFailure& failure = facts.hop_failure;
    if (failure.frame == 0 || failure.succeeded_since || !facts.forwarded.empty()) return false;
    const std::int64_t max_age = std::int64_t{sip_threshold::remembered_failure_max_age_s} * 1000000;
    const std::int64_t age = facts.request.time_us - failure.time_us;
    if (age < 0) return false;
    std::string since = " failed " + format_duration(age) + " before this request (frame " + std::to_string(failure.frame) + ")";
    std::vector<std::uint32_t> frames = {failure.frame, facts.frame};
    if (age > max_age) {
        const NetworkEvent* again = hop_still_failing(facts);
        if (!again || facts.request.time_us - again->time_us > max_age) return false;
        since = " failed (frame " + std::to_string(failure.frame) + ") and was still failing " +
                format_duration(facts.request.time_us - again->time_us) + " before this request (" + again->sentence + ")";
        frames = {failure.frame, again->frame, facts.frame};
    }
    findings.add(rule(SipRule::hops_marked_down),
                 "Its next hop " + failure.hop + since + " and no onward request of this server was answered since: "
                     "it refused without sending the request on, as a server does that holds its next hops as down.",
                 frames);
    return true;
}

void timing_rules(const SipFacts& facts, const Settings& settings, Findings& findings) {
    const bool cut = facts.response_cut_after_bytes != 0;
    if (cut)
        findings.note("The capture kept only the first " + std::to_string(facts.response_cut_after_bytes) +
                      " bytes of this 503 (snaplen): headers after them are unknown.");
    if (facts.request.identity_missing) {
        findings.note("The 503 has no Call-ID or CSeq" + std::string(cut ? " in the captured bytes" : "") +
                      ", so its request cannot be identified; response time and the request's history are unknown.");
        return;
    }
    if (facts.request.frame == 0) {
        if (facts.bounds.transactions_forgotten > 0) {
            findings.note("The request may be in the capture but forgotten: diag503 reached its bound of " +
                          std::to_string(facts.bounds.max_transactions) + " transactions (preference diag503.max_transactions) and dropped " +
                          std::to_string(facts.bounds.transactions_forgotten) + " older ones; response time and the request's history are unknown.");
            return;
        }
        findings.note("The request was not captured: response time and the request's history are unknown.");
        return;
    }
    const std::int64_t elapsed = facts.time_us - facts.request.time_us;
    const std::vector<std::uint32_t> frames = {facts.request.frame, facts.frame};
    if (elapsed < 0) {
        findings.note("The 503 is time-stamped " + format_duration(-elapsed) +
                      " before its request (out-of-order capture); timing is ignored.", frames);
        return;
    }
    const std::string when = "Answered " + format_duration(elapsed) + " after the request (frame " +
                             std::to_string(facts.request.frame) + ")";
    if (facts.request.retransmissions > 0)
        findings.note("The client retransmitted the request " + counted(facts.request.retransmissions, "time", "times") +
                      " before this answer.", frames);
    if (elapsed <= static_cast<std::int64_t>(settings.immediate_response_ms) * 1000) {
        if (facts.downstream.frame != 0 || met_failure_during_request(facts)) {
            findings.note(when + ": the next hop's failure was passed on at once.", frames);
            return;
        }
        // Mild: a server that already knows its next hops are down (e.g. all gateways marked
        // inactive) also refuses at once.
        const std::string sentence = when + ": refused at once, without trying any other hop.";
        const bool hops_down = hops_marked_down_rule(facts, findings);
        for (SipRule local : {SipRule::immediate_not_downstream, SipRule::immediate_overload, SipRule::immediate_capacity,
                              SipRule::immediate_maintenance})
            if (!(hops_down && local == SipRule::immediate_not_downstream)) findings.add(rule(local), sentence, frames);
    } else if (elapsed >= static_cast<std::int64_t>(settings.delayed_response_ms) * 1000) {
        std::string sentence = when;
        std::vector<std::uint32_t> delayed_frames = frames;
        if (facts.request.provisional_frame != 0) {
            sentence += ", after a provisional answer in frame " + std::to_string(facts.request.provisional_frame);
            delayed_frames.insert(delayed_frames.begin() + 1, facts.request.provisional_frame);
        }
        const bool not_forwarded = facts.forwarded.empty() && facts.downstream.frame == 0 && facts.onward_requests_seen;
        if (not_forwarded)
            findings.add(rule(SipRule::delayed_not_forwarded),
                         sentence + ": the server waited, yet no onward copy of this request is in the capture while its "
                                    "other onward requests are; it waited on something it did not forward to.", delayed_frames);
        else
            findings.add(rule(facts.request.provisional_frame ? SipRule::delayed_after_provisional : SipRule::delayed),
                         sentence + ": the server waited on a downstream hop that failed or did not answer.", delayed_frames);
        findings.add(rule(SipRule::delayed_not_capacity), "A capacity refusal would be immediate.", frames);
        findings.add(rule(SipRule::delayed_not_maintenance), "A server in maintenance refuses at once.", frames);
    } else {
        findings.note(when + ": neither an immediate refusal nor a downstream timeout.", frames);
    }
}

// The chance that requests arriving at random at `expected` per window give at least `observed` in one
// window (the Poisson upper tail). Past an expectation of 30 a threefold rise is never chance.
double chance_of_at_least(std::uint32_t observed, double expected) {
    if (expected >= 30.0) return 0.0;
    double term = std::exp(-expected), below = 0.0;
    for (std::uint32_t count = 0; count < observed; ++count) {
        below += term;
        term *= expected / (count + 1);
    }
    return std::max(0.0, 1.0 - below);
}

void load_rules(const SipFacts& facts, const Settings& settings, Findings& findings) {
    if (facts.load.baseline_seconds < sip_threshold::surge_min_baseline_seconds ||
        facts.load.recent_requests < static_cast<std::uint32_t>(sip_threshold::surge_min_requests))
        return;
    const double recent_rate = static_cast<double>(facts.load.recent_requests) / settings.surge_window_s;
    const double baseline_rate = std::max(facts.load.baseline_per_second, 1.0 / facts.load.baseline_seconds);
    if (recent_rate < settings.surge_factor * baseline_rate) return;
    if (chance_of_at_least(facts.load.recent_requests, baseline_rate * settings.surge_window_s) * 1000.0 >=
        sip_threshold::surge_chance_per_thousand)
        return;
    char sentence[200];
    std::snprintf(sentence, sizeof sentence,
                  "Request rate at the server surged to %.1f/s against a median of %.1f/s over the %d s before", recent_rate,
                  baseline_rate, facts.load.baseline_seconds);
    if (facts.load.served_during_surge > 0) {
        findings.add(rule(SipRule::surge_while_serving), std::string(sentence) + ", while " +
                                              counted(facts.load.served_during_surge, "other request was", "other requests were") +
                                              " still served: load shedding.", {facts.frame});
    } else {
        findings.add(rule(SipRule::surge), std::string(sentence) + ".", {facts.frame});
    }
}

// A call ceiling shows as refusals at one count that calls never exceed; it is confirmed when the
// count dipped (a call ended) and the refusals resumed at the same count. Consecutive refusals in a
// burst, with no dip, show nothing more than the first.
// The cause a Q.850 code of the 503 names, Asterisk's 34 aside: its word for a dialplan Congestion()
// or a failed dial, never for its own circuits or limits.
std::optional<Cause> cause_named_by_code(const SipFacts& facts, const ReasonValue& reason) {
    if (!reason.cause || !iequals(reason.protocol, "Q.850")) return std::nullopt;
    if (*reason.cause == kQ850NoCircuit && is_asterisk(agent_of(facts))) return std::nullopt;
    return cause_of_q850(*reason.cause);
}

bool names_own_circuit_shortage(const SipFacts& facts) {
    if (facts.downstream.frame != 0) return false;
    for (const auto& reason : facts.response->reasons)
        if (cause_named_by_code(facts, reason) == Cause::capacity_limit) return true;
    return false;
}

// The most calls the server held at once since its earlier refusal at the lowest count.
std::uint32_t most_carried_since_earlier_refusal(const CallCountFacts& calls) {
    return std::max(calls.peak_since_lowest_503, calls.active_dialogs);
}

// After an earlier refusal the server held more calls at once than it had then: no ceiling refused that
// one, whether this refusal comes while those calls are up or after some ended.
bool carried_beyond_an_earlier_refusal(const CallCountFacts& calls) {
    return calls.lowest_dialogs_503_frame != 0 && most_carried_since_earlier_refusal(calls) > calls.lowest_dialogs_at_a_503;
}

void dialog_rules(const SipFacts& facts, const Settings& settings, Findings& findings) {
    if (refused_with_no_call_up(facts)) {
        findings.add(rule(SipRule::no_call_up_not_capacity),
                     "No call was in progress on the server when it refused, though it had carried " +
                         counted(facts.calls.peak_active_dialogs, "call", "calls at once") +
                         " earlier: no limit on concurrent calls was reached.",
                     {facts.frame});
        return;
    }
    if (!iequals(facts.method, "INVITE") || facts.calls.active_dialogs < settings.min_dialogs_for_ceiling) return;
    // A call ceiling refuses before sending the request on: the count says nothing of a request this
    // server forwarded (a proxy relaying its next hop's refusal) or of a call it placed itself.
    if (facts.downstream.frame != 0 || !facts.forwarded.empty()) return;
    // A server-wide count cannot judge a shortage the server names on one route (Q.850 34, 42).
    if (carried_beyond_an_earlier_refusal(facts.calls) && !names_own_circuit_shortage(facts)) {
        findings.add(rule(SipRule::calls_beyond_earlier_refusal),
                     "Since an earlier 503 (frame " + std::to_string(facts.calls.lowest_dialogs_503_frame) + ") at " +
                         std::to_string(facts.calls.lowest_dialogs_at_a_503) + " calls in progress, the server carried up to " +
                         std::to_string(most_carried_since_earlier_refusal(facts.calls)) +
                         " at once: the refusals do not follow a fixed call ceiling.",
                     {facts.calls.lowest_dialogs_503_frame, facts.frame});
        return;
    }
    if (facts.calls.active_dialogs < facts.calls.peak_active_dialogs) return;
    findings.add(rule(SipRule::calls_at_peak),
                 std::to_string(facts.calls.active_dialogs) + " calls were in progress on the server (answered or being set up), its highest count in the capture.",
                 {facts.frame});
    const std::string ceiling = "a ceiling of " + std::to_string(facts.calls.active_dialogs) + " concurrent calls.";
    const std::int64_t held_us = facts.time_us - facts.calls.plateau_first_us;
    if (facts.calls.previous_503_frame != 0 && facts.calls.dialogs_at_previous_503 == facts.calls.active_dialogs &&
        facts.calls.dialogs_dipped_since_previous_503) {
        findings.add(rule(SipRule::ceiling_after_dip),
                     "Calls ended since the previous 503 (frame " + std::to_string(facts.calls.previous_503_frame) +
                         "), yet refusals resumed at the same count: " + ceiling,
                     {facts.calls.previous_503_frame, facts.frame});
    } else if (facts.calls.plateau_first_frame != 0 && held_us >= static_cast<std::int64_t>(settings.ceiling_hold_s) * 1000000) {
        findings.add(rule(SipRule::ceiling_held),
                     "The count held at " + std::to_string(facts.calls.active_dialogs) + " calls through " +
                         counted(facts.calls.plateau_refusals + 1, "refusal", "refusals") + " over " + format_duration(held_us) +
                         " since frame " + std::to_string(facts.calls.plateau_first_frame) + ": " + ceiling,
                     {facts.calls.plateau_first_frame, facts.frame});
    }
}

void scope_rules(const SipFacts& facts, const Settings& settings, Findings& findings) {
    const auto& scope = facts.scope;
    const std::string window = " in the last " + std::to_string(settings.scope_window_s) + " s";
    using Kind = ScopeFacts::Kind;
    if (scope.kind == Kind::single_user) {
        const std::string sentence = "Only user " + quoted(facts.common_user_name) + " is refused (" +
                                     counted(scope.failures_of_common_user, "503", "503s") + ") while " +
                                     counted(scope.users_served, "other user", "other users") + " had " + facts.method +
                                     " requests served" + window;
        const std::vector<std::uint32_t> frames = {scope.first_refused_frame, scope.last_served_frame, facts.frame};
        const auto& retry = facts.response->retry_after;
        const bool caller_throttled = facts.common_user_is_caller && retry.valid && retry.seconds > 0 &&
                                      retry.seconds <= settings.short_retry_after_s;
        if (caller_throttled) {
            // A short back-off asked of one caller while others pass is a per-client rate limit.
            findings.add(rule(SipRule::single_caller_throttled), sentence + ", each time with a short Retry-After: the server throttles this caller.",
                         frames);
        } else if (scope.failures_of_common_user >= settings.min_user_failures &&
                   scope.users_served >= settings.min_other_users_served) {
            findings.add(rule(SipRule::single_user_refused), sentence + ": the fault follows this user's routing or registration.", frames);
            for (SipRule server_wide : {SipRule::others_served_not_overload, SipRule::others_served_not_capacity,
                                        SipRule::others_served_not_maintenance})
                findings.add(rule(server_wide), "Other users are served, so the server as a whole is not refusing.", frames);
        } else {
            findings.note(sentence + ".", frames);
        }
    } else if (scope.kind == Kind::all_users) {
        const std::string sentence = "Every request" + window + " was refused (" + counted(scope.refused_in_window, "503", "503s") +
                                     ", " + counted(scope.users_refused, "user", "users") + ", " +
                                     counted(scope.methods_refused, "method", "methods") + "); none was served.";
        using namespace sip_threshold;
        const bool broad = scope.refused_in_window >= everyone_min_refusals &&
                           (scope.methods_refused >= everyone_min_methods || scope.users_refused >= everyone_min_users);
        if (broad) findings.add(rule(SipRule::everyone_refused), sentence, {scope.first_refused_frame, facts.frame});
        else findings.note(sentence, {scope.first_refused_frame, facts.frame});
    } else if (scope.kind == Kind::several_users) {
        findings.note(counted(scope.refused_in_window, "request", "requests") + " refused and " +
                      std::to_string(scope.served_in_window) + " served" + window + ".",
                      {scope.first_refused_frame, scope.last_served_frame});
    }
}

void onset_note(const SipFacts& facts, Findings& findings) {
    if (facts.onset.failure_run_first_frame == 0 || facts.onset.failures_in_run < 2) return;
    std::string sentence = "Onset: " + counted(facts.onset.failures_in_run, "503", "503s") + " since frame " +
                           std::to_string(facts.onset.failure_run_first_frame);
    std::vector<std::uint32_t> frames = {facts.onset.failure_run_first_frame};
    if (facts.onset.last_served_frame != 0 && facts.onset.last_served_us <= facts.onset.failure_run_first_us) {
        sentence += ", " + format_duration(facts.onset.failure_run_first_us - facts.onset.last_served_us) +
                    " after the last served request (frame " + std::to_string(facts.onset.last_served_frame) + ")";
        frames.insert(frames.begin(), facts.onset.last_served_frame);
    }
    if (const NetworkEvent* first = first_counted_failure(facts); first && first->time_us <= facts.onset.failure_run_first_us) {
        sentence += "; the first failure of other traffic came before it, in frame " + std::to_string(first->frame);
        frames.push_back(first->frame);
    }
    findings.note(sentence + ".", frames);
}

// Asterisk 21 and later (PJSIP only) put Q.850 Reason on every final response of a call that got a
// channel (res_pjsip_rfc3326), 42 at its call and load limits, 34 for failed dials. An INVITE it
// answered 100 Trying and then 503 without Reason or Retry-After never got a channel: the channel
// allocator refuses while "core stop gracefully" runs (docs/vendor_503.md).
void vendor_rules(const SipFacts& facts, Findings& findings) {
    const SipMessage& response = *facts.response;
    const std::string& agent = agent_of(facts);
    if (asterisk_major_version(agent) < 21 || !iequals(facts.method, "INVITE")) return;
    if (!response.reasons.empty() || response.retry_after.present || facts.response_cut_after_bytes != 0) return;
    if (facts.request.frame == 0 || facts.request.provisional_frame == 0 || facts.downstream.frame != 0) return;
    const std::vector<std::uint32_t> frames = {facts.request.provisional_frame, facts.frame};
    const std::string sentence = quoted(agent) + " answered 100 Trying and then this 503 without a Reason header: Asterisk "
                                 "adds one to every refusal of a call it admitted, Q.850 42 at its call and load limits, "
                                 "so no call was set up at all, as while it shuts down (core stop gracefully).";
    findings.add(rule(SipRule::asterisk_refused_without_channel), sentence, frames);
    findings.add(rule(SipRule::asterisk_without_channel_not_limit), sentence, frames);
    findings.add(rule(SipRule::asterisk_without_channel_not_overload), sentence, frames);
}

void own_call_relay_rules(const SipFacts& facts, Findings& findings) {
    const DownstreamFacts& onward = facts.downstream;
    const std::vector<std::uint32_t> frames = {onward.onward_request_frame, onward.frame, facts.frame};
    const std::string whom = onward.same_callee ? "to the same callee" + (onward.callee.empty() ? std::string() : " (" + onward.callee + ")")
                                                : "to another callee" + (onward.callee.empty() ? std::string() : " (" + onward.callee + ")");
    const std::string placed = "This server placed its own " + facts.method + " " + whom + " in frame " +
                               std::to_string(onward.onward_request_frame) + ", " +
                               format_duration(onward.onward_request_after_us) + " after this request arrived";
    if (onward.unanswered) {
        findings.add(rule(onward.same_callee ? SipRule::silent_hop_own_call : SipRule::silent_hop_own_call_timing),
                     placed + "; the next hop " + onward.hop + " never answered it (sent " +
                         counted(onward.transmissions, "time", "times") + ", the last in frame " +
                         std::to_string(onward.frame) + "), and this 503 came " + format_duration(onward.unanswered_for_us) +
                         " after it was first sent, as a SIP transaction gives up on a silent hop" +
                         (onward.same_callee ? "." : "; tied by timing only."),
                     frames);
        add_forwarded_not_refused(findings, frames);
        return;
    }
    findings.add(rule(onward.same_callee ? SipRule::relayed_failure_own_call : SipRule::relayed_failure_own_call_timing),
                 placed + ", and the next hop " + onward.hop + " answered it " + std::to_string(onward.status) +
                     " in frame " + std::to_string(onward.frame) + ": this 503 passes that failure on" +
                     (onward.same_callee ? "." : ", tied by timing only."),
                 frames);
    add_forwarded_not_refused(findings, frames);
}

void relay_rules(const SipFacts& facts, Findings& findings) {
    if (facts.downstream.frame == 0) return;
    if (facts.downstream.own_call) {
        own_call_relay_rules(facts, findings);
        return;
    }
    const std::vector<std::uint32_t> frames = {facts.downstream.frame, facts.frame};
    findings.add(rule(SipRule::relayed_failure),
                 "The next hop " + facts.downstream.hop + " answered " + std::to_string(facts.downstream.status) +
                     " to this server for the same call in frame " + std::to_string(facts.downstream.frame) +
                     ": this 503 passes a downstream failure on.", frames);
    // The server forwarded the request, so its own load, call limit or maintenance did not refuse it.
    add_forwarded_not_refused(findings, frames);
}

void parser_notes(const SipMessage& response, std::uint32_t frame, Findings& findings) {
    for (std::size_t i = 0; i < response.anomalies.size() && i < 3; ++i)
        findings.note("Malformed 503: " + response.anomalies[i], {frame});
}


bool names_a_cause_by_code(const SipFacts& facts) {
    for (const auto& reason : facts.response->reasons)
        if (cause_named_by_code(facts, reason)) return true;
    return false;
}

// A server taken out of service without a header (a dialplan switch, a proxy's maintenance route).
void stopped_taking_calls_rule(const SipFacts& facts, const Settings& settings, Findings& findings) {
    if (!stopped_taking_new_calls(facts, settings)) return;
    // Maintenance without any header: a Retry-After, words or a code naming a cause speak for themselves.
    if (facts.response->retry_after.present || words_name_a_cause(*facts.response) || names_a_cause_by_code(facts)) return;
    const CallCountFacts& calls = facts.calls;
    const std::vector<std::uint32_t> frames = {calls.new_call_run_first_frame, facts.frame};
    findings.add(rule(SipRule::new_calls_stopped),
                 "Every new call since frame " + std::to_string(calls.new_call_run_first_frame) + " was refused at once (" +
                     std::to_string(calls.new_call_refusals) + " in a row, callers and callees of several users), after the "
                     "server had taken " +
                     counted(static_cast<std::uint32_t>(std::min<std::uint64_t>(calls.new_calls_taken_before_run, 1000000)), "call", "calls") +
                     " before; its calls in progress went on and ended: it stopped taking calls, as a server taken out of service does.",
                 frames);
    findings.add(rule(SipRule::new_calls_stopped_not_capacity),
                 "Calls in progress went from " + std::to_string(calls.active_at_new_call_run_start) + " at the first of these "
                     "refusals to " + std::to_string(calls.active_dialogs) + ", and new calls were still refused: no fixed ceiling.",
                 frames);
}

bool answered_at_once(const SipFacts& facts, const Settings& settings) {
    const std::int64_t elapsed = facts.time_us - facts.request.time_us;
    return facts.request.frame != 0 && elapsed >= 0 && elapsed <= static_cast<std::int64_t>(settings.immediate_response_ms) * 1000;
}

// A server that sends other calls on and has admitted more calls than it had at an earlier refusal,
// yet refuses this one at once without trying anything, decided on what the call asked for: its
// callee's route or a dialplan rule. Its load, its call count and its hops did not refuse it.
void route_rules(const SipFacts& facts, const Settings& settings, Findings& findings) {
    if (!iequals(facts.method, "INVITE") || !answered_at_once(facts, settings) || !facts.onward_requests_seen) return;
    if (!onward_call_unseen(facts) || (facts.hop_failure.frame != 0 && !facts.hop_failure.succeeded_since)) return;
    if (cause_named_in_words(*facts.response) || names_a_cause_by_code(facts) || facts.response->retry_after.present) return;
    const auto& calls = facts.calls;
    if (!carried_beyond_an_earlier_refusal(calls)) return;
    if (facts.scope.served_in_window == 0 || facts.scope.kind == ScopeFacts::Kind::single_user) return;
    findings.add(rule(SipRule::refused_by_route),
                 "Refused at once with nothing tried, while this server sent other calls on and had carried up to " +
                     std::to_string(most_carried_since_earlier_refusal(calls)) + " at once, more than the " +
                     std::to_string(calls.lowest_dialogs_at_a_503) + " in progress at an earlier 503 (frame " +
                     std::to_string(calls.lowest_dialogs_503_frame) +
                     "): the refusal follows what this call asked for, such as a callee with no route or a dialplan rule.",
                 {calls.lowest_dialogs_503_frame, facts.frame});
}

std::string missing_evidence(const SipFacts& facts) {
    std::string missing = "Not enough evidence for a cause: ";
    std::vector<std::string> gaps;
    const auto& response = *facts.response;
    if (facts.response_cut_after_bytes != 0) gaps.push_back("headers cut off by the capture");
    if (!response.retry_after.present || !response.retry_after.valid) gaps.push_back("no usable Retry-After");
    if (response.reasons.empty() && response.warnings.empty() && response.reason_headers.empty())
        gaps.push_back("no Reason or Warning header");
    if (!some_text_names_a_cause(response)) gaps.push_back("no reason phrase naming a cause");
    else gaps.push_back("what the 503 names is a vendor's mapping or is contradicted by the other evidence");
    if (facts.request.frame != 0 && onward_call_unseen(facts) && !facts.onward_requests_seen)
        gaps.push_back("none of the server's own traffic (onward requests, lookups, connections, queries) is in the capture: "
                       "a capture on the server would show what it met");
    if (facts.request.identity_missing) gaps.push_back("request not identifiable");
    else if (facts.request.frame == 0) gaps.push_back("request not captured");
    if (facts.scope.served_in_window + facts.scope.refused_in_window < 2) gaps.push_back("no other traffic of this server to compare");
    for (std::size_t i = 0; i < gaps.size(); ++i) missing += (i ? ", " : "") + gaps[i];
    return missing + ".";
}

}  // namespace

Verdict classify_sip(const SipFacts& facts, const Settings& settings) {
    Findings findings;
    const SipMessage& response = *facts.response;
    phrase_rules(response, facts.frame, findings);
    q850_rules(facts, settings, findings);
    // A cut 503 may have had a Retry-After among the headers the capture lost: no claim about its absence.
    if (response.retry_after.present || facts.response_cut_after_bytes == 0) retry_after_rules(response, facts.frame, settings, findings);
    overload_control_rules(facts, findings);
    timing_rules(facts, settings, findings);
    eviction_notes(facts, findings);
    load_rules(facts, settings, findings);
    dialog_rules(facts, settings, findings);
    stopped_taking_calls_rule(facts, settings, findings);
    scope_rules(facts, settings, findings);
    route_rules(facts, settings, findings);
    relay_rules(facts, findings);
    vendor_rules(facts, findings);
    forwarding_rules(facts, settings, findings);
    network_rules(facts, settings, findings);
    const OriginFinding origin = origin_rules(facts, findings);
    onset_note(facts, findings);
    parser_notes(response, facts.frame, findings);

    Verdict verdict = decide(findings, missing_evidence(facts), Protocol::sip);
    verdict.origin = origin.origin;
    verdict.origin_frame = origin.frame;
    verdict.context = SipVerdictContext{Scope::undetermined, 0, origin.relays_503};
    return verdict;
}


}  // namespace diag503
