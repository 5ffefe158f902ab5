#pragma once
// Outer IPv4 reassembly on the access side. A LAC whose path to us has a
// smaller MTU than its L2TP datagrams sends them in IPv4 fragments (RFC 791
// 2.3, 3.2); without reassembly every such datagram would be lost.
//
// One table per worker (rte_ip_frag, keyed by source, destination and IP
// ID), written only by that worker. classify_upstream() already tests the
// fragment bits and answers Drop::kIpv4Fragment; only then does the worker
// hand the packet here, so unfragmented traffic pays nothing more. A
// fragment that completes its datagram gives the whole datagram back, in
// one segment, with a valid outer IPv4 header, to be classified like any
// other packet.
//
// Bounds: at most `flows` datagrams in progress per worker, each of at most
// DataPlaneConfig::kFragmentsPerFlow fragments (8, rte_ip_frag's
// RTE_LIBRTE_IP_FRAG_MAX_FRAG); a datagram not complete after
// `timeout_ms` is given up. rte_ip_frag expires entries when it looks them
// up (the same key, a full table's oldest entry, or a stale entry in the
// bucket a new datagram needs), so an idle worker may keep up to
// flows * 8 mbufs until the next fragment or until
// the worker is destroyed (dp_config checks that bound against the pool).
// Every fragment given up (timed out, table full, overlapping, too many
// fragments) is a Drop::kReassembly; a datagram too big for one mbuf a
// Drop::kReassembledTooBig.

#include <cstdint>

#include <rte_ip_frag.h>

#include "dataplane/counters.hpp"
#include "dataplane/dp_config.hpp"

struct rte_mbuf;

namespace l2tp::dp {

struct ReassemblyConfig {
  bool enabled = true;      // false: fragments stay counted drops
  uint32_t flows = 128;     // datagrams in progress per worker
  uint32_t timeout_ms = 500;
};

class Reassembly {
 public:
  // Allocates the table on socket_id (throws std::runtime_error). Any thread.
  Reassembly(const ReassemblyConfig& config, int socket_id);
  // Frees the table and every fragment it still holds.
  ~Reassembly();
  Reassembly(const Reassembly&) = delete;
  Reassembly& operator=(const Reassembly&) = delete;

  // Takes an outer IPv4 fragment whose Ethernet [+802.1Q] and IPv4 headers
  // classify_upstream() found sane (it answered Drop::kIpv4Fragment). now
  // is the TSC. Returns the completed datagram (one segment), or nullptr
  // when the fragment is held or was given up. Counts into counters.
  rte_mbuf* take(rte_mbuf* m, uint64_t now, WorkerCounters& counters);

 private:
  void free_death_row(WorkerCounters& counters);

  rte_ip_frag_tbl* table_ = nullptr;
  // Mbufs the table gave up during one take(), freed before it returns.
  rte_ip_frag_death_row death_row_{};
};

}  // namespace l2tp::dp
