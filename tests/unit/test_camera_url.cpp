// Unit tests of parse_camera_url: the vendors' RTSP URL layouts, the NVR rule, and hostile URLs.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "rtsp/camera_url.hpp"

namespace diag503 {
namespace {

using Stream = CameraStreamType;

// `url` is read as `layout`, on `channel`, asking for `stream`.
void expect_stream(const std::string& url, VendorLayout layout, std::optional<std::uint32_t> channel, Stream stream) {
    SCOPED_TRACE(url);
    const CameraStream parsed = parse_camera_url(url);
    EXPECT_EQ(layout_name(parsed.vendor_layout), layout_name(layout));
    EXPECT_EQ(parsed.channel, channel);
    EXPECT_EQ(stream_type_name(parsed.stream), stream_type_name(stream));
}

// The URLs before + N + after, N counting up from `first`, are read as `layout` on `channel` asking for
// `streams` in that order.
struct NumberedUrls {
    std::string before;
    std::uint32_t first;
    std::string after;
};
void expect_numbered_streams(const NumberedUrls& urls, VendorLayout layout, std::optional<std::uint32_t> channel,
                             const std::vector<Stream>& streams) {
    for (std::uint32_t i = 0; i < streams.size(); ++i)
        expect_stream(urls.before + std::to_string(urls.first + i) + urls.after, layout, channel, streams[i]);
}

// `url` asks for recorded video of `channel`.
void expect_playback(const std::string& url, VendorLayout layout, std::uint32_t channel) {
    SCOPED_TRACE(url);
    const CameraStream stream = parse_camera_url(url);
    EXPECT_EQ(stream.vendor_layout, layout);
    EXPECT_TRUE(stream.playback);
    EXPECT_EQ(stream.channel, channel);
}

void expect_nvr(const std::string& url, bool looks_like_nvr_channel) {
    SCOPED_TRACE(url);
    EXPECT_EQ(parse_camera_url(url).looks_like_nvr_channel, looks_like_nvr_channel);
}

// The DESCRIBE and SETUP URLs of one stream are read as the same stream.
void expect_same_stream(const std::string& describe, const std::string& setup) {
    SCOPED_TRACE(describe + "  vs  " + setup);
    const CameraStream a = parse_camera_url(describe);
    const CameraStream b = parse_camera_url(setup);
    EXPECT_EQ(a.device, b.device);
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.vendor_layout, b.vendor_layout);
    EXPECT_EQ(a.channel, b.channel);
    EXPECT_EQ(a.stream, b.stream);
    EXPECT_EQ(a.profile, b.profile);
}

std::string profile_of(const std::string& url) { return parse_camera_url(url).profile; }
std::string device_of(const std::string& url) { return parse_camera_url(url).device; }

// ---- Hikvision ----

TEST(CameraUrlHikvision, ChannelsIdIsChannelTimesHundredPlusStream) {
    expect_numbered_streams({"rtsp://192.0.2.10/Streaming/Channels/", 101, ""}, VendorLayout::hikvision_channels, 1,
                            {Stream::main, Stream::sub, Stream::third});
    expect_stream("rtsp://192.0.2.10/Streaming/Channels/201", VendorLayout::hikvision_channels, 2, Stream::main);
    expect_stream("rtsp://192.0.2.10/Streaming/Channels/3302", VendorLayout::hikvision_channels, 33, Stream::sub);
}

TEST(CameraUrlHikvision, IdsBelowHundredAndUnknownStreamTypesAreLeftUndecided) {
    // /Streaming/Channels/1 is a firmware-dependent alias; 104 is no stream type we know.
    expect_stream("rtsp://192.0.2.10/Streaming/Channels/1", VendorLayout::hikvision_channels, std::nullopt,
                  Stream::unknown);
    expect_stream("rtsp://192.0.2.10/Streaming/Channels/104", VendorLayout::hikvision_channels, 1, Stream::unknown);
    expect_stream("rtsp://192.0.2.10/Streaming/Channels", VendorLayout::hikvision_channels, std::nullopt,
                  Stream::unknown);
}

TEST(CameraUrlHikvision, IsapiChannels) {
    expect_stream("rtsp://192.0.2.10/ISAPI/Streaming/channels/102", VendorLayout::hikvision_isapi, 1, Stream::sub);
    expect_stream("rtsp://192.0.2.10/ISAPI/Streaming/channels/401", VendorLayout::hikvision_isapi, 4, Stream::main);
}

TEST(CameraUrlHikvision, TracksArePlaybackOfTheSameIds) {
    const std::string url =
        "rtsp://192.0.2.10/Streaming/tracks/201?starttime=20240101T000000Z&endtime=20240101T010000Z";
    expect_playback(url, VendorLayout::hikvision_channels, 2);
    expect_playback("rtsp://192.0.2.10/ISAPI/Streaming/tracks/101", VendorLayout::hikvision_isapi, 1);
    EXPECT_EQ(parse_camera_url(url).stream, Stream::main);
    EXPECT_FALSE(parse_camera_url("rtsp://192.0.2.10/Streaming/Channels/201").playback);
}

TEST(CameraUrlHikvision, LegacyAvStream) {
    expect_stream("rtsp://192.0.2.10/h264/ch1/main/av_stream", VendorLayout::hikvision_legacy, 1, Stream::main);
    expect_stream("rtsp://192.0.2.10/h264/ch1/sub/av_stream", VendorLayout::hikvision_legacy, 1, Stream::sub);
    expect_stream("rtsp://192.0.2.10/mpeg4/ch2/main/av_stream", VendorLayout::hikvision_legacy, 2, Stream::main);
}

TEST(CameraUrlHikvision, LegacyPathCodecIsNotAnEncodingRequest) {
    // The cameras send whatever codec they are set to, whatever the first path segment says.
    EXPECT_FALSE(parse_camera_url("rtsp://192.0.2.10/h264/ch1/main/av_stream").encoding_parameters.codec);
    EXPECT_EQ(profile_of("rtsp://192.0.2.10/h264/ch1/main/av_stream"), "main");
}

// ---- Dahua / Amcrest ----

TEST(CameraUrlDahua, RealmonitorSubtypeZeroOneTwo) {
    expect_numbered_streams({"rtsp://192.0.2.20/cam/realmonitor?channel=1&subtype=", 0, ""}, VendorLayout::dahua, 1,
                            {Stream::main, Stream::sub, Stream::third});
    expect_stream("rtsp://192.0.2.20/cam/realmonitor?subtype=1&channel=7", VendorLayout::dahua, 7, Stream::sub);
}

TEST(CameraUrlDahua, MissingOrOddParametersAreLeftUndecided) {
    expect_stream("rtsp://192.0.2.20/cam/realmonitor", VendorLayout::dahua, std::nullopt, Stream::unknown);
    expect_stream("rtsp://192.0.2.20/cam/realmonitor?channel=x&subtype=9", VendorLayout::dahua, std::nullopt,
                  Stream::unknown);
    EXPECT_EQ(profile_of("rtsp://192.0.2.20/cam/realmonitor?channel=1"), "/cam/realmonitor");
}

TEST(CameraUrlDahua, PlaybackIsRecordedVideo) {
    expect_playback("rtsp://192.0.2.20/cam/playback?channel=3&starttime=2024_01_01_00_00_00", VendorLayout::dahua, 3);
    EXPECT_FALSE(parse_camera_url("rtsp://192.0.2.20/cam/realmonitor?channel=3").playback);
}

// ---- Axis ----

TEST(CameraUrlAxis, MediaAmpQueryIsTheEncodingRequest) {
    const CameraStream stream = parse_camera_url(
        "rtsp://192.0.2.30/axis-media/media.amp?resolution=1280x720&fps=15&videocodec=h264&streamprofile=Quality"
        "&camera=2&compression=30&videobitrate=2048");
    EXPECT_EQ(stream.vendor_layout, VendorLayout::axis);
    EXPECT_EQ(stream.channel, 2u);
    EXPECT_EQ(stream.stream, Stream::unknown);  // Axis has no main/sub streams
    EXPECT_EQ(stream.encoding_parameters.codec, "h264");
    EXPECT_EQ(stream.encoding_parameters.resolution, "1280x720");
    EXPECT_EQ(stream.encoding_parameters.fps, 15u);
    EXPECT_EQ(stream.encoding_parameters.bitrate, 2048u);
    EXPECT_EQ(stream.encoding_parameters.compression, 30u);
    EXPECT_EQ(stream.encoding_parameters.stream_profile, "quality");
    EXPECT_EQ(stream.profile, "h264 1280x720 15fps bitrate=2048 compression=30 streamprofile=quality");
}

TEST(CameraUrlAxis, WithoutQueryTheProfileIsThePath) {
    expect_stream("rtsp://192.0.2.30/axis-media/media.amp", VendorLayout::axis, std::nullopt, Stream::unknown);
    EXPECT_EQ(profile_of("rtsp://192.0.2.30/axis-media/media.amp"), "/axis-media/media.amp");
}

// ---- Uniview ----

TEST(CameraUrlUniview, UnicastChannelAndStream) {
    expect_numbered_streams({"rtsp://192.0.2.40/unicast/c1/s", 0, "/live"}, VendorLayout::uniview, 1,
                            {Stream::main, Stream::sub, Stream::third});
    expect_stream("rtsp://192.0.2.40/multicast/c3/s0/live", VendorLayout::uniview, 3, Stream::main);
}

TEST(CameraUrlUniview, MediaVideoNumber) {
    expect_numbered_streams({"rtsp://192.0.2.40/media/video", 1, ""}, VendorLayout::uniview, std::nullopt,
                            {Stream::main, Stream::sub, Stream::third});
}

// ---- generic layouts ----

TEST(CameraUrlGeneric, ProfileAndStreamNumbersCountFromOne) {
    expect_numbered_streams({"rtsp://192.0.2.50/profile", 1, "/media.smp"}, VendorLayout::generic, std::nullopt,
                            {Stream::main, Stream::sub, Stream::third});
    expect_numbered_streams({"rtsp://192.0.2.50/stream", 0, ""}, VendorLayout::generic, std::nullopt,
                            {Stream::unknown, Stream::main, Stream::sub, Stream::third, Stream::unknown});
}

TEST(CameraUrlGeneric, LiveChannelCountsStreamsFromZero) {
    expect_numbered_streams({"rtsp://192.0.2.50/live/ch", 0, ""}, VendorLayout::generic, std::nullopt,
                            {Stream::main, Stream::sub});
}

TEST(CameraUrlGeneric, ChannelFileIsChannelAndStreamFromZero) {
    expect_stream("rtsp://192.0.2.50/ch0_0.264", VendorLayout::generic, 0, Stream::main);
    expect_stream("rtsp://192.0.2.50/ch0_1.264", VendorLayout::generic, 0, Stream::sub);
    expect_stream("rtsp://192.0.2.50/ch1_0.h264", VendorLayout::generic, 1, Stream::main);
    expect_stream("rtsp://192.0.2.50/live/ch00_1", VendorLayout::generic, 0, Stream::sub);
}

TEST(CameraUrlGeneric, AnythingElseIsUnknownAndItsProfileIsThePath) {
    expect_stream("rtsp://192.0.2.50/live.sdp", VendorLayout::unknown, std::nullopt, Stream::unknown);
    EXPECT_EQ(profile_of("rtsp://192.0.2.50/Live.SDP"), "/live.sdp");
    EXPECT_EQ(profile_of("rtsp://192.0.2.50"), "/");
}

// ---- encoding parameters ----

TEST(CameraUrlEncoding, CodecResolutionAndFpsJoinTheStreamInTheProfile) {
    EXPECT_EQ(profile_of("rtsp://192.0.2.10/Streaming/Channels/101?videocodec=H.265&resolution=3840x2160&fps=25"),
              "main h265 3840x2160 25fps");
    EXPECT_EQ(profile_of("rtsp://192.0.2.10/Streaming/Channels/103"), "third");
    EXPECT_EQ(profile_of("rtsp://192.0.2.20/cam/realmonitor?channel=1&subtype=1"), "sub");
}

TEST(CameraUrlEncoding, WidthAndHeightMakeAResolutionOnlyTogether) {
    EXPECT_EQ(profile_of("rtsp://192.0.2.50/stream2?width=640&height=360&framerate=10&bitrate=512"),
              "sub 640x360 10fps bitrate=512");
    EXPECT_FALSE(parse_camera_url("rtsp://192.0.2.50/stream2?width=640").encoding_parameters.resolution);
}

TEST(CameraUrlEncoding, CodecNamesAreNormalised) {
    EXPECT_EQ(parse_camera_url("rtsp://h/stream1?codec=HEVC").encoding_parameters.codec, "h265");
    EXPECT_EQ(parse_camera_url("rtsp://h/stream1?codec=AVC").encoding_parameters.codec, "h264");
    EXPECT_EQ(parse_camera_url("rtsp://h/stream1?videocodec=MJPEG").encoding_parameters.codec, "mjpeg");
    EXPECT_EQ(profile_of("rtsp://h/stream1?codec=.&videocodec="), "main");  // nothing left of the name
}

TEST(CameraUrlEncoding, NonNumericNumbersAndOtherParametersAreIgnored) {
    const CameraStream stream =
        parse_camera_url("rtsp://h/Streaming/Channels/102?fps=fast&bitrate=-1&transportmode=unicast&profile=Profile_1");
    EXPECT_FALSE(stream.encoding_parameters.fps);
    EXPECT_FALSE(stream.encoding_parameters.bitrate);
    EXPECT_EQ(stream.profile, "sub");
}

// ---- the NVR rule ----

TEST(CameraUrlNvr, HikvisionDahuaAndUniviewChannelsAboveOneAreRecorderInputs) {
    expect_nvr("rtsp://192.0.2.10/Streaming/Channels/201", true);
    expect_nvr("rtsp://192.0.2.10/ISAPI/Streaming/channels/1602", true);
    expect_nvr("rtsp://192.0.2.10/h264/ch5/main/av_stream", true);
    expect_nvr("rtsp://192.0.2.20/cam/realmonitor?channel=4&subtype=0", true);
    expect_nvr("rtsp://192.0.2.40/unicast/c9/s1/live", true);
}

TEST(CameraUrlNvr, ChannelOneLooksLikeAnyCamera) {
    expect_nvr("rtsp://192.0.2.10/Streaming/Channels/101", false);
    expect_nvr("rtsp://192.0.2.20/cam/realmonitor?channel=1&subtype=1", false);
    expect_nvr("rtsp://192.0.2.40/unicast/c1/s0/live", false);
}

TEST(CameraUrlNvr, AxisCamerasAndGenericChannelsAreNotCounted) {
    expect_nvr("rtsp://192.0.2.30/axis-media/media.amp?camera=4", false);  // video encoder or multi-sensor camera
    expect_nvr("rtsp://192.0.2.50/live/ch1", false);                        // the sub stream on HiSilicon firmware
    expect_nvr("rtsp://192.0.2.50/ch3_0.264", false);
}

TEST(CameraUrlNvr, APathSegmentNamedNvrCounts) {
    expect_nvr("rtsp://192.0.2.60/nvr/channel1", true);
    expect_nvr("rtsp://192.0.2.60/NVR/live", true);
    expect_nvr("rtsp://192.0.2.60/nvrlive", false);
}

// ---- device ----

TEST(CameraUrlDevice, HostIsLowerCaseAndTheDefaultPortIsOmitted) {
    EXPECT_EQ(device_of("rtsp://Cam.Example.COM:554/stream1"), "cam.example.com");
    EXPECT_EQ(device_of("rtsp://cam.example.com:0554/stream1"), "cam.example.com");
    EXPECT_EQ(device_of("rtsp://cam.example.com:/stream1"), "cam.example.com");
    EXPECT_EQ(device_of("rtsp://cam.example.com:8554/stream1"), "cam.example.com:8554");
}

TEST(CameraUrlDevice, RtspsDefaultPortIs322) {
    EXPECT_EQ(device_of("rtsps://192.0.2.10:322/Streaming/Channels/101"), "192.0.2.10");
    EXPECT_EQ(device_of("rtsps://192.0.2.10/Streaming/Channels/101"), "192.0.2.10");
    EXPECT_EQ(device_of("rtsps://192.0.2.10:554/Streaming/Channels/101"), "192.0.2.10:554");
    expect_stream("rtsps://192.0.2.10/Streaming/Channels/102", VendorLayout::hikvision_channels, 1, Stream::sub);
}

TEST(CameraUrlDevice, Ipv6HostsKeepTheirBrackets) {
    EXPECT_EQ(device_of("rtsp://[::1]:8554/Streaming/Channels/101"), "[::1]:8554");
    EXPECT_EQ(device_of("rtsp://[2001:DB8::1]/cam/realmonitor?channel=1&subtype=0"), "[2001:db8::1]");
    expect_stream("rtsp://[::1]:8554/Streaming/Channels/102", VendorLayout::hikvision_channels, 1, Stream::sub);
}

TEST(CameraUrlDevice, InvalidAuthoritiesGiveNoDeviceButThePathIsStillRead) {
    EXPECT_EQ(device_of("rtsp://cam:99999/stream1"), "");
    EXPECT_EQ(device_of("rtsp://cam:http/stream1"), "");
    EXPECT_EQ(device_of("rtsp://[::1/stream1"), "");
    EXPECT_EQ(device_of("rtsp://ca m/stream1"), "");
    EXPECT_EQ(device_of("rtsp:///stream1"), "");
    expect_stream("rtsp://cam:99999/stream1", VendorLayout::generic, std::nullopt, Stream::main);
}

TEST(CameraUrlDevice, ABarePathHasNoDevice) {
    const CameraStream stream = parse_camera_url("/Streaming/Channels/102");
    EXPECT_EQ(stream.device, "");
    EXPECT_EQ(stream.vendor_layout, VendorLayout::hikvision_channels);
    EXPECT_EQ(stream.stream, Stream::sub);
}

// ---- credentials ----

// No text field of the parsed URL contains `secret`.
void expect_secret_dropped(const std::string& url, const std::string& secret) {
    SCOPED_TRACE(url);
    const CameraStream stream = parse_camera_url(url);
    for (const std::string& text : {stream.device, stream.path, stream.profile})
        EXPECT_EQ(text.find(secret), std::string::npos) << text;
}

TEST(CameraUrlCredentials, UserAndPasswordAreNeverStored) {
    expect_secret_dropped("rtsp://admin:S3cretPw@192.0.2.10:554/Streaming/Channels/101", "S3cretPw");
    expect_secret_dropped("rtsp://admin:S3cretPw@192.0.2.10:554/Streaming/Channels/101", "admin");
    EXPECT_EQ(device_of("rtsp://admin:S3cretPw@192.0.2.10:554/Streaming/Channels/101"), "192.0.2.10");
    EXPECT_EQ(device_of("rtsp://viewer@[::1]:8554/stream1"), "[::1]:8554");
}

TEST(CameraUrlCredentials, PasswordsWithAtAndSlashAreDroppedWhole) {
    const std::string url = "rtsp://admin:p@ss/w0rd@192.0.2.10/Streaming/Channels/102";
    expect_secret_dropped(url, "w0rd");
    EXPECT_EQ(device_of(url), "192.0.2.10");
    expect_stream(url, VendorLayout::hikvision_channels, 1, Stream::sub);
}

TEST(CameraUrlCredentials, PercentEncodedPasswordsAreDroppedToo) {
    expect_secret_dropped("rtsp://admin:p%40ss%2Fw0rd@192.0.2.10/stream1", "w0rd");
}

// ---- SETUP control suffixes ----

TEST(CameraUrlControl, SetupUrlsMapToTheirDescribeUrl) {
    expect_same_stream("rtsp://192.0.2.10/Streaming/Channels/101?transportmode=unicast&profile=Profile_1",
                       "rtsp://192.0.2.10/Streaming/Channels/101/trackID=1?transportmode=unicast&profile=Profile_1");
    expect_same_stream("rtsp://192.0.2.30/axis-media/media.amp?videocodec=h264&resolution=640x480",
                       "rtsp://192.0.2.30/axis-media/media.amp/trackID=1?videocodec=h264&resolution=640x480");
    expect_same_stream("rtsp://192.0.2.20/cam/realmonitor?channel=1&subtype=1",
                       "rtsp://192.0.2.20/cam/realmonitor?channel=1&subtype=1/trackID=0");
    expect_same_stream("rtsp://192.0.2.40/media/video2", "rtsp://192.0.2.40/media/video2/track1");
    expect_same_stream("rtsp://192.0.2.50/live.sdp", "rtsp://192.0.2.50/live.sdp/streamid=0");
    expect_same_stream("rtsp://192.0.2.10/Streaming/Channels/101", "rtsp://192.0.2.10/Streaming/Channels/101/stream=0");
}

TEST(CameraUrlControl, TrailingSlashesAreDropped) {
    expect_same_stream("rtsp://192.0.2.30/axis-media/media.amp", "rtsp://192.0.2.30/axis-media/media.amp/");
    expect_same_stream("rtsp://192.0.2.10/Streaming/Channels/102", "rtsp://192.0.2.10/Streaming/Channels/102//");
    EXPECT_EQ(parse_camera_url("rtsp://192.0.2.10/Streaming/Channels/102/trackID=1/").path,
              "/Streaming/Channels/102");
}

TEST(CameraUrlControl, OnlyTheLastSegmentIsAControlSuffix) {
    EXPECT_EQ(parse_camera_url("rtsp://h/track1/stream1").path, "/track1/stream1");
    EXPECT_EQ(parse_camera_url("rtsp://h/stream1/trackID=video").path, "/stream1");
}

// ---- encodings, case, size, garbage ----

TEST(CameraUrlRobustness, PercentEncodingIsDecoded) {
    const CameraStream stream = parse_camera_url("rtsp://h/Streaming/Channels/%31%30%32?videocodec=H%2E265");
    EXPECT_EQ(stream.path, "/Streaming/Channels/102");
    EXPECT_EQ(stream.stream, Stream::sub);
    EXPECT_EQ(stream.encoding_parameters.codec, "h265");
    EXPECT_EQ(parse_camera_url("rtsp://h/a%zz%4").path, "/a%zz%4");  // broken escapes stay as sent
}

TEST(CameraUrlRobustness, SchemeHostPathAndQueryNamesIgnoreCase) {
    expect_stream("RTSP://CAM/STREAMING/CHANNELS/103", VendorLayout::hikvision_channels, 1, Stream::third);
    expect_stream("rtsp://cam/CAM/REALMONITOR?CHANNEL=2&SubType=1", VendorLayout::dahua, 2, Stream::sub);
    expect_stream("rtsp://cam/Unicast/C2/S1/Live", VendorLayout::uniview, 2, Stream::sub);
    EXPECT_EQ(parse_camera_url("RTSP://CAM/STREAMING/CHANNELS/103").path, "/STREAMING/CHANNELS/103");
}

TEST(CameraUrlRobustness, AbsurdlyLongUrlsAreCutWhenStored) {
    const std::string long_host(5000, 'a');
    const std::string long_segment(100 * 1024, 'x');
    const CameraStream stream =
        parse_camera_url("rtsp://" + long_host + "/" + long_segment + "?resolution=" + long_segment);
    EXPECT_EQ(stream.device, std::string(kMaxCameraText, 'a') + "...");
    EXPECT_EQ(stream.path, "/" + std::string(kMaxCameraText - 1, 'x') + "...");
    EXPECT_LE(stream.profile.size(), kMaxCameraText + 3);
    EXPECT_LE(stream.encoding_parameters.resolution->size(), kMaxCameraText + 3);
}

TEST(CameraUrlRobustness, ControlBytesInThePathAreMadePrintable) {
    EXPECT_EQ(parse_camera_url("rtsp://h/a%00b%1B[31m").path, "/a.b.[31m");
}

TEST(CameraUrlRobustness, GarbageIsAnUnknownLayoutAndNeverThrows) {
    const std::vector<std::string> garbage = {"",
                                              "not a url",
                                              "http://192.0.2.10/Streaming/Channels/101",
                                              "rtsp://",
                                              "rtsp:",
                                              "://",
                                              "rtsp://@",
                                              "rtsp://[",
                                              "rtsp://]:/?&=&%",
                                              std::string("rtsp://h/\0\xff\xfe", 12),
                                              std::string(64 * 1024, '/')};
    for (const std::string& url : garbage) {
        SCOPED_TRACE(url.substr(0, 60));
        CameraStream stream;
        EXPECT_NO_THROW(stream = parse_camera_url(url));
        EXPECT_NE(stream.vendor_layout, VendorLayout::hikvision_channels);
        EXPECT_FALSE(stream.channel);
        EXPECT_FALSE(stream.looks_like_nvr_channel);
    }
    EXPECT_EQ(parse_camera_url("http://192.0.2.10/Streaming/Channels/101").vendor_layout, VendorLayout::unknown);
}

TEST(CameraUrlRobustness, HugeNumbersAreNoChannel) {
    expect_stream("rtsp://h/Streaming/Channels/99999999999999999999", VendorLayout::hikvision_channels, std::nullopt,
                  Stream::unknown);
    expect_stream("rtsp://h/cam/realmonitor?channel=4294967296&subtype=0", VendorLayout::dahua, std::nullopt,
                  Stream::main);
    EXPECT_FALSE(parse_camera_url("rtsp://h/stream1?fps=4294967296").encoding_parameters.fps);
}

TEST(CameraUrlNames, EveryLayoutAndStreamTypeHasItsName) {
    const std::vector<std::string> layouts = {"hikvision_channels", "hikvision_isapi", "hikvision_legacy", "dahua",
                                              "axis",               "uniview",         "generic",          "unknown"};
    for (std::size_t i = 0; i < layouts.size(); ++i)
        EXPECT_EQ(layout_name(static_cast<VendorLayout>(i)), layouts[i]);
    EXPECT_EQ(stream_type_name(Stream::main), "main");
    EXPECT_EQ(stream_type_name(Stream::sub), "sub");
    EXPECT_EQ(stream_type_name(Stream::third), "third");
    EXPECT_EQ(stream_type_name(Stream::unknown), "unknown");
}

}  // namespace
}  // namespace diag503
