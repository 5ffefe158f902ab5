#pragma once
// Downstream fast path: an IPv4 packet for a subscriber gets the session's
// outer headers and leaves by the access port (DESIGN.md "Packet paths").

#include <cstdint>

#include "dataplane/classify.hpp"

struct rte_mbuf;

namespace l2tp::dp {

// Replaces the L2 header of the packet classify_downstream() described
// with s's template (Ethernet [+802.1Q] / IPv4 / UDP / L2TP / PPP IPv4),
// decrementing the inner TTL and filling the outer lengths, the outer IPv4
// checksum and, for a sequenced session, Ns (RFC 2661 5.4). worker is the
// caller's worker ID: only s's owner may write its state. false with drop
// set when the packet must be freed; the mbuf is then unchanged.
bool encap_ipv4(rte_mbuf* m, const DownstreamPacket& pkt, const Session& s, SessionState& state,
                uint16_t worker, Drop& drop);

}  // namespace l2tp::dp
