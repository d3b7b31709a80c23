// Unit tests of how a verdict reads to people: the Expert Info sentence, leads, and the statistics buckets.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/report.hpp"

namespace diag503 {
namespace {

Verdict verdict_of(Cause cause, int confidence) {
    Verdict verdict;
    verdict.cause = cause;
    verdict.confidence = confidence;
    return verdict;
}

TEST(ExpertSummary, NamesCauseAndConfidenceAndLeavesTheRecommendationToTheTree) {
    EXPECT_EQ(expert_summary(verdict_of(Cause::capacity_limit, 80)), "503 diagnosed as capacity_limit (confidence 80 %)");
    EXPECT_EQ(expert_summary(verdict_of(Cause::dns_failure, 45)), "503 diagnosed as dns_failure (confidence 45 %, a lead)");
    EXPECT_EQ(expert_summary(verdict_of(Cause::unknown, 0)), "503 diagnosed as unknown: too little evidence for a cause");
}

TEST(IsLead, BelowSixtyOrUnknown) {
    EXPECT_TRUE(is_lead(verdict_of(Cause::overload, 59)));
    EXPECT_FALSE(is_lead(verdict_of(Cause::overload, 60)));
    EXPECT_TRUE(is_lead(verdict_of(Cause::unknown, 0)));
}

TEST(StatisticsBuckets, NameTheirBoundsFromTheSettings) {
    Settings settings;  // Retry-After short up to 60 s, long from 300 s; immediate up to 100 ms, delayed from 2000 ms
    Verdict verdict;
    EXPECT_EQ(retry_after_class(verdict, settings), "no Retry-After");
    verdict.retry_after_seconds = 60;
    EXPECT_EQ(retry_after_class(verdict, settings), "Retry-After up to 60 s");
    verdict.retry_after_seconds = 61;
    EXPECT_EQ(retry_after_class(verdict, settings), "Retry-After 61 to 299 s");
    verdict.retry_after_seconds = 300;
    EXPECT_EQ(retry_after_class(verdict, settings), "Retry-After 300 s or more");

    EXPECT_EQ(response_time_class(verdict, settings), "request not captured");
    verdict.response_time_us = 100'999;
    EXPECT_EQ(response_time_class(verdict, settings), "answered within 100 ms");
    verdict.response_time_us = 101'000;
    EXPECT_EQ(response_time_class(verdict, settings), "answered in 101 to 1999 ms");
    verdict.response_time_us = 2'000'000;
    EXPECT_EQ(response_time_class(verdict, settings), "answered in 2000 ms or more");
}

TEST(UsefulLinks, NoLinkToThe503ItselfAndNoFrameTwice) {
    Verdict verdict = verdict_of(Cause::capacity_limit, 80);
    verdict.frame = 47;
    verdict.evidence = {{"Answered 0.3 ms after the request (frame 46).", {46, 47}},
                        {"Incident 1 begins with this 503.", {47, 47}},
                        {"Two lookups failed (frames 12 and 30).", {12, 30, 12, 0}}};
    keep_useful_links(verdict);
    EXPECT_EQ(verdict.evidence[0].frames, (std::vector<std::uint32_t>{46}));
    EXPECT_TRUE(verdict.evidence[1].frames.empty());
    EXPECT_EQ(verdict.evidence[2].frames, (std::vector<std::uint32_t>{12, 30}));
}

TEST(CauseTitle, ReadsAsWordsInASentence) {
    EXPECT_EQ(cause_title(Cause::capacity_limit), "capacity limit");
    EXPECT_EQ(cause_title(Cause::dns_failure), "DNS failure");
    EXPECT_EQ(cause_title(Cause::nvr_channel_unavailable), "NVR channel unavailable");
    for (int index = 0; index < kCauseCount; ++index) {
        const std::string title = cause_title(static_cast<Cause>(index));
        EXPECT_FALSE(title.empty());
        EXPECT_EQ(title.find('_'), std::string::npos) << title;
    }
}

TEST(CauseRecommendation, UnknownGivesEachProtocolItsOwnAdvice) {
    EXPECT_NE(std::string(cause_recommendation(Cause::unknown, Protocol::sip)).find("Call-ID"), std::string::npos);
    const std::string rtsp(cause_recommendation(Cause::unknown, Protocol::rtsp));
    EXPECT_EQ(rtsp.find("Call-ID"), std::string::npos);
    EXPECT_EQ(rtsp.find("Reason"), std::string::npos);
    EXPECT_NE(rtsp.find("device"), std::string::npos);
    EXPECT_EQ(cause_recommendation(Cause::encoder_busy, Protocol::rtsp), cause_recommendation(Cause::encoder_busy));
}

}  // namespace
}  // namespace diag503
