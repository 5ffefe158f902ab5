#pragma once
// The control thread's neighbour table (ARP, RFC 826): which MAC answers
// for an IPv4 address on a port. Learned from ARP requests and replies and
// from the source of the L2TP datagrams our peers send us; looked up when
// the control thread sends a datagram and when a session is published for
// the fast path. Control thread only: workers never read it.
//
// Invariant: addresses in host byte order.

#include <cstdint>
#include <optional>
#include <unordered_map>

#include <rte_ether.h>

namespace l2tp::dp {

struct NeighbourCounters {
  uint64_t learned = 0;    // new entries
  uint64_t changed = 0;    // a known address moved to another MAC
  uint64_t requests = 0;   // ARP requests we sent
};

class Neighbours {
 public:
  // Records ip -> mac on port; returns true when that is new or changed.
  bool learn(uint16_t port, uint32_t ip, const rte_ether_addr& mac);
  std::optional<rte_ether_addr> lookup(uint16_t port, uint32_t ip) const;
  // A request for ip may go out now: at most one a second per address, so
  // a peer that never answers costs one request a second, not one per
  // datagram. `now_s` is any monotonic seconds count.
  bool may_request(uint16_t port, uint32_t ip, uint64_t now_s);

  size_t size() const { return table_.size(); }
  NeighbourCounters& counters() { return counters_; }
  const NeighbourCounters& counters() const { return counters_; }

 private:
  static uint64_t key(uint16_t port, uint32_t ip) { return (uint64_t{port} << 32) | ip; }
  std::unordered_map<uint64_t, rte_ether_addr> table_;
  std::unordered_map<uint64_t, uint64_t> last_request_;
  NeighbourCounters counters_;
};

}  // namespace l2tp::dp
