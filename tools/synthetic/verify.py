# Checks a written synthetic capture against its .truth file with tshark.
# SPDX-License-Identifier: GPL-2.0-or-later

import subprocess


def tshark(pcap, *args):
    return subprocess.run(["tshark", "-r", pcap, *args], capture_output=True, text=True,
                          check=True).stdout


# tshark 4.0 flags every Retry-After that is not bare digits, even RFC 3261's own
# "18000;duration=3600", as Malformed; that note says nothing about the capture.
TSHARK_RETRY_AFTER_NOTE = "Invalid retry_after value"


def verify(stem, story):
    """Compares tshark's 503 frames with the truth file; looks for malformed packets.

    tshark reads the capture with the arguments of its .args file, as every reader must.
    """
    pcap = str(stem.with_suffix(".pcapng"))
    args_file = stem.with_suffix(".args")
    extra = args_file.read_text().split() if args_file.exists() else []
    found = tshark(pcap, *extra, "-Y", story.STATUS_503, "-T", "fields", "-e", "frame.number").split()
    lines = [line.split("\t") for line in stem.with_suffix(".truth").read_text().splitlines()
             if not line.startswith("#")]
    truth = [fields[0] for fields in lines if len(fields) == 2]
    reactions = [fields for fields in lines if len(fields) == 3]
    malformed = [line.strip() for line in tshark(pcap, *extra, "-q", "-z", "expert").splitlines()
                 if "Malformed" in line and TSHARK_RETRY_AFTER_NOTE not in line]
    problems = []
    if found != truth:
        problems.append(f"tshark 503 frames {found} != truth {truth}")
    if malformed and not story.tolerates_malformed:
        problems.append(f"malformed packets: {malformed}")
    if reactions:
        request = {"SIP": "sip.Request-Line", "RTSP": "rtsp.request"}[story.PROTOCOL]
        requests = tshark(pcap, *extra, "-Y", request, "-T", "fields", "-e", "frame.number").split()
        for frame, reaction, answer in reactions:
            if frame not in requests or answer not in truth or int(answer) >= int(frame):
                problems.append(f"reaction {frame} {reaction} {answer}: not a request after a 503")
    return problems
