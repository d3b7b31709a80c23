#!/usr/bin/env python3
# Lists the clients' reactions to RTSP 503s in a capture, as .truth lines (captures/FORMAT.md).
# SPDX-License-Identifier: GPL-2.0-or-later
"""usage: reactions.py <capture> [tshark decode-as arguments...]

Prints one line `<frame>\t<reaction>\t<503 frame>` per reaction, in frame order:

- retry_same_request: a fresh request (not a TCP retransmission, not OPTIONS, no Session header)
  from the client's IP address to a server address and port for a stream path that server refused
  to that address, before the Retry-After of the path's latest 503 elapsed; when it had no valid
  Retry-After, the first such request within 1.5 s of it;
- request_during_backoff: otherwise, the first fresh request for another stream path than the
  latest 503 that server sent to that address, before that 503's Retry-After elapsed (one per 503);
- failover: the first fresh request from that address for the 503's stream path (the URL's path and
  query without a trailing track segment) to another server address or port, within 32 s.

tshark finds the RTSP requests (method, URL) and responses (status) of each frame; the CSeq and
Retry-After header values come from the frame's TCP payload, in message order.
"""

import re
import subprocess
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# One definition of "the same call" and of the windows for both tools.
from synthetic.reactions import FAILOVER_WINDOW, HAMMER_WINDOW, stream_path as call_of  # noqa: E402

FIELDS = ("frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst",
          "ipv6.dst", "tcp.dstport", "tcp.analysis.retransmission", "rtsp.method", "rtsp.url",
          "rtsp.status", "tcp.payload")


def frames(capture, decode_as):
    command = ["tshark", "-r", capture, *decode_as, "-Y", "rtsp.request || rtsp.response",
               "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=\x1f"]
    for field in FIELDS:
        command += ["-e", field]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        yield dict(zip(FIELDS, line.split("\t")))


def values(field):
    return [value for value in field.split("\x1f") if value]


def retry_after(text):
    """Seconds of the first Retry-After header of text if it is a valid delta-seconds, else None."""
    match = re.search(r"\r\nRetry-After:[ \t]*([^\r\n]*)", text, re.IGNORECASE)
    if not match:
        return None
    valid = re.fullmatch(r"(\d+)\s*(\([^)]*\))?\s*(;.*)?", match.group(1).strip())
    return int(valid.group(1)) if valid else None


def reactions(capture, decode_as):
    # (server ip, server port, client ip) -> [503 frame, time, Retry-After or None, call, hammered, backoff reported]
    latest = {}
    refused = {}  # (server ip, server port, client ip, call) -> [503 frame, time, Retry-After or None, hammered]
    pending = {}  # (client ip, call) -> (503 frame, time, (server ip, server port))
    asked = {}    # (client ip, client port, server ip, server port, CSeq) -> call
    lines = []
    for row in frames(capture, decode_as):
        if row["tcp.analysis.retransmission"]:
            continue
        frame, t = int(row["frame.number"]), float(row["frame.time_epoch"])
        src, dst = row["ip.src"] or row["ipv6.src"], row["ip.dst"] or row["ipv6.dst"]
        sport, dport = row["tcp.srcport"], row["tcp.dstport"]
        text = bytes.fromhex(row["tcp.payload"].replace(":", "")).decode("latin-1")
        cseqs = re.findall(r"\r\nCSeq:[ \t]*(\S+)", text, re.IGNORECASE)
        requests = re.split(r"(?=^[A-Z_]+ rtsp://)", text, flags=re.M)
        requests = [r for r in requests if r.strip()]
        for i, (url, method) in enumerate(zip(values(row["rtsp.url"]), values(row["rtsp.method"]))):
            call = call_of(url)
            if i < len(cseqs):
                asked[(src, sport, dst, dport, cseqs[i])] = call
            in_session = i < len(requests) and re.search(r"\r\nSession:", requests[i], re.IGNORECASE)
            if method == "OPTIONS" or in_session:
                continue
            retried = False
            again = refused.get((dst, dport, src, call))
            if again:
                if again[2] is not None and t - again[1] < again[2]:
                    retried = True
                elif again[2] is None and not again[3] and t - again[1] < HAMMER_WINDOW:
                    retried = again[3] = True
                if retried:
                    lines.append((frame, "retry_same_request", again[0]))
            seen = latest.get((dst, dport, src))
            if not retried and seen and seen[2] is not None and call != seen[3] and not seen[5] and t - seen[1] < seen[2]:
                lines.append((frame, "request_during_backoff", seen[0]))
                seen[5] = True
            waiting = pending.get((src, call))
            if waiting and (dst, dport) != waiting[2] and t - waiting[1] <= FAILOVER_WINDOW:
                lines.append((frame, "failover", waiting[0]))
                del pending[(src, call)]
        for i, status in enumerate(values(row["rtsp.status"])):
            if status != "503":
                continue
            call = asked.get((dst, dport, src, sport, cseqs[i] if i < len(cseqs) else None))
            latest[(src, sport, dst)] = [frame, t, retry_after(text), call, False, False]
            refused[(src, sport, dst, call)] = [frame, t, retry_after(text), False]
            pending[(dst, call)] = (frame, t, (src, sport))
    return lines


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    for frame, reaction, answer in reactions(argv[1], argv[2:]):
        print(f"{frame}\t{reaction}\t{answer}")


if __name__ == "__main__":
    main(sys.argv)
