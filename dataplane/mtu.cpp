#include "dataplane/mtu.hpp"

#include <algorithm>
#include <cstring>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include "dataplane/checksum.hpp"
#include "dataplane/encap.hpp"
#include "shared/bytes.hpp"

namespace l2tp::dp {

namespace {

using wire::load_be16;
using wire::store_be16;

constexpr uint8_t kIpprotoIcmp = 1;
constexpr uint16_t kDontFragment = 0x4000;
constexpr uint16_t kOffsetMask = 0x1FFF;

// RFC 792: the ICMP types that are no error (echo, router, timestamp,
// information, address mask). RFC 1122 3.2.2: no ICMP error about an ICMP
// error; a type we do not know counts as one.
bool icmp_query(uint8_t type) {
  switch (type) {
    case 0: case 8: case 9: case 10: case 13: case 14: case 15: case 16: case 17: case 18:
      return true;
    default:
      return false;
  }
}

}  // namespace

uint16_t session_mtu(uint16_t peer_mru, uint16_t access_mtu, uint16_t outer_overhead) {
  const uint32_t link = access_mtu > outer_overhead ? access_mtu - outer_overhead : 0;
  return static_cast<uint16_t>(std::max<uint32_t>(std::min<uint32_t>(peer_mru, link), kMinIpv4Mtu));
}

uint16_t session_mss_limit(uint16_t mtu, uint16_t mss_clamp) {
  if (mss_clamp == 0) return 0;
  // IPv4 20 + TCP 20 (RFC 879: the MSS excludes both headers).
  if (mss_clamp == kMssClampAuto) return static_cast<uint16_t>(mtu - 40);
  return mss_clamp;
}

uint32_t mss_clamp_tcp(uint8_t* ip, uint32_t avail, uint16_t limit) {
  // Only the first fragment carries the TCP header.
  if ((load_be16(ip + 6) & kOffsetMask) != 0) return 0;
  const uint32_t ihl = (ip[0] & 0x0Fu) * 4;
  const uint32_t len = std::min<uint32_t>(avail, load_be16(ip + 2));
  if (ihl < 20 || len < ihl + 20) return 0;
  uint8_t* tcp = ip + ihl;
  if ((tcp[13] & 0x02) == 0) return 0;  // SYN, with or without ACK
  const uint32_t doff = (tcp[12] >> 4) * 4u;
  if (doff < 20 || ihl + doff > len) return 0;
  // RFC 793 3.1: options are kind, or kind, length, data; 0 ends the list.
  for (uint32_t o = 20; o < doff;) {
    const uint8_t kind = tcp[o];
    if (kind == 0) break;
    if (kind == 1) {
      ++o;
      continue;
    }
    if (o + 1 >= doff) break;
    const uint8_t optlen = tcp[o + 1];
    if (optlen < 2 || o + optlen > doff) break;
    if (kind == 2 && optlen == 4) {
      const uint32_t at = o + 2;
      if (load_be16(tcp + at) <= limit) return 0;
      // The checksum covers 16-bit words from the TCP header's start; the
      // option may sit at an odd offset (after a NOP), across two words.
      const uint32_t first = at & ~1u;
      const uint32_t words = (at & 1u) ? 2 : 1;
      uint16_t before[2];
      for (uint32_t w = 0; w < words; ++w) before[w] = load_be16(tcp + first + 2 * w);
      store_be16(tcp + at, limit);
      uint16_t sum = load_be16(tcp + 16);
      for (uint32_t w = 0; w < words; ++w) sum = checksum_replace16(sum, before[w], load_be16(tcp + first + 2 * w));
      store_be16(tcp + 16, sum);
      return 1;
    }
    o += optlen;
  }
  return 0;
}

void TokenBucket::configure(uint32_t per_second, uint32_t burst, uint64_t hz, uint64_t now) {
  interval_ = per_second == 0 ? 0 : std::max<uint64_t>(hz / per_second, 1);
  burst_ = std::max<uint32_t>(std::min(burst, per_second), per_second == 0 ? 0 : 1);
  tokens_ = burst_;
  last_ = now;
}

bool TokenBucket::take(uint64_t now) {
  if (interval_ == 0) return false;
  if (tokens_ >= burst_) {
    last_ = now;  // a full bucket banks nothing more
  } else if (const uint64_t earned = (now - last_) / interval_; earned != 0) {
    if (earned >= burst_ - tokens_) {
      tokens_ = burst_;
      last_ = now;
    } else {
      tokens_ += static_cast<uint32_t>(earned);
      last_ += earned * interval_;
    }
  }
  if (tokens_ == 0) return false;
  --tokens_;
  return true;
}

void DownstreamMtu::init(const MtuConfig& config, rte_be32_t core_addr, const CoreNextHop& hop) {
  config_ = config;
  core_addr_ = core_addr;
  l2_ = CoreL2Header(hop);
  icmp_tokens_.configure(config.icmp_per_second, kIcmpBurst, rte_get_tsc_hz(), rte_rdtsc());
}

TooBigResult DownstreamMtu::too_big(rte_mbuf* m, const DownstreamPacket& pkt, const Session& s,
                                    SessionState& state, uint16_t worker, rte_mbuf** out, WorkerCounters& c) {
  Drop why = Drop::kCount;
  if (!encap_admit(m, pkt, s, worker, why)) {
    c.count(why);
    rte_pktmbuf_free(m);
    return {};
  }
  const uint8_t* ip = rte_pktmbuf_mtod_offset(m, const uint8_t*, pkt.l2_len);
  if (load_be16(ip + 6) & kDontFragment) {
    // RFC 1191 4: the router that cannot forward a DF packet says how much
    // it could have forwarded.
    c.count(Drop::kFragmentationNeeded);
    if (icmp_allowed(ip, rte_pktmbuf_data_len(m) - pkt.l2_len)) {
      if (!icmp_tokens_.take(rte_rdtsc())) {
        ++c.icmp_rate_limited;
      } else if (make_icmp(m, pkt, s.mtu)) {
        ++c.icmp_frag_needed;
        out[0] = m;
        return {1, true};
      }
    }
    rte_pktmbuf_free(m);
    return {};
  }
  if (config_.fragment_indirect == nullptr) {
    c.count(Drop::kMtuExceeded);
    rte_pktmbuf_free(m);
    return {};
  }
  return {fragment(m, pkt, s, state, out, c), false};
}

bool DownstreamMtu::icmp_allowed(const uint8_t* ip, uint32_t avail) const {
  if (core_addr_ == 0) return false;
  const uint32_t ihl = (ip[0] & 0x0Fu) * 4;
  // The reply quotes the header and 8 octets (RFC 792), from one segment.
  if (avail < ihl + 8) return false;
  // RFC 1122 3.2.2: not about a fragment other than the first, nor about a
  // source that is no single host (0/8, loopback, multicast, class E and
  // broadcast), nor about an ICMP error.
  if ((load_be16(ip + 6) & kOffsetMask) != 0) return false;
  const uint8_t first_octet = ip[12];
  if (first_octet == 0 || first_octet == 127 || first_octet >= 224) return false;
  if (ip[9] == kIpprotoIcmp && !icmp_query(ip[ihl])) return false;
  return true;
}

bool DownstreamMtu::make_icmp(rte_mbuf* m, const DownstreamPacket& pkt, uint16_t mtu) {
  // Built in place: the quoted header and 8 octets stay where they are and
  // Ethernet / IPv4 / ICMP go in front of them, into the headroom the
  // dropped L2 header leaves.
  const uint16_t ihl = static_cast<uint16_t>((rte_pktmbuf_mtod_offset(m, const uint8_t*, pkt.l2_len)[0] & 0x0F) * 4);
  const uint16_t quote = static_cast<uint16_t>(ihl + 8);
  const uint16_t l2 = l2_.len;
  const uint16_t head = static_cast<uint16_t>(l2 + sizeof(rte_ipv4_hdr) + 8);
  if (rte_pktmbuf_headroom(m) + pkt.l2_len < head) return false;
  rte_pktmbuf_adj(m, pkt.l2_len);
  if (m->next != nullptr) {
    rte_pktmbuf_free(m->next);
    m->next = nullptr;
    m->nb_segs = 1;
  }
  m->data_len = quote;
  m->pkt_len = quote;
  uint8_t* eth = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, head));
  const uint8_t* original = eth + head;

  l2_.write_before(eth + l2);

  uint8_t* ip = eth + l2;
  ip[0] = 0x45;
  ip[1] = 0xC0;  // precedence 6, internetwork control (RFC 1812 4.3.2.5)
  store_be16(ip + 2, static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + 8 + quote));
  store_be16(ip + 4, icmp_id_++);
  store_be16(ip + 6, 0);
  ip[8] = 64;
  ip[9] = kIpprotoIcmp;
  store_be16(ip + 10, 0);
  std::memcpy(ip + 12, &core_addr_, 4);
  std::memcpy(ip + 16, original + 12, 4);  // back to the original source
  const uint16_t ip_sum = rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr*>(ip));
  std::memcpy(ip + 10, &ip_sum, 2);

  uint8_t* icmp = ip + sizeof(rte_ipv4_hdr);
  icmp[0] = 3;  // destination unreachable
  icmp[1] = 4;  // fragmentation needed and DF set
  store_be16(icmp + 2, 0);
  store_be16(icmp + 4, 0);    // unused (RFC 1191 4)
  store_be16(icmp + 6, mtu);  // next-hop MTU
  const uint16_t icmp_sum = static_cast<uint16_t>(~rte_raw_cksum(icmp, 8u + quote));
  std::memcpy(icmp + 2, &icmp_sum, 2);

  m->l2_len = l2;
  m->l3_len = sizeof(rte_ipv4_hdr);
  return true;
}

uint16_t DownstreamMtu::fragment(rte_mbuf* m, const DownstreamPacket& pkt, const Session& s,
                                 SessionState& state, rte_mbuf** out, WorkerCounters& c) {
  // As encap_ipv4(): nothing past the IPv4 total length, TTL - 1 (once,
  // so that every fragment carries it).
  uint8_t* ip = rte_pktmbuf_mtod_offset(m, uint8_t*, pkt.l2_len);
  const uint32_t excess = rte_pktmbuf_pkt_len(m) - pkt.l2_len - pkt.ip_len;
  if (excess != 0 && rte_pktmbuf_trim(m, static_cast<uint16_t>(excess)) != 0) {
    c.count(Drop::kIpv4Header);
    rte_pktmbuf_free(m);
    return 0;
  }
  ipv4_decrement_ttl(ip);
  rte_pktmbuf_adj(m, pkt.l2_len);

  // RFC 791 3.2 via librte_ip_frag: each fragment is a fresh direct mbuf
  // holding its IPv4 header (with the library's default headroom, room
  // for our template) chained to indirect mbufs over m's data. m itself
  // is only referenced: freeing it here leaves the data to the fragments.
  rte_mempool* direct = config_.fragment_direct != nullptr ? config_.fragment_direct : m->pool;
  const int32_t n = rte_ipv4_fragment_packet(m, out, kMaxFragments, s.mtu, direct, config_.fragment_indirect);
  rte_pktmbuf_free(m);
  if (n <= 0) {  // too many fragments for out[], or a pool ran dry
    c.count(Drop::kFragmentFailed);
    return 0;
  }
  ++c.fragmented;
  uint16_t kept = 0;
  for (int32_t i = 0; i < n; ++i) {
    rte_mbuf* f = out[i];
    auto* h = rte_pktmbuf_mtod(f, rte_ipv4_hdr*);
    // The library leaves the header checksum to the caller.
    h->hdr_checksum = 0;
    h->hdr_checksum = rte_ipv4_cksum(h);
    if ((config_.linearize_fragments && rte_pktmbuf_linearize(f) != 0) ||
        rte_pktmbuf_headroom(f) < template_len_now(s, state)) {
      c.count(Drop::kFragmentFailed);
      rte_pktmbuf_free(f);
      continue;
    }
    encap_prepend(f, rte_be_to_cpu_16(h->total_length), s, state);
    out[kept++] = f;
  }
  c.fragments += kept;
  return kept;
}

}  // namespace l2tp::dp
