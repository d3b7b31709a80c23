// Names and recommendations of the cause vocabulary.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/verdict.hpp"

namespace diag503 {

std::string_view cause_name(Cause cause) {
    switch (cause) {
        case Cause::overload: return "overload";
        case Cause::capacity_limit: return "capacity_limit";
        case Cause::upstream_failure: return "upstream_failure";
        case Cause::dns_failure: return "dns_failure";
        case Cause::tls_failure: return "tls_failure";
        case Cause::database_failure: return "database_failure";
        case Cause::maintenance: return "maintenance";
        case Cause::registration_routing: return "registration_routing";
        case Cause::too_many_clients: return "too_many_clients";
        case Cause::encoder_busy: return "encoder_busy";
        case Cause::unsupported_profile: return "unsupported_profile";
        case Cause::nvr_channel_unavailable: return "nvr_channel_unavailable";
        case Cause::encoder_restart: return "encoder_restart";
        case Cause::device_overload: return "device_overload";
        case Cause::unknown: return "unknown";
    }
    return "unknown";
}

std::string_view cause_recommendation(Cause cause) {
    switch (cause) {
        case Cause::overload:
            return "Transient overload: honour Retry-After, add call admission control or rate limits upstream, scale out the server.";
        case Cause::capacity_limit:
            return "Capacity limit: check the concurrent-call, channel or licence limit against the busy-hour peak; raise it or add trunks.";
        case Cause::upstream_failure:
            return "Downstream failure: check reachability of the next hop (trunk, gateway, carrier) and the failover routes of this server.";
        case Cause::dns_failure:
            return "DNS failure: check the server's resolver and the SRV/NAPTR/A records of the next hop's domain.";
        case Cause::tls_failure:
            return "TLS failure: check certificates (expiry, chain, CA trust, names) and TLS versions between this server and its next hop.";
        case Cause::database_failure:
            return "Database failure: check the server's database (reachability, credentials, connection pool, disk).";
        case Cause::maintenance:
            return "Maintenance: the server is draining or down on purpose; route to another server until the announced time.";
        case Cause::registration_routing:
            return "One user fails: check that user's registration, location binding and routing rules on this server.";
        case Cause::too_many_clients:
            return "Too many clients: reduce the clients pulling from this device, stop sessions left open without TEARDOWN, or restream through one service (NVR/VMS/media server).";
        case Cause::encoder_busy:
            return "Encoder busy: make all clients request identical stream settings, use the sub-stream for extra viewers, or restream one encoding to everyone.";
        case Cause::unsupported_profile:
            return "Unsupported profile: request a profile the device offers (lower resolution, fps or bitrate, or H.264 instead of H.265) and check the URL against its documentation.";
        case Cause::nvr_channel_unavailable:
            return "NVR channel unavailable: compare the NVR channel URL with the camera's direct URL, and check the camera behind that channel (offline, bandwidth, PoE).";
        case Cause::encoder_restart:
            return "Encoder restart: an encoder change or reboot is in progress; wait a few seconds and retry, and avoid changing encoder settings while clients stream.";
        case Cause::device_overload:
            return "Device overload: lower resolution, fps or bitrate, switch H.265/H.264, reduce analytics on the camera, and honour Retry-After.";
        case Cause::unknown:
            return "Cause unknown: capture the server's other legs (toward its next hop), check its logs for this Call-ID, and ask it to send Retry-After and Reason.";
    }
    return "";
}

std::string_view scope_name(Scope scope) {
    switch (scope) {
        case Scope::single_user: return "single_user";
        case Scope::several_users: return "several_users";
        case Scope::all_users: return "all_users";
        case Scope::undetermined: return "";
    }
    return "";
}

}  // namespace diag503
