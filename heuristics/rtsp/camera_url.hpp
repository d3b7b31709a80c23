// Which camera, channel and stream an RTSP URL of an IP camera or NVR asks for, read from the vendors' URL layouts.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace diag503 {

enum class VendorLayout {
    hikvision_channels,  // /Streaming/Channels/<ch*100+type>, /Streaming/tracks/<id> (playback)
    hikvision_isapi,     // /ISAPI/Streaming/channels/<id>, /ISAPI/Streaming/tracks/<id> (playback)
    hikvision_legacy,    // /h264/ch<N>/main|sub/av_stream (also /h265/, /mpeg4/)
    dahua,               // /cam/realmonitor?channel=N&subtype=M, /cam/playback?channel=N (Amcrest, Lorex, ...)
    axis,                // /axis-media/media.amp?videocodec=&resolution=&fps=&camera=
    uniview,             // /unicast/c<N>/s<M>/live (also /multicast/), /media/video<N>
    generic,             // /profile<N>, /stream<N>, /live/ch<N>, /ch<N>_<M>.264
    unknown,             // none of the above, or not an RTSP URL at all
};
std::string_view layout_name(VendorLayout layout);  // "hikvision_channels", ..., "unknown"

enum class CameraStreamType { main, sub, third, unknown };
std::string_view stream_type_name(CameraStreamType type);  // "main", "sub", "third", "unknown"

// Query parameters that change what the camera encodes; absent when the URL does not carry them.
struct EncodingParameters {
    std::optional<std::string> codec;           // codec= / videocodec=: lower case, dots dropped, hevc -> h265
    std::optional<std::string> resolution;      // resolution= in lower case ("1280x720", "4cif"), or width= x height=
    std::optional<std::uint32_t> fps;           // fps= / framerate=
    std::optional<std::uint32_t> bitrate;       // bitrate= / videobitrate=, in the URL's own unit (Axis: kbit/s)
    std::optional<std::uint32_t> compression;   // compression= (Axis: 0 best quality .. 100 smallest)
    std::optional<std::string> stream_profile;  // Axis streamprofile=: a named encoding preset stored on the camera
};

struct CameraStream {
    std::string device;          // host[:port] as in the URL, host in lower case, no default port; "" if none/invalid
    std::string path;            // percent-decoded path, SETUP control suffix and trailing '/' removed; "/" when empty
    VendorLayout vendor_layout = VendorLayout::unknown;  // the URL layout recognised
    std::optional<std::uint32_t> channel;  // as the URL numbers it: from 1 for vendors, from 0 for generic ch<N>_<M>
    CameraStreamType stream = CameraStreamType::unknown;  // which of the camera's encoder streams
    std::string profile;         // the requested encoding: "third", "main h265 3840x2160 25fps"; else the path
    EncodingParameters encoding_parameters;  // what the query string asks of the encoder
    bool playback = false;       // the URL asks for recorded video (Hikvision /tracks/, Dahua /cam/playback), not live
    bool looks_like_nvr_channel = false;  // see parse_camera_url
};

inline constexpr std::size_t kMaxCameraText = 200;  // bytes of any one text kept (an ellipsis marks a cut)

// Never throws; text that is not an rtsp://, rtsps:// or rtspu:// URL (or a bare path) gives layout unknown.
// The user name and password of `rtsp://user:pass@host/` are dropped, never stored.
//
// looks_like_nvr_channel is true only when the URL itself shows a recorder's input channel:
//  - Hikvision (all three layouts), Dahua and Uniview /unicast/ with channel > 1: a single-sensor camera of these
//    vendors only has channel 1, so a higher channel is a recorder (NVR/DVR/XVR) input. Multi-sensor and
//    bi-spectrum thermal cameras also use channel 2; that is the known false positive.
//  - a path segment that is literally "nvr".
// Not counted, on purpose: channel 1 (an NVR's first input looks exactly like a camera), Axis camera=N (video
// encoders and multi-sensor cameras, not recorders), and generic /live/ch<N> and /ch<N>_<M>, where N counts streams
// or channels from 0 on single cameras (HiSilicon firmware).
CameraStream parse_camera_url(std::string_view url);

// The URL as text for display, its user name and password removed by the same rule (capped, printable).
std::string url_without_credentials(std::string_view url);

}  // namespace diag503
