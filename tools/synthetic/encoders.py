# Byte encoders of the protocols around the stories: RTP/RTCP, DNS, TLS, X.509, PostgreSQL, MySQL, RESP.
# SPDX-License-Identifier: GPL-2.0-or-later

import struct

from .capture import BASE_EPOCH


RTP_CLOCK = 90000
NTP_UNIX_OFFSET = 2208988800  # seconds from 1900 (NTP) to 1970 (Unix)


class RtpStream:
    """The camera's H.264 stream to one client: SSRC, sequence numbers, RTP clock, counters."""

    def __init__(self, rng):
        self.rng = rng
        self.ssrc = rng.getrandbits(32)
        self.seq = rng.randrange(65536)
        self.rtptime = rng.getrandbits(32)  # at PLAY
        self.start = None  # capture time of PLAY
        self.packets = self.octets = 0

    def clock(self, t):
        return (self.rtptime + round((t - self.start) * RTP_CLOCK)) & 0xFFFFFFFF

    def frame(self, t, key):
        """One video frame as two FU-A fragments (start, end+marker); tiny payloads."""
        nal = (0x65 if key else 0x41)  # IDR / non-IDR slice, nal_ref_idc 3 / 2
        indicator = (nal & 0x60) | 28
        packets = []
        for fu_header, marker in ((0x80 | (nal & 0x1F), 0), (0x40 | (nal & 0x1F), 1)):
            payload = bytes([indicator, fu_header]) + self.rng.randbytes(6)
            packets.append(struct.pack("!BBHII", 0x80, (marker << 7) | 96, self.seq, self.clock(t),
                                       self.ssrc) + payload)
            self.seq = (self.seq + 1) & 0xFFFF
            self.packets += 1
            self.octets += len(payload)
        return packets


def ntp_time(t):
    """The 64-bit NTP timestamp of capture time t."""
    seconds = BASE_EPOCH + t + NTP_UNIX_OFFSET
    return int(seconds) << 32 | int((seconds % 1) * (1 << 32))


def rtcp_sdes(ssrc, cname):
    chunk = struct.pack("!IBB", ssrc, 1, len(cname)) + cname.encode() + b"\0"
    chunk += b"\0" * (-len(chunk) % 4)
    return struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk


def rtcp_sender_report(stream, t, cname):
    """A compound RTCP packet: sender report and SDES CNAME."""
    report = struct.pack("!BBHIQIII", 0x80, 200, 6, stream.ssrc, ntp_time(t), stream.clock(t),
                         stream.packets, stream.octets)
    return report + rtcp_sdes(stream.ssrc, cname)


def rtcp_receiver_report(ssrc, stream, t_report, t, cname):
    """A compound RTCP packet: a client's receiver report on stream (last SR at t_report), SDES."""
    lsr = (ntp_time(t_report) >> 16) & 0xFFFFFFFF
    dlsr = round((t - t_report) * 65536)
    jitter = stream.rng.randrange(40, 400)
    block = struct.pack("!6I", stream.ssrc, 0, (stream.seq - 1) & 0xFFFF, jitter, lsr, dlsr)
    return struct.pack("!BBHI", 0x81, 201, 7, ssrc) + block + rtcp_sdes(ssrc, cname)


def interleaved(channel, packet):
    """An RTSP interleaved binary frame (RFC 2326 §10.12)."""
    return struct.pack("!cBH", b"$", channel, len(packet)) + packet


def dns_message(txid, qname, qtype, rcode=None):
    """A recursive DNS query (rcode None) or an answerless response with rcode."""
    flags = 0x0100 if rcode is None else 0x8180 | rcode
    labels = b"".join(bytes([len(label)]) + label.encode() for label in qname.split("."))
    return struct.pack("!6H", txid, flags, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", qtype, 1)


DNS_A, DNS_SRV, DNS_NAPTR, DNS_SERVFAIL = 1, 33, 35, 2


def tls_record(content_type, payload, version=0x0303):
    return struct.pack("!BHH", content_type, version, len(payload)) + payload


def tls_handshake(kind, body):
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def tls_extension(kind, data):
    return struct.pack("!HH", kind, len(data)) + data


def tls_hello(rng, kind, session_id, suites, extensions):
    """A TLS ClientHello (kind 1) or ServerHello (kind 2) handshake record."""
    body = (struct.pack("!H", 0x0303) + rng.randbytes(32) + bytes([len(session_id)]) + session_id
            + suites + (b"\x01\x00" if kind == 1 else b"\x00")
            + struct.pack("!H", len(extensions)) + extensions)
    return tls_record(22, tls_handshake(kind, body), 0x0301 if kind == 1 else 0x0303)


def tls_client_hello(rng, session_id, server_name):
    name = server_name.encode()
    extensions = b"".join((
        tls_extension(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name),
        tls_extension(10, struct.pack("!3H", 4, 0x001D, 0x0017)),
        tls_extension(13, struct.pack("!5H", 8, 0x0403, 0x0804, 0x0401, 0x0805)),
        tls_extension(43, struct.pack("!B2H", 4, 0x0304, 0x0303)),
        tls_extension(51, struct.pack("!3H", 36, 0x001D, 32) + rng.randbytes(32)),
    ))
    suites = struct.pack("!4H", 6, 0x1301, 0x1302, 0xC02F)
    return tls_hello(rng, 1, session_id, suites, extensions)


def tls_server_flight(rng, session_id):
    """TLS 1.3 ServerHello + ChangeCipherSpec + encrypted handshake (certificate etc.)."""
    extensions = tls_extension(43, struct.pack("!H", 0x0304)) + tls_extension(
        51, struct.pack("!2H", 0x001D, 32) + rng.randbytes(32))
    hello = tls_hello(rng, 2, session_id, struct.pack("!H", 0x1301), extensions)
    return hello + tls_record(20, b"\x01") + tls_record(23, rng.randbytes(rng.randrange(1000, 1250)))


def tls_alert(description):
    """A plaintext fatal alert (40 handshake_failure, 42 bad_certificate, 48 unknown_ca)."""
    return tls_record(21, bytes([2, description]))


DNS_NOERROR = 0


def dns_name(name):
    """A domain name in DNS wire format (uncompressed)."""
    return b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"


def dns_answer(txid, qname, qtype, records, ttl):
    """A recursive resolver's NOERROR response: records (type, rdata) owned by qname, each name
    a compression pointer to the question."""
    answers = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", kind, 1, ttl, len(rdata)) + rdata
                       for kind, rdata in records)
    return (struct.pack("!6H", txid, 0x8180, 1, len(records), 0, 0) + dns_name(qname)
            + struct.pack("!HH", qtype, 1) + answers)


def naptr_rdata(order, preference, service, replacement):
    """RFC 3403 NAPTR with flag "s" (an SRV lookup follows), as RFC 3263 uses it."""
    strings = b"".join(bytes([len(text)]) + text for text in (b"s", service.encode(), b""))
    return struct.pack("!HH", order, preference) + strings + dns_name(replacement)


def srv_rdata(priority, weight, port, target):
    return struct.pack("!3H", priority, weight, port) + dns_name(target)


def der(tag, content):
    """One DER element."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def der_seq(*items):
    return der(0x30, b"".join(items))


def der_oid(dotted):
    first, second, *rest = map(int, dotted.split("."))
    body = bytes([40 * first + second])
    for arc in rest:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.insert(0, 0x80 | (arc & 0x7F))
        body += bytes(chunk)
    return der(0x06, body)


def x509_name(organization, common_name):
    return der_seq(der(0x31, der_seq(der_oid("2.5.4.10"), der(0x0C, organization.encode()))),
                   der(0x31, der_seq(der_oid("2.5.4.3"), der(0x0C, common_name.encode()))))


def x509_certificate(rng, subject, issuer, valid, dns_names):
    """A well-formed X.509 v3 certificate (RSA 2048, sha256WithRSAEncryption) whose key and
    signature are random bytes: subject and issuer are (organization, common name), valid
    is (not before, not after) as datetimes, dns_names its subjectAltName entries."""
    sha256_rsa = der_seq(der_oid("1.2.840.113549.1.1.11"), b"\x05\x00")
    modulus = der(0x02, b"\x00" + bytes([0x80 | rng.getrandbits(7)]) + rng.randbytes(255))
    key = der_seq(der_oid("1.2.840.113549.1.1.1"), b"\x05\x00")
    spki = der_seq(key, der(0x03, b"\x00" + der_seq(modulus, der(0x02, b"\x01\x00\x01"))))
    san = der_seq(der_oid("2.5.29.17"),
                  der(0x04, der_seq(*(der(0x82, name.encode()) for name in dns_names))))
    server_auth = der_seq(der_oid("2.5.29.37"), der(0x04, der_seq(der_oid("1.3.6.1.5.5.7.3.1"))))
    times = der_seq(*(der(0x17, moment.strftime("%y%m%d%H%M%SZ").encode()) for moment in valid))
    serial = der(0x02, bytes([rng.randrange(1, 0x80)]) + rng.randbytes(15))
    tbs = der_seq(der(0xA0, der(0x02, b"\x02")), serial, sha256_rsa, x509_name(*issuer), times,
                  x509_name(*subject), spki, der(0xA3, der_seq(san, server_auth)))
    return der_seq(tbs, sha256_rsa, der(0x03, b"\x00" + rng.randbytes(256)))


def tls12_server_flight(rng, certificates):
    """A TLS 1.2 server's first flight, all in the clear: ServerHello (ECDHE-RSA-AES128-GCM-SHA256),
    Certificate, ServerKeyExchange (x25519, RSA-SHA256 signature) and ServerHelloDone."""
    hello = tls_hello(rng, 2, rng.randbytes(32), struct.pack("!H", 0xC02F), b"")
    chain = b"".join(len(cert).to_bytes(3, "big") + cert for cert in certificates)
    certificate = tls_record(22, tls_handshake(11, len(chain).to_bytes(3, "big") + chain))
    params = struct.pack("!BHB", 3, 0x001D, 32) + rng.randbytes(32)
    signed = struct.pack("!HH", 0x0401, 256) + rng.randbytes(256)
    exchange = tls_record(22, tls_handshake(12, params + signed))
    return hello + certificate + exchange + tls_record(22, tls_handshake(14, b""))


def tls_encrypted(rng, message):
    """A TLS 1.3 application data record carrying message (AES-GCM: type byte and 16-byte tag)."""
    return tls_record(23, rng.randbytes(len(message.encode()) + 17))


TLS_CERTIFICATE_EXPIRED, TLS_BAD_CERTIFICATE = 45, 42


def pg_message(kind, payload):
    """A PostgreSQL protocol 3.0 message: type byte, length, payload."""
    return kind + struct.pack("!I", len(payload) + 4) + payload


def pg_startup(user, database, application):
    pairs = (("user", user), ("database", database), ("application_name", application))
    params = b"".join(f"{key}\0{value}\0".encode() for key, value in pairs) + b"\0"
    return struct.pack("!II", len(params) + 8, 3 << 16) + params


def pg_ready(rng):
    """AuthenticationOk, the usual ParameterStatus, BackendKeyData and ReadyForQuery (idle)."""
    status = (("server_version", "15.6"), ("server_encoding", "UTF8"), ("client_encoding", "UTF8"),
              ("DateStyle", "ISO, MDY"), ("TimeZone", "UTC"), ("integer_datetimes", "on"))
    return (pg_message(b"R", struct.pack("!I", 0))
            + b"".join(pg_message(b"S", f"{key}\0{value}\0".encode()) for key, value in status)
            + pg_message(b"K", struct.pack("!II", rng.randrange(1000, 60000), rng.getrandbits(32)))
            + pg_message(b"Z", b"I"))


def pg_rows(columns, rows):
    """The answer to a simple Query: RowDescription (text columns), DataRows, CommandComplete,
    ReadyForQuery."""
    fields = b"".join(name.encode() + b"\0" + struct.pack("!IhIhih", 0, 0, 25, -1, -1, 0)
                      for name in columns)
    answer = pg_message(b"T", struct.pack("!H", len(columns)) + fields)
    for row in rows:
        cells = b"".join(struct.pack("!I", len(value.encode())) + value.encode() for value in row)
        answer += pg_message(b"D", struct.pack("!H", len(row)) + cells)
    return answer + pg_message(b"C", f"SELECT {len(rows)}\0".encode()) + pg_message(b"Z", b"I")


def pg_done(tag):
    """CommandComplete with tag (e.g. 'INSERT 0 1') and ReadyForQuery."""
    return pg_message(b"C", f"{tag}\0".encode()) + pg_message(b"Z", b"I")


def pg_error(code, message, source, line, routine):
    """A FATAL ErrorResponse (the backend closes the connection after it)."""
    fields = (("S", "FATAL"), ("V", "FATAL"), ("C", code), ("M", message), ("F", source),
              ("L", str(line)), ("R", routine))
    return pg_message(b"E", b"".join(f"{key}{value}\0".encode() for key, value in fields) + b"\0")


def mysql_packet(sequence, payload):
    return len(payload).to_bytes(3, "little") + bytes([sequence]) + payload


def mysql_text(value):
    """A length-encoded string (shorter than 251 bytes)."""
    return bytes([len(value)]) + value.encode()


def mysql_scramble(rng, size):
    return bytes(rng.randrange(0x21, 0x7F) for _ in range(size))


def mysql_greeting(rng, thread):
    """Protocol 10 handshake of MySQL 8.0 with mysql_native_password."""
    scramble = mysql_scramble(rng, 20)
    payload = (b"\x0a8.0.36\0" + struct.pack("<I", thread) + scramble[:8] + b"\0"
               + struct.pack("<HBHHB", 0xFFFF, 0xFF, 0x0002, 0xDFFF, 21) + b"\0" * 10
               + scramble[8:] + b"\0mysql_native_password\0")
    return mysql_packet(0, payload)


MYSQL_CLIENT_FLAGS = 0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000


def mysql_login(rng, user, database):
    """HandshakeResponse41: user, 20-byte mysql_native_password scramble, database."""
    payload = (struct.pack("<IIB", MYSQL_CLIENT_FLAGS, 1 << 24, 0xFF) + b"\0" * 23
               + user.encode() + b"\0" + bytes([20]) + rng.randbytes(20) + database.encode()
               + b"\0mysql_native_password\0")
    return mysql_packet(1, payload)


def mysql_ok(sequence):
    return mysql_packet(sequence, b"\x00\x00\x00" + struct.pack("<HH", 0x0002, 0))


def mysql_error(sequence, code, state, message):
    """ERR_Packet, protocol 4.1 layout (SQL state marker and state)."""
    return mysql_packet(sequence, b"\xff" + struct.pack("<H", code) + f"#{state}{message}".encode())


def mysql_query(sql):
    return mysql_packet(0, b"\x03" + sql.encode())


def mysql_rows(schema, table, column, values):
    """A text result set of one VARCHAR column with classic EOF packets."""
    definition = (b"".join(mysql_text(text) for text in ("def", schema, table, table, column, column))
                  + b"\x0c" + struct.pack("<HIBHB", 0xFF, 1020, 0xFD, 0, 0) + b"\0\0")
    eof = b"\xfe" + struct.pack("<HH", 0, 0x0002)
    packets = [b"\x01", definition, eof] + [mysql_text(value) for value in values] + [eof]
    return b"".join(mysql_packet(i + 1, payload) for i, payload in enumerate(packets))


def resp_command(*words):
    """A Redis command as a RESP array of bulk strings."""
    return (f"*{len(words)}\r\n" + "".join(f"${len(word)}\r\n{word}\r\n" for word in words)).encode()
