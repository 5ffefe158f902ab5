#include "dataplane/police.hpp"

#include <stdexcept>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "shared/bytes.hpp"
#include "shared/header.hpp"
#include "shared/ppp.hpp"

namespace l2tp::dp {

namespace {

using wire::kL2tpPort;
constexpr uint16_t kT = wire::kFlagType, kL = wire::kFlagLength, kS = wire::kFlagSequence,
                   kO = wire::kFlagOffset, kP = wire::kFlagPriority;

using wire::load_be16;

// The class of an L2TP message (p: its first octet, n octets of it in the
// first segment) from peer (network order).
PuntClass l2tp_class(const uint8_t* p, size_t n, const TunnelTable* tunnels, uint32_t peer) {
  if (n < 6) return PuntClass::kOther;
  const uint16_t flags = load_be16(p);
  size_t off = 2 + ((flags & kL) ? 2 : 0);
  if (n < off + 4) return PuntClass::kOther;
  const uint16_t tunnel = load_be16(p + off);
  if (flags & kT) {
    if (tunnel == 0) return PuntClass::kSccrq;
    return tunnels != nullptr && tunnels->matches(tunnel, peer) ? PuntClass::kControl : PuntClass::kStray;
  }
  // RFC 2661 3.1: P asks for preferential treatment (LCP echoes used as
  // keepalives); the session is one classify knows, and it is policed.
  if (flags & kP) return PuntClass::kControl;
  off += 4;
  if (flags & kS) off += 4;
  if (flags & kO) {
    if (n < off + 2) return PuntClass::kOther;
    off += 2 + load_be16(p + off);
  }
  // PPP: address and control may be omitted (ACFC), the protocol may be
  // one octet (PFC; LCP itself never is, RFC 1661 6.5).
  if (n >= off + 2 && p[off] == 0xFF && p[off + 1] == 0x03) off += 2;
  if (n < off + 2) return PuntClass::kOther;
  return load_be16(p + off) == wire::ppp::kLcp ? PuntClass::kControl : PuntClass::kOther;
}

}  // namespace

PuntClass punt_class(const rte_mbuf* m, const TunnelTable* tunnels, uint32_t& peer) {
  peer = 0;
  const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
  const size_t n = m->data_len;
  if (n < sizeof(rte_ether_hdr)) return PuntClass::kOther;
  size_t off = sizeof(rte_ether_hdr);
  uint16_t type = load_be16(p + off - 2);
  if (type == RTE_ETHER_TYPE_VLAN) {
    if (n < off + sizeof(rte_vlan_hdr)) return PuntClass::kOther;
    type = load_be16(p + off + 2);
    off += sizeof(rte_vlan_hdr);
  }
  if (type == RTE_ETHER_TYPE_ARP) {
    if (n < off + sizeof(rte_arp_hdr)) return PuntClass::kOther;
    const auto* arp = reinterpret_cast<const rte_arp_hdr*>(p + off);
    peer = arp->arp_data.arp_sip;
    return arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY) ? PuntClass::kControl : PuntClass::kOther;
  }
  if (type != RTE_ETHER_TYPE_IPV4 || n < off + sizeof(rte_ipv4_hdr)) return PuntClass::kOther;
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(p + off);
  peer = ip->src_addr;
  const size_t ihl = static_cast<size_t>(ip->version_ihl & 0x0F) * 4;
  if (ip->next_proto_id != IPPROTO_UDP || ihl < sizeof(rte_ipv4_hdr) || n < off + ihl + sizeof(rte_udp_hdr))
    return PuntClass::kOther;
  off += ihl;
  const auto* udp = reinterpret_cast<const rte_udp_hdr*>(p + off);
  if (udp->dst_port != rte_cpu_to_be_16(kL2tpPort) && udp->src_port != rte_cpu_to_be_16(kL2tpPort))
    return PuntClass::kOther;
  off += sizeof(rte_udp_hdr);
  return l2tp_class(p + off, n - off, tunnels, peer);
}

PuntPolicer::Limit PuntPolicer::limit(const PuntLimit& l, uint64_t tsc_hz) {
  Limit out;
  out.interval = l.rate == 0 ? tsc_hz : (tsc_hz / l.rate > 0 ? tsc_hz / l.rate : 1);
  out.tolerance = out.interval * (l.burst > 0 ? l.burst - 1 : 0);
  return out;
}

PuntPolicer::PuntPolicer(const PuntPolicy& policy, uint64_t tsc_hz, uint32_t seed, int socket_id)
    : per_peer_{limit(policy.control, tsc_hz), limit(policy.sccrq, tsc_hz), limit(policy.other, tsc_hz),
                limit(policy.stray, tsc_hz)},
      per_worker_{limit(policy.control_worker, tsc_hz), limit(policy.sccrq_worker, tsc_hz),
                  limit(policy.other_worker, tsc_hz), limit(policy.stray_worker, tsc_hz)},
      seed_(seed) {
  tat_ = static_cast<uint64_t*>(rte_zmalloc_socket("l2tp_police", kPuntClasses * kBuckets * sizeof(uint64_t), 0, socket_id));
  if (tat_ == nullptr) throw std::runtime_error("worker: no memory for the control-path policer");
}

PuntPolicer::~PuntPolicer() { rte_free(tat_); }

uint64_t& PuntPolicer::bucket(PuntClass c, uint32_t peer) {
  const uint32_t i = rte_hash_crc_4byte(peer, seed_) & (kBuckets - 1);
  return tat_[static_cast<size_t>(c) * kBuckets + i];
}

bool PuntPolicer::admit(PuntClass c, uint32_t peer, uint64_t now, Drop& why) {
  static constexpr Drop kPeer[kPuntClasses] = {Drop::kPolicedControl, Drop::kPolicedSccrq, Drop::kPolicedOther,
                                               Drop::kPolicedStray};
  static constexpr Drop kWorker[kPuntClasses] = {Drop::kPolicedControlWorker, Drop::kPolicedSccrqWorker,
                                                 Drop::kPolicedOtherWorker, Drop::kPolicedStrayWorker};
  const auto i = static_cast<size_t>(c);
  uint64_t& tat = bucket(c, peer);
  if (!conforms(tat, per_peer_[i], now)) {
    why = kPeer[i];
    return false;
  }
  // Both buckets or neither: a packet the worker cap refuses does not spend
  // its peer's token.
  if (!conforms(worker_tat_[i], per_worker_[i], now)) {
    why = kWorker[i];
    return false;
  }
  take(worker_tat_[i], per_worker_[i], now);
  take(tat, per_peer_[i], now);
  return true;
}

}  // namespace l2tp::dp
