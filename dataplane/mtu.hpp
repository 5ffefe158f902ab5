#pragma once
// MTU on the fast path: the session MTU, what happens to a downstream
// packet longer than it, and TCP MSS clamping both ways.
//
// - Session MTU: the largest inner IPv4 packet a session carries, the
//   smaller of the peer's MRU (LCP, RFC 1661 6.1) and the access link MTU
//   less the session's outer overhead (IPv4 + UDP + L2TP + PPP), never
//   below 68 (RFC 791 3.2: every module forwards 68 octets unfragmented).
// - Downstream, longer than that: with DF set, the packet is dropped and
//   its source gets an ICMP "fragmentation needed" carrying the session
//   MTU (RFC 792, RFC 1191 4), from our core address, out of the core
//   port; never about an ICMP error, a non-first fragment or a source that
//   names no single host (RFC 1122 3.2.2), and at most `icmp rate` a
//   second per worker (a token bucket on the TSC, bursts of up to 50).
//   With DF clear: fragmented (RFC 791 3.2, rte_ipv4_fragment_packet) and
//   each fragment encapsulated, or dropped when `fragment = no`.
// - MSS clamping (RFC 879, RFC 6691): a SYN's MSS option above the
//   session's limit is lowered to it, the TCP checksum patched (RFC 1624).
//   The cheap test (protocol TCP) is inline; the rest only for TCP.
//
// Everything here runs on the worker's lcore: no locks, no syscalls; the
// mbufs come from mempools.

#include <cstdint>

#include <rte_byteorder.h>

#include "dataplane/classify.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/decap.hpp"
#include "dataplane/session_table.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace l2tp::dp {

inline constexpr uint16_t kMinIpv4Mtu = 68;     // RFC 791 3.2
inline constexpr uint16_t kMaxFragments = 64;   // per packet; more: kFragmentFailed
inline constexpr uint32_t kIcmpBurst = 50;      // tokens the ICMP bucket holds

// min(peer_mru, access_mtu - outer_overhead), at least kMinIpv4Mtu.
// outer_overhead: the template from the outer IPv4 header on.
uint16_t session_mtu(uint16_t peer_mru, uint16_t access_mtu, uint16_t outer_overhead);
// The largest MSS a SYN may carry on a session (0: no clamping) for the
// [dataplane] "mss clamp" value (kMssClampAuto, 0 or an MSS).
uint16_t session_mss_limit(uint16_t mtu, uint16_t mss_clamp);

// Lowers the MSS option of a TCP SYN (or SYN+ACK) in the IPv4 packet at ip
// to limit when it is above it, patching the TCP checksum. avail: the
// octets readable from ip (first segment). Only the first fragment with
// the whole TCP header counts. Returns 1 when it changed the packet.
// The caller has checked the IPv4 header (20 octets at least).
uint32_t mss_clamp_tcp(uint8_t* ip, uint32_t avail, uint16_t limit);
inline uint32_t mss_clamp_ipv4(uint8_t* ip, uint32_t avail, uint16_t limit) {
  // What every packet pays: protocol TCP, then the SYN flag.
  if (ip[9] != 6 /* TCP */ || limit == 0) return 0;
  const uint32_t flags_at = (ip[0] & 0x0Fu) * 4 + 13;
  if (flags_at >= avail || (ip[flags_at] & 0x02) == 0) return 0;
  return mss_clamp_tcp(ip, avail, limit);
}

// A token bucket on the TSC: per_second tokens a second, at most burst
// banked. per_second 0: take() never succeeds.
class TokenBucket {
 public:
  void configure(uint32_t per_second, uint32_t burst, uint64_t hz, uint64_t now);
  bool take(uint64_t now);

 private:
  uint64_t interval_ = 0;  // TSC cycles per token; 0: no tokens ever
  uint64_t last_ = 0;      // when the bucket was last refilled
  uint32_t tokens_ = 0;
  uint32_t burst_ = 0;
};

// The per-worker settings (WorkerConfig::mtu).
struct MtuConfig {
  // Pools for rte_ipv4_fragment_packet. indirect nullptr: DF-clear packets
  // longer than the session MTU are dropped (kMtuExceeded), "fragment = no".
  // direct nullptr: each packet's own pool.
  rte_mempool* fragment_direct = nullptr;
  rte_mempool* fragment_indirect = nullptr;
  // The access port cannot send chained mbufs: copy each fragment into
  // its header mbuf.
  bool linearize_fragments = false;
  uint32_t icmp_per_second = 1000;  // per worker; 0: no ICMP, only the drop
};

// What the worker sends after DownstreamMtu::too_big().
struct TooBigResult {
  uint16_t n = 0;        // mbufs in out[]
  bool to_core = false;  // true: one ICMP for the core port; false: fragments for the access port
};

class DownstreamMtu {
 public:
  void init(const MtuConfig& config, rte_be32_t core_addr, const CoreNextHop& hop);

  // m (described by pkt, found to be s's) is longer than s.mtu. Takes m:
  // turns it into the ICMP error, into fragments ready for the access port
  // (encapsulated, Ns and session counters done), or frees it; counts
  // every outcome in c. out holds kMaxFragments.
  TooBigResult too_big(rte_mbuf* m, const DownstreamPacket& pkt, const Session& s, SessionState& state,
                       uint16_t worker, rte_mbuf** out, WorkerCounters& c);

 private:
  bool icmp_allowed(const uint8_t* ip, uint32_t avail) const;
  bool make_icmp(rte_mbuf* m, const DownstreamPacket& pkt, uint16_t mtu);
  uint16_t fragment(rte_mbuf* m, const DownstreamPacket& pkt, const Session& s, SessionState& state,
                    rte_mbuf** out, WorkerCounters& c);

  MtuConfig config_;
  rte_be32_t core_addr_ = 0;
  CoreL2Header l2_;  // the ICMP errors' L2 header
  TokenBucket icmp_tokens_;
  uint16_t icmp_id_ = 0;  // IPv4 Identification of our ICMP errors
};

}  // namespace l2tp::dp
