// Where and when a message was seen: the packet facts that do not come from the SIP text.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>

namespace diag503 {

enum class Transport { udp, tcp, tls, sctp, other };

struct Endpoint {
    std::string address;  // printable, as the capture tool shows it ("192.0.2.1", "2001:db8::1")
    std::uint16_t port = 0;
    std::string text() const;  // "192.0.2.1:5060", "[2001:db8::1]:5060"
    // A hash of address and port, for keying maps without building text() on every message.
    std::uint64_t key() const;
};

struct PacketMeta {
    std::uint32_t frame = 0;
    std::int64_t time_us = 0;  // absolute capture time
    Transport transport = Transport::other;
    Endpoint source;
    Endpoint destination;
    // Non-zero when the message runs into the end of a frame the capture cut short (snaplen): the bytes kept.
    std::uint32_t cut_after_bytes = 0;
};

}  // namespace diag503
