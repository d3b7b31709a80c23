// Unit tests of the tolerant SIP parser: start lines, the headers diag503 reads, and hostile input.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "sip_builders.hpp"
#include "sip/sip_message.hpp"

namespace diag503 {
namespace {

using test::Headers;
using test::parse;
using test::parsed_503;

const char* const kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    "User-Agent: Softphone/2.1\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 31\r\n"
    "\r\n"
    "v=0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

const char* const k503 =
    "SIP/2.0 503 Service Unavailable\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.101\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Retry-After: 120\r\n"
    "Server: Kamailio (5.7.4 (x86_64/linux))\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

// A 503 made of exactly these header lines (continuation lines included), nothing added.
SipMessage parse_503_lines(const Headers& lines) {
    return parse(test::join_lines("SIP/2.0 503 Service Unavailable", lines));
}

// A 503 of the default transaction whose Via headers are the given values.
SipMessage parse_503_vias(const Headers& vias) {
    test::Txn txn;
    txn.vias = vias;
    return parse(test::response_text(txn, 503));
}

std::string bare_lf(std::string text) {
    std::string out;
    for (char c : text)
        if (c != '\r') out.push_back(c);
    return out;
}

// ---- start line and the realistic messages ----

TEST(SipMessage, ParsesARealisticInvite) {
    const SipMessage invite = parse(kInvite);
    EXPECT_TRUE(invite.is_request);
    EXPECT_EQ(invite.method, "INVITE");
    EXPECT_EQ(invite.request_uri, "sip:bob@biloxi.example.com");
    EXPECT_EQ(invite.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
    EXPECT_TRUE(invite.has_cseq);
    EXPECT_EQ(invite.cseq_number, 314159u);
    EXPECT_EQ(invite.cseq_method, "INVITE");
    ASSERT_EQ(invite.vias.size(), 1u);
    EXPECT_EQ(invite.top_branch(), "z9hG4bK776asdhds");
    // Only a 503 is diagnosed: other messages keep of their Via the branch (and overload control).
    EXPECT_EQ(invite.vias[0].transport, "");
    EXPECT_EQ(invite.vias[0].sent_by, "");
    // Users are counted on responses: a request keeps only its To tag (inside a dialog or not).
    EXPECT_EQ(invite.from_user, "");
    EXPECT_EQ(invite.to_user, "");
    EXPECT_EQ(invite.to_tag, "");
    EXPECT_TRUE(invite.anomalies.empty()) << invite.anomalies.front();
}

TEST(SipMessage, ARequestInsideADialogKeepsItsToTag) {
    const SipMessage bye = parse("BYE sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK9\r\n"
                                 "From: <sip:alice@a>;tag=f1\r\nTo: \"Bob\" <sip:bob@b>;tag=t9\r\nCall-ID: c9\r\nCSeq: 2 BYE\r\n\r\n");
    EXPECT_EQ(bye.to_tag, "t9");
}

TEST(SipMessage, OnlyA503IsReadInFullAndOnlyA503Or100ForItsAgent) {
    // Every message feeds transactions and load; the headers that explain a refusal, the whole Via
    // stack and the sender's agent are read only where they are used, which keeps the per-packet cost low.
    const std::string headers =
        "Via: SIP/2.0/UDP a.example.net;branch=z9hG4bK1, SIP/2.0/UDP b.example.net;branch=z9hG4bK2\r\n"
        "Call-ID: c1\r\nCSeq: 1 INVITE\r\nServer: Edge/1\r\nRetry-After: 5\r\nWarning: 399 x \"why\"\r\n\r\n";
    const SipMessage ringing = parse("SIP/2.0 180 Ringing\r\n" + headers);
    EXPECT_EQ(ringing.vias.size(), 1u);
    EXPECT_EQ(ringing.top_branch(), "z9hG4bK1");
    EXPECT_EQ(ringing.server, "");
    EXPECT_FALSE(ringing.retry_after.present);
    EXPECT_TRUE(ringing.warnings.empty());
    EXPECT_EQ(parse("SIP/2.0 100 Trying\r\n" + headers).server, "Edge/1");
    const SipMessage refused = parse("SIP/2.0 503 Service Unavailable\r\n" + headers);
    EXPECT_EQ(refused.vias.size(), 2u);
    EXPECT_EQ(refused.server, "Edge/1");
    EXPECT_TRUE(refused.retry_after.valid);
    EXPECT_EQ(refused.warnings.size(), 1u);
}

TEST(SipMessage, ParsesARealistic503) {
    const SipMessage response = parse(k503);
    EXPECT_FALSE(response.is_request);
    EXPECT_EQ(response.status_code, 503);
    EXPECT_EQ(response.reason_phrase, "Service Unavailable");
    EXPECT_EQ(response.vias.at(0).received, "192.0.2.101");
    EXPECT_EQ(response.to_tag, "a6c85cf");
    EXPECT_TRUE(response.retry_after.present);
    EXPECT_TRUE(response.retry_after.valid);
    EXPECT_EQ(response.retry_after.seconds, 120u);
    EXPECT_EQ(response.server, "Kamailio (5.7.4 (x86_64/linux))");
    EXPECT_TRUE(response.anomalies.empty());
}

TEST(SipMessage, BareLineFeedsParseLikeCrlf) {
    const SipMessage invite = parse(bare_lf(kInvite));
    const SipMessage response = parse(bare_lf(k503));
    EXPECT_EQ(invite.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
    EXPECT_EQ(invite.cseq_method, "INVITE");
    EXPECT_EQ(response.status_code, 503);
    EXPECT_EQ(response.retry_after.seconds, 120u);
    EXPECT_TRUE(response.anomalies.empty());
}

TEST(SipMessage, AMessageParsedIntoAReusedOneKeepsNothingOfThePrevious) {
    SipMessage reused;
    ASSERT_TRUE(parse_sip_message_into(std::string(k503) + "\r\n", reused));  // whole Via stack, Server, Retry-After
    ASSERT_TRUE(parse_sip_message_into(kInvite, reused));
    const SipMessage fresh = parse(kInvite);
    EXPECT_TRUE(reused.is_request);
    EXPECT_EQ(reused.status_code, 0);
    EXPECT_EQ(reused.reason_phrase, "");
    EXPECT_EQ(reused.method, fresh.method);
    EXPECT_EQ(reused.call_id, fresh.call_id);
    EXPECT_EQ(reused.cseq_hash, fresh.cseq_hash);
    ASSERT_EQ(reused.vias.size(), 1u);
    EXPECT_EQ(reused.top_branch(), fresh.top_branch());
    EXPECT_EQ(reused.vias.front().received, "");
    EXPECT_EQ(reused.vias.front().sent_by, fresh.vias.front().sent_by);
    EXPECT_EQ(reused.server, "");
    EXPECT_FALSE(reused.retry_after.present);
    EXPECT_EQ(reused.to_tag, fresh.to_tag);
    EXPECT_EQ(reused.from_user, "");
    EXPECT_TRUE(reused.anomalies.empty());
    EXPECT_FALSE(parse_sip_message_into("HTTP/1.1 200 OK\r\n\r\n", reused));
}

TEST(SipMessage, LeadingBlankLinesBeforeTheStartLineAreSkipped) {
    EXPECT_EQ(parse(std::string("\r\n\r\n") + k503).status_code, 503);
}

TEST(SipMessage, TheBodyIsNotReadAsHeaders) {
    const SipMessage invite = parse(kInvite);
    EXPECT_EQ(invite.vias.size(), 1u);  // "v=0" in the SDP is no compact Via
    EXPECT_TRUE(invite.anomalies.empty());
}

TEST(SipMessage, ResponseWithoutReasonPhraseParses) {
    EXPECT_EQ(parse("SIP/2.0 503\r\nCall-ID: x\r\n\r\n").status_code, 503);
}

TEST(SipMessage, NonSipStartLinesAreNotSip) {
    EXPECT_FALSE(parse_sip_message("HTTP/1.1 503 Service Unavailable\r\nServer: nginx\r\n\r\n"));
    EXPECT_FALSE(parse_sip_message("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"));
    EXPECT_FALSE(parse_sip_message("hello world\r\n"));
    EXPECT_FALSE(parse_sip_message("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"));
    EXPECT_FALSE(parse_sip_message("SIP/2.0 99 Too Low\r\n\r\n"));
    EXPECT_FALSE(parse_sip_message("SIP/2.0 700 Too High\r\n\r\n"));
    EXPECT_FALSE(parse_sip_message("SIP/2.0 abc\r\n\r\n"));
}

TEST(SipMessage, EmptyInputIsNotSip) {
    EXPECT_FALSE(parse_sip_message(""));
    EXPECT_FALSE(parse_sip_message("\r\n\r\n"));
}

// ---- header names ----

TEST(SipMessage, CompactHeaderFormsAreRead) {
    const SipMessage response =
        parse_503_lines({"v: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKc", "f: <sip:alice@example.com>;tag=f1",
                         "t: <sip:bob@example.com>;tag=t1", "i: compact@example.com", "CSeq: 7 REGISTER"});
    EXPECT_EQ(response.top_branch(), "z9hG4bKc");
    EXPECT_EQ(response.vias.at(0).transport, "TCP");
    EXPECT_EQ(response.from_user, "alice");
    EXPECT_EQ(response.to_tag, "t1");
    EXPECT_EQ(response.call_id, "compact@example.com");
    EXPECT_TRUE(response.anomalies.empty());
}

TEST(SipMessage, HeaderNamesAreCaseInsensitive) {
    const SipMessage response =
        parse_503_lines({"VIA: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKu", "call-id: lower@example.com", "cseq: 2 BYE",
                         "I : upper-compact-ignored-as-duplicate", "RETRY-AFTER: 30"});
    EXPECT_EQ(response.top_branch(), "z9hG4bKu");
    EXPECT_EQ(response.call_id, "lower@example.com");
    EXPECT_EQ(response.cseq_method, "BYE");
    EXPECT_EQ(response.retry_after.seconds, 30u);
    ASSERT_EQ(response.anomalies.size(), 1u);
    EXPECT_EQ(response.anomalies[0], "Call-ID appears more than once.");
}

TEST(SipMessage, FoldedHeaderLinesAreJoined) {
    const SipMessage response = parse_503_lines(
        {"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1,", "  SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2",
         "Warning: 399 sbc.example.com", "\t\"Trunk group", "  exhausted\"", "Call-ID: fold@example.com"});
    ASSERT_EQ(response.vias.size(), 2u);
    EXPECT_EQ(response.vias[1].branch, "z9hG4bK2");
    ASSERT_EQ(response.warnings.size(), 1u);
    EXPECT_EQ(response.warnings[0].text, "Trunk group exhausted");
    EXPECT_EQ(response.call_id, "fold@example.com");
}

TEST(SipMessage, AHeaderLineWithoutColonIsSkippedAndNoted) {
    const SipMessage response = parsed_503({"this line has no colon"});
    EXPECT_EQ(response.call_id, test::Txn{}.call_id);
    ASSERT_EQ(response.anomalies.size(), 1u);
    EXPECT_EQ(response.anomalies[0], "A header line without a colon was skipped.");
}

// ---- Via ----

TEST(SipMessage, MultipleViaHeadersAndCommaSeparatedValuesKeepTheirOrder) {
    const SipMessage response = parse_503_lines(
        {"Via: SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bKp, SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKq",
         "Via: SIP/2.0/TLS client.example.com;branch=z9hG4bKc;received=203.0.113.7;rport=40000", "Call-ID: v@x",
         "CSeq: 1 INVITE"});
    ASSERT_EQ(response.vias.size(), 3u);
    EXPECT_EQ(response.top_branch(), "z9hG4bKp");
    EXPECT_EQ(response.vias[1].transport, "TCP");
    EXPECT_EQ(response.vias[1].sent_by, "[2001:db8::1]:5070");
    EXPECT_EQ(response.vias[2].transport, "TLS");
    EXPECT_EQ(response.vias[2].received, "203.0.113.7");
    EXPECT_FALSE(response.via_stack_truncated);
}

TEST(SipMessage, ViaWithoutBranchHasAnEmptyBranch) {
    const SipMessage response = parse_503_vias({"SIP/2.0/UDP 192.0.2.1:5060"});
    ASSERT_EQ(response.vias.size(), 1u);
    EXPECT_EQ(response.top_branch(), "");
    EXPECT_EQ(response.vias[0].sent_by, "192.0.2.1:5060");
}

TEST(SipMessage, ViaCarriesRfc7339OverloadControl) {
    const SipMessage response = parse_503_vias(
        {"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKo;oc=20;oc-algo=\"loss\";oc-validity=500;oc-seq=1282321615.782"});
    const auto& control = response.vias.at(0).overload_control;
    ASSERT_TRUE(control);
    EXPECT_EQ(control->reduction_percent, 20u);
    EXPECT_EQ(control->algorithm, "loss");
    EXPECT_EQ(control->validity_ms, 500u);
    EXPECT_EQ(control->sequence, "1282321615.782");
}

TEST(SipMessage, OverloadControlReductionOutsideZeroToHundredIsDropped) {
    const SipMessage response = parse_503_vias({"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKo;oc=150;oc-validity=soon"});
    const auto& control = response.vias.at(0).overload_control;
    ASSERT_TRUE(control);
    EXPECT_FALSE(control->reduction_percent);
    EXPECT_FALSE(control->validity_ms);
}

TEST(SipMessage, ViaWithoutOcHasNoOverloadControl) {
    EXPECT_FALSE(parse_503_vias({"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKo;oc-algo=loss"}).vias.at(0).overload_control);
}

TEST(SipMessage, AThousandViaEntriesAreCappedAtKMaxVias) {
    Headers lines = {"Call-ID: many@x", "CSeq: 1 INVITE"};
    for (int i = 0; i < 500; ++i) lines.push_back("Via: " + test::via("10.0.0.1", "z9hG4bK" + std::to_string(i)));
    std::string comma_separated = "Via: ";
    for (int i = 500; i < 1000; ++i)
        comma_separated += (i > 500 ? "," : "") + test::via("10.0.0.2", "z9hG4bK" + std::to_string(i));
    lines.push_back(comma_separated);
    const SipMessage response = parse_503_lines(lines);
    EXPECT_EQ(response.vias.size(), kMaxVias);
    EXPECT_TRUE(response.via_stack_truncated);
    EXPECT_EQ(response.top_branch(), "z9hG4bK0");
}

// A message other than a 503 is read for its transaction only: the top Via's branch.
TEST(SipMessage, AMessageThatIsNotDiagnosedKeepsOnlyItsTopViaAcrossHeaderLines) {
    const auto ringing = parse_sip_message("SIP/2.0 180 Ringing\r\nVia: " + test::via("10.0.0.1", "z9hG4bKtop") +
                                           "\r\nVia: " + test::via("10.0.0.2", "z9hG4bKnext") +
                                           "\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n\r\n");
    ASSERT_TRUE(ringing);
    ASSERT_EQ(ringing->vias.size(), 1u);
    EXPECT_EQ(ringing->top_branch(), "z9hG4bKtop");
    EXPECT_EQ(parse_503_lines({"Via: " + test::via("10.0.0.1", "z9hG4bKtop"), "Via: " + test::via("10.0.0.2", "z9hG4bKnext"),
                               "Call-ID: a@b", "CSeq: 1 INVITE"}).vias.size(), 2u);
}

TEST(SipMessage, EveryViaNamesItsSentByPortEvenWhenTheMessageIsNotDiagnosed) {
    const auto ringing = parse_sip_message("SIP/2.0 180 Ringing\r\nVia: " + test::via("127.0.0.1:5070", "z9hG4bKtop") +
                                           "\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n\r\n");
    ASSERT_TRUE(ringing);
    EXPECT_EQ(ringing->vias.at(0).sent_by_port, 5070);
    EXPECT_EQ(ringing->vias.at(0).sent_by, "");  // the text only for a diagnosed message
}

TEST(SipMessage, ViaSentByPortIsZeroWhenItNamesNoValidPort) {
    auto port_of = [](const std::string& sent_by) {
        return parse_503_vias({"SIP/2.0/TCP " + sent_by + ";branch=z9hG4bK1"}).vias.at(0).sent_by_port;
    };
    EXPECT_EQ(port_of("[2001:db8::1]:5071"), 5071);
    EXPECT_EQ(port_of("pbx.example.com:5080"), 5080);
    EXPECT_EQ(port_of("pbx.example.com"), 0);
    EXPECT_EQ(port_of("[2001:db8::1]"), 0);
    EXPECT_EQ(port_of("192.0.2.1:65536"), 0);
    EXPECT_EQ(port_of("192.0.2.1:50x0"), 0);
}

// ---- Call-ID, CSeq, missing headers ----

TEST(SipMessage, CSeqWithoutMethodIsKeptAndNoted) {
    const SipMessage response = parse_503_lines({"Call-ID: c", "Via: " + test::via("h", "z9hG4bK1"), "CSeq: 12"});
    EXPECT_TRUE(response.has_cseq);
    EXPECT_EQ(response.cseq_number, 12u);
    EXPECT_EQ(response.cseq_method, "");
    ASSERT_EQ(response.anomalies.size(), 1u);
    EXPECT_EQ(response.anomalies[0], "CSeq has no method.");
}

TEST(SipMessage, CSeqNumberOver32BitsIsInvalid) {
    const SipMessage response = parse_503_lines({"CSeq: 4294967296 INVITE"});
    EXPECT_FALSE(response.has_cseq);
    EXPECT_EQ(response.anomalies.at(0), "CSeq has no valid sequence number.");
}

TEST(SipMessage, MissingCallIdCSeqAndViaAreRecordedWithoutFailing) {
    const SipMessage response = parse_503_lines({"Server: bare"});
    EXPECT_EQ(response.status_code, 503);
    EXPECT_EQ(response.call_id, "");
    EXPECT_FALSE(response.has_cseq);
    EXPECT_TRUE(response.vias.empty());
    EXPECT_EQ(response.top_branch(), "");
    EXPECT_EQ(response.anomalies,
              (std::vector<std::string>{"Call-ID is missing.", "CSeq is missing or invalid.", "Via is missing."}));
}

// ---- Retry-After ----

RetryAfter retry_after_of(const Headers& headers) { return parsed_503(headers).retry_after; }

TEST(SipMessageRetryAfter, AbsentIsNotPresent) {
    const RetryAfter retry = retry_after_of({});
    EXPECT_FALSE(retry.present);
    EXPECT_FALSE(retry.valid);
    EXPECT_EQ(retry.occurrences, 0);
}

// Checks one valid Retry-After value: its delta-seconds, comment and duration.
void expect_valid_retry_after(const std::string& value, std::uint64_t seconds, const std::string& comment = "",
                              std::optional<std::uint64_t> duration = std::nullopt) {
    SCOPED_TRACE("Retry-After: " + value);
    const RetryAfter retry = retry_after_of({"Retry-After: " + value});
    EXPECT_TRUE(retry.present);
    EXPECT_TRUE(retry.valid);
    EXPECT_EQ(retry.seconds, seconds);
    EXPECT_EQ(retry.comment, comment);
    EXPECT_EQ(retry.duration_seconds, duration);
    EXPECT_EQ(retry.occurrences, 1);
}

TEST(SipMessageRetryAfter, PlainDeltaSeconds) {
    expect_valid_retry_after("18000", 18000);
    EXPECT_EQ(retry_after_of({"Retry-After: 18000"}).raw, "18000");
}

TEST(SipMessageRetryAfter, WithCommentAndDuration) {
    expect_valid_retry_after("120 (I'm in a meeting) ;duration=3600", 120, "I'm in a meeting", 3600);
}

TEST(SipMessageRetryAfter, WithDurationOnly) { expect_valid_retry_after("300;duration=60", 300, "", 60); }

TEST(SipMessageRetryAfter, CommentMayNestParentheses) {
    // RFC 3261 §25.1: comment = LPAREN *(ctext / quoted-pair / comment) RPAREN
    expect_valid_retry_after("120 (upgrade (phase 2) running);duration=60", 120, "upgrade (phase 2) running", 60);
}

TEST(SipMessageRetryAfter, GarbageIsPresentButInvalid) {
    const RetryAfter retry = retry_after_of({"Retry-After: abc"});
    EXPECT_TRUE(retry.present);
    EXPECT_FALSE(retry.valid);
    EXPECT_EQ(retry.raw, "abc");
}

TEST(SipMessageRetryAfter, DigitsFollowedByJunkAreInvalid) {
    EXPECT_FALSE(retry_after_of({"Retry-After: 120abc"}).valid);
    EXPECT_FALSE(retry_after_of({"Retry-After: -5"}).valid);
    EXPECT_FALSE(retry_after_of({"Retry-After:"}).valid);
}

TEST(SipMessageRetryAfter, HugeValueIsClampedTo32Bits) {
    const RetryAfter retry = retry_after_of({"Retry-After: 99999999999999999999"});
    EXPECT_TRUE(retry.valid);
    EXPECT_TRUE(retry.clamped);
    EXPECT_EQ(retry.seconds, 4294967295u);
    EXPECT_EQ(retry.raw, "99999999999999999999");
}

TEST(SipMessageRetryAfter, OneOver32BitsIsClampedButThe32BitMaximumIsNot) {
    const RetryAfter over = retry_after_of({"Retry-After: 4294967296"});
    EXPECT_TRUE(over.valid);
    EXPECT_TRUE(over.clamped);
    EXPECT_EQ(over.seconds, 4294967295u);
    const RetryAfter largest = retry_after_of({"Retry-After: 4294967295"});
    EXPECT_TRUE(largest.valid);
    EXPECT_FALSE(largest.clamped);
    EXPECT_EQ(largest.seconds, 4294967295u);
}

TEST(SipMessageRetryAfter, DuplicatedWithTheSameValueIsHarmless) {
    const SipMessage response = parsed_503({"Retry-After: 5", "Retry-After: 5"});
    EXPECT_TRUE(response.retry_after.valid);
    EXPECT_FALSE(response.retry_after.conflicting);
    EXPECT_EQ(response.retry_after.seconds, 5u);
    EXPECT_EQ(response.retry_after.occurrences, 2);
    EXPECT_TRUE(response.anomalies.empty());
}

TEST(SipMessageRetryAfter, DuplicatedWithDifferentValuesIsDistrustedAndNoted) {
    const SipMessage response = parsed_503({"Retry-After: 5", "Retry-After: 3600", "Retry-After: 7"});
    EXPECT_TRUE(response.retry_after.present);
    EXPECT_FALSE(response.retry_after.valid);
    EXPECT_TRUE(response.retry_after.conflicting);
    EXPECT_EQ(response.retry_after.occurrences, 3);
    EXPECT_EQ(response.retry_after.raw, "5, 3600");
    EXPECT_EQ(response.anomalies,
              std::vector<std::string>{"Retry-After appears more than once with different values; neither is used."});
}

// ---- Reason, Warning, vendor headers ----

// A 503 carrying `header` has exactly this one Reason value.
void expect_one_reason(const std::string& header, const std::string& protocol, std::optional<std::uint32_t> cause,
                       const std::string& text) {
    SCOPED_TRACE(header);
    const SipMessage response = parsed_503({header});
    ASSERT_EQ(response.reasons.size(), 1u);
    EXPECT_EQ(response.reasons[0].protocol, protocol);
    EXPECT_EQ(response.reasons[0].cause, cause);
    EXPECT_EQ(response.reasons[0].text, text);
}

TEST(SipMessageReason, Q850CauseAndText) {
    expect_one_reason("Reason: Q.850;cause=34;text=\"No circuit/channel available\"", "Q.850", 34,
                      "No circuit/channel available");
}

TEST(SipMessageReason, SipCauseWithoutText) { expect_one_reason("Reason: SIP;cause=503", "SIP", 503, ""); }

TEST(SipMessageReason, TextWithoutCause) {
    expect_one_reason("Reason: SIP ;text=\"Call completed elsewhere\"", "SIP", std::nullopt,
                      "Call completed elsewhere");
}

TEST(SipMessageReason, SeveralCommaSeparatedValuesAndHeaders) {
    const SipMessage response = parsed_503(
        {"Reason: SIP;cause=503;text=\"Service Unavailable, try later\", Q.850;cause=41", "Reason: Q.850;cause=999"});
    ASSERT_EQ(response.reasons.size(), 3u);
    EXPECT_EQ(response.reasons[0].text, "Service Unavailable, try later");
    EXPECT_EQ(response.reasons[1].protocol, "Q.850");
    EXPECT_EQ(response.reasons[1].cause, 41u);
    EXPECT_EQ(response.reasons[2].cause, 999u);  // kept as sent; judging it is the classifier's job
}

TEST(SipMessageReason, NonNumericCauseIsAbsent) {
    expect_one_reason("Reason: Q.850;cause=x1", "Q.850", std::nullopt, "");
}

TEST(SipMessageReason, ListsAreCappedAtKMaxListedValues) {
    Headers headers;
    for (int i = 0; i < 20; ++i) headers.push_back("Reason: Q.850;cause=" + std::to_string(i + 1));
    EXPECT_EQ(parsed_503(headers).reasons.size(), kMaxListedValues);
}

TEST(SipMessageWarning, CodeAgentAndQuotedText) {
    const SipMessage response = parsed_503({"Warning: 399 sbc.example.com \"DNS SRV lookup failed\""});
    ASSERT_EQ(response.warnings.size(), 1u);
    EXPECT_EQ(response.warnings[0].code, 399);
    EXPECT_EQ(response.warnings[0].agent, "sbc.example.com");
    EXPECT_EQ(response.warnings[0].text, "DNS SRV lookup failed");
}

TEST(SipMessageWarning, SeveralValues) {
    const SipMessage response =
        parsed_503({"Warning: 399 a.example.com \"first, with comma\", 370 b.example.com:5060 \"second\""});
    ASSERT_EQ(response.warnings.size(), 2u);
    EXPECT_EQ(response.warnings[0].text, "first, with comma");
    EXPECT_EQ(response.warnings[1].code, 370);
    EXPECT_EQ(response.warnings[1].agent, "b.example.com:5060");
}

TEST(SipMessageWarning, ValuesWithoutACodeAreSkipped) {
    EXPECT_TRUE(parsed_503({"Warning: sbc \"no code\""}).warnings.empty());
    EXPECT_TRUE(parsed_503({"Warning: 1000 sbc \"too long\""}).warnings.empty());
}

TEST(SipMessageWarning, CodeWithoutAgentDoesNotThrow) {
    std::optional<SipMessage> response;
    EXPECT_NO_THROW(response = parse_sip_message(test::response_text(test::Txn{}, 503, {"Warning: 399"})));
    ASSERT_TRUE(response);
    ASSERT_EQ(response->warnings.size(), 1u);
    EXPECT_EQ(response->warnings[0].code, 399);
    EXPECT_EQ(response->warnings[0].agent, "");
}

TEST(SipMessage, VendorReasonHeadersAreKeptWithTheirName) {
    const SipMessage response = parsed_503({"X-Asterisk-HangupCause: Normal Circuit Congestion", "X-Reason: trunk down",
                                            "X-Error-Detail: db timeout", "X-Custom: not a reason"});
    EXPECT_EQ(response.reason_headers,
              (std::vector<std::string>{"X-Asterisk-HangupCause: Normal Circuit Congestion", "X-Reason: trunk down",
                                        "X-Error-Detail: db timeout"}));
}

TEST(SipMessage, ServerAndUserAgentAreKept) {
    const SipMessage response = parsed_503({"Server: FreeSWITCH-mod_sofia/1.10.9", "User-Agent: Asterisk PBX 20.5.0"});
    EXPECT_EQ(response.server, "FreeSWITCH-mod_sofia/1.10.9");
    EXPECT_EQ(response.user_agent, "Asterisk PBX 20.5.0");
}

TEST(SipMessage, AHundredKilobyteHeaderValueIsCut) {
    const SipMessage response = parsed_503({"Server: " + std::string(100 * 1024, 'x')});
    EXPECT_EQ(response.server, std::string(kMaxStoredText, 'x') + "...");
}

TEST(SipMessage, ControlBytesInAHeaderValueAreMadePrintable) {
    EXPECT_EQ(parsed_503({std::string("Server: a\x01"
                                      "b\x1b[31m")})
                  .server,
              "a.b.[31m");
}

// ---- From / To ----

TEST(SipMessageNameAddr, NameAddrWithDisplayNameAndTag) {
    const NameAddr address =
        parse_name_addr("\"Alice Smith\" <sip:alice@atlanta.example.com;transport=tcp>;tag=88sja8x");
    EXPECT_EQ(address.user, "alice");
    EXPECT_EQ(address.tag, "88sja8x");
}

TEST(SipMessageNameAddr, AddrSpecWithTag) {
    const NameAddr address = parse_name_addr("sip:+15551234567@carrier.example.net;user=phone;tag=abc");
    EXPECT_EQ(address.user, "+15551234567");
    EXPECT_EQ(address.tag, "abc");
}

TEST(SipMessageNameAddr, TelUri) {
    EXPECT_EQ(parse_name_addr("<tel:+15551234567;phone-context=example.com>").user, "+15551234567");
    EXPECT_EQ(uri_user("tel:911"), "911");
}

TEST(SipMessageNameAddr, UriWithoutUserHasNoUser) {
    const NameAddr address = parse_name_addr("<sip:registrar.example.com>;tag=x");
    EXPECT_EQ(address.user, "");
    EXPECT_EQ(address.tag, "x");
    EXPECT_EQ(uri_user("http://alice@example.com"), "");
    EXPECT_EQ(uri_user("no-scheme"), "");
}

TEST(SipMessageContact, HostOfTheFirstContactWithoutPortOrBrackets) {
    EXPECT_EQ(name_addr_host("<sip:bob@203.0.113.7:5060;transport=tcp>;expires=3600"), "203.0.113.7");
    EXPECT_EQ(name_addr_host("\"Bob, at home\" <sip:bob@[2001:db8::7]:5062>, <sip:bob@198.51.100.9>"), "2001:db8::7");
    EXPECT_EQ(name_addr_host("sip:bob@phone.example.net;expires=60"), "phone.example.net");
    EXPECT_EQ(name_addr_host("*"), "");
    EXPECT_EQ(uri_host("sips:registrar.example.com"), "registrar.example.com");
    EXPECT_EQ(uri_host("tel:+15551234567"), "");
}

TEST(SipMessageContact, ReadOnlyOnA2xxToRegisterInLongOrCompactFormWhereverTheCSeqIs) {
    const std::string registered = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 203.0.113.7;branch=z9hG4bK-1\r\n"
                                   "m: <sip:bob@203.0.113.7>;expires=3600\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n\r\n";
    EXPECT_EQ(test::parse(registered).contact_host, "203.0.113.7");
    const std::string answered = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 203.0.113.7;branch=z9hG4bK-1\r\nCall-ID: c1\r\n"
                                 "CSeq: 1 INVITE\r\nContact: <sip:bob@203.0.113.7>\r\n\r\n";
    EXPECT_EQ(test::parse(answered).contact_host, "");
    const std::string challenged = "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 203.0.113.7;branch=z9hG4bK-1\r\n"
                                   "Call-ID: r1\r\nCSeq: 1 REGISTER\r\nContact: <sip:bob@203.0.113.7>\r\n\r\n";
    EXPECT_EQ(test::parse(challenged).contact_host, "");
}

TEST(SipMessageNameAddr, SipsUriAndUnclosedAngle) {
    EXPECT_EQ(parse_name_addr("<sips:carol@example.com").user, "carol");
}

TEST(SipMessageNameAddr, QuotedDisplayNameMayContainAngleBrackets) {
    const NameAddr address = parse_name_addr("\"Sales <EU>\" <sip:sales@example.com>;tag=q1");
    EXPECT_EQ(address.user, "sales");
    EXPECT_EQ(address.tag, "q1");
}

TEST(SipMessageNameAddr, PasswordIsNotPartOfTheUser) {
    // RFC 3261 §19.1.1: userinfo = user [ ":" password ] "@"
    EXPECT_EQ(uri_user("sip:alice:secret@example.com"), "alice");
}

TEST(SipMessageNameAddr, FromAndToOfAParsedMessage) {
    const SipMessage response =
        parse_503_lines({"From: \"Alice\" <sip:alice@example.com>;tag=f", "To: tel:+4930123", "Call-ID: na@x"});
    EXPECT_EQ(response.from_user, "alice");
    EXPECT_EQ(response.from_tag, "f");
    EXPECT_EQ(response.to_user, "+4930123");
    EXPECT_EQ(response.to_tag, "");
}

// A message that is neither a 503 nor a 100 is read only until its routing headers have all appeared.
const char* const kRingingWithLateHeaders =
    "SIP/2.0 180 Ringing\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "CSeq: 271828 BYE\r\n"
    "Server: Late/1.0\r\n"
    "\r\n";

TEST(SipMessageReadingDepth, AMessageOtherThanA503IsReadUntilItsRoutingHeadersHaveAppeared) {
    const auto ringing = parse_sip_message(kRingingWithLateHeaders);
    ASSERT_TRUE(ringing);
    EXPECT_EQ(ringing->cseq_number, 314159u);  // the second CSeq came after every routing header
    EXPECT_EQ(ringing->cseq_method, "INVITE");
    EXPECT_EQ(ringing->from_user, "alice");
    EXPECT_EQ(ringing->to_user, "bob");
    EXPECT_TRUE(ringing->server.empty());
}

TEST(SipMessageReadingDepth, A503AndA100AreReadToTheEndOfTheirHeaders) {
    std::string refused = kRingingWithLateHeaders;
    refused.replace(refused.find("180 Ringing"), 11, "503 Service Unavailable");
    const auto diagnosed = parse_sip_message(refused);
    ASSERT_TRUE(diagnosed);
    EXPECT_EQ(diagnosed->cseq_number, 271828u);  // every header read: the last CSeq stands
    EXPECT_EQ(diagnosed->server, "Late/1.0");

    std::string trying = kRingingWithLateHeaders;
    trying.replace(trying.find("180 Ringing"), 11, "100 Trying");
    const auto agent = parse_sip_message(trying);
    ASSERT_TRUE(agent);
    EXPECT_EQ(agent->server, "Late/1.0");
}

TEST(SipMessageReadingDepth, ARequestWithoutSomeRoutingHeaderIsReadToTheEnd) {
    const auto request = parse_sip_message(
        "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKopt\r\n"
        "Call-ID: opt@pc33\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
        "To: <sip:bob@biloxi.example.com>;tag=late\r\n"
        "\r\n");
    ASSERT_TRUE(request);
    EXPECT_EQ(request->to_tag, "late");
}

}  // namespace
}  // namespace diag503
