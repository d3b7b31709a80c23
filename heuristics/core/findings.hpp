// Weighted findings shared by the SIP and RTSP classifiers, and the decision that turns them into a verdict.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/rules.hpp"
#include "core/verdict.hpp"

namespace diag503 {

struct Finding {
    Cause cause;
    int weight;  // >0 supports the cause, <0 argues against it, 0 is a neutral note
    Evidence evidence;
};

class Findings {
public:
    void add(Cause cause, int weight, std::string sentence, std::vector<std::uint32_t> frames = {});
    // A rule's row: its cause and weight.
    void add(const Rule& rule, std::string sentence, std::vector<std::uint32_t> frames = {});
    // A row whose cause the signal names (kCauseNamedBySignal): `named` is that cause.
    void add(const Rule& rule, Cause named, std::string sentence, std::vector<std::uint32_t> frames = {});
    void note(std::string sentence, std::vector<std::uint32_t> frames = {});
    const std::vector<Finding>& items() const { return items_; }

private:
    std::vector<Finding> items_;
};

// The cause with the highest score wins when it reaches 40; its confidence is that score (at most
// 95), lowered when a runner-up also reaches 40. Below 40 the verdict is unknown and opens with
// `missing`, the sentence saying what evidence is missing. The recommendation is the cause's, for `protocol`.
Verdict decide(const Findings& findings, std::string missing, Protocol protocol);

// Sentence helpers.
std::string format_duration(std::int64_t microseconds);                        // "3.0 ms", "2.100 s"
std::string quoted(const std::string& text);                                   // "\"text\""
std::string counted(std::uint32_t count, const char* singular, const char* plural);  // "1 call", "3 calls"

}  // namespace diag503
