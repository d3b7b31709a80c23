// How the client-reaction tracker keys a SIP request: which requests may retry or fail over, and their identities.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "core/packet_meta.hpp"
#include "evidence/client_reactions.hpp"
#include "sip/sip_message.hpp"

namespace diag503 {

// Only a fresh request can retry or fail over: ACK and CANCEL close the refused transaction, a
// request inside a dialog (To tag) must go to its peer, and OPTIONS is how clients probe for recovery.
bool may_react(const SipMessage& request);
// The call a failover carries over (Call-ID) and the identity a retransmission shares (Call-ID and CSeq).
ClientRequest sip_client_request(const PacketMeta& meta, const SipMessage& message);

}  // namespace diag503
