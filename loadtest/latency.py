#!/usr/bin/env python3
"""Response-time percentiles for the sipedge load tests (python3 stdlib only).

Two sources of per-request response times:

  pcap FILE        a packet capture (tcpdump -w, any link type tcpdump writes
                   on Linux, micro- or nanosecond timestamps). Every SIP
                   request is paired with the first final response (>= 200)
                   carrying the same Call-ID and CSeq; the response time is
                   (first response seen) - (first copy of the request seen),
                   so a retransmitted request counts from its first send, as
                   in SIPp. Kernel timestamps: sub-microsecond resolution,
                   and no client scheduling noise.
  sipp-rtt FILE..  SIPp's `-trace_rtt -rtt_freq 1` CSV
                   (Date_ms;response_time_ms;rtd_no). SIPp 3.6 reads a coarse
                   clock: values are whole multiples of the kernel tick
                   (4 ms at HZ=250), so on loopback nearly all read 0.

Percentiles are computed exactly as HdrHistogram does (Java 2.1.x
AbstractHistogram.getValueAtPercentile, lowest discernible value 1 ns,
3 significant digits): count_at = max(1, ceil(p/100 * N)); the answer is
the highest value equivalent to the count_at-th smallest recording, i.e.
within 0.1% above the exact nearest-rank percentile. max is likewise the
highest equivalent value of the largest recording. Values are printed in
milliseconds with microsecond precision.

Output: shell assignments (PREFIX_N=..., PREFIX_P50_MS=..., ...) for
`eval` in loadtest/lib.sh, or a human summary with --human.
"""

import argparse
import math
import struct
import sys

PERCENTILES = [("P50", 50.0), ("P90", 90.0), ("P99", 99.0), ("P999", 99.9)]

# ------------------------------------------------------------- HdrHistogram
# Bucket layout for lowest_discernible_value=1, significant_digits=3:
# largest value with single-unit resolution 2*10^3 -> 2048 sub-buckets.
SUB_BUCKET_COUNT_MAGNITUDE = 11  # ceil(log2(2000))
SUB_BUCKET_MASK = (1 << SUB_BUCKET_COUNT_MAGNITUDE) - 1


def hdr_highest_equivalent(v):
    """HdrHistogram highestEquivalentValue(v) for unit magnitude 0."""
    v = max(0, int(v))
    bucket = max(0, (v | SUB_BUCKET_MASK).bit_length() - SUB_BUCKET_COUNT_MAGNITUDE)
    sub = v >> bucket
    lowest = sub << bucket
    return lowest + (1 << bucket) - 1


def hdr_percentile(sorted_ns, pct):
    """getValueAtPercentile over a sorted list of integer nanoseconds."""
    n = len(sorted_ns)
    if n == 0:
        return None
    # Java: nextAfter(p, -inf) then ceil, so an exact product is not bumped.
    p = min(max(math.nextafter(pct, -math.inf), 0.0), 100.0)
    count_at = max(1, math.ceil(p * n / 100.0))
    return hdr_highest_equivalent(sorted_ns[min(count_at, n) - 1])


def summarize(values_ns, prefix, source, extra):
    vals = sorted(int(v) for v in values_ns)
    out = {"SRC": source, "N": len(vals)}
    out.update(extra)
    if vals:
        for key, pct in PERCENTILES:
            out[key + "_MS"] = "%.3f" % (hdr_percentile(vals, pct) / 1e6)
        out["MAX_MS"] = "%.3f" % (hdr_highest_equivalent(vals[-1]) / 1e6)
        out["MEAN_MS"] = "%.3f" % (sum(vals) / len(vals) / 1e6)
    else:
        for key, _ in PERCENTILES:
            out[key + "_MS"] = "n/a"
        out["MAX_MS"] = out["MEAN_MS"] = "n/a"
    return vals, {prefix + k: v for k, v in out.items()}


# ------------------------------------------------------------- pcap reader
def pcap_packets(path):
    """Yield (timestamp_ns, linktype, frame bytes) from a libpcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    table = {
        b"\xd4\xc3\xb2\xa1": ("<", 1000), b"\xa1\xb2\xc3\xd4": (">", 1000),
        b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1),
    }
    if magic not in table:
        raise SystemExit("%s: not a libpcap file (pcapng is not supported)" % path)
    endian, frac_to_ns = table[magic]
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    rec = struct.Struct(endian + "IIII")
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = rec.unpack_from(data, off)
        off += 16
        frame = data[off:off + incl]
        off += incl
        yield sec * 1_000_000_000 + frac * frac_to_ns, linktype, frame


def udp_payload(linktype, frame):
    """Return (src_port, dst_port, payload) of an IPv4/IPv6 UDP frame, or None."""
    if linktype == 1:  # Ethernet, possibly VLAN-tagged
        if len(frame) < 14:
            return None
        etype, off = struct.unpack_from(">H", frame, 12)[0], 14
        while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            etype, off = struct.unpack_from(">H", frame, off + 2)[0], off + 4
    elif linktype == 113:  # Linux cooked v1
        if len(frame) < 16:
            return None
        etype, off = struct.unpack_from(">H", frame, 14)[0], 16
    elif linktype == 276:  # Linux cooked v2
        if len(frame) < 20:
            return None
        etype, off = struct.unpack_from(">H", frame, 0)[0], 20
    elif linktype in (12, 101):  # raw IP
        if not frame:
            return None
        etype = 0x0800 if frame[0] >> 4 == 4 else 0x86DD
        off = 0
    elif linktype == 0:  # BSD loopback
        etype, off = 0x0800, 4
    else:
        return None
    if etype == 0x0800:
        if len(frame) < off + 20:
            return None
        ihl = (frame[off] & 0x0F) * 4
        flags_frag = struct.unpack_from(">H", frame, off + 6)[0]
        if frame[off + 9] != 17 or flags_frag & 0x1FFF:
            return None  # not UDP, or a non-first fragment
        off += ihl
    elif etype == 0x86DD:
        if len(frame) < off + 40 or frame[off + 6] != 17:
            return None  # extension headers are not followed
        off += 40
    else:
        return None
    if len(frame) < off + 8:
        return None
    sport, dport = struct.unpack_from(">HH", frame, off)
    return sport, dport, frame[off + 8:]


def sip_key(payload):
    """(is_request, method_or_status, key) for a SIP message, or None."""
    end = payload.find(b"\r\n\r\n")
    head = payload if end < 0 else payload[:end]
    lines = head.split(b"\r\n")
    first = lines[0]
    if first.startswith(b"SIP/2.0 "):
        try:
            status = int(first[8:11])
        except ValueError:
            return None
        is_req, what = False, status
    else:
        parts = first.split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"SIP/"):
            return None
        is_req, what = True, parts[0].decode("ascii", "replace")
    callid = cseq = None
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        name = name.strip().lower()
        if name in (b"call-id", b"i"):
            callid = value.strip()
        elif name == b"cseq":
            cseq = b" ".join(value.split())
    if callid is None or cseq is None:
        return None
    return is_req, what, (callid, cseq)


def cmd_pcap(args):
    sent = {}       # key -> first request timestamp
    answered = {}   # key -> first final response timestamp
    packets = non_sip = other_methods = 0
    statuses = {}
    for ts, lt, frame in pcap_packets(args.file):
        packets += 1
        u = udp_payload(lt, frame)
        if u is None:
            continue
        sport, dport, payload = u
        if args.port and args.port not in (sport, dport):
            continue
        k = sip_key(payload)
        if k is None:
            # e.g. nathelper's 4-byte UDP keepalives, or CRLF pings
            non_sip += 1
            continue
        is_req, what, key = k
        if is_req:
            if args.method and what != args.method:
                other_methods += 1
                continue
            sent.setdefault(key, ts)
        elif what >= 200 and key not in answered:
            answered[key] = ts
            statuses[what] = statuses.get(what, 0) + 1
    values = []
    for key, t0 in sent.items():
        t1 = answered.get(key)
        if t1 is not None and t1 >= t0:
            values.append(t1 - t0)
    extra = {
        "REQUESTS": len(sent),
        "UNANSWERED": len(sent) - len(values),
        "PACKETS": packets,
        "NON_SIP": non_sip,
        "STATUSES": ",".join("%dx%d" % (c, s) for s, c in sorted(statuses.items())) or "none",
    }
    return values, extra


def cmd_sipp_rtt(args):
    values = []
    for path in args.files:
        with open(path) as f:
            for line in f:
                parts = line.strip().split(";")
                if len(parts) < 3 or parts[2] != str(args.rtd):
                    continue
                try:
                    values.append(round(float(parts[1]) * 1e6))  # ms -> ns
                except ValueError:
                    continue  # header line
    return values, {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prefix", default="LAT_", help="variable prefix (default LAT_)")
    ap.add_argument("--human", action="store_true", help="print a summary instead of shell variables")
    ap.add_argument("--dump", help="write the response times (microseconds, one per line, sorted) here")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pcap", help="pair requests and final responses in a capture")
    p.add_argument("file")
    p.add_argument("--port", type=int, default=0, help="only datagrams from or to this UDP port")
    p.add_argument("--method", default="REGISTER", help="request method to time ('' = any)")
    s = sub.add_parser("sipp-rtt", help="SIPp -trace_rtt CSV file(s)")
    s.add_argument("files", nargs="+")
    s.add_argument("--rtd", type=int, default=1, help="rtd timer number (default 1)")
    args = ap.parse_args()

    if args.cmd == "pcap":
        values, extra = cmd_pcap(args)
        source = "pcap"
    else:
        values, extra = cmd_sipp_rtt(args)
        source = "sipp-rtt"
    vals, out = summarize(values, args.prefix, source, extra)
    if args.dump:
        with open(args.dump, "w") as f:
            f.writelines("%.3f\n" % (v / 1e3) for v in vals)
    if args.human:
        for k, v in out.items():
            print("%-24s %s" % (k[len(args.prefix):], v))
    else:
        for k, v in out.items():
            sv = str(v)
            print("%s='%s'" % (k, sv.replace("'", "'\\''")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
