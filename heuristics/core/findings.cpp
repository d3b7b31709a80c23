// Weighted findings and the decision shared by every classifier.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/findings.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace diag503 {
namespace {

constexpr int kMinimumScore = 40;  // below this no cause is asserted: the verdict is unknown
constexpr int kMaximumConfidence = 95;

std::array<int, kCauseCount> score(const Findings& findings) {
    std::array<int, kCauseCount> scores{};
    for (const auto& finding : findings.items()) scores[static_cast<int>(finding.cause)] += finding.weight;
    scores[static_cast<int>(Cause::unknown)] = 0;
    for (int& value : scores) value = std::clamp(value, 0, 100);
    return scores;
}

std::vector<Evidence> ordered_evidence(const Findings& findings, Cause winner) {
    std::vector<const Finding*> ordered;
    for (const auto& finding : findings.items()) ordered.push_back(&finding);
    auto rank = [winner](const Finding* finding) {
        if (finding->cause == winner && finding->weight > 0) return 0;
        if (finding->weight == 0) return 1;
        return 2;
    };
    std::stable_sort(ordered.begin(), ordered.end(), [&](const Finding* a, const Finding* b) {
        if (rank(a) != rank(b)) return rank(a) < rank(b);
        return rank(a) == 0 && a->weight > b->weight;
    });
    std::vector<Evidence> evidence;
    for (const Finding* finding : ordered) {
        // Arguments against a losing cause only clutter a named verdict, but they explain an unknown one.
        if (finding->weight < 0 && finding->cause != winner && winner != Cause::unknown) continue;
        const bool repeated = std::any_of(evidence.begin(), evidence.end(), [&](const Evidence& earlier) {
            return earlier.sentence == finding->evidence.sentence;
        });
        if (!repeated) evidence.push_back(finding->evidence);
    }
    return evidence;
}

}  // namespace

void Findings::add(Cause cause, int weight, std::string sentence, std::vector<std::uint32_t> frames) {
    std::vector<std::uint32_t> distinct;
    for (std::uint32_t frame : frames)
        if (frame != 0 && std::find(distinct.begin(), distinct.end(), frame) == distinct.end()) distinct.push_back(frame);
    items_.push_back({cause, weight, {std::move(sentence), std::move(distinct)}});
}

void Findings::add(const Rule& rule, std::string sentence, std::vector<std::uint32_t> frames) {
    add(rule.cause, rule.weight, std::move(sentence), std::move(frames));
}

void Findings::add(const Rule& rule, Cause named, std::string sentence, std::vector<std::uint32_t> frames) {
    add(rule.cause == kCauseNamedBySignal ? named : rule.cause, rule.weight, std::move(sentence), std::move(frames));
}

void Findings::note(std::string sentence, std::vector<std::uint32_t> frames) {
    add(Cause::unknown, 0, std::move(sentence), std::move(frames));
}

Verdict decide(const Findings& findings, std::string missing, Protocol protocol) {
    const auto scores = score(findings);
    std::array<int, kCauseCount> order{};
    for (int i = 0; i < kCauseCount; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
    const int top = scores[order[0]];
    const int runner_up = scores[order[1]];

    Verdict verdict;
    if (top < kMinimumScore) {
        verdict.cause = Cause::unknown;
        verdict.confidence = 0;
        verdict.evidence.push_back({std::move(missing), {}});
        for (auto& item : ordered_evidence(findings, Cause::unknown)) verdict.evidence.push_back(std::move(item));
    } else {
        verdict.cause = static_cast<Cause>(order[0]);
        verdict.confidence = std::min(top, kMaximumConfidence);
        verdict.evidence = ordered_evidence(findings, verdict.cause);
        if (runner_up >= kMinimumScore) {
            verdict.confidence = std::max(30, verdict.confidence - runner_up / 3);
            verdict.evidence.push_back({"The evidence also fits another cause, less well: " +
                                            cause_title(static_cast<Cause>(order[1])) + ".",
                                        {}});
        }
    }
    verdict.recommendation = std::string(cause_recommendation(verdict.cause, protocol));
    return verdict;
}

std::string format_duration(std::int64_t microseconds) {
    char text[48];
    const double value = static_cast<double>(microseconds);
    if (microseconds < 0) return "-" + format_duration(-microseconds);
    if (microseconds < 1000000) std::snprintf(text, sizeof text, "%.1f ms", value / 1000.0);
    else std::snprintf(text, sizeof text, "%.3f s", value / 1000000.0);
    return text;
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// "1 request", "3 requests"
std::string counted(std::uint32_t count, const char* singular, const char* plural) {
    return std::to_string(count) + " " + (count == 1 ? singular : plural);
}


}  // namespace diag503
