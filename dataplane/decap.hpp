#pragma once
// Upstream fast path: L2TP/PPP off, the subscriber's IPv4 packet out of the
// core port (DESIGN.md "Packet paths").

#include <cstdint>

#include <rte_ether.h>

#include "dataplane/classify.hpp"

struct rte_mbuf;

namespace l2tp::dp {

// The core port's Ethernet header for routed traffic: our MAC, the next
// hop's, and a VLAN (0 = untagged).
struct CoreNextHop {
  rte_ether_addr src{};
  rte_ether_addr dst{};
  uint16_t vlan = 0;
};

// Turns the frame classify_upstream() accepted into Ethernet / inner IPv4
// for the core port: checks the inner header, enforces the session's
// subscriber address as source (anti-spoofing), decrements TTL with an
// incremental checksum, drops link padding, and counts the packet on the
// session. false with drop set when the packet must be freed; the mbuf is
// then unchanged.
bool decap_ipv4(rte_mbuf* m, const UpstreamPacket& pkt, const CoreNextHop& hop, SessionState& state,
                Drop& drop);

}  // namespace l2tp::dp
