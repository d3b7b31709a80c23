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
