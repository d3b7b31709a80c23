# RTSP scenarios: IP cameras and recorders refusing streams, over interleaved TCP with HTTP configuration.
# SPDX-License-Identifier: GPL-2.0-or-later

import base64
import datetime

from ..cameras import Camera, CameraStory, RtspClient
from ..capture import BASE_EPOCH
from ..messages import HttpMessage, append_raw, retry_after
from ..parties import Host


def hikvision(ip, realm="IP Camera(C6201)"):
    return Camera(Host(ip, 554, "TCP"), "Hikvision-Webs", realm)


def dahua(ip, port=554, serial="6G0ABCD1234567"):
    return Camera(Host(ip, port, "TCP"), "Rtsp Server/3.0", f"Login to {serial}")


def rtsp_interleaved(rng):
    """Camera allowing 2 RTSP sessions refuses a third client's DESCRIBE with 503.

    Clients A and B stream the main stream (/Streaming/Channels/101) over interleaved TCP; C's
    DESCRIBE gets '503 Service Unavailable' twice; after A's TEARDOWN, C is served.
    """
    story = CameraStory(rng, hikvision("192.0.2.50"), horizon=30)
    main = "/Streaming/Channels/101"
    story.watch(1.0, "192.0.2.101", "vlc", main, until=16.0)
    story.watch(3.0, "192.0.2.102", "ffmpeg", main, until=28.0)
    for t in (7.0, 11.5):
        story.refused(t, "192.0.2.103", "recorder", main, cause="too_many_clients")
    story.watch(18.0, "192.0.2.103", "recorder", main, until=26.0)
    return story


def rtsp_segments(rng):
    """Axis camera refuses a second resolution while one is streamed: 503 split over two segments.

    A streams /axis-media/media.amp?resolution=1920x1080&fps=25; its PLAY and a pipelined
    GET_PARAMETER leave in one segment and are answered in one. B asks the same camera for
    640x360 at 10 fps: 503, the first one cut in two TCP segments; C asks A's exact profile and is
    served.
    """
    story = CameraStory(rng, Camera(Host("192.0.2.60", 554, "TCP"), realm="AXIS_ACCC8E5A1B2C"),
                        horizon=24)
    full_hd = "/axis-media/media.amp?resolution=1920x1080&fps=25"
    small = "/axis-media/media.amp?resolution=640x360&fps=10"
    story.watch(1.0, "192.0.2.111", "vlc", full_hd, until=21.0, pipeline=True)
    story.refused(4.0, "192.0.2.112", "ffmpeg", small, cause="encoder_busy", split=True)
    story.refused(8.5, "192.0.2.112", "ffmpeg", small, cause="encoder_busy")
    story.watch(11.0, "192.0.2.113", "gstreamer", full_hd, until=19.0)
    return story


def rtsp_port(rng):
    """Dahua camera on RTSP port 8555 refuses its third stream (subtype=2) with 503 every time.

    /cam/realmonitor?channel=1&subtype=0 is served before and after; subtype=2 is refused three
    times, 4 s apart, while no other client is connected. Needs -d tcp.port==8555,rtsp.
    """
    story = CameraStory(rng, dahua("192.0.2.70", port=8555), horizon=28)
    main, third = "/cam/realmonitor?channel=1&subtype=0", "/cam/realmonitor?channel=1&subtype=2"
    story.watch(1.0, "192.0.2.121", "vlc", main, until=6.0)
    for t in (8.0, 12.0, 16.0):
        story.refused(t, "192.0.2.121", "vlc", third, cause="unsupported_profile")
    story.watch(20.0, "192.0.2.121", "vlc", main, until=26.0)
    return story


def rtsp_nvr(rng):
    """NVR serves channels 1 and 2 but answers every request for channel 3 with 503.

    A recorder streams /Streaming/Channels/101 and 201 from 198.51.100.20 and is refused
    /Streaming/Channels/301 three times; a phone app gets 102 (channel 1 sub stream), then is
    refused 301 as well.
    """
    story = CameraStory(rng, hikvision("198.51.100.20", realm="Network Video Recorder"), horizon=26)
    vms, phone = "203.0.113.10", "203.0.113.25"
    story.watch(1.0, vms, "recorder", "/Streaming/Channels/101", until=24.0)
    story.watch(2.0, vms, "recorder", "/Streaming/Channels/201", until=24.5)
    for t, ip in ((4.0, vms), (9.0, vms), (14.0, vms), (19.5, phone)):
        story.refused(t, ip, "recorder" if ip == vms else "gstreamer", "/Streaming/Channels/301",
                      cause="nvr_channel_unavailable")
    story.watch(11.0, phone, "gstreamer", "/Streaming/Channels/102", until=17.0)
    return story


def isapi_streaming_channel(channel, codec, width, height, fps):
    """The body of a Hikvision ISAPI PUT /ISAPI/Streaming/channels/<id>."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<StreamingChannel version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">\n'
            f'<id>{channel}</id>\n<channelName>Camera 01</channelName>\n<enabled>true</enabled>\n'
            f'<Video>\n<enabled>true</enabled>\n<videoInputChannelID>1</videoInputChannelID>\n'
            f'<videoCodecType>{codec}</videoCodecType>\n'
            f'<videoResolutionWidth>{width}</videoResolutionWidth>\n'
            f'<videoResolutionHeight>{height}</videoResolutionHeight>\n'
            f'<videoQualityControlType>VBR</videoQualityControlType>\n'
            f'<maxFrameRate>{fps * 100}</maxFrameRate>\n</Video>\n</StreamingChannel>\n')


def isapi_status(url):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ResponseStatus version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">\n'
            f'<requestURL>{url}</requestURL>\n<statusCode>1</statusCode>\n'
            f'<statusString>OK</statusString>\n<subStatusCode>ok</subStatusCode>\n</ResponseStatus>\n')


WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-"
ONVIF_NAMESPACES = ('xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                    'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
                    'xmlns:tt="http://www.onvif.org/ver10/schema"')
SOAP_TYPE = "application/soap+xml; charset=utf-8"


def soap(body, header=""):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope {ONVIF_NAMESPACES}>'
            f'{header}<s:Body>{body}</s:Body></s:Envelope>\n')


def ws_security(rng, t):
    """A WS-Security UsernameToken header with a password digest, as ONVIF clients send."""
    created = datetime.datetime.fromtimestamp(BASE_EPOCH + t, datetime.timezone.utc)
    return (f'<s:Header><wsse:Security s:mustUnderstand="1" '
            f'xmlns:wsse="{WSSE}wssecurity-secext-1.0.xsd" '
            f'xmlns:wsu="{WSSE}wssecurity-utility-1.0.xsd"><wsse:UsernameToken>'
            f'<wsse:Username>admin</wsse:Username><wsse:Password Type="{WSSE}username-token-profile-'
            f'1.0#PasswordDigest">{base64.b64encode(rng.randbytes(20)).decode()}</wsse:Password>'
            f'<wsse:Nonce EncodingType="{WSSE}soap-message-security-1.0#Base64Binary">'
            f'{base64.b64encode(rng.randbytes(16)).decode()}</wsse:Nonce>'
            f'<wsu:Created>{created:%Y-%m-%dT%H:%M:%SZ}</wsu:Created></wsse:UsernameToken>'
            f'</wsse:Security></s:Header>')


def onvif_set_video_encoder(width, height, fps):
    """The body of an ONVIF Media SetVideoEncoderConfiguration for the main stream's encoder."""
    return ('<trt:SetVideoEncoderConfiguration><trt:Configuration token="VideoEncoderToken_1">'
            '<tt:Name>VideoEncoder_1</tt:Name><tt:UseCount>1</tt:UseCount>'
            f'<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>{width}</tt:Width>'
            f'<tt:Height>{height}</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality>'
            f'<tt:RateControl><tt:FrameRateLimit>{fps}</tt:FrameRateLimit>'
            '<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit>'
            '</tt:RateControl><tt:H264><tt:GovLength>50</tt:GovLength>'
            '<tt:H264Profile>Main</tt:H264Profile></tt:H264><tt:Multicast><tt:Address>'
            '<tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>'
            '<tt:Port>8860</tt:Port><tt:TTL>128</tt:TTL><tt:AutoStart>false</tt:AutoStart>'
            '</tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout></trt:Configuration>'
            '<trt:ForcePersistence>true</trt:ForcePersistence></trt:SetVideoEncoderConfiguration>')


def rtsp_encoder_change(rng):
    """Encoder settings changed over HTTP: the camera answers DESCRIBE with 503 for about 5 s.

    An ISAPI 'PUT /ISAPI/Streaming/channels/101' (H.265, 2560x1440) is answered 200 OK; the
    camera closes the recorder's stream and refuses every DESCRIBE for ~5 s, then serves it.
    Later an ONVIF SetVideoEncoderConfiguration POST to /onvif/media_service does the same.
    """
    camera = hikvision("192.0.2.80")
    story = CameraStory(rng, camera, horizon=36)
    main, recorder, viewer = "/Streaming/Channels/101", "192.0.2.131", "192.0.2.132"
    isapi_url, xml_type = "/ISAPI/Streaming/channels/101", 'application/xml; charset="UTF-8"'
    put = HttpMessage.request("PUT", isapi_url)
    put.add("Authorization", f'Digest username="admin", realm="{camera.realm}", '
                             f'nonce="{story.ids.hex(32)}", uri="{isapi_url}", '
                             f'response="{story.ids.hex(32)}", qop=auth, nc=00000001, '
                             f'cnonce="{story.ids.hex(16)}"')
    put.add("User-Agent", "python-requests/2.31.0").add("Content-Type", xml_type)
    put.body = isapi_streaming_channel(101, "H.265", 2560, 1440, 25)
    post = HttpMessage.request("POST", "/onvif/media_service")
    action = "http://www.onvif.org/ver10/media/wsdl/SetVideoEncoderConfiguration"
    post.add("User-Agent", "gSOAP/2.8").add("Content-Type", f'{SOAP_TYPE}; action="{action}"')
    post.body = soap(onvif_set_video_encoder(1920, 1080, 15), ws_security(rng, 21.0))
    changes = [  # (time of the change, who, request, answer type and body)
        (5.0, "192.0.2.200", put, xml_type, isapi_status(isapi_url)),
        (21.0, "192.0.2.210", post, SOAP_TYPE, soap("<trt:SetVideoEncoderConfigurationResponse/>")),
    ]
    client, t = story.play(1.0, recorder, "recorder", main)
    for t_change, admin, request, answer_type, answer in changes:
        story.stream(client, t, t_change)
        t_done = story.configure(t_change, admin, request, "Hikvision-Webs", answer_type, answer)
        story.drop(t_done + 0.3, client)
        for delay, ip, player in ((1.5, recorder, "recorder"), (2.4, viewer, "vlc"),
                                  (3.5, recorder, "recorder")):
            story.refused(t_done + delay, ip, player, main, cause="encoder_restart")
        client, t = story.play(t_done + 5.6, recorder, "recorder", main)
    story.stream(client, t, 33.0)
    story.leave(33.0, client)
    return story


def rtsp_reset(rng):
    """Camera resets its RTSP connections (restart), then answers DESCRIBE with 503 for ~10 s.

    Two clients stream main and sub stream; the camera sends TCP RST on both connections; their
    reconnections within 10 s get 503, later ones are served again.
    """
    story = CameraStory(rng, dahua("192.0.2.90", serial="5J0ABCD7654321"), horizon=30)
    streams = [("192.0.2.141", "vlc", "/cam/realmonitor?channel=1&subtype=0"),
               ("192.0.2.142", "recorder", "/cam/realmonitor?channel=1&subtype=1")]
    for i, (ip, player, path) in enumerate(streams):
        client, t = story.play(1.0 + i, ip, player, path)
        story.stream(client, t, 7.5)
        story.drop(8.0 + 0.0004 * i, client, reset=True)
    for t, (ip, player, path) in zip((10.0, 11.3, 13.5, 15.8), streams * 2):
        story.refused(t, ip, player, path, cause="encoder_restart")
    for t, (ip, player, path) in zip((19.0, 19.6), streams):
        story.watch(t, ip, player, path, until=27.0 + t - 19.0)
    return story


def rtsp_overload(rng):
    """Overloaded NVR: intermittent 503 + Retry-After: 2 across streams, channels and clients.

    Channels 1-3 (main and sub) of 198.51.100.30 are asked by four clients; DESCRIBE, SETUP or
    PLAY is now and then refused with 503 and Retry-After: 2, and the retry 2 s later is served,
    while other streams are set up and played in between.
    """
    story = CameraStory(rng, dahua("198.51.100.30", serial="7H0ABCD7654321"), horizon=30,
                        rtp_period=4.0)
    busy = {"cause": "device_overload", "headers": [retry_after(2)]}

    def stream(channel, subtype):
        return f"/cam/realmonitor?channel={channel}&subtype={subtype}"

    story.watch(1.0, "203.0.113.11", "recorder", stream(1, 0), until=27.0)
    retried = [  # (time, client, player, channel, subtype, refused request, served until)
        (3.0, "203.0.113.12", "recorder", 2, 0, "DESCRIBE", 13.0),
        (6.5, "203.0.113.13", "vlc", 1, 1, "SETUP", 16.0),
        (10.0, "203.0.113.11", "recorder", 3, 0, "DESCRIBE", 21.0),
        (14.5, "203.0.113.14", "ffmpeg", 2, 1, "PLAY", 25.0),
    ]
    for t, ip, player, channel, subtype, at, until in retried:
        story.refused(t, ip, player, stream(channel, subtype), at=at, **busy)
        story.watch(t + 2.1, ip, player, stream(channel, subtype), until=until)
    return story


def rtsp_missing_request(rng):
    """Only the camera's packets were captured: a lone RTSP 503 without its request.

    Capture filter 'src host 203.0.113.40': one client's stream is served (answers and RTP only),
    another client's DESCRIBE answer is a plain 503 whose request is not in the capture.
    """
    camera = hikvision("203.0.113.40")
    story = CameraStory(rng, camera, horizon=16)
    story.cap.keep = lambda src: src.ip == camera.host.ip
    story.watch(1.0, "198.51.100.61", "vlc", "/Streaming/Channels/101", until=14.0)
    story.refused(6.0, "198.51.100.62", "ffmpeg", "/Streaming/Channels/102", cause="unknown")
    return story


def without_headers(message):
    message.headers = []


def folded_headers(message):
    """Server folded onto a continuation line (space), and an extra header folded with a tab."""
    message.set("Server", "Rtsp\r\n Server/3.0")
    message.add("X-Error", "internal\r\n\terror 0x1F")


def rtsp_malformed(rng):
    """Robustness: RTSP 503s with odd or missing headers, each still an RTSP 503 to tshark.

    After the main stream was served and torn down, a viewer's DESCRIBEs of it get 503s with
    CSeq: abc; Retry-After twice (5 and 3600); folded header lines; a header line without a
    colon; no headers at all. Nothing else happens on the camera meanwhile.
    """
    story = CameraStory(rng, Camera(Host("192.0.2.20", 554, "TCP"), "Rtsp Server/3.0"), horizon=18)
    story.tolerates_malformed = True
    main, viewer = "/cam/realmonitor?channel=1&subtype=0", "192.0.2.151"
    story.watch(1.0, viewer, "vlc", main, until=3.5)
    odd = [  # mutations of the 503
        lambda message: message.set("CSeq", "abc"),
        lambda message: message.add("Retry-After", "5").add("Retry-After", "3600"),
        folded_headers,
        append_raw("this line is no header"),
        without_headers,
    ]
    for i, mutation in enumerate(odd):
        story.refused(5.0 + 2.5 * i, viewer, "vlc", main, cause="unknown", mutate=mutation)
    return story


def rtsp_hammer(rng):
    """Camera at its 2-session limit: a scanner re-asks DESCRIBE every second on new connections.

    A recorder and a viewer hold the camera's two RTSP sessions. A cameradar-style scanner
    connects and sends DESCRIBE (no OPTIONS): 503 Service Unavailable without Retry-After; it
    retries on a new TCP connection 1 s after each 503, 5 times, all refused. A viewer refused
    once comes back 10 s later, after the other viewer left, and is served.
    """
    camera = Camera(Host("192.0.2.45", 554, "TCP"), "Hikvision-Webs")  # authentication off
    story = CameraStory(rng, camera, horizon=32)
    main, sub = "/Streaming/Channels/101", "/Streaming/Channels/102"
    story.watch(1.0, "192.0.2.201", "recorder", main, until=30.0)
    story.watch(2.5, "192.0.2.202", "vlc", sub, until=19.0)
    t = 6.0
    for _ in range(6):
        scanner = RtspClient(story.endpoint("203.0.113.66"), "scanner")
        story.cap.connect(t, scanner.host, camera.host)
        t_503 = story.exchange(t + 0.001, scanner,
                               [story.request(scanner, "DESCRIBE", camera.url(main))],
                               [story.reply("DESCRIBE", 503, cause="too_many_clients")])
        story.cap.close(t_503 + story.think(), scanner.host, camera.host)
        t = t_503 + story.jitter(1.0, 1.05)
    story.refused(14.0, "192.0.2.203", "ffmpeg", sub, cause="too_many_clients")
    story.watch(24.0, "192.0.2.203", "ffmpeg", sub, until=29.0)
    return story
