# Every scenario of the synthetic captures, by name, in the order they are generated and listed.
# SPDX-License-Identifier: GPL-2.0-or-later

from .overload import (
    capacity_licence, capacity_q850, failover, maintenance_drain, overload_rfc7339, overload_udp,
    retry_storm,
)
from .upstream import multihop, relay_origin, unreachable_hop, upstream_q850_tcp
from .evidence import (
    database_evidence, database_failure, dns_evidence, dns_failure, tls_evidence, tls_failure,
)
from .odd_signalling import malformed, missing_requests, registration_routing, unknown_plain
from .damage import cut_short, duplicates, ip_fragments, out_of_order, snaplen, tcp_segments, vlan
from .rtsp import (
    rtsp_encoder_change, rtsp_hammer, rtsp_interleaved, rtsp_malformed, rtsp_missing_request,
    rtsp_nvr, rtsp_overload, rtsp_port, rtsp_reset, rtsp_segments,
)

SCENARIOS = {func.__name__: func for func in (
    overload_udp, overload_rfc7339, capacity_q850, capacity_licence, upstream_q850_tcp, dns_failure,
    tls_failure, database_failure, registration_routing, multihop, missing_requests, malformed,
    unknown_plain, maintenance_drain, dns_evidence, tls_evidence, unreachable_hop, database_evidence,
    relay_origin, retry_storm, failover, out_of_order, duplicates, cut_short, snaplen, ip_fragments,
    vlan, tcp_segments, rtsp_interleaved, rtsp_segments, rtsp_port, rtsp_nvr, rtsp_encoder_change,
    rtsp_reset, rtsp_overload, rtsp_missing_request, rtsp_malformed, rtsp_hammer,
)}
