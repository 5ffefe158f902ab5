#include "dataplane/decap.hpp"

#include <cstring>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/checksum.hpp"

namespace l2tp::dp {

bool decap_ipv4(rte_mbuf* m, const UpstreamPacket& pkt, const CoreNextHop& hop, SessionState& state,
                Drop& drop) {
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
  if (std::memcmp(ip + 12, &pkt.session->subscriber_addr, 4) != 0)
    return drop = Drop::kSpoofedSource, false;
  // RFC 1812 5.3.1: a router must not forward a packet whose TTL reaches 0.
  if (ip[8] <= 1) return drop = Drop::kTtlExceeded, false;

  const uint16_t l2 = hop.vlan ? RTE_ETHER_HDR_LEN + 4 : RTE_ETHER_HDR_LEN;
  // PPP padding or anything past the inner total length is not forwarded.
  const uint32_t excess = rte_pktmbuf_pkt_len(m) - pkt.inner_offset - total;
  if (excess != 0 && rte_pktmbuf_trim(m, static_cast<uint16_t>(excess)) != 0)
    return drop = Drop::kInnerIpv4Header, false;
  ipv4_decrement_ttl(ip);

  // The outer headers are always longer than the new L2 header (at least
  // Ethernet + IPv4 + UDP + 6 octets of L2TP + 1 of PPP).
  uint8_t* eth = reinterpret_cast<uint8_t*>(rte_pktmbuf_adj(m, static_cast<uint16_t>(pkt.inner_offset - l2)));
  std::memcpy(eth, &hop.dst, RTE_ETHER_ADDR_LEN);
  std::memcpy(eth + 6, &hop.src, RTE_ETHER_ADDR_LEN);
  if (hop.vlan) {
    eth[12] = 0x81;
    eth[13] = 0x00;
    eth[14] = static_cast<uint8_t>(hop.vlan >> 8);
    eth[15] = static_cast<uint8_t>(hop.vlan);
  }
  eth[l2 - 2] = 0x08;  // IPv4
  eth[l2 - 1] = 0x00;
  m->l2_len = l2;
  m->l3_len = ihl;

  ++state.rx_packets;
  state.rx_bytes += total;
  return true;
}

}  // namespace l2tp::dp
