// SIP requests as the client-reaction tracker sees them.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sip/sip_reactions.hpp"

#include "core/text.hpp"

namespace diag503 {

bool may_react(const SipMessage& request) {
    return request.to_tag.empty() && !iequals(request.method, "ACK") && !iequals(request.method, "CANCEL") &&
           !iequals(request.method, "OPTIONS");
}

ClientRequest sip_client_request(const PacketMeta& meta, const SipMessage& message) {
    return {&meta, call_identity(message), cseq_identity(message)};
}

}  // namespace diag503
