#pragma once
// Protection of the control path (DESIGN.md "Processes and threads"): what
// a worker punts to the control thread is sorted into classes and policed
// per peer before it is enqueued, so that a flood of SCCRQs, of LCP or of
// anything else that cannot take the fast path costs the worker a counted
// drop and never crowds out the Hellos and LCP of established tunnels.
//
// Classes (punt_class()):
// - kControl: L2TP control of a live tunnel from its peer (T=1, tunnel ID
//   != 0, published in the TunnelTable with this outer source address),
//   PPP LCP (0xC021) or data with the P bit (RFC 2661 3.1: preferential
//   treatment, as for LCP echoes) of a known session, ARP replies (the answers to our
//   own requests). They go on the worker's high-priority ring.
// - kSccrq: L2TP control with tunnel ID 0, which only SCCRQ may carry
//   (RFC 2661 5.1.1): the start of a new tunnel, the cheapest thing to
//   flood with spoofed sources.
// - kStray: L2TP control with a tunnel ID != 0 that is not live, or is
//   another peer's (dataplane/tunnel_table.hpp): the control thread would
//   drop it as an unknown tunnel, and a flood of it for random tunnel IDs
//   from random sources must not take the tokens of the live tunnels'
//   acknowledgements and Hellos, so it has buckets and a cap of its own.
// - kOther: the rest (IPCP, PAP/CHAP, CCP, data of sessions not in the
//   fast path, ICMP to us, ARP requests).
// kSccrq, kStray and kOther go on the normal ring.
//
// Policing: a GCRA (the virtual-scheduling form of a token bucket, one
// 64-bit "theoretical arrival time" per bucket) on the TSC. Each class has
// a fixed array of buckets per worker indexed by a hash of the outer IPv4
// source (ARP: the sender's protocol address), seeded at random per worker
// so that an attacker cannot aim spoofed sources at a known peer's bucket.
// Peers whose addresses collide share a bucket: with kBuckets per class a
// few hundred LACs rarely do, and when they do they share its rate. Each
// class is also capped per worker, all sources together, since spoofed
// sources each get a fresh bucket: a packet passes when both its peer's
// bucket and the worker's have room, and takes a token from each.
//
// Per-worker state, one writer (the worker): nothing is shared, nothing
// is locked, nothing allocates after construction.

#include <array>
#include <cstdint>

#include "dataplane/counters.hpp"
#include "dataplane/dp_config.hpp"
#include "dataplane/tunnel_table.hpp"

struct rte_mbuf;

namespace l2tp::dp {

enum class PuntClass : uint8_t { kControl, kSccrq, kOther, kStray };
inline constexpr size_t kPuntClasses = 4;

// The class of a frame a worker punts, and the policing key (the peer's
// IPv4 address, network order; 0 when the frame has none). Reads headers
// only, bounds-checked against the first segment: a frame too short to
// tell is kOther. tunnels: the live tunnels (nullptr: none is live, all
// tunnel control is kStray).
PuntClass punt_class(const rte_mbuf* m, const TunnelTable* tunnels, uint32_t& peer);

class PuntPolicer {
 public:
  static constexpr uint32_t kBuckets = 4096;  // per class, a power of two

  // tsc_hz: rte_get_tsc_hz(); seed: the bucket hash's (rte_rand()).
  // Allocates its buckets on socket_id (throws std::runtime_error).
  PuntPolicer(const PuntPolicy& policy, uint64_t tsc_hz, uint32_t seed, int socket_id);
  ~PuntPolicer();
  PuntPolicer(const PuntPolicer&) = delete;
  PuntPolicer& operator=(const PuntPolicer&) = delete;

  // True if a packet of class c from peer may go up at TSC time now (and
  // takes its token); false with why set to the Drop::kPoliced* reason.
  bool admit(PuntClass c, uint32_t peer, uint64_t now, Drop& why);

 private:
  // One bucket's limits in TSC cycles: the interval between packets at the
  // rate, and how far ahead of now the arrival time may run (the burst).
  struct Limit {
    uint64_t interval = 1;
    uint64_t tolerance = 0;
  };
  static Limit limit(const PuntLimit& l, uint64_t tsc_hz);
  static bool conforms(uint64_t tat, const Limit& l, uint64_t now) {
    return (tat > now ? tat - now : 0) <= l.tolerance;
  }
  static void take(uint64_t& tat, const Limit& l, uint64_t now) { tat = (tat > now ? tat : now) + l.interval; }
  uint64_t& bucket(PuntClass c, uint32_t peer);

  std::array<Limit, kPuntClasses> per_peer_;
  std::array<Limit, kPuntClasses> per_worker_;
  std::array<uint64_t, kPuntClasses> worker_tat_{};
  uint32_t seed_;
  uint64_t* tat_ = nullptr;  // kPuntClasses * kBuckets
};

}  // namespace l2tp::dp
