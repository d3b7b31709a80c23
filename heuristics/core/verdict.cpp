// Names and recommendations of the cause vocabulary, from core/causes.def.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/verdict.hpp"

#include <iterator>

namespace diag503 {

namespace {

struct CauseWords {
    std::string_view name;
    std::string_view recommendation;
};
constexpr CauseWords kCauseWords[] = {
#define DIAG503_CAUSE(name, protocol, recommendation) {#name, recommendation},
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
