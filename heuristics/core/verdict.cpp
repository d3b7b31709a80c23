// Names and recommendations of the cause vocabulary, from core/causes.def.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/verdict.hpp"

#include <iterator>

namespace diag503 {

namespace {

enum class CauseProtocol { sip, rtsp, any };

struct CauseWords {
    std::string_view name;
    CauseProtocol protocol;
    std::string_view recommendation;
};
constexpr CauseWords kCauseWords[] = {
#define DIAG503_CAUSE(name, protocol, recommendation) {#name, CauseProtocol::protocol, recommendation},
#include "core/causes.def"
#undef DIAG503_CAUSE
};
static_assert(std::size(kCauseWords) == kCauseCount);

const CauseWords& words_of(Cause cause) {
    const auto index = static_cast<std::size_t>(cause);
    return kCauseWords[index < std::size(kCauseWords) ? index : static_cast<std::size_t>(Cause::unknown)];
}

}  // namespace

std::string_view cause_name(Cause cause) { return words_of(cause).name; }

std::string_view cause_recommendation(Cause cause) { return words_of(cause).recommendation; }

std::string_view cause_recommendation(Cause cause, Protocol protocol) {
    // causes.def's advice for unknown is about SIP (Call-IDs, Reason headers); a camera needs its own.
    if (cause == Cause::unknown && protocol == Protocol::rtsp)
        return "Cause unknown: capture the device's other clients (and, for an NVR, its side toward the camera), check "
               "the device's session list and logs at this time, and ask its vendor to send Retry-After.";
    return cause_recommendation(cause);
}

std::string cause_title(Cause cause) {
    const auto recommendation = words_of(cause).recommendation;
    std::string title(recommendation.substr(0, recommendation.find(':')));
    const bool acronym = title.size() > 1 && title[1] >= 'A' && title[1] <= 'Z';  // "DNS failure" stays as it is
    if (!acronym && !title.empty() && title[0] >= 'A' && title[0] <= 'Z') title[0] = static_cast<char>(title[0] - 'A' + 'a');
    return title;
}

bool cause_applies_to(Cause cause, Protocol protocol) {
    const CauseProtocol applies = words_of(cause).protocol;
    return applies == CauseProtocol::any || (applies == CauseProtocol::sip) == (protocol == Protocol::sip);
}

std::string_view protocol_name(Protocol protocol) { return protocol == Protocol::rtsp ? "rtsp" : "sip"; }

std::string_view scope_name(Scope scope) {
    switch (scope) {
        case Scope::single_user: return "single_user";
        case Scope::several_users: return "several_users";
        case Scope::all_users: return "all_users";
        case Scope::undetermined: return "";
    }
    return "";
}

}  // namespace diag503
