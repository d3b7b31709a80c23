// How the client-reaction tracker keys an RTSP request: which requests may retry or fail over, and their identities.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string_view>

#include "core/packet_meta.hpp"
#include "evidence/client_reactions.hpp"
#include "rtsp/rtsp_message.hpp"

namespace diag503 {

// Only a fresh request can retry or fail over: a request inside an RTSP session must go to its peer,
// and OPTIONS is how clients probe for recovery.
bool may_react(const RtspMessage& request);
// What an RTSP client asks for again when it retries: the URL's path (and query) without a SETUP's
// trailing track, stream= or streamid= segment.
std::string_view rtsp_stream_path(std::string_view url);
// An RTSP request as the reaction tracker keys it: its stream path, and the client's CSeq on its
// connection (`client` is the request's source, or the 503's destination).
ClientRequest rtsp_client_request(const PacketMeta& meta, const Endpoint& client, std::string_view url, std::uint32_t cseq);

}  // namespace diag503
