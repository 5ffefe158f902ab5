#include "dataplane/classify.hpp"

#include <cstring>
#include <span>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "shared/bytes.hpp"
#include "shared/header.hpp"
#include "shared/ppp.hpp"

namespace l2tp::dp {

namespace {

using wire::load_be16;

// Ethernet and at most one 802.1Q tag. Returns the L2 length and sets
// ether_type, or 0 when the frame is too short.
inline uint16_t parse_l2(const uint8_t* p, uint32_t len, uint16_t& ether_type) {
  if (len < RTE_ETHER_HDR_LEN) return 0;
  ether_type = load_be16(p + 12);
  if (ether_type != RTE_ETHER_TYPE_VLAN) return RTE_ETHER_HDR_LEN;
  if (len < RTE_ETHER_HDR_LEN + 4) return 0;
  ether_type = load_be16(p + 16);
  return RTE_ETHER_HDR_LEN + 4;
}

// Outer or core-side IPv4 header: version, IHL, total length within the
// frame. Returns the header length, or 0.
inline uint16_t check_ipv4(const uint8_t* ip, uint32_t avail, uint32_t frame_rest, uint16_t& total) {
  if (avail < sizeof(rte_ipv4_hdr)) return 0;
  if ((ip[0] >> 4) != 4) return 0;
  uint16_t ihl = static_cast<uint16_t>((ip[0] & 0x0F) * 4);
  total = load_be16(ip + 2);
  if (ihl < sizeof(rte_ipv4_hdr) || ihl > avail || total < ihl || total > frame_rest) return 0;
  return ihl;
}

}  // namespace

Verdict classify_upstream(const rte_mbuf* m, const SessionTable& table, uint16_t worker,
                          UpstreamPacket& out, Drop& drop) {
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  // Headers are read from the first segment; lengths are checked against
  // the whole packet.
  const uint32_t seg_len = rte_pktmbuf_data_len(m);
  const uint32_t pkt_len = rte_pktmbuf_pkt_len(m);

  uint16_t ether_type = 0;
  const uint16_t l2 = parse_l2(p, seg_len, ether_type);
  if (l2 == 0) return drop = Drop::kRunt, Verdict::kDrop;
  // neighbours are control's
  if (ether_type == RTE_ETHER_TYPE_ARP) return out.sequenced = false, Verdict::kControl;
  if (ether_type != RTE_ETHER_TYPE_IPV4) return drop = Drop::kNotIpv4, Verdict::kDrop;

  const uint8_t* ip = p + l2;
  uint16_t ip_total = 0;
  const uint16_t ihl = check_ipv4(ip, seg_len - l2, pkt_len - l2, ip_total);
  if (ihl == 0) return drop = Drop::kIpv4Header, Verdict::kDrop;
  // MF set or a fragment offset: L2TP over a fragment would need reassembly.
  if (load_be16(ip + 6) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
    return drop = Drop::kIpv4Fragment, Verdict::kDrop;
  if (ip[9] != IPPROTO_UDP) return drop = Drop::kNotL2tp, Verdict::kDrop;

  const uint32_t udp_at = l2 + ihl;
  if (seg_len < udp_at + sizeof(rte_udp_hdr)) return drop = Drop::kRunt, Verdict::kDrop;
  const uint8_t* udp = p + udp_at;
  const uint16_t src_port = load_be16(udp);
  const uint16_t dst_port = load_be16(udp + 2);
  // An LNS listens on 1701; a LAC may use another local port and sends to
  // the LNS's 1701 (RFC 2661 8.1).
  if (dst_port != wire::kL2tpPort && src_port != wire::kL2tpPort)
    return drop = Drop::kNotL2tp, Verdict::kDrop;
  const uint16_t udp_len = load_be16(udp + 4);
  if (udp_len < sizeof(rte_udp_hdr) || udp_len != ip_total - ihl)
    return drop = Drop::kUdpLength, Verdict::kDrop;

  const uint32_t l2tp_at = udp_at + sizeof(rte_udp_hdr);
  const uint32_t datagram_len = udp_len - sizeof(rte_udp_hdr);
  // The header must sit in the first segment (it always does off a NIC).
  const uint32_t readable = std::min(datagram_len, seg_len - l2tp_at);
  const uint8_t* l2tp = p + l2tp_at;
  if (readable < 2) return drop = Drop::kL2tpHeader, Verdict::kDrop;
  const uint16_t flags = load_be16(l2tp);
  // RFC 2661 3.1: a version other than 2 is discarded silently (L2TPv3
  // shares the port); control messages go to the control thread whole, to
  // be validated there.
  if ((flags & wire::kVersionMask) != wire::kVersion2) return drop = Drop::kL2tpVersion, Verdict::kDrop;
  if (flags & wire::kFlagType) return out.sequenced = false, Verdict::kControl;

  // What every data message must agree on, however it was parsed.
  uint16_t tunnel_id, session_id;
  uint32_t message_len;  // the L2TP message: header, PPP and padding-free payload
  uint32_t inner_at;     // the PPP information field, from the frame start
  bool ipv4 = true;      // PPP protocol IPv4
  bool sequenced = false;  // the fixed shapes have no S bit
  uint16_t ns = 0;
  if (const uint32_t fixed = detail::fixed_data_header(l2tp, flags, readable, datagram_len); fixed != 0) {
    tunnel_id = load_be16(l2tp + fixed - 4);
    session_id = load_be16(l2tp + fixed - 2);
    message_len = (flags & wire::kFlagLength) ? datagram_len : readable;
    inner_at = l2tp_at + fixed + 4;
  } else {
    auto header = wire::decode_header(std::span<const uint8_t>(l2tp, readable));
    if (!header) return drop = Drop::kL2tpHeader, Verdict::kDrop;
    const wire::Header& h = *header;
    // The Length field, when present, covers exactly the UDP payload.
    if (h.has_length && h.length != datagram_len) return drop = Drop::kL2tpHeader, Verdict::kDrop;
    tunnel_id = h.tunnel_id;
    session_id = h.session_id;
    message_len = h.message_len;
    sequenced = h.has_sequence;  // RFC 2661 5.4: Nr is ignored in data
    ns = h.ns;
    // RFC 2661 5.2 carries PPP without HDLC framing: FF 03 may be there or
    // not, and the protocol may be one octet (PFC, RFC 1661 6.5).
    auto ppp = wire::parse_ppp(std::span<const uint8_t>(l2tp + h.header_len, h.message_len - h.header_len));
    // Checked after the session, as the fixed shapes are.
    if (!ppp) {
      inner_at = 0;
    } else {
      inner_at = static_cast<uint32_t>(ppp->information.data() - p);
      ipv4 = ppp->protocol == wire::ppp::kIpv4;
    }
  }

  uint64_t addrs;
  uint32_t ports;
  std::memcpy(&addrs, ip + 12, 8);
  std::memcpy(&ports, udp, 4);
  const Session* s = detail::matching_session(table, tunnel_id, session_id, addrs, ports);
  if (s == nullptr) return drop = Drop::kUnknownSession, Verdict::kDrop;

  if (inner_at == 0) return drop = Drop::kPppHeader, Verdict::kDrop;
  out.session = s;
  out.sequenced = sequenced;
  out.ns = ns;
  if (!ipv4 || !s->in_fast_path()) return Verdict::kControl;
  if (s->owner_worker != worker) return Verdict::kHandoff;

  out.inner_offset = static_cast<uint16_t>(inner_at);
  out.inner_len = static_cast<uint16_t>(l2tp_at + message_len - inner_at);
  return Verdict::kFast;
}

uint16_t upstream_session_hint(const rte_mbuf* m) {
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t seg_len = rte_pktmbuf_data_len(m);
  uint16_t ether_type = 0;
  const uint32_t l2 = parse_l2(p, seg_len, ether_type);
  if (l2 == 0 || ether_type != RTE_ETHER_TYPE_IPV4 || seg_len < l2 + sizeof(rte_ipv4_hdr)) return 0;
  const uint32_t l2tp_at = l2 + (p[l2] & 0x0F) * 4u + sizeof(rte_udp_hdr);
  if (seg_len < l2tp_at + 8) return 0;
  const uint16_t flags = load_be16(p + l2tp_at);
  if (flags & wire::kFlagType) return 0;
  return load_be16(p + l2tp_at + ((flags & wire::kFlagLength) ? 6 : 4));
}

Verdict classify_downstream(const rte_mbuf* m, DownstreamPacket& out, Drop& drop) {
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t seg_len = rte_pktmbuf_data_len(m);
  const uint32_t pkt_len = rte_pktmbuf_pkt_len(m);

  uint16_t ether_type = 0;
  const uint16_t l2 = parse_l2(p, seg_len, ether_type);
  if (l2 == 0) return drop = Drop::kRunt, Verdict::kDrop;
  if (ether_type == RTE_ETHER_TYPE_ARP) return Verdict::kControl;
  if (ether_type != RTE_ETHER_TYPE_IPV4) return drop = Drop::kNotIpv4, Verdict::kDrop;

  const uint8_t* ip = p + l2;
  uint16_t ip_total = 0;
  if (check_ipv4(ip, seg_len - l2, pkt_len - l2, ip_total) == 0)
    return drop = Drop::kIpv4Header, Verdict::kDrop;
  std::memcpy(&out.dst, ip + 16, 4);
  out.l2_len = l2;
  out.ip_len = ip_total;
  return Verdict::kFast;
}

}  // namespace l2tp::dp
