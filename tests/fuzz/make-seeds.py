#!/usr/bin/env python3
"""Regenerate the libFuzzer seed corpora from the real captures.

    tests/fuzz/make-seeds.py            # from the repo root or anywhere

Reads tests/captures/*.pcap (classic pcap, link type 1 Ethernet, optional
802.1Q/QinQ tags, IPv4, UDP port 1701) with the standard library alone and
writes, deterministically:

  corpus/header/<pcap>-<frame>.bin   each distinct L2TP UDP payload
  corpus/message/<pcap>-<frame>.bin  the same payloads (the message decoder's input)
  corpus/avp/<pcap>-<frame>.bin      each distinct, non-empty AVP region of a
                                     control message (the bytes after its header)

<frame> is the 1-based frame number in the capture, as Wireshark shows it; a
payload that repeats keeps the name of its first occurrence. Files these
directories hold that the captures no longer produce are removed, so the
corpus is exactly what the captures give.
"""

import hashlib
import pathlib
import struct
import sys

L2TP_PORT = 1701
ETH_P_IPV4 = 0x0800
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
LINKTYPE_ETHERNET = 1

HERE = pathlib.Path(__file__).resolve().parent
CAPTURES = HERE.parent / "captures"
CORPUS = HERE / "corpus"


def pcap_records(path):
    """Yield (frame_number, bytes) for every record of a classic pcap file."""
    data = path.read_bytes()
    if len(data) < 24:
        raise ValueError(f"{path}: too short for a pcap global header")
    magic = data[:4]
    # Microsecond and nanosecond magics, both byte orders.
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file (pcapng is not supported)")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    if linktype != LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: link type {linktype}, expected 1 (Ethernet)")
    off = 24
    frame = 0
    while off + 16 <= len(data):
        _, _, incl_len, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + incl_len > len(data):
            raise ValueError(f"{path}: record {frame + 1} truncated")
        frame += 1
        yield frame, data[off:off + incl_len]
        off += incl_len


def l2tp_payload(frame):
    """The UDP payload of an Ethernet/[802.1Q...]/IPv4/UDP 1701 frame, or None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    off = 14
    while ethertype in VLAN_TPIDS:
        if len(frame) < off + 4:
            return None
        ethertype = struct.unpack("!H", frame[off + 2:off + 4])[0]
        off += 4
    if ethertype != ETH_P_IPV4 or len(frame) < off + 20:
        return None
    ver_ihl = frame[off]
    ihl = (ver_ihl & 0x0F) * 4
    if ver_ihl >> 4 != 4 or ihl < 20:
        return None
    total_len = struct.unpack("!H", frame[off + 2:off + 4])[0]
    frag = struct.unpack("!H", frame[off + 6:off + 8])[0]
    proto = frame[off + 9]
    if proto != 17 or frag & 0x3FFF:  # not UDP, or a fragment (MF set or offset)
        return None
    # Trust the IP and UDP lengths, not the capture length: short frames carry
    # Ethernet padding (a ZLB is 60 bytes on the wire for a 12-byte payload).
    ip_end = min(off + total_len, len(frame))
    udp = off + ihl
    if ip_end < udp + 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", frame[udp:udp + 6])
    if L2TP_PORT not in (sport, dport) or ulen < 8:
        return None
    return bytes(frame[udp + 8:min(udp + ulen, ip_end)])


def avp_region(payload):
    """The AVPs of a control message (RFC 2661 3.1), or None for data messages."""
    if len(payload) < 2:
        return None
    flags = struct.unpack("!H", payload[:2])[0]
    if not flags & 0x8000:  # T=0: data message
        return None
    has_len, has_seq, has_off = flags & 0x4000, flags & 0x0800, flags & 0x0200
    hlen = 2 + (2 if has_len else 0) + 4 + (4 if has_seq else 0)
    end = len(payload)
    if has_len and len(payload) >= 4:
        end = min(end, struct.unpack("!H", payload[2:4])[0])
    if has_off:
        if len(payload) < hlen + 2:
            return None
        hlen += 2 + struct.unpack("!H", payload[hlen:hlen + 2])[0]
    if hlen > end:
        return None
    return payload[hlen:end]


def main():
    pcaps = sorted(CAPTURES.glob("*.pcap"))
    if not pcaps:
        sys.exit(f"make-seeds: no captures in {CAPTURES}")
    seeds = {"header": {}, "message": {}, "avp": {}}  # kind -> {name: bytes}
    seen = {kind: set() for kind in seeds}

    def add(kind, name, blob):
        digest = hashlib.sha256(blob).digest()
        if digest not in seen[kind]:
            seen[kind].add(digest)
            seeds[kind][name] = blob

    for pcap in pcaps:
        for frame_no, frame in pcap_records(pcap):
            payload = l2tp_payload(frame)
            if payload is None:
                continue
            name = f"{pcap.stem}-{frame_no}.bin"
            add("header", name, payload)
            add("message", name, payload)
            region = avp_region(payload)
            if region:  # a ZLB has no AVPs: nothing to seed
                add("avp", name, region)

    for kind, files in seeds.items():
        out = CORPUS / kind
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob("*.bin"):
            if stale.name not in files:
                stale.unlink()
        for name, blob in files.items():
            path = out / name
            if not path.exists() or path.read_bytes() != blob:
                path.write_bytes(blob)
        print(f"make-seeds: {kind}: {len(files)} seeds in {out.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
