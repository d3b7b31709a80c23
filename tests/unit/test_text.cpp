// Unit tests of the protocol-text helpers: trimming, comparing, numbers, splitting, parameters, display.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "core/text.hpp"

namespace diag503 {
namespace {

using Parts = std::vector<std::string_view>;

TEST(Text, TrimRemovesSpacesTabsAndLineEndsOnBothSides) {
    EXPECT_EQ(trim(" \t value \r\n"), "value");
    EXPECT_EQ(trim("inner  space"), "inner  space");
    EXPECT_EQ(trim(" \r\n\t "), "");
    EXPECT_EQ(trim(""), "");
}

TEST(Text, IequalsIgnoresAsciiCaseOnly) {
    EXPECT_TRUE(iequals("Call-ID", "call-id"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("Via", "Vias"));
    EXPECT_FALSE(iequals("a-b", "a_b"));
}

TEST(Text, IstartsWithIgnoresCase) {
    EXPECT_TRUE(istarts_with("sip/2.0 200 OK", "SIP/2.0"));
    EXPECT_FALSE(istarts_with("SIP", "SIP/2.0"));
}

TEST(Text, IcontainsFindsNeedleAnywhereIgnoringCase) {
    EXPECT_TRUE(icontains("DNS SRV lookup FAILED", "srv lookup"));
    EXPECT_TRUE(icontains("abc", "C"));
    EXPECT_TRUE(icontains("anything", ""));
    EXPECT_FALSE(icontains("ab", "abc"));
    EXPECT_FALSE(icontains("", "a"));
    EXPECT_TRUE(icontains("aab", "ab"));  // a first-letter match that fails must not skip the real one
}

TEST(Text, ParseLeadingDecimalReadsDigitsUpToTheFirstOther) {
    auto number = parse_leading_decimal("120 (lunch)");
    ASSERT_TRUE(number);
    EXPECT_EQ(number->value, 120u);
    EXPECT_FALSE(number->overflowed);
    EXPECT_EQ(parse_leading_decimal("007")->value, 7u);
}

TEST(Text, ParseLeadingDecimalRejectsEmptyAndLeadingJunk) {
    EXPECT_FALSE(parse_leading_decimal(""));
    EXPECT_FALSE(parse_leading_decimal(" 5"));
    EXPECT_FALSE(parse_leading_decimal("-5"));
    EXPECT_FALSE(parse_leading_decimal("x5"));
}

TEST(Text, ParseLeadingDecimalClampsOverflowOfThirtyDigits) {
    auto number = parse_leading_decimal("123456789012345678901234567890;x");
    ASSERT_TRUE(number);
    EXPECT_TRUE(number->overflowed);
    EXPECT_EQ(number->value, std::numeric_limits<std::uint64_t>::max());
}

TEST(Text, ParseLeadingDecimalAcceptsExactlyUint64Max) {
    auto largest = parse_leading_decimal("18446744073709551615");
    ASSERT_TRUE(largest);
    EXPECT_FALSE(largest->overflowed);
    EXPECT_EQ(largest->value, std::numeric_limits<std::uint64_t>::max());
    EXPECT_TRUE(parse_leading_decimal("18446744073709551616")->overflowed);
}

TEST(Text, ParseDecimalNeedsOnlyDigitsAfterTrimming) {
    ASSERT_TRUE(parse_decimal("  3600 "));
    EXPECT_EQ(parse_decimal("  3600 ")->value, 3600u);
    EXPECT_FALSE(parse_decimal(""));
    EXPECT_FALSE(parse_decimal("   "));
    EXPECT_FALSE(parse_decimal("12a"));
    EXPECT_FALSE(parse_decimal("a12"));
    EXPECT_FALSE(parse_decimal("1 2"));
    EXPECT_TRUE(parse_decimal("999999999999999999999999999999")->overflowed);
}

TEST(Text, SplitTopLevelSplitsAtTheSeparatorAndTrims) {
    EXPECT_EQ(split_top_level(" a , b,c ", ','), (Parts{"a", "b", "c"}));
    EXPECT_EQ(split_top_level("", ','), (Parts{""}));
    EXPECT_EQ(split_top_level("a,", ','), (Parts{"a", ""}));
}

TEST(Text, SplitTopLevelKeepsQuotedAngledAndParenthesisedSeparators) {
    EXPECT_EQ(split_top_level(R"("Smith, John" <sip:j@x>, <sip:a,b@y>)", ','),
              (Parts{R"("Smith, John" <sip:j@x>)", "<sip:a,b@y>"}));
    EXPECT_EQ(split_top_level("120 (back, soon);duration=5, 7", ','), (Parts{"120 (back, soon);duration=5", "7"}));
}

TEST(Text, SplitTopLevelHonoursEscapedQuotesInsideQuotes) {
    EXPECT_EQ(split_top_level(R"(399 h "say \"a, b\" now", 399 k "x")", ','),
              (Parts{R"(399 h "say \"a, b\" now")", R"(399 k "x")"}));
}

TEST(Text, SplitTopLevelToleratesUnbalancedClosers) { EXPECT_EQ(split_top_level("a>,b)", ','), (Parts{"a>", "b)"})); }

TEST(Text, FindParameterIsCaseInsensitiveAndTrimmed) {
    const std::string_view parameters = "branch=z9hG4bK1; Received = 203.0.113.9 ;lr;rport";
    EXPECT_EQ(find_parameter(parameters, "BRANCH"), "z9hG4bK1");
    EXPECT_EQ(find_parameter(parameters, "received"), "203.0.113.9");
    EXPECT_EQ(find_parameter(parameters, "lr"), "");  // present without a value
    EXPECT_FALSE(find_parameter(parameters, "maddr"));
    EXPECT_FALSE(find_parameter(parameters, "branc"));
}

TEST(Text, FindParameterDoesNotSplitInsideQuotes) {
    EXPECT_EQ(find_parameter(R"(cause=41;text="a;b=c")", "text"), R"("a;b=c")");
    EXPECT_FALSE(find_parameter(R"(text="a;b=c")", "b"));
}

TEST(Text, UnquoteRemovesOnlyOneEnclosingPairOfQuotes) {
    EXPECT_EQ(unquote(R"( "loss" )"), "loss");
    EXPECT_EQ(unquote("loss"), "loss");
    EXPECT_EQ(unquote(R"(")"), R"(")");
    EXPECT_EQ(unquote(R"("")"), "");
    EXPECT_EQ(unquote(R"("a" b)"), R"("a" b)");
}

TEST(Text, HashTextIsCaseSensitiveAndSeedable) {
    EXPECT_EQ(hash_text("abc"), hash_text("abc"));
    EXPECT_NE(hash_text("abc"), hash_text("ABC"));
    EXPECT_NE(hash_text("abc", 1), hash_text("abc", 2));
}

TEST(Text, PrintableReplacesControlBytes) {
    EXPECT_EQ(printable(std::string("a\r\nb\tc\x7f"
                                    "d\0e",
                                    10),
                        100),
              "a..b.c.d.e");
}

// The check reads eight bytes at a time: every byte value, at every place in and after a word,
// must be judged as a byte-by-byte reading would.
TEST(Text, PlainAndShortJudgesEveryByteAtEveryPlace) {
    for (int value = 0; value < 256; ++value) {
        const bool printable_byte = value >= 0x20 && value < 0x7f;
        for (std::size_t place = 0; place < 19; ++place) {
            std::string text(19, 'a');
            text[place] = static_cast<char>(value);
            EXPECT_EQ(plain_and_short(text, 100), printable_byte) << "byte " << value << " at " << place;
        }
    }
    EXPECT_TRUE(plain_and_short("", 0));
    EXPECT_FALSE(plain_and_short("abc", 2));
    EXPECT_TRUE(plain_and_short(" ~~~~~~~ ~~~~~~~~", 100));  // the edges of the printable range, in words
}

// The scan reads eight bytes at a time: each byte value at each place, with the sought bytes before,
// inside and after a word, must be found exactly where a byte-by-byte scan finds it.
TEST(Text, FindFirstOfFourFindsTheFirstSoughtByteAtEveryPlace) {
    for (int value = 0; value < 256; ++value) {
        const char byte = static_cast<char>(value);
        const bool sought = byte == ',' || byte == '"' || byte == '<' || byte == '(';
        for (std::size_t place = 0; place < 19; ++place) {
            std::string text(19, 'x');
            text[place] = byte;
            EXPECT_EQ(find_first_of_four(text, ',', '"', '<', '('), sought ? place : std::string_view::npos)
                << "byte " << value << " at " << place;
        }
    }
    EXPECT_EQ(find_first_of_four("SIP/2.0/UDP h;branch=z9<x,y", ',', '"', '<', '('), 23u);  // the first of two
    EXPECT_EQ(find_first_of_four("", 'a', 'b', 'c', 'd'), std::string_view::npos);
}

TEST(Text, PrintableKeepsBytesAboveAscii) { EXPECT_EQ(printable("caf\xc3\xa9", 100), "caf\xc3\xa9"); }

TEST(Text, PrintableCutsAtMaxLengthAndAddsAnEllipsis) {
    EXPECT_EQ(printable("abcdef", 3), "abc...");
    EXPECT_EQ(printable("abc", 3), "abc");
    EXPECT_EQ(printable("abc", 0), "...");
}

TEST(Text, PrintableDoesNotCutAUtf8CharacterInHalf) {
    // "é" is two bytes; a cut after its first byte would leave invalid UTF-8 for the display.
    EXPECT_EQ(printable("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9...");
}

}  // namespace
}  // namespace diag503
