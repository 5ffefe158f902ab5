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

// Turns the frame classify_upstream() accepted into Ethernet / inner IPv4
// for the core port: checks the inner header, enforces the session's
// subscriber address as source (anti-spoofing), decrements TTL with an
// incremental checksum, drops link padding, and counts the packet on the
// session. false with drop set when the packet must be freed; the mbuf is
// then unchanged. Inline: it runs once per packet in the worker's loop.
[[gnu::always_inline]] inline bool decap_ipv4(rte_mbuf* m, const UpstreamPacket& pkt, const CoreNextHop& hop,
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

  const uint16_t l2 = hop.vlan ? RTE_ETHER_HDR_LEN + 4 : RTE_ETHER_HDR_LEN;
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
  uint8_t* eth = frame + cut;
  std::memcpy(eth, &hop.dst, RTE_ETHER_ADDR_LEN);
  std::memcpy(eth + 6, &hop.src, RTE_ETHER_ADDR_LEN);
  if (hop.vlan) {
    const rte_be16_t tag[2] = {rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN), rte_cpu_to_be_16(hop.vlan)};
    std::memcpy(eth + 12, tag, 4);
  }
  const rte_be16_t ipv4_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  std::memcpy(eth + l2 - 2, &ipv4_type, 2);
  m->l2_len = l2;
  m->l3_len = ihl;

  ++state.rx_packets;
  state.rx_bytes += total;
  return true;
}

}  // namespace l2tp::dp
