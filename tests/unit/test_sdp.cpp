// Unit tests of parse_sdp and its H.264 SPS decoder, with published camera and encoder parameter sets.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "rtsp/sdp.hpp"

namespace diag503 {

// GoogleTest prints sizes as "640x480" in failure messages.
void PrintTo(const VideoDimensions& size, std::ostream* out) { *out << size.width << "x" << size.height; }

namespace {

// The SDP of Axis' VAPIX Video Streaming API manual (DESCRIBE of
// axis-media/media.amp?videocodec=h264&resolution=640x480), with the lines the PDF wraps joined again.
const char* const kAxisVapixSdp =
    "v=0\r\n"
    "o=- 1216212527554872 1216212527554872 IN IP4 myserver\r\n"
    "s=Media Presentation\r\n"
    "e=NONE\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "b=AS:50064\r\n"
    "t=0 0\r\n"
    "a=control:rtsp://myserver/axis-media/media.amp?videocodec=h264&resolution=640x480\r\n"
    "a=range:npt=0.000000-\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "b=AS:50000\r\n"
    "a=framerate:30.0\r\n"
    "a=transform:1,0,0;0,1,0;0,0,1\r\n"
    "a=control:rtsp://myserver/axis-media/media.amp/trackID=1?videocodec=h264&resolution=640x480\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1; profile-level-id=420029; sprop-parameter-sets=Z0IAKeKQFAe2AtwEBAaQeJEV,aM48gA==\r\n"
    "m=audio 0 RTP/AVP 97\r\n"
    "b=AS:64\r\n"
    "a=control:rtsp://myserver/axis-media/media.amp/trackID=2?videocodec=h264&resolution=640x480\r\n"
    "a=rtpmap:97 mpeg4-generic/16000/1\r\n"
    "a=fmtp:97 profile-level-id=15; mode=AAC-hbr;config=1408; SizeLength=13; IndexLength=3;IndexDeltaLength=3; "
    "Profile=1; bitrate=64000;\r\n";

// A one-video-section SDP with the given rtpmap and fmtp parameters for payload type 96, plus `extra` lines.
std::string h264_sdp(const std::string& fmtp_parameters, const std::string& extra = "") {
    return "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;" +
           fmtp_parameters + "\r\n" + extra;
}

SdpMedia only_media(const std::string& body) {
    const SdpSummary summary = parse_sdp(body);
    EXPECT_EQ(summary.media.size(), 1u);
    return summary.media.empty() ? SdpMedia{} : summary.media.front();
}

// A published H.264 SPS (base64, as in sprop-parameter-sets), where it comes from, and the size its source states.
struct PublishedSps {
    const char* source;
    const char* base64;
    std::uint32_t width;
    std::uint32_t height;
};

const PublishedSps kAxisVapix = {"Axis VAPIX Video Streaming API manual, DESCRIBE of resolution=640x480",
                                 "Z0IAKeKQFAe2AtwEBAaQeJEV", 640, 480};
const PublishedSps kAmcrestAd410 = {"go2rtc pkg/h264 TestDecodeSPS, Amcrest AD410", "Z0IAMukAUAHjQgAAB9IAAOqcCAA=",
                                    2560, 1920};
const PublishedSps kSonoff = {"go2rtc pkg/h264 TestDecodeSPS, Sonoff; 00 00 03 escapes in the VUI",
                              "R00AKZmgHgCJ+WEAAAMD6AAATiCE", 1920, 1080};
// baresip/re test/h264.c test_h264_sps gives these as hex without the NAL header; 0x67 added, then base64.
const PublishedSps kBaresipRv = {"baresip/re test_h264_sps rv: Constrained Baseline 5.2, crop bottom 8",
                                 "Z0LANNoB4AiflhAAAAMA", 1920, 1080};
const PublishedSps kBaresipAllonsy = {"baresip/re test_h264_sps allonsy: Main 3.0, 54 MBs wide, crop right 10",
                                      "Z01AHuiAbB7zeAiAAAADAIAAABkHixaJ", 854, 480};
const PublishedSps kBaresipExpert = {"baresip/re test_h264_sps expert: High 3.1",
                                     "Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=", 1280, 720};
const PublishedSps kBaresipJellyfish = {"baresip/re test_h264_sps jellyfish 4K: High 5.1",
                                        "Z2QAM6wspADwAQ+/8AAQABUgICAoAAAfSAAHUwdRAAHNlAAABWi8N+McHaFi0SA=", 3840, 2160};
const PublishedSps kBaresipSonyInterlaced = {
    "baresip/re test_h264_sps sony (scaling list): High 4:2:2 Intra, MBAFF, scaling matrix, crop bottom 8",
    "Z3oQKbbUICIzGcZjIyEBEZjOMxkYIQM6RmVqZSSt6RIyFBomNK2kQYIjAVArGiRpSDBALhESCMaMBEEoTDTwHgET8uA8YCAgKAAAAwAIAAADAZQg",
    1920, 1080};
const PublishedSps kBaresipTestsrc444 = {"baresip/re test_h264_sps testsrc2 yuv444: High 4:4:4, 25x13 MBs, crop 8",
                                         "Z/QADZGbKDI38TgIgAAAAwCAAAAZB4oUyw==", 400, 200};
const PublishedSps kMuxJs = {"videojs/mux.js test/test-sps.js testSPS: Baseline", "Z0LAHtkAtDX54QAAAwABAAADADwPFi5I",
                             720, 404};
const PublishedSps kOuroAmcrestHiDef = {"aboukirev/ouro net/h264/sps_test.go AmcrestHiDef: High 3.1, header 0x67 added",
                                        "Z2QAH6w0yAUAW/8BbgICAoAAAfQAADqYdDAATioAATioXeXGhgAJxUAAJxULvLhQAA==", 1280,
                                        720};
const PublishedSps kXgplayerPortrait = {"bytedance/xgplayer ts-multi-sps snapshot: High 3.1 portrait, NAL header 0x27",
                                        "J2QAH6xWgLQKGmoEBAVIEA==", 720, 1280};

// Each SPS decodes to the size its source states, alone and inside an SDP.
void expect_sps_sizes(const std::vector<PublishedSps>& parameter_sets) {
    for (const PublishedSps& sps : parameter_sets) {
        SCOPED_TRACE(sps.source);
        const auto nal_unit = decode_base64(sps.base64);
        ASSERT_TRUE(nal_unit);
        const VideoDimensions expected{sps.width, sps.height};
        EXPECT_EQ(h264_sps_dimensions(*nal_unit), expected);
        const std::string sprop = std::string("sprop-parameter-sets=") + sps.base64 + ",aM48gA==";
        EXPECT_EQ(only_media(h264_sdp(sprop)).sps_dimensions, expected);
    }
}

// ---- a real camera's SDP ----

TEST(Sdp, AxisVapixManualExample) {
    const SdpSummary summary = parse_sdp(kAxisVapixSdp);
    EXPECT_EQ(summary.control, "rtsp://myserver/axis-media/media.amp?videocodec=h264&resolution=640x480");
    ASSERT_EQ(summary.media.size(), 2u);
    const SdpMedia& video = summary.media[0];
    EXPECT_EQ(video.type, "video");
    EXPECT_EQ(video.payload_type, "96");
    EXPECT_EQ(video.codec, "H264");
    EXPECT_EQ(video.clock_rate, 90000u);
    EXPECT_EQ(video.framerate, 30.0);
    EXPECT_EQ(video.profile_level_id, "420029");
    EXPECT_EQ(video.control, "rtsp://myserver/axis-media/media.amp/trackID=1?videocodec=h264&resolution=640x480");
    EXPECT_EQ(video.sps_dimensions, (VideoDimensions{640, 480}));  // what the URL asked for
    EXPECT_FALSE(video.declared_dimensions);
    EXPECT_EQ(video.summary, "H264 640x480 30fps");
    const SdpMedia& audio = summary.media[1];
    EXPECT_EQ(audio.codec, "mpeg4-generic");
    EXPECT_EQ(audio.clock_rate, 16000u);
    EXPECT_EQ(audio.profile_level_id, "");  // only read for the video's H.264
    EXPECT_EQ(audio.summary, "mpeg4-generic 16000Hz");
    EXPECT_EQ(summary.text, "H264 640x480 30fps, mpeg4-generic 16000Hz");
}

// ---- published H.264 parameter sets ----

TEST(SdpSps, BaselineWithoutCropping) { expect_sps_sizes({kAxisVapix, kAmcrestAd410}); }

TEST(SdpSps, BottomCroppingMakes1088Into1080AcrossEmulationPreventionBytes) {
    expect_sps_sizes({kSonoff, kBaresipRv});
}

TEST(SdpSps, RightCroppingGivesOddWidths) { expect_sps_sizes({kBaresipAllonsy, kMuxJs}); }

TEST(SdpSps, HighProfilesCarryChromaFormatAndBitDepths) {
    expect_sps_sizes({kBaresipExpert, kBaresipJellyfish, kOuroAmcrestHiDef, kXgplayerPortrait});
}

TEST(SdpSps, InterlacedHigh422WithScalingListsCountsFieldPairs) { expect_sps_sizes({kBaresipSonyInterlaced}); }

TEST(SdpSps, High444UsesOnePixelCropUnits) { expect_sps_sizes({kBaresipTestsrc444}); }

TEST(SdpSps, SpsMayFollowThePpsInTheList) {
    EXPECT_EQ(only_media(h264_sdp(std::string("sprop-parameter-sets=aM48gA==,") + kAxisVapix.base64)).sps_dimensions,
              (VideoDimensions{640, 480}));
}

TEST(SdpSps, EveryTruncationOfAnSpsFailsCleanly) {
    const std::string sps = *decode_base64(kBaresipSonyInterlaced.base64);
    for (std::size_t length = 0; length < 8; ++length)
        EXPECT_FALSE(h264_sps_dimensions(sps.substr(0, length))) << length;
    for (std::size_t length = 0; length <= sps.size(); ++length)
        EXPECT_NO_THROW(h264_sps_dimensions(sps.substr(0, length)));
}

TEST(SdpSps, NotAnSpsOrNonsenseIsNoSize) {
    EXPECT_FALSE(h264_sps_dimensions(*decode_base64("aM48gA==")));         // a PPS
    EXPECT_FALSE(h264_sps_dimensions(std::string("\x67\x42\x00\x1f\x00\x00\x00\x00\x00", 9)));  // ue(v) > 32 bits
    EXPECT_FALSE(h264_sps_dimensions(std::string(64, '\xff')));          // forbidden bit, type 31
    // Baseline, one macroblock (16x16) with frame_crop_left_offset 8 (16 pixels): nothing would be left.
    EXPECT_FALSE(h264_sps_dimensions("\x67\x42\x00\x1e\xfb\xe2\x7c"));
    EXPECT_FALSE(h264_sps_dimensions(""));
}

TEST(SdpSps, OnlyH264IsDecoded) {
    const std::string body = std::string("m=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\n") +
                             "a=fmtp:96 sprop-parameter-sets=" + kAxisVapix.base64 + "\r\n";
    EXPECT_FALSE(only_media(body).sps_dimensions);
}

TEST(SdpSps, BrokenBase64IsIgnored) {
    const SdpMedia media = only_media(h264_sdp("sprop-parameter-sets=Z0I!AKeKQ,%%%", "a=x-dimensions:1280,720\r\n"));
    EXPECT_FALSE(media.sps_dimensions);
    EXPECT_EQ(media.dimensions(), (VideoDimensions{1280, 720}));
}

// ---- the attributes ----

TEST(Sdp, DeclaredDimensionsAreKeptButTheSpsWins) {
    const std::string fmtp = std::string("profile-level-id=420029;sprop-parameter-sets=") + kAxisVapix.base64;
    const SdpMedia media = only_media(h264_sdp(fmtp, "a=x-dimensions:704,576\r\n"));
    EXPECT_EQ(media.declared_dimensions, (VideoDimensions{704, 576}));
    EXPECT_EQ(media.dimensions(), (VideoDimensions{640, 480}));
    EXPECT_EQ(media.summary, "H264 640x480");
}

TEST(Sdp, DeclaredDimensionsAloneAreTheSize) {
    const SdpMedia media = only_media(h264_sdp("profile-level-id=4d0029", "a=x-dimensions:1920,1080\r\n"));
    EXPECT_EQ(media.dimensions(), (VideoDimensions{1920, 1080}));
    EXPECT_EQ(media.profile_level_id, "4d0029");
    EXPECT_EQ(media.summary, "H264 1920x1080");
}

TEST(Sdp, FrameRatesAreWrittenWithoutTrailingZeros) {
    EXPECT_EQ(only_media(h264_sdp("", "a=framerate:25.000000\r\n")).summary, "H264 25fps");
    EXPECT_EQ(only_media(h264_sdp("", "a=framerate:29.97\r\n")).summary, "H264 29.97fps");
    EXPECT_EQ(only_media(h264_sdp("", "a=x-framerate:15\r\n")).summary, "H264 15fps");
    EXPECT_FALSE(only_media(h264_sdp("", "a=framerate:fast\r\n")).framerate);
    EXPECT_FALSE(only_media(h264_sdp("", "a=framerate:-5\r\n")).framerate);
}

TEST(Sdp, TheCodecIsTheFirstPayloadTypesRtpmap) {
    const SdpMedia media = only_media(
        "m=video 0 RTP/AVP 97 96\r\na=rtpmap:96 H264/90000\r\na=rtpmap:97 H265/90000\r\na=rtpmap:97 VP8/90000\r\n");
    EXPECT_EQ(media.payload_type, "97");
    EXPECT_EQ(media.codec, "H265");
    EXPECT_EQ(media.clock_rate, 90000u);
}

TEST(Sdp, StaticPayloadTypesNeedNoRtpmap) {
    const SdpSummary summary = parse_sdp("m=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 26\r\nm=audio 0 RTP/AVP 8\r\n");
    ASSERT_EQ(summary.media.size(), 3u);
    EXPECT_EQ(summary.media[0].summary, "PCMU 8000Hz");
    EXPECT_EQ(summary.media[1].codec, "JPEG");
    EXPECT_EQ(summary.media[1].clock_rate, 90000u);
    EXPECT_EQ(summary.text, "PCMU 8000Hz, JPEG, PCMA 8000Hz");
}

TEST(Sdp, AnUnknownDynamicPayloadIsNamedByItsNumber) {
    EXPECT_EQ(only_media("m=video 0 RTP/AVP 96\r\n").summary, "video payload 96");
}

TEST(Sdp, OtherMediaTypesAreSkippedWithTheirAttributes) {
    // Hikvision cameras add an ONVIF metadata section after the video.
    const SdpSummary summary = parse_sdp(
        "a=control:*\r\nm=video 0 RTP/AVP 96\r\na=control:trackID=1\r\na=rtpmap:96 H264/90000\r\n"
        "m=application 0 RTP/AVP 107\r\na=control:trackID=3\r\na=rtpmap:107 isapi.metadata/90000\r\n");
    ASSERT_EQ(summary.media.size(), 1u);
    EXPECT_EQ(summary.media[0].control, "trackID=1");
    EXPECT_EQ(summary.control, "*");
}

TEST(Sdp, LineFeedsWithoutCarriageReturnsAreAccepted) {
    const SdpMedia media = only_media("v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\na=framerate:12\n");
    EXPECT_EQ(media.summary, "H264 12fps");
}

// ---- hostile input ----

TEST(SdpRobustness, MediaSectionsAreCapped) {
    std::string body;
    for (int i = 0; i < 50; ++i) body += "m=video 0 RTP/AVP 26\r\n";
    const SdpSummary summary = parse_sdp(body);
    EXPECT_EQ(summary.media.size(), kMaxSdpMedia);
    EXPECT_TRUE(summary.media_truncated);
}

TEST(SdpRobustness, LongValuesAreCut) {
    const SdpSummary summary = parse_sdp("a=control:" + std::string(100 * 1024, 'c') + "\r\nm=video 0 RTP/AVP 96\r\n" +
                                         "a=rtpmap:96 " + std::string(100 * 1024, 'H') + "/90000\r\n");
    EXPECT_EQ(summary.control, std::string(kMaxSdpText, 'c') + "...");
    ASSERT_EQ(summary.media.size(), 1u);
    EXPECT_EQ(summary.media[0].codec, std::string(kMaxSdpText, 'H') + "...");
    EXPECT_LE(summary.text.size(), kMaxSdpText + 3);
}

TEST(SdpRobustness, GarbageNeverThrows) {
    const std::vector<std::string> garbage = {"",
                                              "m=",
                                              "m=video",
                                              "a=",
                                              "a=rtpmap:",
                                              "m=video 0 RTP/AVP 96\r\na=rtpmap:96\r\na=fmtp:96\r\na=x-dimensions:,\r\n",
                                              "m=video 0 RTP/AVP 96\r\na=x-dimensions:99999999999,0\r\n",
                                              std::string("\0\xff\n=\r\nm=audio\0", 12),
                                              std::string(64 * 1024, '\n')};
    for (const std::string& body : garbage) {
        SCOPED_TRACE(body.substr(0, 60));
        EXPECT_NO_THROW(parse_sdp(body));
    }
    EXPECT_FALSE(only_media("m=video 0 RTP/AVP 96\r\na=x-dimensions:99999999999,0\r\n").declared_dimensions);
}

// ---- base64 ----

TEST(SdpBase64, PaddedAndUnpadded) {
    EXPECT_EQ(decode_base64("aGVsbG8="), "hello");
    EXPECT_EQ(decode_base64("aGVsbG8"), "hello");
    EXPECT_EQ(decode_base64("aGVsbA=="), "hell");
    EXPECT_EQ(decode_base64(""), "");
}

TEST(SdpBase64, OtherCharactersOrAStrayLastCharacterFail) {
    EXPECT_FALSE(decode_base64("aGV sbG8="));
    EXPECT_FALSE(decode_base64("aGVsbG8-"));
    EXPECT_FALSE(decode_base64("aGVsb"));
}

}  // namespace
}  // namespace diag503
