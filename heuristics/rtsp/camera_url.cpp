// Reads camera, channel, stream and requested encoding out of IP camera and NVR RTSP URLs; never throws.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "rtsp/camera_url.hpp"

#include <algorithm>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <utility>
#include <vector>

#include "core/text.hpp"

namespace diag503 {
namespace {

constexpr std::size_t kMaxQueryParameters = 32;
constexpr std::size_t kMaxDecodedQueryText = 1024;  // bytes of one query name or value read; the rest is ignored

std::string stored(std::string_view text) { return printable(text, kMaxCameraText); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower_case(std::string_view text) {
    std::string result(text);
    for (char& c : result) c = lower(c);
    return result;
}

bool is_one_of(std::string_view text, std::initializer_list<std::string_view> words) {
    for (std::string_view word : words)
        if (iequals(text, word)) return true;
    return false;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

// "%41b" -> "Ab"; a '%' not followed by two hex digits is kept as it is.
std::string percent_decode(std::string_view text) {
    std::string decoded;
    decoded.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const int high = (text[i] == '%' && i + 2 < text.size()) ? hex_value(text[i + 1]) : -1;
        const int low = high >= 0 ? hex_value(text[i + 2]) : -1;
        if (low < 0) {
            decoded.push_back(text[i]);
            continue;
        }
        decoded.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return decoded;
}

std::optional<std::uint32_t> whole_number(std::string_view text) {
    const auto number = parse_decimal(text);
    if (!number || text.empty() || number->overflowed || number->value > std::numeric_limits<std::uint32_t>::max())
        return std::nullopt;
    return static_cast<std::uint32_t>(number->value);
}

// "ch12" with prefix "ch" -> 12; nullopt unless the rest is all digits.
std::optional<std::uint32_t> number_after(std::string_view text, std::string_view prefix) {
    if (!istarts_with(text, prefix) || text.size() == prefix.size()) return std::nullopt;
    return whole_number(text.substr(prefix.size()));
}

// The n-th stream of a camera, counting from `first`: first -> main, first+1 -> sub, first+2 -> third.
CameraStreamType nth_stream(std::optional<std::uint32_t> n, std::uint32_t first) {
    if (!n || *n < first || *n - first > 2) return CameraStreamType::unknown;
    constexpr CameraStreamType kInOrder[] = {CameraStreamType::main, CameraStreamType::sub, CameraStreamType::third};
    return kInOrder[*n - first];
}

CameraStreamType stream_named(std::string_view name) {
    if (iequals(name, "main")) return CameraStreamType::main;
    if (iequals(name, "sub")) return CameraStreamType::sub;
    if (iequals(name, "third")) return CameraStreamType::third;
    return CameraStreamType::unknown;
}

// ---- splitting the URL ----

struct UrlText {
    std::string_view authority;
    std::string_view path;
    std::string_view query;
    std::string_view default_port;
};

// Where the host starts in what follows "scheme://". Passwords may hold '/' or '@' unescaped: the last
// '@' before any '?' ends the userinfo.
std::size_t host_start(std::string_view after_scheme) {
    const auto at = after_scheme.substr(0, after_scheme.find('?')).rfind('@');
    return at == std::string_view::npos ? 0 : at + 1;
}

// Scheme, userinfo (dropped), authority, path and query; nullopt when this is no RTSP URL or bare path.
std::optional<UrlText> split_url(std::string_view url) {
    url = trim(url);
    url = url.substr(0, url.find('#'));
    UrlText parts;
    if (url.empty() || url.front() != '/') {
        const auto scheme_end = url.find("://");
        if (scheme_end == std::string_view::npos) return std::nullopt;
        const auto scheme = url.substr(0, scheme_end);
        if (!is_one_of(scheme, {"rtsp", "rtsps", "rtspu"})) return std::nullopt;
        parts.default_port = iequals(scheme, "rtsps") ? "322" : "554";  // RFC 7826 §19.2
        url.remove_prefix(scheme_end + 3);
        url.remove_prefix(host_start(url));
        const auto authority_end = url.find_first_of("/?");
        parts.authority = url.substr(0, authority_end);
        url = authority_end == std::string_view::npos ? std::string_view{} : url.substr(authority_end);
    }
    const auto question = url.find('?');
    parts.path = url.substr(0, question);
    if (question != std::string_view::npos) parts.query = url.substr(question + 1);
    return parts;
}

// SETUP URLs are the stream URL plus a track's a=control: "/trackID=1", "/track1", "/streamid=0", and
// gst-rtsp-server's "/stream=0" (not "/stream1", a generic stream path).
bool is_control_suffix(std::string_view segment) {
    return istarts_with(segment, "trackID=") || istarts_with(segment, "streamid=") || istarts_with(segment, "stream=") ||
           number_after(segment, "track");
}

std::string_view strip_trailing_slashes(std::string_view text) {
    while (!text.empty() && text.back() == '/') text.remove_suffix(1);
    return text;
}

// Drops one control suffix; Dahua appends it to the query ("?channel=1&subtype=0/trackID=0"), others to the path.
std::string_view strip_control_suffix(std::string_view text) {
    text = strip_trailing_slashes(text);
    const auto slash = text.rfind('/');
    if (slash != std::string_view::npos && is_control_suffix(text.substr(slash + 1))) text = text.substr(0, slash);
    return strip_trailing_slashes(text);
}

bool is_host_character(char c, bool in_brackets) {
    const bool alphanumeric = (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z');
    return alphanumeric || c == '.' || c == '-' || c == '_' || (in_brackets && (c == ':' || c == '%'));
}

bool is_valid_host(std::string_view host) {
    const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
    const std::string_view inner = bracketed ? host.substr(1, host.size() - 2) : host;
    if (inner.empty()) return false;
    for (char c : inner)
        if (!is_host_character(c, bracketed)) return false;
    return true;
}

// "CAM.example.com:0554" -> "cam.example.com"; nullopt for a port or host that cannot be one.
std::optional<std::string> normalised_device(std::string_view authority, std::string_view default_port) {
    const auto host_end = authority.empty() || authority.front() != '[' ? authority.find(':') : authority.find(']') + 1;
    if (host_end == 0) return std::nullopt;  // '[' without ']'
    const auto host = authority.substr(0, host_end);
    std::string_view port = host_end < authority.size() ? authority.substr(host_end) : std::string_view{};
    if (!is_valid_host(host) || (!port.empty() && port.front() != ':')) return std::nullopt;
    if (!port.empty()) port.remove_prefix(1);
    const auto number = whole_number(port);
    if (!port.empty() && (!number || *number > 65535)) return std::nullopt;
    std::string device = lower_case(host);
    const std::string port_text = number ? std::to_string(*number) : std::string{};
    if (!port_text.empty() && port_text != default_port) device += ":" + port_text;
    return device;
}

// ---- the URL as the layouts see it ----

struct QueryParameter {
    std::string name;  // lower case
    std::string value;
};

struct Url {
    std::vector<std::string> segments;  // decoded, empty ones skipped
    std::vector<QueryParameter> query;

    bool segment_is(std::size_t index, std::string_view word) const {
        return index < segments.size() && iequals(segments[index], word);
    }
    std::string_view segment(std::size_t index) const {
        return index < segments.size() ? std::string_view(segments[index]) : std::string_view{};
    }
    std::optional<std::string_view> value(std::string_view name) const {
        for (const auto& parameter : query)
            if (parameter.name == name) return std::string_view(parameter.value);
        return std::nullopt;
    }
    std::optional<std::uint32_t> number(std::string_view name) const {
        const auto text = value(name);
        return text ? whole_number(*text) : std::nullopt;
    }
};

std::vector<std::string> split_segments(std::string_view path) {
    std::vector<std::string> segments;
    std::size_t start = 0;
    while (start < path.size()) {
        const auto end = std::min(path.find('/', start), path.size());
        if (end > start) segments.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return segments;
}

std::vector<QueryParameter> parse_query(std::string_view query) {
    std::vector<QueryParameter> parameters;
    while (!query.empty() && parameters.size() < kMaxQueryParameters) {
        const auto end = query.find('&');
        const auto item = query.substr(0, end);
        query = end == std::string_view::npos ? std::string_view{} : query.substr(end + 1);
        const auto equals = item.find('=');
        const auto name = item.substr(0, std::min(equals, kMaxDecodedQueryText));
        const auto value = equals == std::string_view::npos ? std::string_view{} : item.substr(equals + 1);
        if (name.empty()) continue;
        parameters.push_back({lower_case(percent_decode(name)), percent_decode(value.substr(0, kMaxDecodedQueryText))});
    }
    return parameters;
}

// ---- the layouts ----

// Hikvision <ch*100+type>: 101 channel 1 main, 102 sub, 103 third, 201 channel 2 main. Ids below 100 are
// firmware-dependent aliases and are left undecided.
void read_hikvision_id(std::string_view id, CameraStream& stream) {
    const auto number = whole_number(id);
    if (!number || *number < 100) return;
    stream.channel = *number / 100;
    stream.stream = nth_stream(*number % 100, 1);
}

// /Streaming/Channels/<id> live, /Streaming/tracks/<id> playback; `offset` segments come before "Streaming".
bool match_hikvision_streaming(const Url& url, CameraStream& stream, std::size_t offset) {
    if (!url.segment_is(offset, "Streaming")) return false;
    stream.playback = url.segment_is(offset + 1, "tracks");
    if (!stream.playback && !url.segment_is(offset + 1, "Channels")) return false;
    read_hikvision_id(url.segment(offset + 2), stream);
    return true;
}

bool match_hikvision_isapi(const Url& url, CameraStream& stream) {
    return url.segment_is(0, "ISAPI") && match_hikvision_streaming(url, stream, 1);
}

bool match_hikvision_channels(const Url& url, CameraStream& stream) {
    return match_hikvision_streaming(url, stream, 0);
}

// /h264/ch<N>/main/av_stream; the codec word in the path is ignored by the cameras, so it is not a request.
bool match_hikvision_legacy(const Url& url, CameraStream& stream) {
    const auto channel = number_after(url.segment(1), "ch");
    if (!channel || !is_one_of(url.segment(0), {"h264", "h265", "mpeg4"})) return false;
    stream.channel = channel;
    stream.stream = stream_named(url.segment(2));
    return true;
}

// /cam/realmonitor?channel=1&subtype=0: subtype 0 main, 1 sub (extra stream 1), 2 third (extra stream 2).
bool match_dahua(const Url& url, CameraStream& stream) {
    if (!url.segment_is(0, "cam")) return false;
    stream.playback = url.segment_is(1, "playback");
    if (!stream.playback && !url.segment_is(1, "realmonitor")) return false;
    stream.channel = url.number("channel");
    stream.stream = nth_stream(url.number("subtype"), 0);
    return true;
}

// /axis-media/media.amp?camera=2: Axis has no main/sub streams, the query says what to encode.
bool match_axis(const Url& url, CameraStream& stream) {
    if (!url.segment_is(0, "axis-media") || !url.segment_is(1, "media.amp")) return false;
    stream.channel = url.number("camera");
    return true;
}

// /unicast/c<N>/s<M>/live: s0 main, s1 sub, s2 third.
bool match_uniview_channel(const Url& url, CameraStream& stream) {
    const auto channel = number_after(url.segment(1), "c");
    if (!channel || !is_one_of(url.segment(0), {"unicast", "multicast"})) return false;
    stream.channel = channel;
    stream.stream = nth_stream(number_after(url.segment(2), "s"), 0);
    return true;
}

// Layouts that only number the stream: `prefix`<N> as the segment after `parent` ("" for the first segment).
bool match_numbered_stream(const Url& url, CameraStream& stream, std::string_view parent, std::string_view prefix,
                           std::uint32_t first) {
    const std::size_t index_segment = parent.empty() ? 0 : 1;
    const auto index = number_after(url.segment(index_segment), prefix);
    if (!index || (!parent.empty() && !url.segment_is(0, parent))) return false;
    stream.stream = nth_stream(index, first);
    return true;
}

// /media/video<N>: 1 main, 2 sub, 3 third.
bool match_uniview_media(const Url& url, CameraStream& stream) {
    return match_numbered_stream(url, stream, "media", "video", 1);
}

// /profile<N> (ONVIF-style), /stream<N> (TP-Link and others): 1 main, 2 sub, 3 third.
bool match_numbered_profile(const Url& url, CameraStream& stream) {
    return match_numbered_stream(url, stream, "", "profile", 1) || match_numbered_stream(url, stream, "", "stream", 1);
}

// /live/ch<N> (HiSilicon firmware): ch0 main, ch1 sub.
bool match_live_channel(const Url& url, CameraStream& stream) {
    return match_numbered_stream(url, stream, "live", "ch", 0);
}

// A last segment ch<N>_<M>[.264|.h264|...]: channel N (from 0), M 0 main, 1 sub, 2 third.
bool match_channel_file(const Url& url, CameraStream& stream) {
    if (url.segments.empty()) return false;
    std::string_view name = url.segments.back();
    name = name.substr(0, name.find('.'));
    const auto underscore = name.find('_');
    if (underscore == std::string_view::npos) return false;
    const auto channel = number_after(name.substr(0, underscore), "ch");
    const auto index = whole_number(name.substr(underscore + 1));
    if (!channel || !index) return false;
    stream.channel = channel;
    stream.stream = nth_stream(index, 0);
    return true;
}

struct LayoutRule {
    VendorLayout layout;
    bool (*match)(const Url&, CameraStream&);
    bool channel_above_one_is_a_recorder;  // see parse_camera_url in the header
};

// First match wins; the more specific generic rules come after every vendor's.
constexpr LayoutRule kLayouts[] = {
    {VendorLayout::hikvision_isapi, match_hikvision_isapi, true},
    {VendorLayout::hikvision_channels, match_hikvision_channels, true},
    {VendorLayout::hikvision_legacy, match_hikvision_legacy, true},
    {VendorLayout::dahua, match_dahua, true},
    {VendorLayout::axis, match_axis, false},
    {VendorLayout::uniview, match_uniview_channel, true},
    {VendorLayout::uniview, match_uniview_media, false},
    {VendorLayout::generic, match_numbered_profile, false},
    {VendorLayout::generic, match_live_channel, false},
    {VendorLayout::generic, match_channel_file, false},
};

// ---- encoding parameters and profile ----

std::string normalised_codec(std::string_view codec) {
    std::string result;
    for (char c : codec)
        if (c != '.') result.push_back(lower(c));
    if (result == "hevc") return "h265";
    if (result == "avc") return "h264";
    return result;
}

std::optional<std::string_view> first_value(const Url& url, std::initializer_list<std::string_view> names) {
    for (std::string_view name : names)
        if (auto value = url.value(name)) return value;
    return std::nullopt;
}

std::optional<std::uint32_t> first_number(const Url& url, std::initializer_list<std::string_view> names) {
    const auto text = first_value(url, names);
    return text ? whole_number(*text) : std::nullopt;
}

std::optional<std::string> resolution_of(const Url& url) {
    if (auto resolution = url.value("resolution"); resolution && !resolution->empty())
        return stored(lower_case(*resolution));
    const auto width = url.number("width");
    const auto height = url.number("height");
    if (!width || !height) return std::nullopt;
    return std::to_string(*width) + "x" + std::to_string(*height);
}

EncodingParameters encoding_parameters_of(const Url& url) {
    EncodingParameters encoding;
    if (auto codec = first_value(url, {"videocodec", "codec"}))
        if (std::string name = normalised_codec(*codec); !name.empty()) encoding.codec = stored(name);
    encoding.resolution = resolution_of(url);
    encoding.fps = first_number(url, {"fps", "framerate"});
    encoding.bitrate = first_number(url, {"videobitrate", "bitrate"});
    encoding.compression = url.number("compression");
    if (auto profile = url.value("streamprofile"); profile && !profile->empty())
        encoding.stream_profile = stored(lower_case(*profile));
    return encoding;
}

void append_word(std::string& text, std::string_view word) {
    if (!text.empty()) text += ' ';
    text += word;
}

template <typename Number>
void append_number(std::string& text, const std::optional<Number>& number, std::string_view before,
                   std::string_view after) {
    if (number) append_word(text, std::string(before) + std::to_string(*number) + std::string(after));
}

std::string profile_of(const CameraStream& stream) {
    const EncodingParameters& encoding = stream.encoding_parameters;
    std::string profile;
    if (stream.stream != CameraStreamType::unknown) profile = stream_type_name(stream.stream);
    if (encoding.codec) append_word(profile, *encoding.codec);
    if (encoding.resolution) append_word(profile, *encoding.resolution);
    append_number(profile, encoding.fps, "", "fps");
    append_number(profile, encoding.bitrate, "bitrate=", "");
    append_number(profile, encoding.compression, "compression=", "");
    if (encoding.stream_profile) append_word(profile, "streamprofile=" + *encoding.stream_profile);
    return stored(profile.empty() ? lower_case(stream.path) : profile);
}

void apply_layouts(const Url& url, CameraStream& stream) {
    for (const LayoutRule& rule : kLayouts) {
        if (!rule.match(url, stream)) continue;
        stream.vendor_layout = rule.layout;
        stream.looks_like_nvr_channel = rule.channel_above_one_is_a_recorder && stream.channel && *stream.channel > 1;
        break;
    }
    for (const auto& segment : url.segments)
        if (iequals(segment, "nvr")) stream.looks_like_nvr_channel = true;
}

}  // namespace

// The names are in the order of the enumerators.
std::string_view layout_name(VendorLayout layout) {
    constexpr std::string_view kNames[] = {"hikvision_channels", "hikvision_isapi", "hikvision_legacy", "dahua",
                                           "axis",               "uniview",         "generic",          "unknown"};
    const auto index = static_cast<std::size_t>(layout);
    return index < std::size(kNames) ? kNames[index] : "unknown";
}

std::string_view stream_type_name(CameraStreamType type) {
    constexpr std::string_view kNames[] = {"main", "sub", "third", "unknown"};
    const auto index = static_cast<std::size_t>(type);
    return index < std::size(kNames) ? kNames[index] : "unknown";
}

std::string url_without_credentials(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return printable(url, kMaxCameraText);
    const auto after_scheme = url.substr(scheme_end + 3);
    return printable(std::string(url.substr(0, scheme_end + 3)) + std::string(after_scheme.substr(host_start(after_scheme))),
                     kMaxCameraText);
}

CameraStream parse_camera_url(std::string_view url) {
    CameraStream stream;
    const auto parts = split_url(url);
    if (!parts) return stream;
    if (auto device = normalised_device(parts->authority, parts->default_port)) stream.device = stored(*device);
    const std::string path = percent_decode(strip_control_suffix(parts->path));
    stream.path = stored(path.empty() || path.front() != '/' ? "/" + path : path);
    Url layout_view{split_segments(path), parse_query(strip_control_suffix(parts->query))};
    apply_layouts(layout_view, stream);
    stream.encoding_parameters = encoding_parameters_of(layout_view);
    stream.profile = profile_of(stream);
    return stream;
}

}  // namespace diag503
