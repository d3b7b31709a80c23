// libFuzzer target: any bytes as a camera or NVR RTSP URL, bare and behind a user name and password that must never show.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rtsp/camera_url.hpp"
#include "rtsp/rtsp_reactions.hpp"
#include "fuzz_input.hpp"

namespace {

using namespace diag503;

constexpr std::string_view kSecret = "Fz9secret";  // the password put in front of the fuzzed text

bool shows(std::string_view text, std::string_view secret) { return text.find(secret) != std::string_view::npos; }

void check_stream(const CameraStream& stream) {
    FUZZ_CHECK(!layout_name(stream.vendor_layout).empty());
    FUZZ_CHECK(!stream_type_name(stream.stream).empty());
    FUZZ_CHECK(stream.path.empty() || stream.path.front() == '/');
    if (stream.vendor_layout != VendorLayout::unknown) FUZZ_CHECK(!stream.path.empty());
}

// rtsp_stream_path returns a part of its argument.
void check_stream_path(std::string_view url) {
    const std::string_view path = rtsp_stream_path(url);
    if (path.empty()) return;
    FUZZ_CHECK(path.data() >= url.data() && path.data() + path.size() <= url.data() + url.size());
}

void read_url(std::string_view url) {
    const CameraStream stream = parse_camera_url(url);
    check_stream(stream);
    (void)url_without_credentials(url);
    check_stream_path(url);
}

// parse_camera_url and url_without_credentials drop "user:password@" whatever follows it.
void read_url_with_credentials(std::string_view rest) {
    if (shows(rest, kSecret.substr(0, 3))) return;  // the fuzzed text itself could spell the secret
    const std::string url = "rtsp://admin:" + std::string(kSecret) + "@" + std::string(rest);
    const CameraStream stream = parse_camera_url(url);
    FUZZ_CHECK(!shows(stream.device, kSecret) && !shows(stream.path, kSecret) && !shows(stream.profile, kSecret));
    FUZZ_CHECK(!shows(url_without_credentials(url), kSecret));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = diag503::fuzz::as_text(data, size);
    read_url(text);
    read_url_with_credentials(text);
    return 0;
}
