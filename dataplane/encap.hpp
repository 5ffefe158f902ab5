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

// The parts of encap_ipv4() that the MTU path (dataplane/mtu.hpp) shares.
// encap_admit: the checks that come first (the session still holds the
// address, the caller owns it, the TTL allows forwarding); changes nothing.
bool encap_admit(const rte_mbuf* m, const DownstreamPacket& pkt, const Session& s, uint16_t worker,
                 Drop& drop);
// encap_prepend: m starts with an inner IPv4 packet of ip_len octets (in
// one segment or several; the TTL already decremented) and its first
// segment has s.template_len of headroom: prepends the template and fills
// the outer lengths, checksum and Ns; counts the packet on the session.
void encap_prepend(rte_mbuf* m, uint16_t ip_len, const Session& s, SessionState& state);

}  // namespace l2tp::dp
