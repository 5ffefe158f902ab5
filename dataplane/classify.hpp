#pragma once
// Sorting a received packet (DESIGN.md "Packet paths"): fast-path data,
// control-bound, or a counted drop. Classification reads headers only; it
// changes nothing, so a packet punted to the control thread arrives as it
// came off the wire.

#include <cstdint>

#include <rte_byteorder.h>

#include "dataplane/counters.hpp"
#include "dataplane/session_table.hpp"

struct rte_mbuf;

namespace l2tp::dp {

enum class Verdict : uint8_t {
  kFast,     // take the fast path (decap or encap)
  kControl,  // hand the frame to the control thread
  kDrop,     // count the Drop reason and free
  kHandoff,  // fast-path data of a session another worker owns: hand the
             // frame, unchanged, to out.session->owner_worker (handoff.hpp)
};

// Where the subscriber's IPv4 packet starts in an upstream frame, and its
// place in the session's sequence (RFC 2661 5.4).
struct UpstreamPacket {
  const Session* session = nullptr;
  uint16_t inner_offset = 0;  // from the start of the frame
  uint16_t inner_len = 0;     // PPP information bytes (Length or UDP bounded)
  uint16_t ns = 0;            // Ns, when sequenced
  bool sequenced = false;     // the S bit was set
};

// Access side: Ethernet [+802.1Q] / IPv4 / UDP / L2TP / PPP.
// - ARP and L2TP control messages (T=1): kControl.
// - Data for a session we know and own, PPP protocol IPv4, session in the
//   fast path: kFast with `out` filled.
// - Data with any other PPP protocol (LCP, IPCP, PAP, CHAP, CCP, IPv6...)
//   or for a known session not in the fast path: kControl, with `out`'s
//   session, sequenced and ns filled (the punted frame consumes an Ns
//   too); any other kControl has sequenced false.
// - Anything malformed, or data for an unknown tunnel/session/peer: kDrop
//   with `drop` set.
// worker is the caller's worker ID: fast-path data of a session another
// worker owns is kHandoff with out.session set (only the owner writes a
// session's state).
Verdict classify_upstream(const rte_mbuf* m, const SessionTable& table, uint16_t worker,
                          UpstreamPacket& out, Drop& drop);

// The data message nearly every LAC sends, in one look: untagged IPv4 with
// a 20-octet header, not a fragment, UDP with port 1701 at one end and a
// consistent length, L2TP data with no S, O or P bit (with or without L),
// PPP FF 03 00 21. The worker reads it in a burst's first pass, fetches the
// session by it, and has only the session left to check.
struct UpstreamShape {
  rte_be32_t src = 0, dst = 0;  // outer addresses
  rte_be16_t sport = 0, dport = 0;
  uint16_t tunnel_id = 0, session_id = 0;  // host order
  uint16_t inner_offset = 0, inner_len = 0;
};
// true when m has that shape; then classify_shaped() gives exactly the
// verdict, `out` and `drop` that classify_upstream() would. false: any
// other frame, for classify_upstream().
bool upstream_shape(const rte_mbuf* m, UpstreamShape& out);

inline Verdict classify_shaped(const UpstreamShape& sh, const SessionTable& table, uint16_t worker,
                               UpstreamPacket& out, Drop& drop) {
  const Session* s = table.by_session_id(sh.session_id);
  if (s == nullptr || s->local_tunnel_id != sh.tunnel_id || s->peer_addr != sh.src || s->local_addr != sh.dst ||
      s->peer_port != sh.sport || s->local_port != sh.dport)
    return drop = Drop::kUnknownSession, Verdict::kDrop;
  out.session = s;
  out.sequenced = false;
  out.ns = 0;
  if (!s->in_fast_path()) return Verdict::kControl;
  if (s->owner_worker != worker) return Verdict::kHandoff;
  out.inner_offset = sh.inner_offset;
  out.inner_len = sh.inner_len;
  return Verdict::kFast;
}

// The Session ID of what looks like an L2TP data message, or 0: a cheap
// look at fixed offsets, bounds-checked but not validating, so that the
// worker can prefetch the session of every packet of a burst before
// classify_upstream() needs it (the session entries of 60000 subscribers
// do not fit in the L2; one miss per packet, overlapped across the burst).
uint16_t upstream_session_hint(const rte_mbuf* m);

// A core-side IPv4 packet headed for a subscriber.
struct DownstreamPacket {
  rte_be32_t dst = 0;     // the subscriber address, network order
  uint16_t l2_len = 0;    // Ethernet [+802.1Q]
  uint16_t ip_len = 0;    // IPv4 total length
};

// Core side: Ethernet [+802.1Q] / IPv4. ARP: kControl; IPv4 with a sane
// header: kFast (the subscriber lookup is done in bulk by the caller);
// anything else: kDrop.
Verdict classify_downstream(const rte_mbuf* m, DownstreamPacket& out, Drop& drop);

}  // namespace l2tp::dp
