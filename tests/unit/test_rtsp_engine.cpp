// Specifications of RTSP diagnosis: sessions, profiles per channel, stream history, NVR channels, encoder events, load.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rtsp/rtsp_engine.hpp"

namespace diag503 {
namespace {

const char* const kCamera = "192.0.2.50";

// A camera at 192.0.2.50:554 and its clients at 198.51.100.<n>, one TCP connection each.
class Camera {
public:
    explicit Camera(Settings settings = Settings{}) : engine_(settings) {}

    std::optional<Verdict> ask(int client, const std::string& method, const std::string& url, const std::string& session = "") {
        std::string text = method + " " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(++cseq_[client]) + "\r\n";
        if (!session.empty()) text += "Session: " + session + "\r\n";
        return feed(to_camera(client), text + "\r\n");
    }
    std::optional<Verdict> answer(int client, int status, const std::vector<std::string>& headers = {},
                                  const std::string& body = "") {
        std::string text = "RTSP/1.0 " + std::to_string(status) + (status == 503 ? " Service Unavailable" : " OK") +
                           "\r\nCSeq: " + std::to_string(cseq_[client]) + "\r\n";
        for (const auto& header : headers) text += header + "\r\n";
        if (!body.empty()) text += "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
        return feed(from_camera(client), text + "\r\n" + body);
    }
    std::optional<Verdict> refuse(int client, const std::string& method, const std::string& url,
                                  const std::vector<std::string>& headers = {}) {
        ask(client, method, url);
        return answer(client, 503, headers);
    }
    // DESCRIBE, SETUP (granting `session`) and PLAY, all answered 200.
    void stream(int client, const std::string& url, const std::string& session, int timeout_s = 60) {
        ask(client, "DESCRIBE", url);
        answer(client, 200);
        ask(client, "SETUP", url + "/trackID=1");
        answer(client, 200, {"Session: " + session + ";timeout=" + std::to_string(timeout_s)});
        ask(client, "PLAY", url, session);
        answer(client, 200, {"Session: " + session});
    }
    void teardown(int client, const std::string& url, const std::string& session) {
        ask(client, "TEARDOWN", url, session);
        answer(client, 200);
    }
    void client_closes(int client) { engine_.observe_connection_end(next(to_camera(client)), false); }
    void camera_closes(int client) { engine_.observe_connection_end(next(from_camera(client)), false); }
    void camera_resets(int client) { engine_.observe_connection_end(next(from_camera(client)), true); }
    void http_to_camera(const std::string& request) {
        PacketMeta meta = next(to_camera(9));
        meta.destination.port = 80;
        engine_.observe_http_request(meta, request);
    }
    void interleaved_from_camera(int client) { engine_.observe_interleaved(next(from_camera(client))); }
    void wait(double seconds) { time_s_ += seconds; }
    std::uint32_t last_frame() const { return frame_; }

private:
    static Endpoint client_endpoint(int client) { return {"198.51.100." + std::to_string(client), static_cast<std::uint16_t>(50000 + client)}; }
    static PacketMeta to_camera(int client) {
        PacketMeta meta;
        meta.transport = Transport::tcp;
        meta.source = client_endpoint(client);
        meta.destination = {kCamera, 554};
        return meta;
    }
    static PacketMeta from_camera(int client) {
        PacketMeta meta = to_camera(client);
        std::swap(meta.source, meta.destination);
        return meta;
    }
    PacketMeta next(PacketMeta meta) {
        meta.frame = ++frame_;
        time_s_ += 0.01;
        meta.time_us = static_cast<std::int64_t>(time_s_ * 1e6);
        return meta;
    }
    std::optional<Verdict> feed(PacketMeta meta, const std::string& text) {
        const auto message = parse_rtsp_message(text);
        EXPECT_TRUE(message) << text;
        return message ? engine_.observe(next(meta), *message) : std::nullopt;
    }

    RtspEngine engine_;
    std::uint32_t frame_ = 0;
    double time_s_ = 1000;
    std::map<int, std::uint32_t> cseq_;
};

bool HasEvidence(const Verdict& verdict, const std::string& part) {
    for (const auto& item : verdict.evidence)
        if (item.sentence.find(part) != std::string::npos) return true;
    return false;
}

std::string Explain(const Verdict& verdict) {
    std::string text = std::string(cause_name(verdict.cause)) + " (" + std::to_string(verdict.confidence) + "):";
    for (const auto& item : verdict.evidence) text += "\n  - " + item.sentence;
    return text;
}

const std::string kMain = "rtsp://192.0.2.50/Streaming/Channels/101";
const std::string kSub = "rtsp://192.0.2.50/Streaming/Channels/102";

TEST(RtspEngine, ARefusalWhoseRequestWasForgottenAtTheBoundSaysSo) {
    Settings settings;
    settings.max_transactions = 2;
    Camera camera(settings);
    camera.ask(1, "DESCRIBE", kMain);
    for (int client = 2; client <= 4; ++client) camera.ask(client, "OPTIONS", kMain);  // push client 1's request out
    const auto verdict = camera.answer(1, 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->request_frame, 0u);
    EXPECT_TRUE(HasEvidence(*verdict, "forgotten: diag503 reached its bound of 2 requests")) << Explain(*verdict);
}

TEST(RtspEngine, SessionsForgottenAtTheBoundAreNamedInTheEvidence) {
    Settings settings;
    settings.max_dialogs = 1;
    Camera camera(settings);
    camera.stream(1, kMain, "1111");
    camera.stream(2, kSub, "2222");  // pushes session 1111 out
    const auto verdict = camera.refuse(3, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "Sessions were forgotten at the bound of 1")) << Explain(*verdict);
}

TEST(RtspEngine, RefusalWhileOtherClientsHoldTheDeviceIsTooManyClients) {
    Camera camera;
    camera.stream(1, kMain, "A");
    camera.stream(2, kMain, "B");
    const auto verdict = camera.refuse(3, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::too_many_clients) << Explain(*verdict);
    EXPECT_EQ(verdict->rtsp()->active_sessions, 2u);
    EXPECT_TRUE(HasEvidence(*verdict, "2 sessions of other clients were active"));
}

TEST(RtspEngine, ASessionWhoseConnectionClosedWithoutTeardownIsAGhost) {
    Camera camera;
    camera.stream(1, kMain, "A");
    camera.client_closes(1);
    const auto verdict = camera.refuse(3, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::too_many_clients) << Explain(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "left open without TEARDOWN"));
}

TEST(RtspEngine, TheDeviceClosingAfterTheClientLeftKeepsTheGhost) {
    // The server closes its side once the client is gone, but the session stays in its pool.
    Camera camera;
    camera.stream(1, kMain, "A");
    camera.client_closes(1);
    camera.camera_closes(1);
    const auto verdict = camera.refuse(3, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->rtsp()->active_sessions, 1u);
    EXPECT_TRUE(HasEvidence(*verdict, "left open without TEARDOWN")) << Explain(*verdict);
}

TEST(RtspEngine, ADeviceThatResetsTheConnectionDropsItsSessions) {
    // A rebooting camera resets its connections: those sessions are gone, not ghosts.
    Camera camera;
    camera.stream(1, kMain, "A");
    camera.camera_resets(1);
    const auto verdict = camera.refuse(3, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->rtsp()->active_sessions, 0u);
    EXPECT_NE(verdict->cause, Cause::too_many_clients) << Explain(*verdict);
}

TEST(RtspEngine, RefusalsWithoutTheirRequestShareNoStreamHistory) {
    Camera camera;
    camera.answer(7, 503);
    camera.answer(8, 503);
    const auto verdict = camera.answer(9, 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::unknown) << Explain(*verdict);
}

TEST(RtspEngine, TeardownAndTimeoutEndSessions) {
    Camera camera;
    camera.stream(1, kMain, "A");
    camera.stream(2, kMain, "B", /*timeout_s=*/20);
    camera.teardown(1, kMain, "A");
    camera.wait(30);  // B's 20 s timeout passes without activity
    const auto verdict = camera.refuse(3, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->rtsp()->active_sessions, 0u);
    EXPECT_NE(verdict->cause, Cause::too_many_clients) << Explain(*verdict);
}

TEST(RtspEngine, InterleavedDataKeepsASessionAlivePastItsTimeout) {
    Camera camera;
    camera.stream(1, kMain, "A", /*timeout_s=*/20);
    for (int second = 0; second < 30; second += 5) {
        camera.wait(5);
        camera.interleaved_from_camera(1);
    }
    const auto verdict = camera.refuse(3, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->rtsp()->active_sessions, 1u);
}

TEST(RtspEngine, AnotherProfileHeldOnTheSameChannelIsEncoderBusy) {
    Camera camera;
    const std::string full = "rtsp://192.0.2.50/axis-media/media.amp?resolution=1920x1080&fps=25";
    const std::string small = "rtsp://192.0.2.50/axis-media/media.amp?resolution=640x360&fps=10";
    camera.stream(1, full, "A");
    camera.stream(2, full, "B");  // the same profile is still served
    const auto verdict = camera.refuse(3, "DESCRIBE", small);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::encoder_busy) << Explain(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "which needs another encoder"));
    EXPECT_EQ(verdict->rtsp()->profile.find("640x360") != std::string::npos, true) << verdict->rtsp()->profile;
}

TEST(RtspEngine, HeldProfilesAreDescribedWithTheEncodingTheirSdpAnnounced) {
    Camera camera;
    const std::string third = "rtsp://192.0.2.50/Streaming/Channels/103";
    camera.ask(1, "DESCRIBE", third);
    camera.answer(1, 200, {}, "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=framerate:10\r\n"
                              "a=x-dimensions:640,360\r\n");
    camera.ask(1, "SETUP", third + "/trackID=1");
    camera.answer(1, 200, {"Session: A;timeout=60"});
    const auto verdict = camera.refuse(2, "DESCRIBE", "rtsp://192.0.2.50/axis-media/media.amp?resolution=1920x1080");
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::encoder_busy) << Explain(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "\"third\" (H264 640x360 10fps)")) << Explain(*verdict);
}

TEST(RtspEngine, TheSameProfileHeldByAnotherClientIsNoEncoderBusy) {
    Camera camera;
    camera.stream(1, kMain, "A");
    const auto verdict = camera.refuse(3, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_NE(verdict->cause, Cause::encoder_busy) << Explain(*verdict);
}

TEST(RtspEngine, MainAndSubStreamsRunTogetherSoSubIsNoEncoderBusy) {
    // Cameras encode main and sub continuously: refusing sub while another client holds main is no
    // encoder conflict.
    Camera camera;
    camera.stream(1, kMain, "A");
    const auto verdict = camera.refuse(3, "DESCRIBE", kSub);
    ASSERT_TRUE(verdict);
    EXPECT_NE(verdict->cause, Cause::encoder_busy) << Explain(*verdict);
}

TEST(RtspEngine, AThirdStreamHeldMakesACustomEncodingOfTheSameCameraBusy) {
    // An Axis URL without camera= is camera 1, the same input as Hikvision-style channel 1.
    Camera camera;
    camera.stream(1, "rtsp://192.0.2.50/Streaming/Channels/103", "A");
    const auto verdict = camera.refuse(2, "DESCRIBE", "rtsp://192.0.2.50/axis-media/media.amp?resolution=800x450&fps=12");
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::encoder_busy) << Explain(*verdict);
}

TEST(RtspEngine, AProfileRefusedEveryTimeWithNoOtherClientIsUnsupported) {
    Camera camera;
    camera.stream(1, kMain, "A");
    camera.teardown(1, kMain, "A");
    const std::string hevc = "rtsp://192.0.2.50/axis-media/media.amp?videocodec=h265&resolution=3840x2160";
    camera.refuse(2, "DESCRIBE", hevc);
    camera.wait(3);
    const auto verdict = camera.refuse(2, "DESCRIBE", hevc);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::unsupported_profile) << Explain(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "refused 2 times and never served"));
}

TEST(RtspEngine, AProfileThatWorkedBeforeIsNotUnsupported) {
    Camera camera;
    camera.stream(1, kSub, "A");
    camera.teardown(1, kSub, "A");
    camera.refuse(2, "DESCRIBE", kSub);
    const auto verdict = camera.refuse(2, "DESCRIBE", kSub);
    ASSERT_TRUE(verdict);
    EXPECT_NE(verdict->cause, Cause::unsupported_profile) << Explain(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "worked before"));
}

TEST(RtspEngine, AnNvrChannelRefusedWhileOtherChannelsAreServedIsChannelUnavailable) {
    Camera nvr;
    nvr.stream(1, "rtsp://192.0.2.50/Streaming/Channels/101", "A");
    nvr.stream(2, "rtsp://192.0.2.50/Streaming/Channels/201", "B");
    nvr.refuse(3, "DESCRIBE", "rtsp://192.0.2.50/Streaming/Channels/301");
    const auto verdict = nvr.refuse(3, "DESCRIBE", "rtsp://192.0.2.50/Streaming/Channels/301");
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::nvr_channel_unavailable) << Explain(*verdict);
    EXPECT_EQ(verdict->rtsp()->channel, 3u);
    EXPECT_EQ(verdict->rtsp()->stream, "main");
}

TEST(RtspEngine, AnEncoderChangeJustBeforeIsEncoderRestart) {
    Camera camera;
    camera.stream(1, kMain, "A");
    camera.teardown(1, kMain, "A");
    camera.http_to_camera("PUT /ISAPI/Streaming/channels/101 HTTP/1.1\r\nHost: 192.0.2.50\r\n\r\n<StreamingChannel/>");
    camera.wait(1);
    const auto verdict = camera.refuse(2, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::encoder_restart) << Explain(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "Hikvision ISAPI PUT /ISAPI/Streaming/channels/101"));
}

TEST(RtspEngine, AnOnvifEncoderChangeIsRecognisedInTheBody) {
    Camera camera;
    camera.http_to_camera("POST /onvif/media_service HTTP/1.1\r\n\r\n<s:Envelope><s:Body><trt:SetVideoEncoderConfiguration>");
    const auto verdict = camera.refuse(2, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::encoder_restart) << Explain(*verdict);
}

TEST(RtspEngine, AnEncoderChangeLongAgoExplainsNothing) {
    Camera camera;
    camera.http_to_camera("PUT /ISAPI/Streaming/channels/101 HTTP/1.1\r\n\r\n");
    camera.wait(600);
    const auto verdict = camera.refuse(2, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_NE(verdict->cause, Cause::encoder_restart) << Explain(*verdict);
}

TEST(RtspEngine, AResetSentByTheDeviceBeforeRefusalsSuggestsARestart) {
    Camera camera;
    camera.stream(1, kMain, "A");
    camera.camera_resets(1);
    const auto verdict = camera.refuse(2, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "connection reset sent by 192.0.2.50:554")) << Explain(*verdict);
}

TEST(RtspEngine, IntermittentRefusalsWithShortRetryAfterAreDeviceOverload) {
    Camera camera;
    camera.stream(1, kMain, "A");
    camera.teardown(1, kMain, "A");
    camera.refuse(2, "DESCRIBE", kSub, {"Retry-After: 2"});
    camera.stream(3, kSub, "C");
    camera.teardown(3, kSub, "C");
    const auto verdict = camera.refuse(4, "DESCRIBE", kMain, {"Retry-After: 2"});
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->cause, Cause::device_overload) << Explain(*verdict);
    EXPECT_EQ(verdict->retry_after_seconds, 2u);
}

TEST(RtspEngine, A503WithoutItsRequestStillGetsAVerdict) {
    Camera camera;
    const auto verdict = camera.answer(7, 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->request_frame, 0u);
    EXPECT_EQ(verdict->cause, Cause::unknown);
    EXPECT_TRUE(HasEvidence(*verdict, "request not captured"));
}

TEST(RtspEngine, TheUrlOfAVerdictNeverShowsCredentials) {
    Camera camera;
    const auto verdict = camera.refuse(2, "DESCRIBE", "rtsp://admin:s3cret@192.0.2.50/Streaming/Channels/101");
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->rtsp()->url, "rtsp://192.0.2.50/Streaming/Channels/101");
    for (const auto& item : verdict->evidence) EXPECT_EQ(item.sentence.find("s3cret"), std::string::npos);
    // A password holding '/' or '@' unescaped is still dropped whole.
    const auto slashed = camera.refuse(3, "DESCRIBE", "rtsp://admin:s3/cr@t@192.0.2.50/Streaming/Channels/101");
    ASSERT_TRUE(slashed);
    EXPECT_EQ(slashed->rtsp()->url, "rtsp://192.0.2.50/Streaming/Channels/101");
}

TEST(RtspEngine, SessionsPerDeviceAreBounded) {
    Settings settings;
    settings.max_sessions_per_device = 3;
    Camera camera(settings);
    for (int client = 1; client <= 10; ++client) camera.stream(client, kMain, "S" + std::to_string(client));
    const auto verdict = camera.refuse(20, "DESCRIBE", kMain);
    ASSERT_TRUE(verdict);
    EXPECT_LE(verdict->rtsp()->active_sessions, 3u);
}

}  // namespace
}  // namespace diag503
