#pragma once
// Software redistribution by session (DESIGN.md "Workers own sessions"):
// a LAC's tunnel is one outer 5-tuple, so RSS puts all of a LAC on one
// queue (and the virtual PMDs do no RSS at all). Every session has one
// owner worker, the only writer of its SessionState (data Ns, counters,
// and what per-session state comes later); a worker that receives a
// packet of a session it does not own hands the mbuf, unchanged, to the
// owner's handoff ring for the packet's direction, and the owner runs it
// through its normal path. A packet is handed over at most once: what
// arrives through a handoff ring for a session the worker does not own
// (republished elsewhere meanwhile) is a kNotOwner drop, never handed on.
//
// Frames from pppd take the owner's from-control ring too (ControlIo), and
// the owner writes their Ns from the counter its fast path uses: the
// control thread marks such a frame with the session and where its Ns is
// (an mbuf dynamic flag and field), so the worker finds out with one test
// of ol_flags instead of parsing what it sends.

#include <cstdint>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

struct rte_ring;

namespace l2tp::dp {

// The owner worker of a session: its local Session ID modulo the workers,
// so that the control thread (ControlIo, which picks the ring for pppd's
// frames) and DataPlane::publish (which writes Session::owner_worker)
// agree without asking each other, and sessions spread evenly (local IDs
// are ours to allocate).
inline uint16_t session_owner(uint16_t local_session_id, unsigned workers) {
  return workers <= 1 ? 0 : static_cast<uint16_t>(local_session_id % workers);
}

// One worker's handoff inputs: multi-producer (the other workers),
// single-consumer (the owner). Upstream frames are as received on the
// access port, downstream ones as received on the core port: one port may
// serve both roles, so the ring, not mbuf->port, says which way a packet
// goes.
struct HandoffRings {
  rte_ring* upstream = nullptr;
  rte_ring* downstream = nullptr;
};
// size: a power of two (holds size - 1). Throws std::runtime_error
// (start-up only).
HandoffRings create_handoff_rings(uint16_t worker, unsigned size, int socket_id);
// Frees what the rings still hold, then the rings.
void free_handoff_rings(HandoffRings& rings);

// "Write this session's next data Ns at this offset": set by the control
// thread on a data message of a sequenced session (RFC 2661 5.4), acted
// on by the owner worker before it transmits the frame.
struct NsRequestMark {
  uint64_t flag = 0;  // the ol_flags bit
  int offset = -1;    // of the NsRequest in the mbuf

  void set(rte_mbuf* m, uint16_t session, uint16_t ns_offset) const;
  bool marked(const rte_mbuf* m) const { return (m->ol_flags & flag) != 0; }
  // The request, and the mark cleared (so no PMD sees an unknown flag).
  struct Request {
    uint16_t session;    // local Session ID: the SessionState to number from
    uint16_t ns_offset;  // Ns from the start of the frame
  };
  Request take(rte_mbuf* m) const;
};
// Registers the flag and the field (once per process; later calls return
// the same). Throws std::runtime_error (start-up only).
NsRequestMark ns_request_mark();

}  // namespace l2tp::dp
