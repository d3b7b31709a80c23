// Unit tests of display text: packet text shown in Wireshark is valid UTF-8, one line, escaped and capped.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <string>

#include "core/display_text.hpp"

namespace diag503 {
namespace {

const std::string kEllipsis = "\xe2\x80\xa6";  // "…"

// Whether `text` is valid UTF-8 (RFC 3629) without a C0, DEL, C1 or bidi-control character.
bool is_displayable(const std::string& text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3
                                   : lead >= 0xf0 && lead <= 0xf4                 ? 4
                                                                                  : 0;
        if (length == 0 || i + length > text.size()) return false;
        char32_t c = length == 1 ? lead : lead & (0x7f >> length);
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xc0) != 0x80) return false;
            c = (c << 6) | (next & 0x3f);
        }
        const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (c < smallest[length] || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) return false;
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e) ||
            (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f || c == 0x061c)
            return false;
        i += length;
    }
    return true;
}

bool ends_with(const std::string& text, const std::string& end) {
    return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

// ---- What passes unchanged

TEST(DisplayText, PlainAsciiIsUnchanged) {
    EXPECT_EQ(displayable("Maximum Calls In Progress", 128), "Maximum Calls In Progress");
    EXPECT_EQ(displayable("", 128), "");
}

TEST(DisplayText, ValidUtf8NamesAreKept) {
    const std::string name = "Jos\xc3\xa9 M\xc3\xbcller \xe5\xbc\xa0\xe4\xbc\x9f \xf0\x9f\x93\x9e";  // José Müller 张伟 📞
    EXPECT_EQ(displayable(name, 128), name);
}

TEST(DisplayText, FormatDirectivesArePlainTextAndUnchanged) {
    // "%s%n%x" is an attack only when used as a format; as a value it is shown as it is.
    EXPECT_EQ(displayable("%s%n%x", 128), "%s%n%x");
    EXPECT_EQ(displayable("100% busy %%d", 128), "100% busy %%d");
}

TEST(DisplayText, BackslashesAreKeptSoApplyingTwiceChangesNothing) {
    EXPECT_EQ(displayable("C:\\pbx\\log", 128), "C:\\pbx\\log");
    const std::string hostile = std::string("a\r\nb\x1b[31m\xc0\xaf", 11) + std::string(600, 'x');
    const std::string once = displayable(hostile, 128);
    EXPECT_EQ(displayable(once, 128), once);
}

// ---- Control characters: escaped so that one value never spans lines or drives a terminal

TEST(DisplayText, LineEndsAndTabsAreEscaped) {
    EXPECT_EQ(displayable("a\r\nb\tc", 128), "a\\r\\nb\\tc");
}

TEST(DisplayText, NulEscAndDelAreEscapedAsBytes) {
    EXPECT_EQ(displayable(std::string("a\0b", 3), 128), "a\\x00b");
    EXPECT_EQ(displayable("\x1b[31mred\x1b[0m", 128), "\\x1b[31mred\\x1b[0m");
    EXPECT_EQ(displayable("\x7f", 128), "\\x7f");
}

TEST(DisplayText, C1ControlsAreEscapedAsCharacters) {
    EXPECT_EQ(displayable("a\xc2\x85" "b", 128), "a\\u0085b");  // NEL, a line end to some viewers
    EXPECT_EQ(displayable("\xc2\x9b" "31m", 128), "\\u009b31m");  // CSI, a terminal escape
}

TEST(DisplayText, LineSeparatorsAndBidiControlsAreEscaped) {
    EXPECT_EQ(displayable("a\xe2\x80\xa8" "b\xe2\x80\xa9", 128), "a\\u2028b\\u2029");
    // Right-to-left override: would show "gpj.exe" reversed as "exe.jpg".
    EXPECT_EQ(displayable("\xe2\x80\xae" "gpj.exe", 128), "\\u202egpj.exe");
    EXPECT_EQ(displayable("\xe2\x81\xa6x\xe2\x81\xa9", 128), "\\u2066x\\u2069");
}

// ---- Invalid UTF-8: each byte that is not part of a valid character becomes \xNN

TEST(DisplayText, LoneContinuationByteIsEscaped) {
    EXPECT_EQ(displayable("a\x80" "b", 128), "a\\x80b");
}

TEST(DisplayText, OverlongEncodingIsEscaped) {
    EXPECT_EQ(displayable("\xc0\xaf", 128), "\\xc0\\xaf");          // an overlong "/"
    EXPECT_EQ(displayable("\xe0\x80\xaf", 128), "\\xe0\\x80\\xaf");  // the same in three bytes
}

TEST(DisplayText, SequenceTruncatedAtTheEndIsEscaped) {
    EXPECT_EQ(displayable("caf\xc3", 128), "caf\\xc3");
    EXPECT_EQ(displayable("x\xe2\x82", 128), "x\\xe2\\x82");
}

TEST(DisplayText, SurrogatesAndCodePointsPastUnicodeAreEscaped) {
    EXPECT_EQ(displayable("\xed\xa0\x80", 128), "\\xed\\xa0\\x80");          // U+D800
    EXPECT_EQ(displayable("\xf4\x90\x80\x80", 128), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
    EXPECT_EQ(displayable("\xff\xfe", 128), "\\xff\\xfe");
}

// ---- The cap

TEST(DisplayText, TextWithinTheCapIsNotCut) {
    EXPECT_EQ(displayable("abcdef", 6), "abcdef");
}

TEST(DisplayText, LongTextIsCutAndEndsWithAnEllipsisWithinTheCap) {
    EXPECT_EQ(displayable("abcdefgh", 6), "abc" + kEllipsis);
    EXPECT_EQ(displayable("abcd", 3), kEllipsis);
}

TEST(DisplayText, CapTooSmallForTheEllipsisLeavesNothingWhenCutting) {
    EXPECT_EQ(displayable("abc", 2), "");
    EXPECT_EQ(displayable("ab", 2), "ab");
}

TEST(DisplayText, CutNeverSplitsAnEscape) {
    // "a\x1b" shows as 5 bytes; with a cap of 6 the escape does not fit beside the ellipsis.
    EXPECT_EQ(displayable("a\x1b" "bcdef", 6), "a" + kEllipsis);
}

TEST(DisplayText, A64KilobyteHeaderValueIsCappedAtACharacterBoundary) {
    std::string header;
    while (header.size() < 64 * 1024) header += "\xc3\xa9";  // "é", two bytes each
    for (std::size_t cap : {512u, 513u, 514u, 515u}) {
        const std::string shown = displayable(header, cap);
        EXPECT_LE(shown.size(), cap);
        EXPECT_GE(shown.size(), cap - 4);
        EXPECT_TRUE(ends_with(shown, kEllipsis));
        EXPECT_TRUE(is_displayable(shown)) << "cap " << cap;
    }
    std::string euro;  // three-byte characters: the cut falls inside one for every cap not divisible by 3
    while (euro.size() < 64 * 1024) euro += "\xe2\x82\xac";
    for (std::size_t cap = 100; cap < 106; ++cap) {
        const std::string shown = displayable(euro, cap);
        EXPECT_LE(shown.size(), cap);
        EXPECT_TRUE(ends_with(shown, kEllipsis));
        EXPECT_TRUE(is_displayable(shown)) << "cap " << cap;
    }
}

// ---- A verdict

TEST(DisplayText, EveryStringOfAVerdictWithHostileTextIsDisplayableAndWithinItsCap) {
    // Format directives, a terminal escape, a line end, NUL, overlong, surrogate, bidi override, 70 KB.
    static const char kStart[] = "%s%n\x1b[31m\r\n\0\xc0\xaf\xed\xa0\x80\xe2\x80\xae";
    const std::string hostile = std::string(kStart, sizeof kStart - 1) + std::string(70000, 'W') + "\xc3\xa9";
    Verdict verdict;
    verdict.evidence = {{"Reason text \"" + hostile + "\" names the cause.", {1}}, {hostile, {2}}};
    verdict.recommendation = hostile;
    verdict.server = hostile;
    verdict.method = hostile;
    verdict.origin = "relayed from " + hostile;
    RtspVerdictContext& rtsp = verdict.context.emplace<RtspVerdictContext>();
    rtsp.url = "rtsp://" + hostile;
    rtsp.stream = hostile;
    rtsp.profile = hostile;

    make_displayable(verdict);

    for (const Evidence& item : verdict.evidence) {
        EXPECT_TRUE(is_displayable(item.sentence));
        EXPECT_LE(item.sentence.size(), kMaxDisplayedSentence);
    }
    EXPECT_EQ(verdict.evidence[0].sentence.rfind("Reason text \"%s%n\\x1b[31m\\r\\n\\x00\\xc0\\xaf\\xed\\xa0\\x80\\u202e", 0), 0u);
    const std::pair<const std::string*, std::size_t> capped[] = {
        {&verdict.recommendation, kMaxDisplayedSentence}, {&verdict.server, kMaxDisplayedIdentifier},
        {&verdict.method, kMaxDisplayedIdentifier},       {&rtsp.url, kMaxDisplayedUrl},
        {&rtsp.stream, kMaxDisplayedIdentifier},          {&rtsp.profile, kMaxDisplayedName},
        {&verdict.origin, kMaxDisplayedName}};
    for (const auto& [text, cap] : capped) {
        EXPECT_TRUE(is_displayable(*text));
        EXPECT_LE(text->size(), cap);
        EXPECT_TRUE(ends_with(*text, kEllipsis));
    }
}

TEST(DisplayText, AVerdictOfPlainTextIsUnchanged) {
    Verdict verdict;
    verdict.evidence = {{"Reason phrase \"Maximum Calls In Progress\" names the cause.", {90}}};
    verdict.recommendation = "Capacity limit: check the licence.";
    verdict.server = "[2001:db8::1]:5060";
    verdict.method = "INVITE";
    verdict.origin = "relayed from \"Caf\xc3\xa9 PBX\"";
    const Verdict before = verdict;

    make_displayable(verdict);

    EXPECT_EQ(verdict.evidence[0].sentence, before.evidence[0].sentence);
    EXPECT_EQ(verdict.recommendation, before.recommendation);
    EXPECT_EQ(verdict.server, before.server);
    EXPECT_EQ(verdict.method, before.method);
    EXPECT_EQ(verdict.origin, before.origin);
}

}  // namespace
}  // namespace diag503
