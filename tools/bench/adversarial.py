#!/usr/bin/env python3
# Writes the adversarial capture of issue 5: INVITEs with distinct Call-IDs that are never answered, and a few 503s.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: tools/bench/adversarial.py --invites 1000000 --out /tmp/diag503-bench/adversarial-1M.pcapng [--seed 1]

Every INVITE opens a transaction the plugin must remember until its bound
(preference diag503.max_transactions, default 200000) pushes the oldest out. After every
100 000 INVITEs the proxy answers 503 to two of them: the newest (still remembered) and the very
first one (forgotten once the bound was reached), so the verdicts show what eviction does.
Ethernet/IPv4/UDP frames, no checksums (Wireshark does not check them by default), 1 ms apart.
"""
import argparse
import random
import struct
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pcapng_writer import PcapngWriter  # noqa: E402

PROXY = bytes([198, 51, 100, 1])
START_US = 1772445600 * 1000000  # 2026-03-02 10:00:00 UTC, as the other generated captures


def ipv4_udp(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, dst)
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + ip + udp


def client_address(n):
    return bytes([203, 0, 113, 1 + n % 250])


def invite(n):
    caller = f"+1202{n:07d}"
    return (f"INVITE sip:+1303{n % 9999:07d}@example.net SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 203.0.113.{1 + n % 250}:5060;branch=z9hG4bK{n:x}a\r\n"
            f"From: <sip:{caller}@example.net>;tag={n:x}f\r\nTo: <sip:+1303{n % 9999:07d}@example.net>\r\n"
            f"Call-ID: adv{n:x}@203.0.113.{1 + n % 250}\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n").encode()


def refusal(n):
    text = invite(n).decode().replace(f"INVITE sip:+1303{n % 9999:07d}@example.net SIP/2.0",
                                      "SIP/2.0 503 Service Unavailable", 1)
    text = text.replace("\r\nTo: <sip:", "\r\nRetry-After: 4294967296\r\nTo: <sip:", 1).replace("Max-Forwards: 70\r\n", "")
    return text.replace(">\r\nCall-ID", ">;tag=px\r\nCall-ID", 1).encode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--invites", type=int, default=1000000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    random.seed(args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as stream:
        writer = PcapngWriter(stream, "diag503 tools/bench/adversarial.py")
        time_us = START_US
        for n in range(args.invites):
            time_us += 1000
            writer.write(time_us, ipv4_udp(client_address(n), PROXY, 5060, 5060, invite(n)))
            if (n + 1) % 100000 == 0:
                for refused in (n, 0):
                    time_us += 1000
                    writer.write(time_us, ipv4_udp(PROXY, client_address(refused), 5060, 5060, refusal(refused)))
    print(f"{args.out}: {args.invites} INVITEs, {2 * (args.invites // 100000)} 503s")


if __name__ == "__main__":
    main()
