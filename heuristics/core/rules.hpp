// Classifier rules as data: each row says which cause a rule supports or argues against, how strongly, and why.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <string_view>

#include "core/verdict.hpp"

namespace diag503 {

// In a rule row: the cause is the one the signal itself names (a phrase, a Q.850 code, the kind of a
// failure or the hop that failed), decided where the rule fires.
inline constexpr Cause kCauseNamedBySignal = Cause::unknown;

struct Rule {
    std::string_view name;
    Cause cause;
    int weight;  // >0 supports the cause, <0 argues against it; scores of 40 and more name a cause
    std::string_view rationale;
};

// A number a rule compares against that is not a user preference.
struct Threshold {
    std::string_view name;
    int value;
    std::string_view rationale;
};

template <typename Row>
struct Table {
    const Row* rows;
    std::size_t size;
    const Row* begin() const { return rows; }
    const Row* end() const { return rows + size; }
};

// A protocol's rule table, keyed by its rule identity type (SipRule, RtspRule): see core/rule_table.inc.
template <typename RuleId>
Table<Rule> rule_table();
template <typename RuleId>
Table<Threshold> threshold_table();

template <typename RuleId>
const Rule& rule(RuleId id) {
    return rule_table<RuleId>().rows[static_cast<std::size_t>(id)];
}

}  // namespace diag503
