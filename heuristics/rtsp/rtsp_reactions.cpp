// RTSP requests as the client-reaction tracker sees them.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "rtsp/rtsp_reactions.hpp"

#include <string>

#include "core/text.hpp"

namespace diag503 {

bool may_react(const RtspMessage& request) { return request.session.empty() && !iequals(request.method, "OPTIONS"); }

ClientRequest rtsp_client_request(const PacketMeta& meta, const Endpoint& client, std::string_view url, std::uint32_t cseq) {
    return {&meta, hash_text(rtsp_stream_path(url)), hash_text(client.text() + " " + std::to_string(cseq))};
}

std::string_view rtsp_stream_path(std::string_view url) {
    const auto scheme_end = url.find("://");
    const auto path_start = url.find('/', scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
    if (path_start == std::string_view::npos) return {};
    std::string_view path = url.substr(path_start);
    const auto last = path.rfind('/');
    if (last != std::string_view::npos && last > 0) {
        const std::string_view segment = path.substr(last + 1);
        if (istarts_with(segment, "track") || istarts_with(segment, "stream=") || istarts_with(segment, "streamid="))
            path = path.substr(0, last);
    }
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    return path;
}

}  // namespace diag503
