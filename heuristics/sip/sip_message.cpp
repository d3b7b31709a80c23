// Tolerant SIP parser: start line plus the headers diag503 reasons about; never throws on bad input.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sip/sip_message.hpp"

#include <limits>

#include "wire/header_block.hpp"
#include "core/text.hpp"

namespace diag503 {
namespace {

std::string stored(std::string_view text) { return printable(trim(text), kMaxStoredText); }
// Into a field of a reused message: its storage is kept.
void store(std::string& field, std::string_view text) { assign_printable(field, trim(text), kMaxStoredText); }

// RFC 3261 §7.3.3 compact forms of the headers we read.
std::string_view canonical_header_name(std::string_view name) {
    if (name.size() != 1) return name;
    switch (name[0] | 0x20) {
        case 'v': return "Via";
        case 'm': return "Contact";
        case 'i': return "Call-ID";
        case 'f': return "From";
        case 't': return "To";
        default: return name;
    }
}


bool parse_start_line(std::string_view line, SipMessage& message) {
    line = trim(line);
    if (istarts_with(line, "SIP/2.0 ")) {
        const auto rest = trim(line.substr(8));
        const auto code = parse_leading_decimal(rest);
        if (!code || code->value < 100 || code->value > 699) return false;
        message.status_code = static_cast<int>(code->value);
        const auto space = rest.find(' ');
        if (space != std::string_view::npos) store(message.reason_phrase, rest.substr(space + 1));
        return true;
    }
    const auto request = split_request_line(line, "SIP/");
    if (!request) return false;
    message.is_request = true;
    store(message.method, request->method);
    store(message.request_uri, request->uri);
    return true;
}

void read_cseq(std::string_view value, SipMessage& message) {
    value = trim(value);
    const auto number = parse_leading_decimal(value);
    if (!number || number->overflowed || number->value > std::numeric_limits<std::uint32_t>::max()) {
        message.anomalies.push_back("CSeq has no valid sequence number.");
        return;
    }
    message.has_cseq = true;
    message.cseq_number = static_cast<std::uint32_t>(number->value);
    const auto space = value.find_first_of(" \t");
    if (space != std::string_view::npos) store(message.cseq_method, value.substr(space + 1));
    if (message.cseq_method.empty()) message.anomalies.push_back("CSeq has no method.");
}

// What of a Via entry is read: a message that is not diagnosed needs only its branch and overload control.
enum class ViaDepth { routing, whole };
ViaEntry parse_via_entry(std::string_view item, ViaDepth depth = ViaDepth::whole);
// `plain`: nothing in the entry is quoted or bracketed, so its parameters split at every ';'.
void read_via_entry(std::string_view item, ViaDepth depth, bool plain, ViaEntry& via);

// The next Via entry of the stack, built in the storage a reused message's previous top entry left.
ViaEntry& next_via(SipMessage& message, ViaEntry& spare) {
    message.vias.push_back(std::move(spare));
    return message.vias.back();
}
std::string name_addr_tag(std::string_view value);
std::string_view uri_user_part(std::string_view uri);
void read_name_addr(std::string_view value, std::string& user, std::string& tag);
struct UriAndParameters {
    std::string_view uri;
    std::string_view parameters;
};
UriAndParameters split_name_addr(std::string_view value);

// The top entry of a Via value when nothing in it is quoted or bracketed, so that the first comma ends
// it: the common case, read without tracking nesting. Empty when the general reading is needed.
// The scan runs over the top Via of every message, eight bytes at a time.
std::string_view plain_top_via_entry(std::string_view value) {
    const std::size_t stop = find_first_of_four(value, ',', '"', '<', '(');
    if (stop == std::string_view::npos) return trim(value);
    return value[stop] == ',' ? trim(value.substr(0, stop)) : std::string_view{};
}

// Reads Via entries until the stack holds `limit` of them.
void read_via(std::string_view value, SipMessage& message, std::size_t limit, ViaDepth depth, ViaEntry& spare) {
    if (message.vias.size() >= limit) {  // a later Via header line: only the top ones are wanted
        if (limit == kMaxVias && !trim(value).empty()) message.via_stack_truncated = true;
        return;
    }
    if (limit == 1)
        if (const auto entry = plain_top_via_entry(value); !entry.empty()) {
            read_via_entry(entry, depth, true, next_via(message, spare));
            return;
        }
    for_each_top_level(value, ',', [&](std::string_view item) {
        if (item.empty()) return true;
        if (message.vias.size() >= kMaxVias) {
            message.via_stack_truncated = true;
            return false;
        }
        if (message.vias.empty()) read_via_entry(item, depth, false, next_via(message, spare));
        else message.vias.push_back(parse_via_entry(item, depth));
        return message.vias.size() < limit;  // stop scanning as soon as enough entries are read
    });
}


template <typename Value>
void append_capped(std::vector<Value>& into, std::vector<Value> values) {
    for (auto& value : values)
        if (into.size() < kMaxListedValues) into.push_back(std::move(value));
}

// Headers where vendors put the reason for a failure: X-...-Reason/Cause/Error, and Microsoft's
// ms-diagnostics (Teams Direct Routing, Skype for Business).
bool is_vendor_reason_header(std::string_view name) {
    if (istarts_with(name, "ms-diagnostics")) return true;
    return istarts_with(name, "X-") &&
           (icontains(name, "reason") || icontains(name, "cause") || icontains(name, "error"));
}

// What a message is read for. Every message feeds transactions, dialogs and load; only a 503 is
// diagnosed, so only a 503 needs its whole Via stack and the headers that explain it, and only
// a 100 Trying (never relayed) tells the server's own Server header.
struct ReadingDepth {
    bool diagnosed = false;
    bool agent = false;
    bool users = false;  // outcomes are counted per user on responses; a request needs only its To tag
    ViaEntry* spare_via = nullptr;  // storage for the top Via entry, from the reused message
};

// The headers every message is read for, as bits: a message that is not diagnosed is read only until
// it has shown each of them once.
enum RoutingHeader : unsigned { kViaHeader = 1, kCallIdHeader = 2, kCSeqHeader = 4, kFromHeader = 8, kToHeader = 16 };

// Returns the routing header the line was, or 0.
unsigned read_header(std::string_view name, std::string_view value, SipMessage& message, ReadingDepth depth) {
    name = canonical_header_name(trim(name));
    if (name.empty()) return 0;
    value = trim(value);
    switch (name[0] | 0x20) {  // the first letter picks the few names worth comparing
        case 'v':
            if (!iequals(name, "Via")) return 0;
            if (depth.diagnosed) read_via(value, message, kMaxVias, ViaDepth::whole, *depth.spare_via);
            else read_via(value, message, 1, ViaDepth::routing, *depth.spare_via);
            return kViaHeader;
        case 'c':
            if (iequals(name, "Call-ID")) {
                if (!message.call_id.empty()) message.anomalies.push_back("Call-ID appears more than once.");
                else store(message.call_id, value);
                return kCallIdHeader;
            }
            if (iequals(name, "CSeq")) {
                read_cseq(value, message);
                return kCSeqHeader;
            }
            return 0;
        case 'f':
            if (!depth.users || !iequals(name, "From")) return 0;
            if (depth.diagnosed) read_name_addr(value, message.from_user, message.from_tag);
            else store(message.from_user, uri_user_part(split_name_addr(value).uri));
            return kFromHeader;
        case 't':
            if (!iequals(name, "To")) return 0;
            if (depth.diagnosed) read_name_addr(value, message.to_user, message.to_tag);
            else if (depth.users) store(message.to_user, uri_user_part(split_name_addr(value).uri));
            else message.to_tag = name_addr_tag(value);
            return kToHeader;
        case 's':
            if (depth.agent && iequals(name, "Server")) store(message.server, value);
            return 0;
        case 'u':
            if (depth.agent && iequals(name, "User-Agent")) store(message.user_agent, value);
            return 0;
        default: break;
    }
    if (!depth.diagnosed) return 0;
    if (iequals(name, "Retry-After")) merge_retry_after(message.retry_after, value, message.anomalies);
    else if (iequals(name, "Reason")) append_capped(message.reasons, parse_reason_values(value));
    else if (iequals(name, "Warning")) append_capped(message.warnings, parse_warning_values(value));
    else if (is_vendor_reason_header(name) && message.reason_headers.size() < kMaxListedValues)
        message.reason_headers.push_back(stored(std::string(trim(name)) + ": " + std::string(value)));
    return 0;
}


// "value;p1=a;p2" -> {"value", "p1=a;p2"}
struct ValueAndParameters {
    std::string_view value;
    std::string_view parameters;
};
ValueAndParameters split_parameters(std::string_view item) {
    const auto semicolon = item.find(';');
    if (semicolon == std::string_view::npos) return {trim(item), {}};
    return {trim(item.substr(0, semicolon)), item.substr(semicolon + 1)};
}


// Position of the first '<' that is not inside a quoted display name, or npos.
std::size_t unquoted_angle_bracket(std::string_view text) {
    bool in_quotes = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (in_quotes && text[i] == '\\') ++i;
        else if (text[i] == '"') in_quotes = !in_quotes;
        else if (text[i] == '<' && !in_quotes) return i;
    }
    return std::string_view::npos;
}

}  // namespace

const std::string& SipMessage::top_branch() const {
    static const std::string none;
    return vias.empty() ? none : vias.front().branch;
}

namespace {

// `call_hash`: hash_text(message.call_id), so that the parser hashes the Call-ID once.
std::uint64_t hash_cseq_identity(const SipMessage& message, std::uint64_t call_hash) {
    const char number[4] = {static_cast<char>(message.cseq_number >> 24), static_cast<char>(message.cseq_number >> 16),
                            static_cast<char>(message.cseq_number >> 8), static_cast<char>(message.cseq_number)};
    return hash_text(message.cseq_method, hash_text(std::string_view(number, 4), call_hash));
}

}  // namespace

std::uint64_t cseq_identity(const SipMessage& message) {
    return message.identities_hashed ? message.cseq_hash : hash_cseq_identity(message, hash_text(message.call_id));
}

std::uint64_t call_identity(const SipMessage& message) {
    return message.identities_hashed ? message.call_hash : hash_text(message.call_id);
}

namespace {

// A registrar's 2xx lists the bindings: the first Contact's host. Read in a second pass over the
// headers, only for a 2xx to REGISTER (its CSeq may come after the Contact), so no other message pays.
void read_registered_contact(std::string_view text, SipMessage& message) {
    read_header_block(text, [&](std::string_view name, std::string_view value) {
        if (message.contact_host.empty() && iequals(canonical_header_name(trim(name)), "Contact"))
            message.contact_host = name_addr_host(trim(value));
    });
}

}  // namespace

namespace {

// Empties every field while keeping the storage of its strings and vectors; the top Via entry is
// moved to `spare` so that the next message's top entry reuses its strings.
void clear_for_reuse(SipMessage& message, ViaEntry& spare) {
    if (!message.vias.empty()) spare = std::move(message.vias.front());
    message.vias.clear();
    message.is_request = false;
    message.method.clear();
    message.request_uri.clear();
    message.status_code = 0;
    message.reason_phrase.clear();
    message.call_id.clear();
    message.has_cseq = false;
    message.cseq_number = 0;
    message.cseq_method.clear();
    message.via_stack_truncated = false;
    for (std::string* text : {&message.from_user, &message.from_tag, &message.to_user, &message.to_tag,
                              &message.contact_host, &message.server, &message.user_agent})
        text->clear();
    message.retry_after = RetryAfter{};
    message.reasons.clear();
    message.warnings.clear();
    message.reason_headers.clear();
    message.anomalies.clear();
    message.identities_hashed = false;
    message.call_hash = 0;
    message.cseq_hash = 0;
}

}  // namespace

bool parse_sip_message_into(std::string_view text, SipMessage& message) {
    ViaEntry spare;
    clear_for_reuse(message, spare);
    if (!parse_start_line(first_line(text), message)) return false;
    ReadingDepth depth;
    depth.diagnosed = message.status_code == 503;
    depth.agent = depth.diagnosed || message.status_code == 100;
    depth.users = !message.is_request;
    depth.spare_via = &spare;
    // Most of a message's lines (Contact, Allow, Supported, Content-*) serve no engine: a message that is
    // neither diagnosed nor asked for its agent stops at the last routing header it is read for.
    const unsigned wanted = depth.diagnosed || depth.agent
                                ? ~0u
                                : kViaHeader | kCallIdHeader | kCSeqHeader | kToHeader | (depth.users ? kFromHeader : 0u);
    unsigned seen = 0;
    const HeaderBlock block = read_header_block(text, [&](std::string_view name, std::string_view value) {
        seen |= read_header(name, value, message, depth);
        return (seen & wanted) != wanted;
    });
    if (block.lines_without_colon > 0) message.anomalies.push_back("A header line without a colon was skipped.");
    if (message.status_code >= 200 && message.status_code < 300 && iequals(message.cseq_method, "REGISTER"))
        read_registered_contact(text, message);
    if (message.call_id.empty()) message.anomalies.push_back("Call-ID is missing.");
    if (!message.has_cseq) message.anomalies.push_back("CSeq is missing or invalid.");
    if (message.vias.empty()) message.anomalies.push_back("Via is missing.");
    message.call_hash = hash_text(message.call_id);
    message.cseq_hash = hash_cseq_identity(message, message.call_hash);
    message.identities_hashed = true;
    return true;
}

std::optional<SipMessage> parse_sip_message(std::string_view text) {
    std::optional<SipMessage> parsed(std::in_place);  // built where it is returned: a SipMessage is large to move
    if (!parse_sip_message_into(text, *parsed)) parsed.reset();
    return parsed;
}

namespace {

using ViaParameter = std::optional<std::string_view>;

// Where a Via parameter of interest goes, picked by the name's length before any comparison.
ViaParameter* via_parameter_slot(std::string_view key, ViaParameter& branch, ViaParameter& received, ViaParameter& oc,
                                 ViaParameter& algorithm, ViaParameter& validity, ViaParameter& sequence) {
    switch (key.size()) {
        case 2: return iequals(key, "oc") ? &oc : nullptr;
        case 6: return iequals(key, "branch") ? &branch : iequals(key, "oc-seq") ? &sequence : nullptr;
        case 7: return iequals(key, "oc-algo") ? &algorithm : nullptr;
        case 8: return iequals(key, "received") ? &received : nullptr;
        case 11: return iequals(key, "oc-validity") ? &validity : nullptr;
        default: return nullptr;
    }
}

// The port a Via's "SIP/2.0/UDP host[:port]" names ("[2001:db8::1]:5070" for IPv6), 0 when it names none or
// no valid one. Read from the end, on every message's top Via: no search of the whole text.
std::uint16_t sent_by_port(std::string_view protocol_and_host) {
    auto is_blank = [](char c) { return c == ' ' || c == '\t'; };
    std::size_t end = protocol_and_host.size();
    while (end > 0 && is_blank(protocol_and_host[end - 1])) --end;
    std::size_t digits = end;
    std::uint32_t port = 0, scale = 1;
    while (digits > 0 && protocol_and_host[digits - 1] >= '0' && protocol_and_host[digits - 1] <= '9' && end - digits < 6) {
        port += scale * static_cast<std::uint32_t>(protocol_and_host[--digits] - '0');
        scale *= 10;
    }
    if (digits == end || end - digits > 5 || digits < 2 || protocol_and_host[digits - 1] != ':' || port > 65535) return 0;
    // An IPv6 address without brackets is not a valid sent-by (RFC 3261 §25.1); its last group would read as
    // a port here, and is not looked for: the port only tells apart agents that share one address.
    return static_cast<std::uint16_t>(port);
}

// One Via entry, its parameters read in a single pass (the first of a repeated parameter counts).
ViaEntry parse_via_entry(std::string_view item, ViaDepth depth) {
    ViaEntry via;
    read_via_entry(item, depth, false, via);
    return via;
}

// Writes every field of `via`, reusing its strings' storage.
void read_via_entry(std::string_view item, ViaDepth depth, bool plain, ViaEntry& via) {
    via.transport.clear();
    via.sent_by.clear();
    via.branch.clear();
    via.received.clear();
    via.overload_control.reset();
    const auto [protocol_and_host, parameters] = split_parameters(item);
    via.sent_by_port = sent_by_port(protocol_and_host);
    if (depth == ViaDepth::whole) {
        const auto space = protocol_and_host.find_first_of(" \t");
        const auto protocol = protocol_and_host.substr(0, space);
        const auto slash = protocol.rfind('/');
        store(via.transport, slash == std::string_view::npos ? protocol : protocol.substr(slash + 1));
        if (space != std::string_view::npos) store(via.sent_by, protocol_and_host.substr(space + 1));
    }
    std::optional<std::string_view> branch, received, oc, algorithm, validity, sequence;
    auto read_parameter = [&](std::string_view parameter) {
        const auto equals = parameter.find('=');
        const auto key = trim(parameter.substr(0, equals));
        const auto value = equals == std::string_view::npos ? std::string_view{} : trim(parameter.substr(equals + 1));
        if (auto* slot = via_parameter_slot(key, branch, received, oc, algorithm, validity, sequence); slot && !*slot)
            *slot = value;
        return true;
    };
    if (plain) for_each_plain_part(parameters, ';', read_parameter);
    else for_each_top_level(parameters, ';', read_parameter);
    if (branch) store(via.branch, *branch);
    if (received && depth == ViaDepth::whole) store(via.received, *received);
    if (oc) {
        OverloadControl control;
        if (auto percent = parse_decimal(*oc); percent && percent->value <= 100)
            control.reduction_percent = static_cast<std::uint32_t>(percent->value);
        if (algorithm) control.algorithm = stored(unquote(*algorithm));
        if (validity)
            if (auto number = parse_decimal(*validity)) control.validity_ms = number->value;
        if (sequence) control.sequence = stored(*sequence);
        via.overload_control = std::move(control);
    }
}

}  // namespace

std::vector<ViaEntry> parse_via_values(std::string_view value) {
    std::vector<ViaEntry> vias;
    for_each_top_level(value, ',', [&vias](std::string_view item) {
        if (!item.empty()) vias.push_back(parse_via_entry(item));
        return true;
    });
    return vias;
}


std::vector<ReasonValue> parse_reason_values(std::string_view value) {
    std::vector<ReasonValue> reasons;
    for (std::string_view item : split_top_level(value, ',')) {
        if (item.empty()) continue;
        ReasonValue reason;
        const auto [protocol, parameters] = split_parameters(item);
        reason.protocol = stored(protocol);
        if (auto cause = find_parameter(parameters, "cause"))
            if (auto number = parse_decimal(*cause); number && number->value <= std::numeric_limits<std::uint32_t>::max())
                reason.cause = static_cast<std::uint32_t>(number->value);
        if (auto text = find_parameter(parameters, "text")) reason.text = stored(unquote(*text));
        reasons.push_back(std::move(reason));
    }
    return reasons;
}

std::vector<WarningValue> parse_warning_values(std::string_view value) {
    std::vector<WarningValue> warnings;
    for (std::string_view item : split_top_level(value, ',')) {
        const auto code = parse_leading_decimal(item);
        if (!code || code->value > 999) continue;
        WarningValue warning;
        warning.code = static_cast<int>(code->value);
        const auto after_code = item.find_first_not_of("0123456789");
        std::string_view rest = after_code == std::string_view::npos ? std::string_view{} : trim(item.substr(after_code));
        const auto space = rest.find_first_of(" \t");
        warning.agent = stored(rest.substr(0, space));
        if (space != std::string_view::npos) warning.text = stored(unquote(rest.substr(space + 1)));
        warnings.push_back(std::move(warning));
    }
    return warnings;
}

namespace {

// Where a SIP URI's host part ends: at its parameters, headers, closing bracket or a space.
std::size_t end_of_sip_uri(std::string_view rest) { return find_first_of_four(rest, '>', ';', '?', ' '); }

}  // namespace

namespace {

// The user part of a sip:, sips: or tel: URI, as it stands in the text; empty when there is none.
std::string_view uri_user_part(std::string_view uri) {
    uri = trim(uri);
    const auto colon = uri.find(':');
    if (colon == std::string_view::npos) return {};
    const auto scheme = uri.substr(0, colon);
    std::string_view rest = uri.substr(colon + 1);
    if (iequals(scheme, "tel")) return rest.substr(0, rest.find_first_of(";>"));
    if (!iequals(scheme, "sip") && !iequals(scheme, "sips")) return {};
    const auto end_of_uri = end_of_sip_uri(rest);
    const auto at = rest.substr(0, end_of_uri).find('@');
    if (at == std::string_view::npos) return {};
    const auto userinfo = rest.substr(0, at);
    return userinfo.substr(0, userinfo.find(':'));  // user[:password]
}

}  // namespace

std::string uri_user(std::string_view uri) { return stored(uri_user_part(uri)); }

std::string_view uri_host_text(std::string_view uri) {
    uri = trim(uri);
    const auto colon = uri.find(':');
    if (colon == std::string_view::npos) return {};
    const auto scheme = uri.substr(0, colon);
    if (!iequals(scheme, "sip") && !iequals(scheme, "sips")) return {};
    std::string_view rest = uri.substr(colon + 1);
    rest = rest.substr(0, end_of_sip_uri(rest));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        return close == std::string_view::npos ? std::string_view{} : trim(rest.substr(1, close - 1));
    }
    return trim(rest.substr(0, rest.find(':')));
}

std::string uri_host(std::string_view uri) { return stored(uri_host_text(uri)); }

namespace {

// A name-addr's URI and the parameters after it.
UriAndParameters split_name_addr(std::string_view value) {
    value = trim(value);
    const auto open = unquoted_angle_bracket(value);
    UriAndParameters parts{value, {}};
    if (open != std::string_view::npos) {
        const auto close = value.find('>', open);
        parts.uri = value.substr(open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1);
        if (close != std::string_view::npos) parts.parameters = value.substr(close + 1);
    } else {
        const auto semicolon = value.find(';');
        parts.uri = value.substr(0, semicolon);
        if (semicolon != std::string_view::npos) parts.parameters = value.substr(semicolon);
    }
    if (!parts.parameters.empty() && parts.parameters.front() == ';') parts.parameters.remove_prefix(1);
    return parts;
}

std::string name_addr_tag(std::string_view value) {
    const auto tag = find_parameter(split_name_addr(value).parameters, "tag");
    return tag ? stored(*tag) : std::string();
}

}  // namespace

std::string name_addr_host(std::string_view value) {
    // The first of a comma-separated list; a comma inside the URI of a name-addr is rare enough to cut there.
    const auto open = unquoted_angle_bracket(value);
    const auto close = open == std::string_view::npos ? std::string_view::npos : value.find('>', open);
    const auto comma = value.find(',', close == std::string_view::npos ? 0 : close);
    return uri_host(split_name_addr(value.substr(0, comma)).uri);
}

NameAddr parse_name_addr(std::string_view value) {
    NameAddr result;
    read_name_addr(value, result.user, result.tag);
    return result;
}

namespace {

void read_name_addr(std::string_view value, std::string& user, std::string& tag) {
    const UriAndParameters parts = split_name_addr(value);
    user = uri_user(parts.uri);
    if (auto found = find_parameter(parts.parameters, "tag")) tag = stored(*found);
}

}  // namespace

}  // namespace diag503
