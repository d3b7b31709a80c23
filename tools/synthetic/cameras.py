# The RTSP story engine: one camera or recorder, its clients and the usual RTSP 1.0 flows.
# SPDX-License-Identifier: GPL-2.0-or-later

import email.utils
from dataclasses import dataclass

from .capture import BASE_EPOCH
from .encoders import RtpStream, interleaved, rtcp_receiver_report, rtcp_sender_report
from .messages import HttpMessage, RtspMessage, camera_sdp
from .parties import Host
from .stories import Reply, StoryBase


RTSP_PUBLIC = "OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER"
RTSP_DELAYS = {  # how long a camera takes to answer each method (s)
    "OPTIONS": (0.001, 0.003), "DESCRIBE": (0.004, 0.025), "SETUP": (0.002, 0.010),
    "PLAY": (0.005, 0.030), "TEARDOWN": (0.001, 0.005), "GET_PARAMETER": (0.001, 0.003),
}
RTSP_TRANSPORT = "RTP/AVP/TCP;unicast;interleaved=0-1"
PLAYERS = {  # RTSP client software: User-Agent, and whether it starts with OPTIONS
    "vlc": ("LibVLC/3.0.20 (LIVE555 Streaming Media v2016.11.28)", True),
    "ffmpeg": ("Lavf60.16.100", True),
    "gstreamer": ("GStreamer/1.22.0", True),
    "recorder": ("VideoRecorder/4.1.2", False),
    "scanner": ("RtspScanner/1.0 (libcurl/7.88.1)", False),  # DESCRIBE straight away
}


@dataclass(frozen=True)
class Camera:
    """An IP camera or recorder: RTSP endpoint, Server header and Digest realm (None: none)."""

    host: Host
    agent: str = None
    realm: str = None

    def url(self, path):
        port = "" if self.host.port == 554 else f":{self.host.port}"
        return f"rtsp://{self.host.ip}{port}{path}"

    @property
    def web(self):
        """Its HTTP configuration interface."""
        return Host(self.host.ip, 80, "TCP")


class RtspClient:
    """One client connection to the camera: its address, software, CSeq, nonce, session, RTP."""

    def __init__(self, host, player):
        self.host = host
        self.agent, self.sends_options = PLAYERS[player]
        self.cseq = 1
        self.nonce = None    # the camera's Digest nonce, once challenged
        self.base = None     # Content-Base of the described presentation
        self.session = None
        self.rtp = None      # RtpStream, once set up
        self.ssrc = None     # the client's own RTCP SSRC


class CameraStory(StoryBase):
    """An RTSP scenario: one camera or recorder, its clients and the usual RTSP 1.0 flows.

    Every client connection is TCP: handshake, requests with CSeq (Digest authentication after a
    401 when the camera has a realm), RTP/RTCP interleaved on channels 0-1 after PLAY, TEARDOWN
    and FIN, unless a scenario ends the connection otherwise.
    """

    PROTOCOL = "RTSP"
    STATUS_503 = "rtsp.status == 503"

    def __init__(self, rng, camera, horizon=40.0, rtp_period=2.0):
        port = camera.host.port
        super().__init__(rng, horizon, () if port == 554 else ("-d", f"tcp.port=={port},rtsp"))
        self.camera = camera
        self.rtp_period = rtp_period  # seconds between the video frames put in the capture
        self.used = set()

    def endpoint(self, ip):
        """A client address with an ephemeral port that ip has not used yet in the capture."""
        host = Host(ip, self.rng.randrange(49152, 65535), "TCP")
        while host in self.used:
            host = Host(ip, self.rng.randrange(49152, 65535), "TCP")
        self.used.add(host)
        return host

    # ----------------------------------------------------------------- messages

    def think(self):
        """A client's pause between an answer and its next request."""
        return self.jitter(0.0005, 0.003)

    def reply(self, method, code=200, **fields):
        """The camera's answer to method after its usual delay."""
        return Reply(self.jitter(*RTSP_DELAYS[method]), code, **fields)

    def request(self, client, method, url):
        message = RtspMessage.request(method, url)
        message.add("CSeq", str(client.cseq))
        client.cseq += 1
        if client.nonce:
            message.add("Authorization", f'Digest username="admin", realm="{self.camera.realm}", '
                                         f'nonce="{client.nonce}", uri="{url}", '
                                         f'response="{self.ids.hex(32)}"')
        message.add("User-Agent", client.agent)
        if method == "DESCRIBE":
            message.add("Accept", "application/sdp")
        elif method == "SETUP":
            message.add("Transport", RTSP_TRANSPORT)
        elif method != "OPTIONS" and client.session:
            message.add("Session", client.session)
        if method == "PLAY":
            message.add("Range", "npt=0.000-")
        return message

    def answer(self, t, client, request, reply):
        """The camera's response to request, as it leaves at time t."""
        method, url = request.start_line.split()[:2]
        message = RtspMessage.response(reply.code, reply.reason)
        message.cause = reply.cause
        message.add("CSeq", request.get("CSeq"))
        if reply.code == 401:
            client.nonce = self.ids.hex(32)
            message.add("WWW-Authenticate",
                        f'Digest realm="{self.camera.realm}", nonce="{client.nonce}", stale="FALSE"')
        elif reply.code == 200:
            self._served(t, client, method, url, message)
        if self.camera.agent:
            message.add("Server", self.camera.agent)
        message.add("Date", email.utils.formatdate(BASE_EPOCH + t, usegmt=True))
        for name, value in reply.headers:
            message.add(name, value)
        if reply.mutate:
            reply.mutate(message)
        return message

    def _served(self, t, client, method, url, message):
        """What a 200 OK carries for each method, and the client state it creates."""
        if method == "OPTIONS":
            message.add("Public", RTSP_PUBLIC)
        elif method == "DESCRIBE":
            client.base = url + "/"
            message.add("Content-Base", client.base).add("Content-Type", "application/sdp")
            message.body = camera_sdp(self.camera.host.ip, self.rng.randrange(10**15, 10**16))
        elif method == "SETUP":
            client.session = str(self.rng.randrange(10**9, 2**32))
            client.rtp = RtpStream(self.rng)
            client.ssrc = self.rng.getrandbits(32)
            message.add("Session", f"{client.session};timeout=60")
            message.add("Transport", f'{RTSP_TRANSPORT};ssrc={client.rtp.ssrc:08X};mode="play"')
        else:
            message.add("Session", client.session)
        if method == "PLAY":
            client.rtp.start = t
            message.add("RTP-Info", f"url={client.base}trackID=1;seq={client.rtp.seq};"
                                    f"rtptime={client.rtp.rtptime}")

    def exchange(self, t, client, requests, replies):
        """Requests leave together at t; reply i answers request i, and replies with the same
        delay leave together.  Returns the time of the last answer."""
        self.send(t, client.host, self.camera.host, requests)
        groups = {}
        for request, reply in zip(requests, replies):
            groups.setdefault(reply.delay, []).append((request, reply))
        for delay, group in groups.items():
            answers = [self.answer(t + delay, client, request, reply) for request, reply in group]
            self.send(t + delay, self.camera.host, client.host, answers, group[-1][1].split)
        return t + max(groups)

    def ask(self, t, client, method, url, reply=None):
        """One request and its answer (200 OK unless reply); returns when the client goes on."""
        reply = reply or self.reply(method)
        return self.exchange(t, client, [self.request(client, method, url)], [reply]) + self.think()

    # ----------------------------------------------------------------- flows

    def play(self, t, ip, player, path, refusal=None, pipeline=False):
        """A new connection from ip asks for path: OPTIONS (if the player sends it), DESCRIBE
        (challenged first if the camera has a realm), SETUP and PLAY.

        refusal=(method, reply): the camera answers that request with reply and the client
        hangs up.  pipeline: PLAY and a GET_PARAMETER keep-alive leave in one segment and are
        answered in one.  Returns the client and when it plays (None if refused).
        """
        client = RtspClient(self.endpoint(ip), player)
        self.cap.connect(t, client.host, self.camera.host)
        t += 0.001
        url = self.camera.url(path)
        if client.sends_options:
            t = self.ask(t, client, "OPTIONS", url)
        if self.camera.realm:
            t = self.ask(t, client, "DESCRIBE", url, self.reply("DESCRIBE", 401))
        refused, refusal = refusal or (None, None)
        for method in ("DESCRIBE", "SETUP", "PLAY"):
            target = {"DESCRIBE": url, "SETUP": f"{client.base}trackID=1"}.get(method, client.base)
            reply = refusal if method == refused else self.reply(method)
            if method == "PLAY" and pipeline:
                requests = [self.request(client, "PLAY", target),
                            self.request(client, "GET_PARAMETER", target)]
                t = self.exchange(t, client, requests, [reply, reply._replace(code=200)]) + self.think()
            else:
                t = self.ask(t, client, method, target, reply)
            if method == refused:
                self.cap.close(t, client.host, self.camera.host)
                return client, None
        return client, t

    def stream(self, client, start, end):
        """Interleaved RTP from the camera in [start, end): a frame (two FU-A packets) every
        rtp_period s, a key frame first; every third time an RTCP sender report rides along and
        the client sends its receiver report."""
        rtp, camera = client.rtp, self.camera.host
        t, count = start + 0.02, 0
        while t < min(end, self.horizon):
            frames = [interleaved(0, packet) for packet in rtp.frame(t, key=count == 0)]
            if count % 3 == 0:
                frames.append(interleaved(1, rtcp_sender_report(rtp, t, f"camera@{camera.ip}")))
                report = rtcp_receiver_report(client.ssrc, rtp, t, t + 0.05, f"client@{client.host.ip}")
                self.send(t + 0.05, client.host, camera, interleaved(1, report))
            self.send(t, camera, client.host, frames)
            t, count = t + self.rtp_period + self.jitter(-0.1, 0.1), count + 1

    def drop(self, t, client, reset=False):
        """The camera ends a client's connection: FIN, or an abortive RST."""
        if reset:
            self.cap.reset(t, self.camera.host, client.host)
        else:
            self.cap.close(t, self.camera.host, client.host)

    def leave(self, t, client):
        """TEARDOWN, then the client closes the connection (if inside the capture)."""
        if t < self.horizon:
            t = self.ask(t, client, "TEARDOWN", client.base)
            self.cap.close(t, client.host, self.camera.host)

    def watch(self, t, ip, player, path, until, pipeline=False):
        """play, stream until `until`, leave; returns the client."""
        client, t = self.play(t, ip, player, path, pipeline=pipeline)
        self.stream(client, t, until)
        self.leave(until, client)
        return client

    def refused(self, t, ip, player, path, code=503, at="DESCRIBE", **fields):
        """A client whose request `at` the camera answers with code (a 503 by default)."""
        return self.play(t, ip, player, path, refusal=(at, self.reply(at, code, **fields)))[0]

    def configure(self, t, ip, request, server, content_type, body):
        """An HTTP request to the camera's web interface on a new connection, answered 200 OK
        with body; the client closes.  Returns the time of the answer."""
        client, web = self.endpoint(ip), self.camera.web
        self.cap.connect(t, client, web)
        request.headers.insert(0, ("Host", web.ip))
        self.send(t + 0.001, client, web, request)
        t_answer = t + 0.001 + self.jitter(0.05, 0.2)
        response = HttpMessage.response(200)
        response.add("Date", email.utils.formatdate(BASE_EPOCH + t_answer, usegmt=True))
        response.add("Server", server).add("Connection", "close").add("Content-Type", content_type)
        response.body = body
        self.send(t_answer, web, client, response)
        self.cap.close(t_answer + self.think(), client, web)
        return t_answer
