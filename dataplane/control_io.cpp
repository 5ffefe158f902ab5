#include "dataplane/control_io.hpp"

#include <arpa/inet.h>

#include <cstring>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "shared/header.hpp"

namespace l2tp::dp {

namespace {

constexpr size_t kMaxBatch = 32;

uint64_t now_seconds() { return rte_get_tsc_cycles() / rte_get_tsc_hz(); }

// Ethernet and an optional 802.1Q tag; the EtherType after them.
struct L2 {
  size_t len = 0;
  uint16_t vlan = 0;
  uint16_t type = 0;  // host order
};
bool parse_l2(const rte_mbuf* m, L2& l2) {
  if (m->data_len < sizeof(rte_ether_hdr)) return false;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  l2.len = sizeof(rte_ether_hdr);
  l2.type = rte_be_to_cpu_16(eth->ether_type);
  if (l2.type == RTE_ETHER_TYPE_VLAN) {
    if (m->data_len < sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr)) return false;
    const auto* v = rte_pktmbuf_mtod_offset(m, const rte_vlan_hdr*, sizeof(rte_ether_hdr));
    l2.vlan = rte_be_to_cpu_16(v->vlan_tci) & 0x0FFF;
    l2.type = rte_be_to_cpu_16(v->eth_proto);
    l2.len += sizeof(rte_vlan_hdr);
  }
  return true;
}

// Writes Ethernet [+802.1Q] at the start of m's data; returns its length.
size_t write_l2(rte_mbuf* m, const rte_ether_addr& dst, const rte_ether_addr& src, uint16_t vlan, uint16_t type) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  rte_ether_addr_copy(&dst, &eth->dst_addr);
  rte_ether_addr_copy(&src, &eth->src_addr);
  if (vlan == 0) {
    eth->ether_type = rte_cpu_to_be_16(type);
    return sizeof(rte_ether_hdr);
  }
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
  auto* v = reinterpret_cast<rte_vlan_hdr*>(eth + 1);
  v->vlan_tci = rte_cpu_to_be_16(vlan);
  v->eth_proto = rte_cpu_to_be_16(type);
  return sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr);
}

}  // namespace

ControlIo::ControlIo(const DataPlaneConfig& config, rte_mempool* pool, std::vector<WorkerRings> rings,
                     const rte_ether_addr& access_mac, const rte_ether_addr& core_mac)
    : config_(config),
      pool_(pool),
      rings_(std::move(rings)),
      access_mac_(access_mac),
      core_mac_(core_mac),
      ns_mark_(ns_request_mark()) {}

bool ControlIo::ours(uint16_t port, uint32_t addr) const {
  return (port == config_.access_port && addr == config_.access_addr) ||
         (port == config_.core_port && addr == config_.core_addr);
}

bool ControlIo::enqueue(rte_mbuf* m, uint16_t worker) {
  rte_ring* r = rings_[worker < rings_.size() ? worker : 0].from_control;
  if (rte_ring_enqueue(r, m) != 0) {
    ++counters_.ring_full;
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

size_t ControlIo::drain(bool high, size_t budget, size_t& delivered, const DatagramFn& on_datagram) {
  size_t taken = 0;
  rte_mbuf* burst[kMaxBatch];
  uint16_t& next = high ? next_high_ : next_normal_;
  const size_t workers = rings_.size();
  for (size_t k = 0; k < workers && taken < budget; ++k) {
    const auto w = static_cast<uint16_t>((next + k) % workers);
    rte_ring* r = high ? rings_[w].to_control_high : rings_[w].to_control;
    if (r == nullptr) continue;
    const unsigned want = static_cast<unsigned>(std::min(budget - taken, kMaxBatch));
    const unsigned n = rte_ring_dequeue_burst(r, reinterpret_cast<void**>(burst), want, nullptr);
    taken += n;
    for (unsigned i = 0; i < n; ++i)
      if (handle(burst[i], w, on_datagram)) ++delivered;
  }
  if (workers != 0) next = static_cast<uint16_t>((next + 1) % workers);
  return taken;
}

size_t ControlIo::receive_batch(size_t max, const DatagramFn& on_datagram) {
  // Frames taken, not datagrams delivered, count against max: ARP, pings
  // and garbage cost the control thread as much as L2TP does.
  // The high class may fill three quarters of it; the normal class gets
  // the rest, a quarter at least, so a burst of one never starves the other.
  size_t delivered = 0;
  const size_t high = drain(true, max - max / 4, delivered, on_datagram);
  drain(false, max - high, delivered, on_datagram);
  return delivered;
}

bool ControlIo::handle(rte_mbuf* m, uint16_t worker, const DatagramFn& on_datagram) {
  L2 l2;
  if (!parse_l2(m, l2)) {
    ++counters_.not_for_us;
    rte_pktmbuf_free(m);
    return false;
  }
  if (l2.type == RTE_ETHER_TYPE_ARP) {
    if (!handle_arp(m, worker, l2.len)) rte_pktmbuf_free(m);
    return false;
  }
  if (l2.type != RTE_ETHER_TYPE_IPV4 || m->pkt_len < l2.len + sizeof(rte_ipv4_hdr)) {
    ++counters_.not_for_us;
    rte_pktmbuf_free(m);
    return false;
  }
  // The IPv4 and UDP headers sit in the first segment (the PMDs here do
  // not split a header); the payload may not, so it is read out whole.
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, l2.len);
  const size_t ihl = static_cast<size_t>(ip->version_ihl & 0x0F) * 4;
  const size_t total = rte_be_to_cpu_16(ip->total_length);
  const uint32_t src = rte_be_to_cpu_32(ip->src_addr), dst = rte_be_to_cpu_32(ip->dst_addr);
  const bool fragment = (rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0;
  if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr) || total < ihl || l2.len + total > m->pkt_len ||
      m->data_len < l2.len + ihl + sizeof(rte_udp_hdr) || fragment || !ours(m->port, dst)) {
    ++counters_.not_for_us;
    rte_pktmbuf_free(m);
    return false;
  }
  if (ip->next_proto_id == IPPROTO_ICMP) {
    if (!answer_echo(m, worker, l2.len)) rte_pktmbuf_free(m);
    return false;
  }
  const auto* udp = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, l2.len + ihl);
  const size_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
  if (ip->next_proto_id != IPPROTO_UDP || m->port != config_.access_port ||
      rte_be_to_cpu_16(udp->dst_port) != config_.l2tp_port || udp_len < sizeof(rte_udp_hdr) ||
      udp_len > total - ihl) {
    ++counters_.not_for_us;
    rte_pktmbuf_free(m);
    return false;
  }
  // The peer's MAC, for our answers and for the fast path's template.
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (config_.on_access_subnet(src)) neighbours_.learn(m->port, src, eth->src_addr);

  control::DatagramMeta meta;
  meta.local = {dst, config_.l2tp_port};
  meta.peer = {src, rte_be_to_cpu_16(udp->src_port)};
  meta.port_id = m->port;
  meta.vlan = l2.vlan;
  meta.worker = worker;
  const size_t len = udp_len - sizeof(rte_udp_hdr);
  uint8_t copy[RTE_MBUF_DEFAULT_BUF_SIZE];
  const void* data = len <= sizeof copy ? rte_pktmbuf_read(m, static_cast<uint32_t>(l2.len + ihl + sizeof(rte_udp_hdr)),
                                                           static_cast<uint32_t>(len), copy)
                                        : nullptr;
  if (data == nullptr) {
    ++io_counters_.rx_truncated;
    rte_pktmbuf_free(m);
    return false;
  }
  ++io_counters_.rx_datagrams;
  io_counters_.rx_bytes += len;
  on_datagram(meta, std::span<const uint8_t>(static_cast<const uint8_t*>(data), len));
  rte_pktmbuf_free(m);
  return true;
}

bool ControlIo::handle_arp(rte_mbuf* m, uint16_t worker, size_t l2_len) {
  if (m->data_len < l2_len + sizeof(rte_arp_hdr)) return false;
  auto* arp = rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, l2_len);
  if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
      arp->arp_plen != 4)
    return false;
  const uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
  const uint32_t sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
  const uint32_t tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
  // RFC 826: the sender's mapping is worth keeping when the message is
  // for us (a request for our address, or the reply to ours).
  if (!ours(m->port, tip)) return false;
  neighbours_.learn(m->port, sip, arp->arp_data.arp_sha);
  if (op != RTE_ARP_OP_REQUEST) return false;
  // The request becomes its reply in place.
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const rte_ether_addr& mine = mac_of(m->port);
  rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
  rte_ether_addr_copy(&mine, &eth->src_addr);
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_tha = arp->arp_data.arp_sha;
  arp->arp_data.arp_tip = arp->arp_data.arp_sip;
  rte_ether_addr_copy(&mine, &arp->arp_data.arp_sha);
  arp->arp_data.arp_sip = rte_cpu_to_be_32(tip);
  if (enqueue(m, worker)) ++counters_.arp_replies_sent;
  return true;  // m is the ring's (or freed) now
}

bool ControlIo::answer_echo(rte_mbuf* m, uint16_t worker, size_t l2_len) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, l2_len);
  const size_t ihl = static_cast<size_t>(ip->version_ihl & 0x0F) * 4;
  const size_t total = rte_be_to_cpu_16(ip->total_length);
  if (m->nb_segs != 1 || m->data_len < l2_len + total || total < ihl + sizeof(rte_icmp_hdr)) return false;
  auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, l2_len + ihl);
  if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0) return false;
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  rte_ether_addr tmp = eth->src_addr;
  rte_ether_addr_copy(&eth->dst_addr, &eth->src_addr);
  rte_ether_addr_copy(&tmp, &eth->dst_addr);
  const rte_be32_t requester = ip->src_addr;
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = requester;
  ip->time_to_live = 64;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  icmp->icmp_cksum = 0;
  icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, total - ihl));
  rte_pktmbuf_trim(m, static_cast<uint16_t>(m->pkt_len - (l2_len + total)));  // link padding
  if (enqueue(m, worker)) ++counters_.echo_replies_sent;
  return true;
}

void ControlIo::request(uint16_t port, uint16_t vlan, uint16_t worker, uint32_t target) {
  if (!neighbours_.may_request(port, target, now_seconds())) return;
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    ++counters_.no_mbuf;
    return;
  }
  rte_ether_addr bcast;
  memset(&bcast, 0xFF, sizeof bcast);
  const rte_ether_addr& mine = mac_of(port);
  auto* start = rte_pktmbuf_mtod(m, uint8_t*);
  const size_t l2 = write_l2(m, bcast, mine, vlan, RTE_ETHER_TYPE_ARP);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(start + l2);
  arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = 4;
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
  rte_ether_addr_copy(&mine, &arp->arp_data.arp_sha);
  arp->arp_data.arp_sip = rte_cpu_to_be_32(port == config_.access_port ? config_.access_addr : config_.core_addr);
  memset(&arp->arp_data.arp_tha, 0, sizeof arp->arp_data.arp_tha);
  arp->arp_data.arp_tip = rte_cpu_to_be_32(target);
  m->data_len = m->pkt_len = static_cast<uint32_t>(std::max<size_t>(l2 + sizeof(rte_arp_hdr), RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN));
  m->port = port;
  enqueue(m, worker);
}

size_t ControlIo::send_batch(std::span<const control::TxDatagram> batch) {
  size_t sent = 0;
  for (const control::TxDatagram& d : batch) {
    // L2TP lives on the access side: everything leaves by the access port,
    // tagged as the tunnel's peer tags (meta.vlan).
    const uint16_t port = config_.access_port;
    // pppd's frames go through the session's owner, the one writer of its
    // state; control messages through the worker the tunnel came in on.
    const uint16_t flags = d.data.size() >= 2 ? static_cast<uint16_t>(d.data[0] << 8 | d.data[1]) : 0;
    const bool data = d.meta.session != 0 && d.data.size() >= 2 && !(flags & wire::kFlagType);
    const uint16_t worker =
        data ? session_owner(d.meta.session, static_cast<unsigned>(rings_.size())) : d.meta.worker;
    const uint32_t dst = d.meta.peer.addr;
    const uint32_t hop = config_.on_access_subnet(dst) ? dst : config_.access_gateway;
    if (hop == 0) {
      ++io_counters_.tx_errors;  // no route: neither on-link nor a gateway
      continue;
    }
    const auto mac = neighbours_.lookup(port, hop);
    if (!mac) {
      request(port, d.meta.vlan, worker, hop);
      ++counters_.unresolved;
      ++io_counters_.tx_dropped;
      continue;
    }
    const size_t l2_len = sizeof(rte_ether_hdr) + (d.meta.vlan ? sizeof(rte_vlan_hdr) : 0);
    const size_t total = l2_len + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr) + d.data.size();
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
      ++counters_.no_mbuf;
      ++io_counters_.tx_dropped;
      continue;
    }
    if (total > rte_pktmbuf_tailroom(m) || total > 0xFFFF) {
      rte_pktmbuf_free(m);
      ++io_counters_.tx_errors;  // larger than one mbuf: not a datagram we make
      continue;
    }
    auto* start = rte_pktmbuf_mtod(m, uint8_t*);
    write_l2(m, *mac, access_mac_, d.meta.vlan, RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(start + l2_len);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    memset(ip, 0, sizeof *ip);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(total - l2_len));
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = rte_cpu_to_be_32(d.meta.local.addr ? d.meta.local.addr : config_.access_addr);
    ip->dst_addr = rte_cpu_to_be_32(dst);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    udp->src_port = rte_cpu_to_be_16(d.meta.local.port ? d.meta.local.port : config_.l2tp_port);
    udp->dst_port = rte_cpu_to_be_16(d.meta.peer.port);
    udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_udp_hdr) + d.data.size()));
    udp->dgram_cksum = 0;
    memcpy(udp + 1, d.data.data(), d.data.size());
    m->data_len = m->pkt_len = static_cast<uint32_t>(total);
    // RFC 2661 3.1: S set in a data message puts Ns after the IDs (and
    // Length, when L is set). The sender left it for the owner to fill in.
    const size_t ns_at = sizeof(rte_udp_hdr) + ((flags & wire::kFlagLength) ? 8 : 6);
    if (data && (flags & wire::kFlagSequence) && d.data.size() >= ns_at - sizeof(rte_udp_hdr) + 2) {
      ns_mark_.set(m, d.meta.session, static_cast<uint16_t>(l2_len + sizeof(rte_ipv4_hdr) + ns_at));
      // The owner writes Ns after this: no UDP checksum (optional over
      // IPv4, RFC 768; the fast path sends none either).
      udp->dgram_cksum = 0;
    } else {
      udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
    }
    m->port = port;
    if (!enqueue(m, worker)) {
      ++io_counters_.tx_dropped;
      continue;
    }
    ++io_counters_.tx_datagrams;
    io_counters_.tx_bytes += d.data.size();
    ++sent;
  }
  return sent;
}

}  // namespace l2tp::dp
