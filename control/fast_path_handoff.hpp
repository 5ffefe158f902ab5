#pragma once
// The fast-path handoff (DESIGN.md "Fast path handoff"): what the control
// plane tells the data plane about each call, from the session's life and
// the PPP link events (control/ppp_watch.hpp).
//
//   call established          publish, subscriber 0: the workers know the
//                             session (its data is no "unknown session"
//                             drop) but hand every PPP frame up
//   IPCP up                   publish again with the subscriber's address
//                             and the peer's MRU from LCP: IPv4 takes the
//                             fast path both ways
//   IPCP down, LCP down       publish with 0: back through the control thread
//   CDN, StopCCN, pppd gone   withdraw
//
// It keeps what it published per session so a republish changes only what
// changed. No DPDK here: FastPath is the seam (control/fast_path.hpp);
// socket mode has none and needs no handoff.

#include <cstdint>
#include <map>

#include "control/fast_path.hpp"
#include "control/ppp_watch.hpp"
#include "control/session.hpp"

namespace l2tp::control {

struct HandoffCounters {
  uint64_t published = 0;    // sessions made known
  uint64_t fast = 0;         // subscriber addresses put in the fast path
  uint64_t slow = 0;         // taken out again (IPCP/LCP down)
  uint64_t withdrawn = 0;
  uint64_t refused = 0;      // the data plane said no (e.g. an address another session holds)
};

class FastPathHandoff {
 public:
  explicit FastPathHandoff(FastPath& fast_path) : fp_(fast_path) {}

  // The call is established; route is how its tunnel reaches the peer
  // (Engine::route_of).
  void session_up(const Session& s, const DatagramMeta& route);
  void link_event(uint16_t local_session_id, PppEvent e, const PppLinkState& st);
  void session_down(uint16_t local_session_id);

  // What is published for a session, or nullptr.
  const FastPathEntry* entry(uint16_t local_session_id) const;
  size_t sessions() const { return entries_.size(); }
  const HandoffCounters& counters() const { return counters_; }

 private:
  bool republish(FastPathEntry& e, uint32_t subscriber, uint16_t peer_mru);

  FastPath& fp_;
  std::map<uint16_t, FastPathEntry> entries_;
  HandoffCounters counters_;
};

}  // namespace l2tp::control
