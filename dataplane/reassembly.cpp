#include "dataplane/reassembly.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

namespace l2tp::dp {

static_assert(RTE_LIBRTE_IP_FRAG_MAX_FRAG == DataPlaneConfig::kFragmentsPerFlow,
              "dp_config bounds the mbufs a reassembly table may hold with kFragmentsPerFlow");

namespace {

// Hash associativity: each key may sit in two buckets of this many entries.
constexpr uint32_t kBucketEntries = 4;

}  // namespace

Reassembly::Reassembly(const ReassemblyConfig& config, int socket_id) {
  if (config.flows == 0 || config.timeout_ms == 0)
    throw std::runtime_error("reassembly: flows and timeout must be positive");
  // Twice as many entries as flows keeps a new datagram from finding both
  // its buckets full while the table is far from max_entries.
  const uint32_t buckets = std::max<uint32_t>(1, rte_align32pow2(config.flows) * 2 / kBucketEntries);
  const uint64_t cycles = (rte_get_tsc_hz() + 999) / 1000 * config.timeout_ms;
  table_ = rte_ip_frag_table_create(buckets, kBucketEntries, config.flows, cycles, socket_id);
  if (table_ == nullptr)
    throw std::runtime_error("reassembly: rte_ip_frag_table_create for " + std::to_string(config.flows) +
                             " flows: " + rte_strerror(rte_errno));
}

Reassembly::~Reassembly() {
  // rte_ip_frag_table_destroy frees the fragments of incomplete datagrams.
  rte_ip_frag_table_destroy(table_);
}

void Reassembly::free_death_row(WorkerCounters& counters) {
  if (death_row_.cnt == 0) return;
  counters.drops[static_cast<size_t>(Drop::kReassembly)] += death_row_.cnt;
  rte_ip_frag_free_death_row(&death_row_, 0);
}

rte_mbuf* Reassembly::take(rte_mbuf* m, uint64_t now, WorkerCounters& counters) {
  ++counters.outer_fragments;
  // rte_ip_frag reads the header lengths from the mbuf.
  auto* p = rte_pktmbuf_mtod(m, uint8_t*);
  const auto* eth = reinterpret_cast<const rte_ether_hdr*>(p);
  m->l2_len = eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN) ? RTE_ETHER_HDR_LEN + sizeof(rte_vlan_hdr)
                                                                        : RTE_ETHER_HDR_LEN;
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(p + m->l2_len);
  m->l3_len = rte_ipv4_hdr_len(ip);

  rte_mbuf* whole = rte_ipv4_frag_reassemble_packet(table_, &death_row_, m, now, ip);
  // What the table gave up in this call (this fragment, or the fragments
  // of a timed-out or broken datagram) is freed now: nothing waits.
  free_death_row(counters);
  if (whole == nullptr) return nullptr;
  ++counters.reassembled;

  // The first fragment's mbuf now heads a chain of the others, their
  // headers stripped. Classify and decap read headers from the first
  // segment and the core port may not send chains: copy the rest into the
  // first segment's tailroom when it fits (it does for what fits an
  // Ethernet MTU or two in a default mbuf).
  if (whole->nb_segs > 1 && rte_pktmbuf_linearize(whole) != 0) {
    counters.count(Drop::kReassembledTooBig);
    rte_pktmbuf_free(whole);
    return nullptr;
  }
  // rte_ip_frag rewrites the total length and the fragment field and
  // leaves the checksum zero: give the control thread a valid header.
  ip = rte_pktmbuf_mtod_offset(whole, rte_ipv4_hdr*, whole->l2_len);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return whole;
}

}  // namespace l2tp::dp
