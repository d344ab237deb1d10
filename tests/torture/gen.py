#!/usr/bin/env python3
"""Generator for the sipedge SIP torture corpus (RFC 4475 coverage).

Each case covers the defect/feature of one RFC 4475 test case (sections
3.1.1, 3.1.2, 3.3 and 3.4); the messages themselves are our own (our
hosts, users and values; documentation addresses only).

Running this script (re)writes, next to itself:
  * one `<rfc-section>_<shortname>.sip` per case -- the exact bytes of one
    UDP datagram (CRLF line endings, binary-safe),
  * `VERDICTS` -- `<file> <verdict> # <reason>`, one line per file,
  * `README.md` -- the case table and how verdicts are checked,
and then re-reads every .sip file from disk and checks it byte by byte
(CRLF-only header section, Content-Length == body length except for the
cases about Content-Length, datagram < 16000 bytes, ...).

    python3 tests/torture/gen.py           # regenerate + check
    python3 tests/torture/gen.py --check   # only check the files on disk

Edit this file, not the generated ones.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_DATAGRAM = 16000
CRLF = "\r\n"

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def sdp(user="alice", ip="192.0.2.10", port=49170, sess=2890844526):
    lines = [
        "v=0",
        f"o={user} {sess} {sess + 1} IN IP4 {ip}",
        "s=-",
        f"c=IN IP4 {ip}",
        "t=0 0",
        f"m=audio {port} RTP/AVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=sendrecv",
    ]
    return (CRLF.join(lines) + CRLF).encode()


def msg(start, headers, body=b""):
    """Build one SIP message.

    `headers` is a list of header lines (str); a line starting with SP/HTAB
    is a folded continuation of the previous one.  The literal token `{CL}`
    is replaced by len(body) -- cases about a wrong Content-Length simply
    write the wrong value instead of `{CL}`.
    """
    out = [start]
    for h in headers:
        out.append(h.replace("{CL}", str(len(body))))
    head = (CRLF.join(out) + CRLF + CRLF).encode("utf-8")
    return head + body


CASES = []


def case(section, short, verdict, title, tests, reason, data, cl_ok=True):
    CASES.append(
        dict(
            file=f"{section}_{short}.sip",
            section=section,
            short=short,
            verdict=verdict,
            title=title,
            tests=tests,
            reason=reason,
            data=data,
            cl_ok=cl_ok,
        )
    )


# ---------------------------------------------------------------------------
# 3.1.1  Valid messages
# ---------------------------------------------------------------------------

case(
    "3.1.1.1", "wsinv", "accept",
    "A Short Tortuous INVITE",
    "line folding everywhere, odd whitespace/case in header names, SWS around "
    "/ ; = , in Via, escaped quotes in quoted strings, empty Subject, compact "
    "+ long Via mixed, unknown headers (one with a `;,;;` value), valueless "
    "params, leading zeros in Max-Forwards/CSeq",
    "RFC 4475 §3.1.1.1: every construct is legal RFC 3261 syntax; parser must unfold and accept",
    msg(
        "INVITE sip:carol.w@example.com;oddparam SIP/2.0",
        [
            "TO :",
            " sip:carol.w@example.com ;   tag    = 8817a9xz",
            r'from   : "Bob \\\"" <sip:bob@example.net>',
            "  ;",
            "  tag = 70c1d2",
            "MaX-fOrWaRdS: 0069",
            "Call-ID: wsinv.pq81nmzz0192@192.0.2.55",
            "Content-Length   : {CL}",
            "cseq: 0012",
            "  INVITE",
            "Via  : SIP  /   2.0",
            " /UDP",
            "    192.0.2.55;branch=x7u3kq2",
            "s :",
            "BrandNewHeader:   shiny new value",
            " continuing on the next line",
            "X-Unheard-Of-Header: ;,;;,,;;,",
            "Content-Type: application/sdp",
            "v:  SIP  / 2.0  / TCP     edge.example.net   ;",
            "  branch  =   z9hG4bKq19as ,",
            " SIP  /    2.0   / UDP  192.0.2.77:5061;branch=z9hG4bK30fa9",
            r'm:"Bob \"the builder\" \\o/" <sip:bob@192.0.2.55> ; newparam =',
            "      newvalue ;",
            "  secondparam ; q = 0.33",
        ],
        sdp("bob", "192.0.2.55", 30000),
    ),
)

INTMETH = "!odd-Method_0123456789.*+`%'~ok"
INTUSER = "2_odd.user~(really!)&isn't+this$/odd?,/;;*"
case(
    "3.1.1.2", "intmeth", "accept",
    "Wide Range of Valid Characters",
    "unknown method made of every token char, Request-URI user/password using "
    "every user-unreserved/password char, Call-ID with every `word` char, "
    "quoted-pairs escaping BEL/NUL/DEL in a display name, UTF-8 header value, "
    "Max-Forwards 255 (upper bound)",
    "RFC 4475 §3.1.1.2: all characters are legal in their positions; unknown methods are forwarded by proxies (RFC 3261 §16)",
    msg(
        f"{INTMETH} sip:{INTUSER}:&pa$$=1,w!*rd~_x.(y)@example.com SIP/2.0",
        [
            "Via: SIP/2.0/UDP 192.0.2.21;branch=z9hG4bK-7_.!%*+`'~x",
            "Max-Forwards: 255",
            f"To: <sip:{INTUSER}@example.com>",
            'From: "odd ctl: \\\x07 \\\x00 \\\x7f done" <sip:frank@example.net>'
            ";tag=_9-!.%*+`'~z",
            "Call-ID: intmeth.w0rd%ZZ-.!%*_+`'~()<>:\\\"/[]?{}@192.0.2.21",
            f"CSeq: 139122385 {INTMETH}",
            "extensionHeader-!.%*+_`'~: \u2603 snow, caf\u00e9 \U0001F600 ok",
            "Content-Length: {CL}",
        ],
    ),
)

case(
    "3.1.1.3", "esc01", "accept",
    "Valid Use of the % Escaping Mechanism",
    "%-escapes in Request-URI user (an escaped `sips:...@` URI), To user, From "
    "user (%20), Contact user and URI parameter names/values (incl. %25)",
    "RFC 4475 §3.1.1.3: escapes are legal wherever used here; message is well formed",
    msg(
        "INVITE sip:sips%3Agrace%40example.net@example.com SIP/2.0",
        [
            "To: sip:%67race@example.com",
            "From: <sip:name%20with%20spaces@example.net>;tag=be5511",
            "Max-Forwards: 70",
            "i: esc01.c92kk3nn21x0a@192.0.2.33",
            "CSeq: 4711 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.33;branch=z9hG4bKesc01a",
            "c: application/sdp",
            "Contact: <sip:h%65idi@192.0.2.33;%6D%79flag;n%61me=v%61lue%25%33%32>",
            "Content-Length: {CL}",
        ],
        sdp("heidi", "192.0.2.33", 40100),
    ),
)

case(
    "3.1.1.4", "escnull", "accept",
    "Escaped Nulls in URIs",
    "`%00` (escaped NUL, as text) in To/From user parts and Contact user parts; "
    "two Contacts differing only in the number of %00",
    "RFC 4475 §3.1.1.4: %00 is a legal escape; element must not treat it as a string terminator",
    msg(
        "REGISTER sip:example.com SIP/2.0",
        [
            "To: sip:zero-%00-byte@example.com",
            "From: sip:zero-%00-byte@example.com;tag=0e0e0e",
            "Call-ID: escnull.a8s7d6f5g4@192.0.2.41",
            "Max-Forwards: 70",
            "CSeq: 77 REGISTER",
            "Via: SIP/2.0/UDP 192.0.2.41;branch=z9hG4bKescnull1",
            "Contact: <sip:%00@192.0.2.41>",
            "Contact: <sip:%00%00@192.0.2.41>",
            "L:{CL}",
        ],
    ),
)

case(
    "3.1.1.5", "esc02", "accept",
    "Use of % When It Is Not an Escape",
    "`%` in a method name (RE%47IST%45R is an unknown method, NOT REGISTER), in "
    "a display name (\"%Z%45\"), and in a header name (C%6Fntact is an unknown "
    "header, not Contact: only 2 Contact values)",
    "RFC 4475 §3.1.1.5: % is a plain token char in methods/header names; unknown method is forwarded",
    msg(
        "RE%47IST%45R sip:registrar.example.com SIP/2.0",
        [
            'To: "%Z%45" <sip:resource@example.com>',
            'From: "%Z%45" <sip:resource@example.com>;tag=f00d01',
            "Max-Forwards: 70",
            "i: esc02.9d8s7a6q5w@192.0.2.44",
            "Via: SIP/2.0/UDP 192.0.2.44;branch=z9hG4bKesc02x",
            "CSeq: 29 RE%47IST%45R",
            "Contact: <sip:first@192.0.2.11>",
            "C%6Fntact: <sip:second@192.0.2.12>",
            "Contact: <sip:third@192.0.2.13>",
            "l: {CL}",
        ],
    ),
)

case(
    "3.1.1.6", "lwsdisp", "accept",
    "Message with No LWS between Display Name and <",
    "unquoted token display name directly followed by `<` (`dave<sip:...>`)",
    "RFC 4475 §3.1.1.6: LWS between display-name and LAQUOT is optional (RFC 3261 §25.1)",
    msg(
        "OPTIONS sip:ivan@example.com SIP/2.0",
        [
            "To: sip:ivan@example.com",
            "From: dave<sip:dave@example.net>;tag=5a7b",
            "Max-Forwards: 70",
            "Call-ID: lwsdisp.k2j3h4g5f6@192.0.2.42",
            "CSeq: 10 OPTIONS",
            "Via: SIP/2.0/UDP 192.0.2.42;branch=z9hG4bKlwsdisp1",
            "l: {CL}",
        ],
    ),
)


def longreq():
    big_user = "phenomenallylongusername" * 6
    vias = []
    # 34 Via values in total: top one alone, then groups comma-separated
    hops = [f"SIP/2.0/TCP 198.51.100.{i}:5060;branch=z9hG4bK-hop{i:02d}-"
            + "relay" * 4 for i in range(1, 33)]
    vias.append("Via: SIP/2.0/UDP 192.0.2.99;branch=z9hG4bK-longreq-top")
    for g in range(0, 32, 4):
        vias.append("Via: " + ", ".join(hops[g:g + 4]))
    vias.append("Via: SIP/2.0/UDP 203.0.113.77;branch=z9hG4bK"
                + "verylongbranch" * 35 + "end")
    headers = [
        'To: "Grace the ' + "Extraordinarily " * 12 + 'Verbose" '
        "<sip:grace@example.com:6000;aparam=v" + "wide" * 40
        + ";param" + "longname" * 25 + "=short;flag" + "novalue" * 30 + ">",
        f"From: <sip:{big_user}@example.net>;tag=" + "7f3a9" * 60
        + ";xparam" + "nm" * 40 + "=" + "val" * 30
        + ";lonely" + "paramname" * 12,
        "Call-ID: longreq." + "extremelylongcallid" * 30 + "@192.0.2.99",
        "CSeq: 1 INVITE",
        "Max-Forwards: 70",
    ] + vias + [
        "X-" + "enormous" * 12 + "-Header: some-" + "value" * 60
        + "; x-" + "parameter" * 15 + "-name = x-" + "parameter" * 15
        + "-value",
        "Subject: " + "a rather long subject line that keeps going " * 12
        + "and ends",
        "Supported: " + ", ".join(f"ext-option-{n}-" + "tag" * 6
                                  for n in range(40)),
        f"Contact: <sip:{big_user}@192.0.2.99:5060;transport=udp>",
        "Content-Type: application/sdp",
        "Content-Length: {CL}",
    ]
    return msg("INVITE sip:grace@example.com SIP/2.0", headers,
               sdp("heidi", "192.0.2.99", 51000))


case(
    "3.1.1.7", "longreq", "accept",
    "Long Values in Header Fields",
    "long display name, URI params and param names in To; very long From user, "
    "tag and params; very long Call-ID, unknown header name/value, Subject, "
    "Supported list; 34 Via values (grouped and comma-separated) with a very "
    "long final branch; datagram > 8 KiB but < 16000 bytes",
    "RFC 4475 §3.1.1.7: lengths are unusual but legal; must not be truncated or rejected",
    longreq(),
)

_dbl_first = msg(
    "REGISTER sip:example.com SIP/2.0",
    [
        "To: sip:dave@example.com",
        "From: sip:dave@example.com;tag=d81b2",
        "Max-Forwards: 70",
        "Call-ID: dblreq.zx9cv8bn7m@192.0.2.60",
        "CSeq: 3 REGISTER",
        "Via: SIP/2.0/UDP 192.0.2.60;branch=z9hG4bKdblreq-reg",
        "Contact: <sip:dave@192.0.2.60>",
        "Content-Length: {CL}",
    ],
)
_dbl_second = msg(
    "INVITE sip:erin@example.com SIP/2.0",
    [
        "To: sip:erin@example.com",
        "From: sip:dave@example.com;tag=d81b3",
        "Max-Forwards: 70",
        "Call-ID: dblreq.trailing.q1w2e3r4@192.0.2.60",
        "CSeq: 4 INVITE",
        "Via: SIP/2.0/UDP 192.0.2.60;branch=z9hG4bKdblreq-inv",
        "Contact: <sip:dave@192.0.2.60>",
        "Content-Type: application/sdp",
        "Content-Length: {CL}",
    ],
    sdp("dave", "192.0.2.60", 45000),
)
case(
    "3.1.1.8", "dblreq", "accept",
    "Extra Trailing Octets in a UDP Datagram",
    "REGISTER with Content-Length: 0 followed, in the same datagram, by a "
    "complete INVITE; the trailing INVITE must be discarded (only the REGISTER "
    "is processed, at most one response, for CSeq 3 REGISTER)",
    "RFC 4475 §3.1.1.8 / RFC 3261 §18.3: octets beyond Content-Length in a UDP datagram are discarded",
    _dbl_first + _dbl_second,
)

case(
    "3.1.1.9", "semiuri", "accept",
    "Semicolon-Separated Parameters in URI User Part",
    "Request-URI user part containing `;par=u%40example.net` (the `;` belongs "
    "to the user part, not URI params)",
    "RFC 4475 §3.1.1.9: ';' is user-unreserved; URI is valid (user is 'frank;par=u%40example.net')",
    msg(
        "OPTIONS sip:frank;par=u%40example.net@example.com SIP/2.0",
        [
            "To: <sip:frank;par=u%40example.net@example.com>",
            "From: <sip:judy@example.net>;tag=sem1",
            "Max-Forwards: 70",
            "Call-ID: semiuri.l0k9j8h7g6@192.0.2.63",
            "CSeq: 8 OPTIONS",
            "Via: SIP/2.0/UDP 192.0.2.63;branch=z9hG4bKsemiuri1",
            "Accept: application/sdp, application/pkcs7-mime",
            "l: {CL}",
        ],
    ),
)

case(
    "3.1.1.10", "transports", "accept",
    "Varied and Unknown Transport Types",
    "Via values with UDP, SCTP, TLS, WSS, an unknown transport (FLUFFY) and "
    "TCP; Contact with an unknown transport= param",
    "RFC 4475 §3.1.1.10: transport is a token; unknown transports in lower Vias are legal",
    msg(
        "OPTIONS sip:ivan@example.com SIP/2.0",
        [
            "To: sip:ivan@example.com",
            "From: <sip:karl@example.net>;tag=tr4n5",
            "Call-ID: transports.p0o9i8u7y6@192.0.2.64",
            "Max-Forwards: 60",
            "CSeq: 1 OPTIONS",
            "Via: SIP/2.0/UDP t1.example.net;branch=z9hG4bKtrans-udp",
            "Via: SIP/2.0/SCTP t2.example.net;branch=z9hG4bKtrans-sctp",
            "Via: SIP/2.0/TLS t3.example.net;branch=z9hG4bKtrans-tls",
            "Via: SIP/2.0/WSS t4.example.net;branch=z9hG4bKtrans-wss",
            "Via: SIP/2.0/FLUFFY t5.example.net;branch=z9hG4bKtrans-fluffy",
            "Via: SIP/2.0/TCP t6.example.net;branch=z9hG4bKtrans-tcp",
            "Contact: <sip:karl@t1.example.net;transport=fluffy>",
            "l: {CL}",
        ],
    ),
)


def mpart_body():
    boundary = "b0undary-5ipedge-42"
    # binary part: NULs, CR/LF runs, a fake header block and a near-boundary
    # line, so framing must go by Content-Length, not by text scanning
    binary = (
        b"\x30\x82\x01\x00\x00\x00\x00\x06\x09\x2a\x86\x48\r\n\r\n"
        b"Content-Length: 0\r\n\r\n"
        b"--b0undary-5ipedge-4\r\n"
        + bytes((i * 73 + 41) % 256 for i in range(160))
        + b"\x00\r\x00\n\xff\xfe\x00"
    )
    parts = (
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "\r\n"
        "Hi Liam \u2014 the attachment follows.\r\n"
        f"--{boundary}\r\n"
        "Content-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "\r\n"
    ).encode("utf-8") + binary + f"\r\n--{boundary}--\r\n".encode()
    return boundary, parts


_mb, _mbody = mpart_body()
case(
    "3.1.1.11", "mpart01", "accept",
    "Multipart MIME Message",
    "MESSAGE with a multipart/mixed body: a UTF-8 text/plain part and a "
    "binary application/octet-stream part containing NUL, CR/LF and "
    "header-looking bytes",
    "RFC 4475 §3.1.1.11: well formed; body framed by Content-Length; proxy forwards body untouched",
    msg(
        "MESSAGE sip:liam@example.com SIP/2.0",
        [
            "To: <sip:liam@example.com>",
            "From: <sip:mallory.not@example.net>;tag=mp4rt",
            "Max-Forwards: 70",
            "Call-ID: mpart01.a1s2d3f4g5@192.0.2.66",
            "CSeq: 1 MESSAGE",
            "Via: SIP/2.0/UDP 192.0.2.66;branch=z9hG4bKmpart01",
            "MIME-Version: 1.0",
            f"Content-Type: multipart/mixed;boundary={_mb}",
            "Content-Length: {CL}",
        ],
        _mbody,
    ),
)

case(
    "3.1.1.12", "unreason", "drop",
    "Unusual Reason Phrase",
    "200 response whose reason phrase contains reserved chars, an escape and "
    "multi-byte UTF-8 (legal reason-phrase)",
    "RFC 4475 §3.1.1.12: valid response, but a response is never answered; no matching transaction -> dropped",
    msg(
        "SIP/2.0 200 = 0xC8 = 8 * 25, not 199 \u2014 \u00abfertig\u00bb "
        "\u5b8c\u4e86 (done, +really+!) \u2713 100%25",
        [
            "Via: SIP/2.0/UDP 192.0.2.50;branch=z9hG4bKunreason1",
            "Call-ID: unreason.m1n2b3v4c5@192.0.2.50",
            "CSeq: 1 INVITE",
            "From: <sip:nina@example.net>;tag=unr1",
            "To: <sip:oscar@example.com>;tag=unr2",
            "Contact: <sip:oscar@192.0.2.51>",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ],
        sdp("oscar", "192.0.2.51", 52000),
    ),
)

case(
    "3.1.1.13", "noreason", "drop",
    "Empty Reason Phrase",
    "`SIP/2.0 100 ` -- status line with the required SP and an empty reason phrase",
    "RFC 4475 §3.1.1.13: valid response (empty reason-phrase), but responses are never answered -> dropped",
    msg(
        "SIP/2.0 100 ",
        [
            "Via: SIP/2.0/UDP 192.0.2.52;branch=z9hG4bKnoreason1",
            "Call-ID: noreason.z1x2c3v4b5@192.0.2.52",
            "CSeq: 9 INVITE",
            "From: <sip:nina@example.net>;tag=nor1",
            "To: <sip:oscar@example.com>",
            "Content-Length: {CL}",
        ],
    ),
)

# ---------------------------------------------------------------------------
# 3.1.2  Invalid messages
# ---------------------------------------------------------------------------

case(
    "3.1.2.1", "badinv01", "400",
    "Extraneous Header Field Separators",
    "Via value followed by `;;,;,,` and Contact value followed by `;;;;` "
    "(empty params / empty list elements)",
    "RFC 4475 §3.1.2.1: empty generic-params and list elements are illegal in Via and Contact (two defects) -> parse error",
    msg(
        "INVITE sip:grace@example.com SIP/2.0",
        [
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=9b1n2",
            "Max-Forwards: 7",
            "Call-ID: badinv01.q9w8e7r6t5@192.0.2.15",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.15;;,;,,",
            'Contact: "Pat" <sip:pat@192.0.2.15>;;;;',
            "Content-Length: {CL}",
            "Content-Type: application/sdp",
        ],
        sdp("pat", "192.0.2.15", 41000),
    ),
)

case(
    "3.1.2.2", "clerr", "400",
    "Content Length Larger Than Message",
    "Content-Length: 9999 while the datagram carries a short SDP body",
    "RFC 4475 §3.1.2.2 / RFC 3261 §18.3: Content-Length larger than the UDP datagram -> 400",
    msg(
        "INVITE sip:grace@example.com SIP/2.0",
        [
            "Max-Forwards: 80",
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=c1e2r3",
            "Contact: <sip:pat@192.0.2.16>",
            "Call-ID: clerr.h6j5k4l3z2@192.0.2.16",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.16;branch=z9hG4bKclerr1",
            "Content-Type: application/sdp",
            "Content-Length: 9999",
        ],
        sdp("pat", "192.0.2.16", 41002),
    ),
    cl_ok=False,
)

case(
    "3.1.2.3", "ncl", "400",
    "Negative Content-Length",
    "Content-Length: -999 with an SDP body",
    "RFC 4475 §3.1.2.3: Content-Length is 1*DIGIT; a negative value is unparsable -> 400",
    msg(
        "INVITE sip:grace@example.com SIP/2.0",
        [
            "Max-Forwards: 70",
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=n3g4t1",
            "Call-ID: ncl.y7u6i5o4p3@192.0.2.17",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.17;branch=z9hG4bKncl1",
            "Contact: <sip:pat@192.0.2.17>",
            "Content-Type: application/sdp",
            "Content-Length: -999",
        ],
        sdp("pat", "192.0.2.17", 41004),
    ),
    cl_ok=False,
)

case(
    "3.1.2.4", "scalar02", "400",
    "Request Scalar Fields with Overlarge Values",
    "CSeq number 18446744073709551621 (> 2^64, wraps to 5 if truncated), "
    "Max-Forwards 256 (wraps to 0 in a u8), Expires 1e25, Contact expires= "
    "far above 2^32-1",
    "RFC 4475 §3.1.2.4: CSeq > 2^32-1 (also Max-Forwards > 255, huge Expires -- several defects) -> 400, never 483",
    msg(
        "REGISTER sip:example.com SIP/2.0",
        [
            "Via: SIP/2.0/UDP 192.0.2.18;branch=z9hG4bKscalar02",
            "To: <sip:quinn@example.com>",
            "From: <sip:quinn@example.com>;tag=5c4l4r",
            "CSeq: 18446744073709551621 REGISTER",
            "Call-ID: scalar02.b5n4m3q2w1@192.0.2.18",
            "Max-Forwards: 256",
            "Expires: 10000000000000000000000000",
            "Contact: <sip:quinn@192.0.2.18>;expires=98765432109876543210",
            "Content-Length: {CL}",
        ],
    ),
)

case(
    "3.1.2.5", "scalarlg", "drop",
    "Response Scalar Fields with Overlarge Values",
    "503 response with CSeq number > 2^64, Retry-After > 2^64 and a "
    "4-digit warn-code",
    "RFC 4475 §3.1.2.5: malformed response (overlarge scalars); responses are never answered -> dropped",
    msg(
        "SIP/2.0 503 Service Unavailable",
        [
            "Via: SIP/2.0/UDP 192.0.2.19;branch=z9hG4bKscalarlg;received=192.0.2.19",
            "To: <sip:quinn@example.com>;tag=lg01",
            "From: <sip:rita@example.net>;tag=lg02",
            "CSeq: 73786976294838206473 OPTIONS",
            "Call-ID: scalarlg.v6c5x4z3a2@192.0.2.19",
            "Retry-After: 581297304618273649182736491827",
            'Warning: 3999 edge.example.com "Still thinking"',
            "Content-Length: {CL}",
        ],
    ),
)

case(
    "3.1.2.6", "quotbal", "400",
    "Unterminated Quoted String in Display Name",
    "To display name opens a quote that is never closed",
    "RFC 4475 §3.1.2.6: unbalanced quoted-string makes To unparsable -> 400",
    msg(
        "INVITE sip:grace@example.com SIP/2.0",
        [
            'To: "Ms. Grace Q. Public <sip:grace@example.com>',
            "From: sip:pat@example.net;tag=qb1",
            "Max-Forwards: 70",
            "Call-ID: quotbal.s1d2f3g4h5@192.0.2.20",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bKquotbal1",
            "Contact: <sip:pat@192.0.2.20>",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ],
        sdp("pat", "192.0.2.20", 41006),
    ),
)

case(
    "3.1.2.7", "ltgtruri", "400",
    "<> Enclosing Request-URI",
    "Request-URI written as `<sip:grace@example.com>`",
    "RFC 4475 §3.1.2.7: Request-URI must not be enclosed in <> -> bad Request-Line -> 400 (parse fails before any scheme check)",
    msg(
        "INVITE <sip:grace@example.com> SIP/2.0",
        [
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=lg7",
            "Max-Forwards: 70",
            "Call-ID: ltgtruri.j1k2l3z4x5@192.0.2.22",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.22;branch=z9hG4bKltgtruri1",
            "Contact: <sip:pat@192.0.2.22>",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ],
        sdp("pat", "192.0.2.22", 41008),
    ),
)

case(
    "3.1.2.8", "lwsruri", "400",
    "Malformed SIP Request-URI (embedded LWS)",
    "Request-URI `sip:grace@example.com; lr` -- SP inside the URI, so the "
    "Request-Line has four SP-separated elements",
    "RFC 4475 §3.1.2.8: LWS is not allowed inside the Request-URI -> 400 (last token is SIP/2.0, so not 505)",
    msg(
        "INVITE sip:grace@example.com; lr SIP/2.0",
        [
            "To: sip:grace@example.com;tag=lw0",
            "From: sip:pat@example.net;tag=lw1",
            "Max-Forwards: 70",
            "Call-ID: lwsruri.c6v7b8n9m0@192.0.2.23",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.23;branch=z9hG4bKlwsruri1",
            "Contact: <sip:pat@192.0.2.23>",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ],
        sdp("pat", "192.0.2.23", 41010),
    ),
)

case(
    "3.1.2.9", "lwsstart", "400",
    "Multiple SP Separating Request-Line Elements",
    "two SP between method and Request-URI and between Request-URI and version",
    "RFC 4475 §3.1.2.9: Request-Line elements are separated by exactly one SP -> 400 (last token is SIP/2.0, so not 505)",
    msg(
        "INVITE  sip:grace@example.com  SIP/2.0",
        [
            "Max-Forwards: 8",
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=ls1",
            "Call-ID: lwsstart.q2w3e4r5t6@192.0.2.24",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.24;branch=z9hG4bKlwsstart1",
            "Contact: <sip:pat@192.0.2.24>",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ],
        sdp("pat", "192.0.2.24", 41012),
    ),
)

case(
    "3.1.2.10", "trws", "400",
    "SP Characters at End of Request-Line",
    "three SP after `SIP/2.0` before CRLF",
    "RFC 4475 §3.1.2.10: trailing SP breaks Request-Line grammar -> 400 (the version token itself is SIP/2.0, so not 505)",
    msg(
        "OPTIONS sip:grace@example.com SIP/2.0   ",
        [
            "Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKtrws1",
            "Max-Forwards: 70",
            "To: <sip:grace@example.com>",
            "From: <sip:pat@example.net>;tag=trw5",
            "Call-ID: trws.y1u2i3o4p5@192.0.2.25",
            "CSeq: 1 OPTIONS",
            "l: {CL}",
        ],
    ),
)

case(
    "3.1.2.11", "escruri", "400",
    "Escaped Headers in SIP Request-URI",
    "Request-URI carries an escaped header `?Route=%3Csip:...%3E`",
    "RFC 4475 §3.1.2.11: headers are not allowed in a Request-URI (RFC 3261 §19.1.1); element SHOULD reject -> 400",
    msg(
        "INVITE sip:grace@example.com?Route=%3Csip:attacker.example.net%3E SIP/2.0",
        [
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=er1",
            "Max-Forwards: 70",
            "Call-ID: escruri.a9s8d7f6g5@192.0.2.26",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.26;branch=z9hG4bKescruri1",
            "Contact: <sip:pat@192.0.2.26>",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ],
        sdp("pat", "192.0.2.26", 41014),
    ),
)

case(
    "3.1.2.12", "baddate", "400",
    "Invalid Time Zone in Date Header Field",
    "Date header with zone `PST` instead of `GMT`",
    "RFC 4475 §3.1.2.12: SIP-date (RFC 3261 §25.1 rfc1123-date) only allows GMT -> 400",
    msg(
        "INVITE sip:grace@example.com SIP/2.0",
        [
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=bd1",
            "Max-Forwards: 70",
            "Call-ID: baddate.h1j2k3l4z5@192.0.2.27",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.27;branch=z9hG4bKbaddate1",
            "Date: Tue, 14 Mar 2023 09:26:53 PST",
            "Contact: <sip:pat@192.0.2.27>",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ],
        sdp("pat", "192.0.2.27", 41016),
    ),
)

case(
    "3.1.2.13", "regbadct", "400",
    "Failure to Enclose name-addr URI in <>",
    "REGISTER whose Contact is a bare URI containing `?Route=...` (a URI "
    "header) without <>",
    "RFC 4475 §3.1.2.13: URI with '?' (or ',' ';') in Contact must be in <> (RFC 3261 §20) -> 400",
    msg(
        "REGISTER sip:example.com SIP/2.0",
        [
            "To: sip:sam@example.com",
            "From: sip:sam@example.com;tag=rb1",
            "Max-Forwards: 70",
            "Call-ID: regbadct.x1c2v3b4n5@192.0.2.28",
            "CSeq: 1727 REGISTER",
            "Via: SIP/2.0/UDP 192.0.2.28;branch=z9hG4bKregbadct1",
            "Contact: sip:sam@192.0.2.28?Route=%3Csip:edge.example.net%3E",
            "l: {CL}",
        ],
    ),
)

case(
    "3.1.2.14", "badaspec", "400",
    "Spaces within addr-spec",
    "To is `< sip:heidi@example.com >` -- SP inside the angle brackets",
    "RFC 4475 §3.1.2.14: addr-spec inside <> may not have surrounding spaces -> 400",
    msg(
        "OPTIONS sip:heidi@example.com SIP/2.0",
        [
            "Via: SIP/2.0/UDP 192.0.2.29:5060;branch=z9hG4bKbadaspec1",
            "Max-Forwards: 70",
            'From: "Public, Pat" <sip:pat@example.net>;tag=ba1',
            'To: "Heidi Example" < sip:heidi@example.com >',
            "Call-ID: badaspec.m5n6b7v8c9@192.0.2.29",
            "Accept: application/sdp",
            "CSeq: 3923 OPTIONS",
            "l: {CL}",
        ],
    ),
)

case(
    "3.1.2.15", "baddn", "400",
    "Non-token Characters in Display Name",
    "unquoted display names containing `,` (`Public, John Q.` and `Doe, Jane`)",
    "RFC 4475 §3.1.2.15: ',' is not a token char so display-name must be quoted -> 400",
    msg(
        "OPTIONS sip:jane@example.com SIP/2.0",
        [
            "Via: SIP/2.0/UDP 192.0.2.30;branch=z9hG4bKbaddn1",
            "Max-Forwards: 70",
            "From: Public, John Q. <sip:jqp@example.net>;tag=bdn1",
            "To: Doe, Jane <sip:jane@example.com>",
            "Call-ID: baddn.q7w8e9r0t1@192.0.2.30",
            "Accept: application/sdp",
            "CSeq: 3923239 OPTIONS",
            "l: {CL}",
        ],
    ),
)

case(
    "3.1.2.16", "badvers", "505",
    "Unknown Protocol Version",
    "Request-Line version `SIP/3.0`",
    "RFC 4475 §3.1.2.16: unsupported SIP-Version -> 505 Version Not Supported (first check)",
    msg(
        "OPTIONS sip:heidi@example.com SIP/3.0",
        [
            "To: sip:heidi@example.com",
            "From: sip:pat@example.net;tag=bv1",
            "Max-Forwards: 70",
            "Call-ID: badvers.z2x3c4v5b6@192.0.2.31",
            "CSeq: 1 OPTIONS",
            "Via: SIP/2.0/UDP 192.0.2.31;branch=z9hG4bKbadvers1",
            "l: {CL}",
        ],
    ),
)

case(
    "3.1.2.17", "mismatch01", "400",
    "Start Line and CSeq Method Mismatch",
    "OPTIONS request whose CSeq method is INVITE",
    "RFC 4475 §3.1.2.17: CSeq method must match the Request-Line method (RFC 3261 §8.1.1.5) -> 400",
    msg(
        "OPTIONS sip:heidi@example.com SIP/2.0",
        [
            "To: sip:heidi@example.com",
            "From: sip:pat@example.net;tag=mm1",
            "Max-Forwards: 70",
            "Call-ID: mismatch01.n7m8q9w0e1@192.0.2.32",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.32;branch=z9hG4bKmismatch01",
            "l: {CL}",
        ],
    ),
)

case(
    "3.1.2.18", "mismatch02", "400",
    "Unknown Method with CSeq Method Mismatch",
    "unknown method FROBNICATE with CSeq method INVITE and an SDP body",
    "RFC 4475 §3.1.2.18: unknown method alone is fine, but CSeq method mismatch -> 400",
    msg(
        "FROBNICATE sip:heidi@example.com SIP/2.0",
        [
            "To: sip:heidi@example.com",
            "From: sip:pat@example.net;tag=mm2",
            "Max-Forwards: 70",
            "Call-ID: mismatch02.r2t3y4u5i6@192.0.2.34",
            "CSeq: 10 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.34;branch=z9hG4bKmismatch02",
            "Content-Type: application/sdp",
            "l: {CL}",
        ],
        sdp("pat", "192.0.2.34", 41018),
    ),
)

case(
    "3.1.2.19", "bigcode", "drop",
    "Overlarge Response Code",
    "status code 4294967496 (2^32+200: wraps to 200 in a u32; first 3 "
    "digits read 429)",
    "RFC 4475 §3.1.2.19: Status-Code is exactly 3 digits; malformed response is dropped (never answered)",
    msg(
        "SIP/2.0 4294967496 Wraps To OK If Truncated",
        [
            "Via: SIP/2.0/UDP 192.0.2.35;branch=z9hG4bKbigcode1",
            "To: <sip:heidi@example.com>;tag=bc1",
            "From: <sip:pat@example.net>;tag=bc2",
            "Call-ID: bigcode.o1p2a3s4d5@192.0.2.35",
            "CSeq: 1 INVITE",
            "Content-Length: {CL}",
        ],
    ),
)

# ---------------------------------------------------------------------------
# 3.3  Application-layer semantics
# ---------------------------------------------------------------------------

case(
    "3.3.1", "insuf", "400",
    "Missing Required Header Fields",
    "INVITE without To, From, Call-ID (and without Max-Forwards)",
    "RFC 4475 §3.3.1: To/From/Call-ID are mandatory (RFC 3261 §8.1.1) -> 400 (missing Max-Forwards alone would be tolerated)",
    msg(
        "INVITE sip:grace@example.com SIP/2.0",
        [
            "CSeq: 5150 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.83;branch=z9hG4bKinsuf1",
            "Content-Type: application/sdp",
            "l: {CL}",
        ],
        sdp("anon", "192.0.2.83", 41020),
    ),
)

case(
    "3.3.2", "unkscm", "416",
    "Request-URI with Unknown Scheme",
    "Request-URI `x-unheard-of.scheme+2:entirely-opaque-content` (valid "
    "absoluteURI, unknown scheme)",
    "RFC 4475 §3.3.2: syntactically valid but unsupported Request-URI scheme -> 416 Unsupported URI Scheme",
    msg(
        "OPTIONS x-unheard-of.scheme+2:entirely-opaque-content SIP/2.0",
        [
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=us1",
            "Max-Forwards: 70",
            "Call-ID: unkscm.f6g7h8j9k0@192.0.2.84",
            "CSeq: 1 OPTIONS",
            "Via: SIP/2.0/UDP 192.0.2.84;branch=z9hG4bKunkscm1",
            "l: {CL}",
        ],
    ),
)

case(
    "3.3.3", "novelsc", "416",
    "Request-URI with Known but Atypical Scheme",
    "Request-URI `soap.beep://198.51.100.20:3002` (registered scheme that a "
    "SIP proxy does not serve)",
    "RFC 4475 §3.3.3: element that does not support soap.beep must answer 416 (we serve only sip/sips/tel)",
    msg(
        "OPTIONS soap.beep://198.51.100.20:3002 SIP/2.0",
        [
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=nv1",
            "Max-Forwards: 70",
            "Call-ID: novelsc.l1z2x3c4v5@192.0.2.85",
            "CSeq: 1 OPTIONS",
            "Via: SIP/2.0/UDP 192.0.2.85;branch=z9hG4bKnovelsc1",
            "l: {CL}",
        ],
    ),
)

case(
    "3.3.4", "unksm2", "accept",
    "Unknown URI Schemes in Header Fields",
    "REGISTER with To `isbn:...`, From `<http://...>` and Contact "
    "`<name:...>` URIs (Request-URI is sip)",
    "RFC 4475 §3.3.4: unknown schemes in To/From/Contact are legal absoluteURIs; only the Request-URI scheme is checked -> forward",
    msg(
        "REGISTER sip:example.com SIP/2.0",
        [
            "To: isbn:9780306406157",
            "From: <http://www.example.net/~frank>;tag=uk2",
            "Max-Forwards: 70",
            "Call-ID: unksm2.b6n7m8q9w0@192.0.2.86",
            "CSeq: 3 REGISTER",
            "Via: SIP/2.0/UDP 192.0.2.86;branch=z9hG4bKunksm2",
            "Contact: <name:Frank_Example>",
            "l: {CL}",
        ],
    ),
)

case(
    "3.3.5", "bext01", "420",
    "Proxy-Require and Require",
    "Require: xyzzy-ua-ext, shared-unknown-ext and Proxy-Require: "
    "plugh-proxy-ext, shared-unknown-ext",
    "RFC 4475 §3.3.5 / RFC 3261 §16.3: unknown Proxy-Require tags -> 420 with Unsupported: plugh-proxy-ext, shared-unknown-ext (Require is for the UAS, ignored)",
    msg(
        "OPTIONS sip:heidi@example.com SIP/2.0",
        [
            "To: sip:heidi@example.com",
            "From: sip:pat@example.net;tag=bx1",
            "Max-Forwards: 70",
            "Call-ID: bext01.e1r2t3y4u5@192.0.2.87",
            "CSeq: 8 OPTIONS",
            "Via: SIP/2.0/UDP 192.0.2.87;branch=z9hG4bKbext01",
            "Require: xyzzy-ua-ext, shared-unknown-ext",
            "Proxy-Require: plugh-proxy-ext, shared-unknown-ext",
            "l: {CL}",
        ],
    ),
)

case(
    "3.3.6", "invut", "accept",
    "Unknown Content-Type",
    "INVITE with Content-Type application/x-frobnicated-session and a "
    "matching opaque body",
    "RFC 4475 §3.3.6: body type is the UAS's business (415 there); a proxy forwards it",
    msg(
        "INVITE sip:grace@example.com SIP/2.0",
        [
            "Contact: <sip:pat@192.0.2.88>",
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=iu1",
            "Max-Forwards: 70",
            "Call-ID: invut.i6o7p8a9s0@192.0.2.88",
            "CSeq: 5 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.88;branch=z9hG4bKinvut1",
            "Content-Type: application/x-frobnicated-session",
            "Content-Length: {CL}",
        ],
        b"<frob version=\"7\">\r\n  <knob id=\"a\" turn=\"left\"/>\r\n"
        b"  <knob id=\"b\" turn=\"right\"/>\r\n</frob>\r\n",
    ),
)

case(
    "3.3.7", "regaut01", "accept",
    "Unknown Authorization Scheme",
    "REGISTER with `Authorization: ZorkAuth ...` (unknown auth-scheme, "
    "generic auth-params)",
    "RFC 4475 §3.3.7: well formed (other-response syntax); unknown scheme is for the authenticating element -> forward/route",
    msg(
        "REGISTER sip:example.com SIP/2.0",
        [
            "To: sip:sam@example.com",
            "From: sip:sam@example.com;tag=ra1",
            "Max-Forwards: 70",
            "Call-ID: regaut01.d1f2g3h4j5@192.0.2.89",
            "CSeq: 9338 REGISTER",
            "Via: SIP/2.0/UDP 192.0.2.89;branch=z9hG4bKregaut01",
            'Authorization: ZorkAuth realm-token=frotz, opaque-blob="8f2a7c"',
            "Contact: <sip:sam@192.0.2.89>",
            "l: {CL}",
        ],
    ),
)

case(
    "3.3.8", "multi01", "400",
    "Multiple Values in Single Value Required Fields",
    "two each of Call-ID, CSeq, From, To and Max-Forwards (differing values)",
    "RFC 4475 §3.3.8: duplicate single-valued headers Call-ID/CSeq/From/To/Max-Forwards (several defects) -> 400",
    msg(
        "INVITE sip:grace@example.com SIP/2.0",
        [
            "Contact: <sip:pat@192.0.2.90>",
            "Via: SIP/2.0/UDP 192.0.2.90;branch=z9hG4bKmulti01",
            "Max-Forwards: 70",
            "CSeq: 5 INVITE",
            "Call-ID: multi01.k6l7z8x9c0@192.0.2.90",
            "CSeq: 59 INVITE",
            "Call-ID: multi01.k6l7z8x9c0@192.0.2.91",
            "From: sip:pat@example.net;tag=mu1",
            "To: sip:grace@example.com",
            "To: sip:heidi@example.com",
            "From: sip:pat@example.com;tag=mu2",
            "Content-Type: application/sdp",
            "l: {CL}",
            "Contact: <sip:pat@192.0.2.91>",
            "Max-Forwards: 5",
        ],
        sdp("pat", "192.0.2.90", 41022),
    ),
)

case(
    "3.3.9", "mcl01", "400",
    "Multiple Content-Length Values",
    "two Content-Length headers (13 and 5); the actual body matches neither",
    "RFC 4475 §3.3.9: duplicate Content-Length makes framing ambiguous -> 400",
    msg(
        "OPTIONS sip:heidi@example.com SIP/2.0",
        [
            "Via: SIP/2.0/UDP 192.0.2.92;branch=z9hG4bKmcl01",
            "To: sip:heidi@example.com",
            "From: sip:pat@example.net;tag=mc1",
            "Call-ID: mcl01.v1b2n3m4q5@192.0.2.92",
            "CSeq: 15932 OPTIONS",
            "Content-Length: 13",
            "Max-Forwards: 60",
            "Content-Length: 5",
            "Content-Type: text/plain",
        ],
        b"Which of the two lengths frames this text? Neither one does.\r\n",
    ),
    cl_ok=False,
)

case(
    "3.3.10", "bcast", "drop",
    "200 OK Response with Broadcast Via Header Field Value",
    "200 OK whose second Via sent-by is 255.255.255.255 (top Via is "
    "127.0.0.1:5060, i.e. looks like ours)",
    "RFC 4475 §3.3.10: response is never answered; must not be relayed to a broadcast address -> dropped",
    msg(
        "SIP/2.0 200 OK",
        [
            "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbcast-top",
            "Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKbcast-evil",
            "Call-ID: bcast.t6y7u8i9o0@192.0.2.93",
            "CSeq: 30 OPTIONS",
            "From: sip:pat@example.net;tag=bc3",
            "To: sip:heidi@example.com;tag=bc4",
            "Content-Length: {CL}",
        ],
    ),
)

case(
    "3.3.11", "zeromf", "483",
    "Max-Forwards of Zero (request for another user)",
    "INVITE to sip:grace@example.com with Max-Forwards: 0",
    "RFC 4475 §3.3.11 / RFC 3261 §16.3 step 3: Max-Forwards 0 on a request to forward -> 483 Too Many Hops",
    msg(
        "INVITE sip:grace@example.com SIP/2.0",
        [
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=zm1",
            "Call-ID: zeromf.p1a2s3d4f5@192.0.2.94",
            "CSeq: 39234321 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.94;branch=z9hG4bKzeromf1",
            "Max-Forwards: 0",
            "Contact: <sip:pat@192.0.2.94>",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ],
        sdp("pat", "192.0.2.94", 41024),
    ),
)

case(
    "3.3.11", "zeromf-self", "accept",
    "Max-Forwards of Zero (OPTIONS to the proxy itself)",
    "OPTIONS with Request-URI `sip:127.0.0.1:5060` (the proxy, no user "
    "part) and Max-Forwards: 0",
    "RFC 4475 §3.3.11 / RFC 3261 §16.3 step 3 + §11: OPTIONS addressed to the proxy itself is answered 200, not 483",
    msg(
        "OPTIONS sip:127.0.0.1:5060 SIP/2.0",
        [
            "To: <sip:127.0.0.1:5060>",
            "From: <sip:pat@example.net>;tag=zm2",
            "Call-ID: zeromf-self.g6h7j8k9l0@192.0.2.95",
            "CSeq: 1 OPTIONS",
            "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKzeromfself",
            "Max-Forwards: 0",
            "Accept: application/sdp",
            "Content-Length: {CL}",
        ],
    ),
)

case(
    "3.3.12", "cparam01", "accept",
    "REGISTER with a Contact Header Parameter",
    "Contact without <>: `sip:+15555550123@gw.example.net;oddparam` -- "
    "`oddparam` is a Contact header parameter",
    "RFC 4475 §3.3.12: well formed; unknown contact-param is legal",
    msg(
        "REGISTER sip:example.com SIP/2.0",
        [
            "Via: SIP/2.0/UDP 192.0.2.96;branch=z9hG4bKcparam01",
            "Max-Forwards: 70",
            "From: sip:watson@example.com;tag=cp1",
            "To: sip:watson@example.com",
            "Call-ID: cparam01.z6x7c8v9b0@192.0.2.96",
            "CSeq: 9 REGISTER",
            "Contact: sip:+15555550123@gw.example.net;oddparam",
            "l: {CL}",
        ],
    ),
)

case(
    "3.3.13", "cparam02", "accept",
    "REGISTER with a url-parameter",
    "Contact `<sip:+15555550123@gw.example.net;oddparam>` -- `oddparam` is "
    "a URI parameter",
    "RFC 4475 §3.3.13: well formed; unknown uri-parameter is legal",
    msg(
        "REGISTER sip:example.com SIP/2.0",
        [
            "Via: SIP/2.0/UDP 192.0.2.97;branch=z9hG4bKcparam02",
            "Max-Forwards: 70",
            "From: sip:watson@example.com;tag=cp2",
            "To: sip:watson@example.com",
            "Call-ID: cparam02.n1m2q3w4e5@192.0.2.97",
            "CSeq: 10 REGISTER",
            "Contact: <sip:+15555550123@gw.example.net;oddparam>",
            "l: {CL}",
        ],
    ),
)

case(
    "3.3.14", "regescrt", "accept",
    "REGISTER with a URL Escaped Header",
    "Contact `<sip:ivan@192.0.2.98?Route=%3Csip:edge.example.net%3E>` -- "
    "escaped header inside a bracketed Contact URI",
    "RFC 4475 §3.3.14: legal (URI headers allowed in Contact when in <>); unlike §3.1.2.11/§3.1.2.13 -> forward",
    msg(
        "REGISTER sip:example.com SIP/2.0",
        [
            "To: sip:ivan@example.com",
            "From: sip:ivan@example.com;tag=re1",
            "Max-Forwards: 70",
            "Call-ID: regescrt.r6t7y8u9i0@192.0.2.98",
            "CSeq: 14398234 REGISTER",
            "Via: SIP/2.0/UDP 192.0.2.98;branch=z9hG4bKregescrt",
            "Contact: <sip:ivan@192.0.2.98?Route=%3Csip:edge.example.net%3E>",
            "L: {CL}",
        ],
    ),
)

case(
    "3.3.15", "sdp01", "accept",
    "Unacceptable Accept Offering",
    "INVITE with SDP body but `Accept: text/x-nobody-renders-this`",
    "RFC 4475 §3.3.15: Accept negotiation is end-to-end (UAS may answer 406); a proxy forwards",
    msg(
        "INVITE sip:grace@example.com SIP/2.0",
        [
            "To: sip:grace@example.com",
            "From: sip:pat@example.net;tag=sd1",
            "Max-Forwards: 70",
            "Call-ID: sdp01.o6p7a8s9d0@192.0.2.100",
            "CSeq: 1 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.100;branch=z9hG4bKsdp01",
            "Accept: text/x-nobody-renders-this",
            "Contact: <sip:pat@192.0.2.100>",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ],
        sdp("pat", "192.0.2.100", 41026),
    ),
)

# ---------------------------------------------------------------------------
# 3.4  Backward compatibility
# ---------------------------------------------------------------------------

case(
    "3.4.1", "inv2543", "accept",
    "INVITE with RFC 2543 Syntax",
    "RFC 2543-style INVITE: Via without branch (no z9hG4bK cookie), no "
    "Max-Forwards, From without tag, `user=phone` URIs, Record-Route with maddr",
    "RFC 4475 §3.4.1 / RFC 3261 §16.3: legacy syntax must be accepted; missing Max-Forwards is not an error (proxy adds 70)",
    msg(
        "INVITE sip:UserB@example.com SIP/2.0",
        [
            "Via: SIP/2.0/UDP gw2543.example.net",
            "From: <sip:+15555550100@gw2543.example.net;user=phone>",
            "Record-Route: <sip:UserB@example.com;maddr=ss2.example.com>",
            "To: sip:+15555550199@example.com;user=phone",
            "Call-ID: inv2543.7761@gw2543.example.net",
            "CSeq: 1 INVITE",
            "Contact: <sip:+15555550100@198.51.100.43;user=phone>",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ],
        sdp("UserA", "198.51.100.43", 49172),
    ),
)

# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

VERDICT_HELP = {
    "accept": "passes validation, goes on to routing",
    "400": "400 Bad Request",
    "505": "505 Version Not Supported",
    "416": "416 Unsupported URI Scheme",
    "420": "420 Bad Extension (+ Unsupported:)",
    "483": "483 Too Many Hops",
    "drop": "no response at all",
}


def verdicts_text():
    return "".join(f"{c['file']} {c['verdict']} # {c['reason']}\n" for c in CASES)


def readme_text():
    rows = "\n".join(
        "| `{}` | §{} {} | {} | **{}** |".format(
            c["file"], c["section"], c["title"],
            c["tests"].replace("|", "\\|"), c["verdict"])
        for c in CASES
    )
    counts = {}
    for c in CASES:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    summary = ", ".join(f"{v}: {n}" for v, n in sorted(counts.items()))
    return f"""# SIP torture corpus (RFC 4475)

Our own SIP torture messages, one per RFC 4475 test case in
§3.1.1 (valid messages), §3.1.2 (invalid messages), §3.3
(application-layer semantics) and §3.4 (backward compatibility) -- plus a
second §3.3.11 file for the OPTIONS-to-self Max-Forwards 0 case.
Each case reproduces the *defect or feature* of the RFC case; the bytes
(hosts, users, tags, values) are ours and use documentation addresses
only (example.com / example.net, 192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24).

* `*.sip` -- each file is the exact bytes of **one UDP datagram** (CRLF
  line endings; some files deliberately contain NUL / non-UTF-8 bytes;
  `3.1.1.8_dblreq.sip` deliberately carries a second message after the
  first one). Do not open-and-save them in an editor; `.gitattributes`
  marks them `binary` so git never converts their line endings.
* `VERDICTS` -- one line per file: `<file> <verdict> # <reason>`.
* `gen.py` -- generates all of the above (and this README) and checks the
  bytes: `python3 tests/torture/gen.py` (regenerate + check) or
  `python3 tests/torture/gen.py --check` (check only). Edit `gen.py`,
  never the generated files.

{len(CASES)} files ({summary}).

## Verdicts

The verdict is what a stateless RFC 3261 proxy front end (like
Kamailio's `sanity` + `sl` checks) must do. When a message has several
defects, the verdict is the **first** check that fails, in this order:

1. SIP-Version other than `SIP/2.0` -> `505` (the version is the last
   SP-separated token of the start line; a Request-Line ending in
   `SIP/2.0` that otherwise breaks the grammar -- extra SP, SP inside the
   URI, trailing SP -- is a `400`, not a `505`)
2. parse / syntax error (bad Request-Line, bad header syntax, bad or
   duplicate Content-Length, Content-Length larger than the datagram,
   overlarge scalars, unterminated quotes, headers in the Request-URI,
   bad Date zone, ...) -> `400`
3. Request-URI scheme other than sip / sips / tel -> `416`
4. missing mandatory header (Via, From, To, Call-ID, CSeq), duplicate
   single-valued header (Call-ID, CSeq, From, To, Max-Forwards,
   Content-Length), CSeq method != request method -> `400`
5. Max-Forwards 0 -> `483`, except an OPTIONS addressed to the proxy
   itself (Request-URI `sip:127.0.0.1:5060`, no user part), answered `200`
6. unknown option tag in Proxy-Require -> `420` carrying `Unsupported:`
   with those tags (`Require` is for the UAS; a proxy ignores it)

Missing Max-Forwards is *not* an error (RFC 2543 peers, §3.4.1): the proxy
behaves as if it were 70.

| verdict | meaning |
|---|---|
""" + "\n".join(f"| `{k}` | {v} |" for k, v in VERDICT_HELP.items()) + f"""

## How the verdicts are checked

An integration test starts the proxy listening on UDP `127.0.0.1:5060`,
then for every line of `VERDICTS` sends the file's bytes **as a single UDP
datagram** from a fresh socket and waits (a short timeout) for responses
on that socket:

* `400` / `505` / `416` / `420` / `483` -- exactly that status code is
  received. For `420` the response must also carry an `Unsupported:`
  header listing the unknown Proxy-Require tags
  (`plugh-proxy-ext, shared-unknown-ext` for `3.3.5_bext01.sip`).
* `drop` -- nothing at all is received (these files are responses; a
  proxy never answers a response, and these have no matching
  transaction or are malformed). The proxy must also survive them and
  must not relay `3.3.10_bcast.sip` to 255.255.255.255.
* `accept` -- no response, or a response whose code is **not** one of the
  validation codes 400 / 505 / 416 / 420 / 483 (whatever routing policy
  decides: forwarding, 404, 401/407 challenge, ...). Exception:
  `3.3.11_zeromf-self.sip` (OPTIONS to the proxy itself with
  Max-Forwards 0) must get exactly `200`.
  For `3.1.1.8_dblreq.sip` at most one response may arrive and, if one
  does, it must be for `CSeq: 3 REGISTER` (the trailing INVITE in the same
  datagram is ignored).

After each file the test should check the proxy is still alive, e.g. by
replaying `3.3.11_zeromf-self.sip` and expecting `200`.

Note on where responses go: the Via sent-by hosts in the corpus are
documentation addresses, not the test socket, so the harness relies on
the proxy answering to the datagram's **source address/port**
(symmetric response routing, RFC 3581 `rport` semantics / Kamailio
`force_rport()`), which is also the only option for messages whose Via
cannot be parsed.

## Cases

| file | RFC 4475 section | what it tests | verdict |
|---|---|---|---|
{rows}
"""


# ---------------------------------------------------------------------------
# byte-level checks (operate on the files as stored on disk)
# ---------------------------------------------------------------------------


def split_message(data):
    """Return (header_bytes, after_bytes): the header section including the
    CRLF that ends the last header line, and everything after the empty
    line (the body plus any trailing octets)."""
    i = data.find(b"\r\n\r\n")
    assert i >= 0, "no CRLFCRLF end-of-headers"
    head = data[: i + 2]
    after = data[i + 4:]
    return head, after


def header_lines(head):
    """Unfolded header lines (excluding start line) as str."""
    lines = head.decode("utf-8", "surrogateescape").split("\r\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    start, rest = lines[0], lines[1:]
    out = []
    for ln in rest:
        if ln[:1] in (" ", "\t") and out:
            out[-1] += " " + ln.strip()
        else:
            out.append(ln)
    return start, out


def content_lengths(hdrs):
    vals = []
    for h in hdrs:
        name, _, val = h.partition(":")
        if name.strip().lower() in ("content-length", "l"):
            vals.append(val.strip())
    return vals


def check_one(c, data):
    errs = []
    if len(data) >= MAX_DATAGRAM:
        errs.append(f"datagram is {len(data)} bytes (>= {MAX_DATAGRAM})")
    msgs = [data]
    if c["short"] == "dblreq":
        head, after = split_message(data)
        cl = int(content_lengths(header_lines(head)[1])[0])
        if cl != 0:
            errs.append("dblreq: first message must have Content-Length 0")
        msgs = [data[: len(head) + 2], after]
        if not after.startswith(b"INVITE "):
            errs.append("dblreq: trailing bytes must be a second request")
    for m in msgs:
        head, body = split_message(m)
        # CRLF everywhere in the header section: no bare CR or LF
        stripped = head.replace(b"\r\n", b"")
        if b"\r" in stripped or b"\n" in stripped:
            errs.append("bare CR or LF in header section")
        if not head.endswith(b"\r\n"):
            errs.append("header section does not end in CRLF")
        start, hdrs = header_lines(head)
        cls = content_lengths(hdrs)
        if c["cl_ok"]:
            if len(cls) != 1:
                errs.append(f"expected one Content-Length, got {cls}")
            elif not cls[0].isdigit() or int(cls[0]) != len(body):
                errs.append(f"Content-Length {cls[0]} != body length {len(body)}")
        # a text body (SDP/plain) must use CRLF too
        if body and c["short"] not in ("mpart01",):
            if body.replace(b"\r\n", b"").count(b"\n") or \
               body.replace(b"\r\n", b"").count(b"\r"):
                errs.append("bare CR/LF in text body")
    # case-specific assertions
    s, d = c["short"], data
    if s == "escnull" and b"%00" not in d:
        errs.append("escnull must contain %00")
    if s == "escnull" and b"\x00" in d:
        errs.append("escnull must contain %00 text, not a NUL byte")
    if s == "longreq" and len(d) < 8192:
        errs.append("longreq should exceed 8 KiB")
    if s == "mpart01" and b"\x00" not in split_message(d)[1]:
        errs.append("mpart01 binary part must contain NULs")
    if s == "zeromf-self" and not d.startswith(b"OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n"):
        errs.append("zeromf-self Request-Line")
    if s in ("zeromf", "zeromf-self") and b"\r\nMax-Forwards: 0\r\n" not in d:
        errs.append("Max-Forwards: 0 missing")
    if s == "trws" and not d.startswith(b"OPTIONS sip:grace@example.com SIP/2.0   \r\n"):
        errs.append("trws must keep its trailing SP")
    if s == "clerr" and len(d) >= 9999:
        errs.append("clerr datagram must be shorter than its Content-Length")
    if s == "mcl01":
        head, body = split_message(d)
        if len(body) in (13, 5):
            errs.append("mcl01 body should match neither Content-Length")
    return errs


def check_all():
    bad = 0
    names = {c["file"] for c in CASES}
    on_disk = {f for f in os.listdir(HERE) if f.endswith(".sip")}
    for extra in sorted(on_disk - names):
        print(f"EXTRA  {extra}: not generated by gen.py")
        bad += 1
    for c in CASES:
        p = os.path.join(HERE, c["file"])
        if not os.path.exists(p):
            print(f"MISSING {c['file']}")
            bad += 1
            continue
        with open(p, "rb") as f:
            data = f.read()
        errs = check_one(c, data)
        if data != c["data"]:
            errs.append("file differs from generator output")
        for e in errs:
            print(f"FAIL   {c['file']}: {e}")
        bad += bool(errs)
    # VERDICTS consistency
    with open(os.path.join(HERE, "VERDICTS"), encoding="utf-8") as f:
        vlines = [ln for ln in f.read().splitlines() if ln.strip()]
    vfiles = []
    for ln in vlines:
        m = re.match(r"^(\S+\.sip) (accept|400|505|416|420|483|drop) # \S.*$", ln)
        if not m:
            print(f"FAIL   VERDICTS line malformed: {ln!r}")
            bad += 1
            continue
        vfiles.append(m.group(1))
    if sorted(vfiles) != sorted(names) or len(vfiles) != len(set(vfiles)):
        print("FAIL   VERDICTS does not list every file exactly once")
        bad += 1
    print(f"{len(CASES)} files checked, {bad} problem(s)")
    return bad == 0


def write_all():
    seen = set()
    for c in CASES:
        assert c["file"] not in seen, c["file"]
        seen.add(c["file"])
        with open(os.path.join(HERE, c["file"]), "wb") as f:
            f.write(c["data"])
    with open(os.path.join(HERE, "VERDICTS"), "w", encoding="utf-8", newline="\n") as f:
        f.write(verdicts_text())
    with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(readme_text())


if __name__ == "__main__":
    if "--check" not in sys.argv[1:]:
        write_all()
    sys.exit(0 if check_all() else 1)
