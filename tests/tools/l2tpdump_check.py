#!/usr/bin/env python3
"""l2tpdump against tshark, and l2tpdump's error paths.

Prints PASS:/FAIL:/SKIP: lines (tests/run counts them). Usage:
  l2tpdump_check.py L2TPDUMP CAPTURE_DIR
"""
import hashlib
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile

L2TPDUMP, CAPTURES = sys.argv[1], sys.argv[2]
failures = 0

# l2tpdump's AVP keys, by attribute type (RFC 2661 4.4).
KEYS = {
    "ResultCode": 1, "ProtocolVersion": 2, "FramingCapabilities": 3, "BearerCapabilities": 4,
    "TieBreaker": 5, "FirmwareRevision": 6, "HostName": 7, "VendorName": 8, "AssignedTunnelID": 9,
    "ReceiveWindowSize": 10, "Challenge": 11, "Q931Cause": 12, "ChallengeResponse": 13,
    "AssignedSessionID": 14, "CallSerialNumber": 15, "MinimumBPS": 16, "MaximumBPS": 17,
    "BearerType": 18, "FramingType": 19, "CalledNumber": 21, "CallingNumber": 22, "SubAddress": 23,
    "TxConnectSpeed": 24, "PhysicalChannelID": 25, "InitialReceivedLcpConfReq": 26,
    "LastSentLcpConfReq": 27, "LastReceivedLcpConfReq": 28, "ProxyAuthenType": 29,
    "ProxyAuthenName": 30, "ProxyAuthenChallenge": 31, "ProxyAuthenID": 32,
    "ProxyAuthenResponse": 33, "CallErrors": 34, "ACCM": 35, "RandomVector": 36,
    "PrivateGroupID": 37, "RxConnectSpeed": 38, "SequencingRequired": 39,
}
MESSAGES = {"SCCRQ": 1, "SCCRP": 2, "SCCCN": 3, "StopCCN": 4, "HELLO": 6, "OCRQ": 7, "OCRP": 8,
            "OCCN": 9, "ICRQ": 10, "ICRP": 11, "ICCN": 12, "CDN": 14, "WEN": 15, "SLI": 16}
PPP = {"LCP": 0xC021, "PAP": 0xC023, "CHAP": 0xC223, "IPCP": 0x8021, "IPV6CP": 0x8057,
       "IPv4": 0x0021, "IPv6": 0x0057, "CCP": 0x80FD}
# tshark field -> (l2tpdump key, how to turn l2tpdump's value into tshark's text)
VALUE_FIELDS = [
    ("l2tp.avp.host_name", "HostName", str),
    ("l2tp.avp.vendor_name", "VendorName", str),
    ("l2tp.avp.assigned_tunnel_id", "AssignedTunnelID", str),
    ("l2tp.avp.assigned_session_id", "AssignedSessionID", str),
    ("l2tp.avp.receive_window_size", "ReceiveWindowSize", str),
    ("l2tp.avp.chap_challenge", "Challenge", str),
    ("l2tp.avp.chap_challenge_response", "ChallengeResponse", lambda v: v.split("(")[0]),
    ("l2tp.avp.random_vector", "RandomVector", str),
    ("l2tp.avp.firmware_revision", "FirmwareRevision", lambda v: str(int(v, 16))),
    ("l2tp.avp.call_serial_number", "CallSerialNumber", str),
    ("l2tp.avp.connect_speed", "TxConnectSpeed", str),
    ("l2tp.avp.rx_connect_speed", "RxConnectSpeed", str),
    ("l2tp.result_code", "ResultCode", lambda v: v.split(",")[0]),
    ("l2tp.avp.error_code", "ResultCode", lambda v: v.split(",")[1] if "," in v else ""),
    ("l2tp.avp.error_message", "ResultCode", lambda v: v.split(",", 2)[2] if v.count(",") >= 2 else ""),
]


def report(ok, name, detail=""):
    global failures
    if ok:
        print(f"PASS: {name}")
    else:
        failures += 1
        print(f"FAIL: {name}{': ' + detail if detail else ''}")


def run(args):
    p = subprocess.run([L2TPDUMP] + args, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def parse_l2tpdump(stdout):
    """frame -> dict(tunnel, session, ns, nr, msg, avps=[(type, M, H, value)], ppp)"""
    out = {}
    for line in stdout.splitlines():
        if line.startswith("#"):
            continue
        tok = shlex.split(line)
        rec = {"avps": [], "msg": None, "ppp": None, "ns": "", "nr": ""}
        frame = int(tok[0])
        i = 5  # frame time src > dst
        while i < len(tok):
            t = tok[i]
            if t in ("tunnel", "session", "ns", "nr", "offset"):
                rec[t] = tok[i + 1]
                i += 2
                continue
            if t in MESSAGES or t == "ZLB":
                rec["msg"] = t
            elif t == "DATA":
                rest = [x for x in tok[i + 1:] if x != "(L)"]
                rec["ppp"] = rest[0]
                break
            else:
                m = t.startswith("*")
                t = t.lstrip("*")
                h = t.startswith("?")
                t = t.lstrip("?")
                key, _, value = t.partition("=")
                rec["avps"].append((KEYS.get(key, key), m, h, key, value))
            i += 1
        out[frame] = rec
    return out


def tshark(path):
    fields = ["frame.number", "l2tp.type", "l2tp.tunnel", "l2tp.session", "l2tp.Ns", "l2tp.Nr",
              "l2tp.avp.message_type", "l2tp.avp.type", "l2tp.avp.mandatory", "l2tp.avp.hidden",
              "ppp.protocol"] + [f for f, _, _ in VALUE_FIELDS]
    args = ["tshark", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "aggregator=\x1f",
            "-E", "occurrence=a"]
    for f in fields:
        args += ["-e", f]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    rows = {}
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        rows[int(cols[0])] = dict(zip(fields, cols))
    return rows


def compare_capture(name):
    path = os.path.join(CAPTURES, name)
    rc, stdout, stderr = run(["--secret", "s3cr3t-tunnel-key", path])
    if rc != 0:
        report(False, f"l2tpdump decodes {name}", f"exit {rc}: {stderr.strip()}")
        return
    ours, theirs = parse_l2tpdump(stdout), tshark(path)
    problems, checked = [], 0
    if sorted(ours) != sorted(theirs):
        problems.append(f"frames differ: ours {sorted(ours)} tshark {sorted(theirs)}")
    for frame, t in theirs.items():
        o = ours.get(frame)
        if o is None:
            continue

        def check(what, a, b):
            nonlocal checked
            checked += 1
            if a != b:
                problems.append(f"frame {frame} {what}: l2tpdump {a!r} tshark {b!r}")

        check("tunnel", o.get("tunnel"), t["l2tp.tunnel"])
        check("session", o.get("session"), t["l2tp.session"])
        check("ns", o["ns"], t["l2tp.Ns"])
        check("nr", o["nr"], t["l2tp.Nr"])
        if o["ppp"] is not None:
            proto = t["ppp.protocol"].split("\x1f")[0]
            check("PPP protocol", PPP.get(o["ppp"]), int(proto, 16) if proto else None)
            continue
        if o["msg"] == "ZLB":
            check("ZLB has no AVPs", "", t["l2tp.avp.type"])
            continue
        check("message type", str(MESSAGES[o["msg"]]), t["l2tp.avp.message_type"])
        types = t["l2tp.avp.type"].split("\x1f")[1:]  # [0] is Message Type
        check("AVP types", [str(a[0]) for a in o["avps"]], types)
        check("M bits", ["1" if a[1] else "0" for a in o["avps"]], t["l2tp.avp.mandatory"].split("\x1f")[1:])
        check("H bits", ["1" if a[2] else "0" for a in o["avps"]], t["l2tp.avp.hidden"].split("\x1f")[1:])
        values = {a[3]: a[4] for a in o["avps"]}
        for field, key, conv in VALUE_FIELDS:
            if t[field] == "" and key not in values:
                continue
            check(field, conv(values.get(key, "")) if key in values else None, t[field])
    report(not problems, f"l2tpdump matches tshark on {name} ({len(theirs)} packets, {checked} fields)",
           "; ".join(problems[:5]))


# --- crafted captures -------------------------------------------------------

def pcap(frames):
    """Ethernet/IPv4/UDP 1701 pcap holding the given L2TP payloads."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, payload in enumerate(frames):
        udp = struct.pack("!HHHH", 1701, 1701, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                         bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])) + udp
        eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip
        out += struct.pack("<IIII", i, 0, len(eth), len(eth)) + eth
    return out


def avp(t, value, m=True, h=False, vendor=0):
    flags = (0x8000 if m else 0) | (0x4000 if h else 0) | (6 + len(value))
    return struct.pack("!HHH", flags, vendor, t) + value


def control(avps, tid=0, sid=0, ns=0, nr=0):
    body = b"".join(avps)
    return struct.pack("!HHHHHH", 0xC802, 12 + len(body), tid, sid, ns, nr) + body


def hide(t, secret, rv, value, pad=0):
    """RFC 2661 4.3 with hashlib: the independent implementation."""
    plain = len(value).to_bytes(2, "big") + value + bytes(pad)
    out, key = b"", hashlib.md5(t.to_bytes(2, "big") + secret + rv).digest()
    for i in range(0, len(plain), 16):
        c = bytes(p ^ k for p, k in zip(plain[i:i + 16], key))
        out += c
        key = hashlib.md5(secret + c).digest()
    return out


def crafted_tests(tmp):
    secret, rv = b"hidden-secret", bytes.fromhex("00112233445566778899aabbccddeeff")
    sccrq = control([
        avp(0, b"\x00\x01"), avp(36, rv), avp(2, b"\x01\x00"), avp(3, b"\x00\x00\x00\x03"),
        avp(7, b"lac-hidden"),
        avp(9, hide(9, secret, rv, (4242).to_bytes(2, "big"), 14), h=True),
        avp(11, hide(11, secret, rv, bytes(range(40)), 3), h=True),
        avp(8, hide(8, secret, rv, b"vendor \"quoted\""), m=False, h=True),
    ])
    path = os.path.join(tmp, "hidden.pcap")
    open(path, "wb").write(pcap([sccrq]))
    rc, out, err = run(["--secret", secret.decode(), path])
    report(rc == 0 and "*?AssignedTunnelID=4242" in out and "*?Challenge=" + bytes(range(40)).hex() in out
           and '?VendorName="vendor \\"quoted\\""' in out,
           "l2tpdump --secret reveals hidden AVPs made by an independent implementation", out + err)
    rc, out, err = run([path])
    report(rc == 1 and "frame 1" in err and "without a shared secret" in err and "Assigned Tunnel ID" in err,
           "l2tpdump names frame and AVP of a hidden AVP it cannot reveal without --secret", f"rc={rc} {err}")
    rc, out, err = run(["--secret", "wrong", path])
    report(rc != 0, "l2tpdump with the wrong secret does not pass hidden AVPs off as decoded", f"rc={rc} {out}")

    # Hidden AVP with no Random Vector before it.
    norv = control([avp(0, b"\x00\x01"), avp(9, hide(9, secret, rv, b"\x00\x01"), h=True), avp(36, rv)])
    path = os.path.join(tmp, "norv.pcap")
    open(path, "wb").write(pcap([norv]))
    rc, out, err = run(["--secret", secret.decode(), path])
    report(rc == 1 and "Random Vector" in err and "Assigned Tunnel ID" in err,
           "l2tpdump reports a hidden AVP with no Random Vector before it", err)

    # Truncated AVP (its length runs past the message) in frame 2, after a good frame.
    good = control([avp(0, b"\x00\x06")])
    bad = control([avp(0, b"\x00\x01")]) + b""
    bad = bad[:2] + struct.pack("!H", len(bad) + 4) + bad[4:] + struct.pack("!HHH", 0x8010, 0, 7)[:4]
    path = os.path.join(tmp, "trunc.pcap")
    open(path, "wb").write(pcap([good, bad]))
    rc, out, err = run([path])
    report(rc == 1 and "frame 2" in err and "AVP" in err and "HELLO" in out,
           "l2tpdump names the frame and field of a truncated AVP and goes on", f"rc={rc} {out} {err}")

    # Missing required AVP: an ICRQ without Call Serial Number (RFC 2661 6.6).
    icrq = control([avp(0, b"\x00\x0a"), avp(14, b"\x00\x07")], tid=5)
    path = os.path.join(tmp, "missing.pcap")
    open(path, "wb").write(pcap([icrq]))
    rc, out, err = run([path])
    report(rc == 1 and "missing required AVP in Call Serial Number" in err,
           "l2tpdump names the required AVP a message lacks", err)

    # L2TPv3 on the same port: not ours, reported and not an error (RFC 2661 3.1).
    v3 = struct.pack("!HHI", 0xC803, 12, 0) + b"\x00" * 4
    path = os.path.join(tmp, "v3.pcap")
    open(path, "wb").write(pcap([v3]))
    rc, out, err = run([path])
    report(rc == 0 and "L2TP version 3, not decoded" in out, "l2tpdump passes over L2TP version 3", out + err)

    # Unknown mandatory AVP: decoded, flagged (RFC 2661 4.2).
    unk = control([avp(0, b"\x00\x06"), avp(77, b"xyz")], tid=9)
    path = os.path.join(tmp, "unknown.pcap")
    open(path, "wb").write(pcap([unk]))
    rc, out, err = run([path])
    report(rc == 0 and "*AVP-77=78797a" in out and "unrecognized mandatory AVP" in out,
           "l2tpdump flags an unrecognized mandatory AVP", out + err)

    # Wrong secret: the challenge responses of a real capture do not verify.
    rc, out, err = run(["--secret", "not-the-secret", os.path.join(CAPTURES, "xl2tpd-auth.pcap")])
    report(rc == 1 and "frame 2" in err and "Challenge Response" in err and "(MISMATCH)" in out,
           "l2tpdump rejects challenge responses under the wrong secret", f"rc={rc} {err}")
    rc, out, err = run(["--secret", "s3cr3t-tunnel-key", os.path.join(CAPTURES, "xl2tpd-auth.pcap")])
    report(rc == 0 and out.count("(verified)") == 2, "l2tpdump verifies both challenge responses of xl2tpd-auth.pcap",
           out)

    rc, out, err = run(["--help"])
    report(rc == 0 and "Usage: l2tpdump" in out and "--secret" in out, "l2tpdump --help")
    rc, out, err = run([])
    report(rc == 2 and "no capture file" in err, "l2tpdump without a file exits 2 with a message", err)
    rc, out, err = run([os.path.join(tmp, "does-not-exist.pcap")])
    report(rc == 2 and "does-not-exist.pcap" in err, "l2tpdump names a file it cannot read", err)


if __name__ == "__main__":
    if shutil.which("tshark") is None:
        print("SKIP: l2tpdump matches tshark: tshark is not installed (tools/setup-deps installs it)")
    else:
        for name in ("xl2tpd-basic.pcap", "xl2tpd-auth.pcap", "xl2tpd-user.pcap"):
            compare_capture(name)
    with tempfile.TemporaryDirectory() as tmp:
        crafted_tests(tmp)
    sys.exit(1 if failures else 0)
