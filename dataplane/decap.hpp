#pragma once
// Upstream fast path: L2TP/PPP off, the subscriber's IPv4 packet out of the
// core port (DESIGN.md "Packet paths").

#include <cstdint>
#include <cstring>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/checksum.hpp"
#include "dataplane/classify.hpp"

namespace l2tp::dp {

// The core port's Ethernet header for routed traffic: our MAC, the next
// hop's, and a VLAN (0 = untagged).
struct CoreNextHop {
  rte_ether_addr src{};
  rte_ether_addr dst{};
  uint16_t vlan = 0;
};

// CoreNextHop as the octets written in front of an inner packet for the
// core port (Ethernet [+ 802.1Q] with type IPv4), built once.
struct CoreL2Header {
  uint8_t octets[24]{};
  uint16_t len = RTE_ETHER_HDR_LEN;  // 14, or 18 tagged

  CoreL2Header() = default;
  explicit CoreL2Header(const CoreNextHop& hop) {
    std::memcpy(octets, &hop.dst, RTE_ETHER_ADDR_LEN);
    std::memcpy(octets + 6, &hop.src, RTE_ETHER_ADDR_LEN);
    if (hop.vlan) {
      const rte_be16_t tag[2] = {rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN), rte_cpu_to_be_16(hop.vlan)};
      std::memcpy(octets + 12, tag, 4);
      len = RTE_ETHER_HDR_LEN + 4;
    }
    const rte_be16_t ipv4_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    std::memcpy(octets + len - 2, &ipv4_type, 2);
  }

  // Writes the header into the len octets that end at ip, where the inner
  // IPv4 header begins: overlapping 8-octet stores from both ends (and the
  // middle, tagged).
  void write_before(uint8_t* ip) const {
    uint8_t* eth = ip - len;
    std::memcpy(eth, octets, 8);
    if (len > 16) std::memcpy(eth + 8, octets + 8, 8);
    std::memcpy(ip - 8, octets + len - 8, 8);
  }
};

// Turns the frame classify_upstream() accepted into Ethernet / inner IPv4
// for the core port: checks the inner header, enforces the session's
// subscriber address as source (anti-spoofing), decrements TTL with an
// incremental checksum, drops link padding, and counts the packet on the
// session. false with drop set when the packet must be freed; the mbuf is
// then unchanged. Inline: it runs once per packet in the worker's loop.
[[gnu::always_inline]] inline bool decap_ipv4(rte_mbuf* m, const UpstreamPacket& pkt, const CoreL2Header& l2h,
                                              SessionState& state, Drop& drop) {
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  uint8_t* ip = frame + pkt.inner_offset;
  if (pkt.inner_len < sizeof(rte_ipv4_hdr) ||
      rte_pktmbuf_data_len(m) < pkt.inner_offset + sizeof(rte_ipv4_hdr) || (ip[0] >> 4) != 4)
    return drop = Drop::kInnerIpv4Header, false;
  const uint16_t ihl = static_cast<uint16_t>((ip[0] & 0x0F) * 4);
  const uint16_t total = static_cast<uint16_t>((ip[2] << 8) | ip[3]);
  if (ihl < sizeof(rte_ipv4_hdr) || total < ihl || total > pkt.inner_len)
    return drop = Drop::kInnerIpv4Header, false;
  // Anti-spoofing: a subscriber sends from the address IPCP gave it.
  if (std::memcmp(ip + 12, &pkt.session->subscriber_addr, 4) != 0) return drop = Drop::kSpoofedSource, false;
  // RFC 1812 5.3.1: a router must not forward a packet whose TTL reaches 0.
  if (ip[8] <= 1) return drop = Drop::kTtlExceeded, false;

  const uint16_t l2 = l2h.len;
  // PPP padding or anything past the inner total length is not forwarded.
  const uint32_t excess = rte_pktmbuf_pkt_len(m) - pkt.inner_offset - total;
  if (excess != 0 && rte_pktmbuf_trim(m, static_cast<uint16_t>(excess)) != 0) [[unlikely]]
    return drop = Drop::kInnerIpv4Header, false;
  ipv4_decrement_ttl(ip);

  // The outer headers are always longer than the new L2 header (at least
  // Ethernet + IPv4 + UDP + 6 octets of L2TP + 1 of PPP), and lie in the
  // first segment (classify read them there): the data start moves on.
  const uint16_t cut = static_cast<uint16_t>(pkt.inner_offset - l2);
  m->data_off = static_cast<uint16_t>(m->data_off + cut);
  m->data_len = static_cast<uint16_t>(m->data_len - cut);
  m->pkt_len -= cut;
  l2h.write_before(ip);
  m->l2_len = l2;
  m->l3_len = ihl;

  ++state.rx_packets;
  state.rx_bytes += total;
  return true;
}

// decap_ipv4() for the frame nearly every LAC sends, read whole by
// upstream_shape() into sh, whose session s is in the fast path and this
// worker's (the caller checked): one segment, an inner IPv4 header of 20
// octets and its total length within the PPP payload. Checks the source
// (anti-spoofing) and the TTL, and does what decap_ipv4() does in fewer
// steps: the padding dropped by the lengths. false, with the frame unchanged, for anything else, whose
// verdict and drop reason decap_ipv4() then gives.
[[gnu::always_inline]] inline bool decap_shaped(rte_mbuf* m, const UpstreamShape& sh, const Session& s,
                                                const CoreL2Header& l2, SessionState& state) {
  uint8_t* ip = rte_pktmbuf_mtod_offset(m, uint8_t*, sh.inner_offset);
  // upstream_shape() bounded the PPP payload by the segment, so a total
  // within it puts the inner header there too.
  const uint16_t total = wire::load_be16(ip + 2);
  uint32_t src;
  std::memcpy(&src, ip + 12, 4);
  if (ip[0] != 0x45 || total < sizeof(rte_ipv4_hdr) || total > sh.inner_len || src != s.subscriber_addr ||
      ip[8] <= 1 || rte_pktmbuf_data_len(m) != rte_pktmbuf_pkt_len(m)) [[unlikely]]
    return false;
  ipv4_decrement_ttl(ip);
  const uint16_t len = l2.len;
  l2.write_before(ip);
  m->data_off = static_cast<uint16_t>(m->data_off + sh.inner_offset - len);
  m->data_len = static_cast<uint16_t>(len + total);
  m->pkt_len = m->data_len;
  m->l2_len = len;
  m->l3_len = sizeof(rte_ipv4_hdr);
  ++state.rx_packets;
  state.rx_bytes += total;
  return true;
}

}  // namespace l2tp::dp
