// What an RTSP DESCRIBE answer's SDP says about each video and audio stream: codec, size, frame rate, control URL.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diag503 {

struct VideoDimensions {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    bool operator==(const VideoDimensions& other) const { return width == other.width && height == other.height; }
};

// One m=video or m=audio section.
struct SdpMedia {
    std::string type;                                 // "video" or "audio", from the m= line
    std::string payload_type;                         // the first payload type of the m= line, e.g. "96"
    std::string codec;                                // that payload's a=rtpmap encoding name ("H264"), else RFC 3551's
    std::optional<std::uint32_t> clock_rate;          // that payload's a=rtpmap clock rate in Hz, else RFC 3551's
    std::optional<double> framerate;                  // a=framerate (or a=x-framerate)
    std::optional<VideoDimensions> declared_dimensions;  // a=x-dimensions:W,H
    std::optional<VideoDimensions> sps_dimensions;    // decoded from the H.264 SPS in a=fmtp sprop-parameter-sets
    std::string profile_level_id;                     // H.264 a=fmtp profile-level-id, hex as sent, e.g. "42e01f"
    std::string control;                              // a=control, as sent
    std::string summary;                              // "H264 1280x720 15fps", "PCMU 8000Hz"

    // What the stream's pictures measure: the SPS when it could be decoded, else what a=x-dimensions declares.
    std::optional<VideoDimensions> dimensions() const { return sps_dimensions ? sps_dimensions : declared_dimensions; }
};

struct SdpSummary {
    std::string control;          // session-level a=control (before the first m=)
    std::vector<SdpMedia> media;  // video and audio sections in order; other media types are skipped
    bool media_truncated = false; // there were more than kMaxSdpMedia video/audio sections
    std::string text;             // the media summaries joined by ", ": "H264 1920x1080 25fps, PCMA 8000Hz"
};

inline constexpr std::size_t kMaxSdpMedia = 8;
inline constexpr std::size_t kMaxSdpText = 200;  // bytes of any one text kept (an ellipsis marks a cut)

// Reads an SDP body (RFC 8866); never throws, whatever the bytes.
SdpSummary parse_sdp(std::string_view body);

// Exposed for unit tests.
// Standard base64 (RFC 4648 §4), padding optional; nullopt on any other character.
std::optional<std::string> decode_base64(std::string_view text);
// Picture size of an H.264 sequence parameter set NAL unit (header byte included, emulation prevention bytes as
// sent), after frame cropping (ITU-T H.264 §7.3.2.1.1, §7.4.2.1.1); nullopt when it is no SPS or does not parse.
std::optional<VideoDimensions> h264_sps_dimensions(std::string_view nal_unit);

}  // namespace diag503
