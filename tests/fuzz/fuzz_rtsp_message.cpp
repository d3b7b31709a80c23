// libFuzzer target: any bytes as an RTSP message (as sent, and as a request's or response's headers and body) and as SDP.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "rtsp/rtsp_message.hpp"
#include "rtsp/sdp.hpp"

namespace {

using namespace diag503;

// Start lines under which the fuzzed bytes are headers and body: a request's body ends at Content-Length
// (none without it), a response's runs to the end when Content-Length is missing.
constexpr std::string_view kStartLines[] = {
    "RTSP/1.0 200 OK\r\n",
    "RTSP/1.0 503 Service Unavailable\r\n",
    "DESCRIBE rtsp://192.0.2.1/Streaming/Channels/101 RTSP/1.0\r\n",
};

// What sdp.hpp promises about every summary.
void check_sdp(const SdpSummary& summary) {
    FUZZ_CHECK(summary.media.size() <= kMaxSdpMedia);
    for (const SdpMedia& media : summary.media) {
        FUZZ_CHECK(media.type.size() == 5);  // "video" or "audio", as sent
        (void)media.dimensions();
    }
}

void read_sdp(std::string_view body) { check_sdp(parse_sdp(body)); }

void check_message(const RtspMessage& message) {
    FUZZ_CHECK(message.body.size() <= kMaxRtspBody);
    FUZZ_CHECK(message.is_request || (message.status_code >= 100 && message.status_code <= 599));
    read_sdp(message.body);  // as the RTSP engine reads a DESCRIBE answer
}

void parse_as_is(std::string_view text) {
    if (const auto message = parse_rtsp_message(text)) check_message(*message);
}

void parse_under_start_lines(std::string_view headers) {
    std::string text;
    for (std::string_view start : kStartLines) {
        text.assign(start);
        text.append(headers);
        const auto message = parse_rtsp_message(text);
        FUZZ_CHECK(message);  // nullopt only when the start line is not RTSP
        check_message(*message);
    }
}

// The SPS decoder and base64 reader behind sprop-parameter-sets, on the raw bytes.
void decode_parameter_sets(std::string_view bytes) {
    (void)h264_sps_dimensions(bytes);
    if (const auto decoded = decode_base64(bytes)) (void)h264_sps_dimensions(*decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = diag503::fuzz::as_text(data, size);
    parse_as_is(text);
    parse_under_start_lines(text);
    read_sdp(text);
    decode_parameter_sets(text);
    return 0;
}
