#include "dataplane/encap.hpp"

#include <cstring>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_udp.h>

#include "dataplane/checksum.hpp"

namespace l2tp::dp {

bool encap_admit(const rte_mbuf* m, const DownstreamPacket& pkt, const Session& s, uint16_t worker,
                 Drop& drop) {
  // The session may have been republished without this address since the
  // lookup: the entry, not the hash, is the truth.
  if (!s.in_fast_path() || s.subscriber_addr != pkt.dst) return drop = Drop::kNoSubscriber, false;
  if (s.owner_worker != worker) return drop = Drop::kNotOwner, false;
  // RFC 1812 5.3.1: the LNS routes the packet into the tunnel.
  if (rte_pktmbuf_mtod_offset(m, const uint8_t*, pkt.l2_len)[8] <= 1) return drop = Drop::kTtlExceeded, false;
  return true;
}

bool encap_ipv4(rte_mbuf* m, const DownstreamPacket& pkt, const Session& s, SessionState& state,
                uint16_t worker, Drop& drop) {
  if (!encap_admit(m, pkt, s, worker, drop)) return false;
  uint8_t* ip = rte_pktmbuf_mtod_offset(m, uint8_t*, pkt.l2_len);
  if (rte_pktmbuf_headroom(m) + pkt.l2_len < s.template_len) return drop = Drop::kNoHeadroom, false;
  if (pkt.ip_len > 0xFFFF - (s.template_len - s.ip_offset)) return drop = Drop::kTooBig, false;
  const uint32_t excess = rte_pktmbuf_pkt_len(m) - pkt.l2_len - pkt.ip_len;
  if (excess != 0 && rte_pktmbuf_trim(m, static_cast<uint16_t>(excess)) != 0)
    return drop = Drop::kIpv4Header, false;
  ipv4_decrement_ttl(ip);

  // Swap the L2 header for the template. Both calls succeed: lengths and
  // headroom are checked above.
  rte_pktmbuf_adj(m, pkt.l2_len);
  encap_prepend(m, pkt.ip_len, s, state);
  return true;
}

void encap_prepend(rte_mbuf* m, uint16_t ip_len, const Session& s, SessionState& state) {
  uint8_t* out = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, s.template_len));
  rte_memcpy(out, s.header_template, s.template_len);

  uint8_t* outer_ip = out + s.ip_offset;
  const uint16_t outer_total = static_cast<uint16_t>(s.template_len - s.ip_offset + ip_len);
  outer_ip[2] = static_cast<uint8_t>(outer_total >> 8);
  outer_ip[3] = static_cast<uint8_t>(outer_total);
  const uint16_t sum = ipv4_checksum_from_sum(s.ip_sum_without_length + outer_total);
  outer_ip[10] = static_cast<uint8_t>(sum >> 8);
  outer_ip[11] = static_cast<uint8_t>(sum);
  const uint16_t udp_len = static_cast<uint16_t>(outer_total - sizeof(rte_ipv4_hdr));
  outer_ip[sizeof(rte_ipv4_hdr) + 4] = static_cast<uint8_t>(udp_len >> 8);
  outer_ip[sizeof(rte_ipv4_hdr) + 5] = static_cast<uint8_t>(udp_len);
  if (s.ns_offset != 0) {
    // RFC 2661 5.4: Ns counts data messages of the session, modulo 2^16.
    const uint16_t ns = state.next_ns++;
    out[s.ns_offset] = static_cast<uint8_t>(ns >> 8);
    out[s.ns_offset + 1] = static_cast<uint8_t>(ns);
  }
  m->l2_len = s.ip_offset;
  m->l3_len = sizeof(rte_ipv4_hdr);

  ++state.tx_packets;
  state.tx_bytes += ip_len;
}

}  // namespace l2tp::dp
