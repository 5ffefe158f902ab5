#pragma once
// The fast-path seam of the control plane (DESIGN.md "Fast path handoff"):
// the control thread tells the data plane which sessions exist and which of
// them may have their IPv4 traffic switched by the workers. control/ never
// includes a DPDK header; dataplane/session_table.hpp implements FastPath
// with RCU-protected tables, and a socket-mode daemon simply has none.
//
// Invariant: every ID, address and port here is in host byte order; MAC
// addresses are in wire order.

#include <array>
#include <cstdint>

#include "control/net.hpp"

namespace l2tp::control {

using MacAddress = std::array<uint8_t, 6>;

// One session as the data plane needs it. Published when the session is
// established (ICCN/ICRP exchanged) with subscriber_addr 0: the workers then
// know the session (its data is not an "unknown session" drop) but hand
// every PPP frame to the control thread. Published again once IPCP has
// opened, with the subscriber's address: from then on IPv4 takes the fast
// path both ways. Withdrawn on IPCP/LCP down (publish again with 0), CDN or
// StopCCN (withdraw).
struct FastPathEntry {
  uint16_t local_tunnel_id = 0;   // ours: the Tunnel ID the peer puts in its headers
  uint16_t local_session_id = 0;  // ours, unique box-wide, never 0
  uint16_t peer_tunnel_id = 0;    // the peer's: what we put in our headers
  uint16_t peer_session_id = 0;
  Endpoint local;   // our IPv4 address and UDP port for this tunnel
  Endpoint peer;    // the peer's
  uint32_t subscriber_addr = 0;  // IPv4 from IPCP; 0: not (yet) in the fast path
  bool sequenced = false;        // send Ns on data messages (RFC 2661 5.4)
  // We are the LAC and did not send Sequencing Required: the LNS decides,
  // and data goes with Ns while the LNS's data carries S (RFC 2661 5.4).
  bool follows_peer_sequencing = false;
  uint16_t peer_mru = 1500;      // LCP (RFC 1661 6.1): the largest PPP information field the peer takes
  uint16_t owner_worker = 0;     // the one worker that writes this session's state
  // How the peer is reached on the access side: the port the tunnel's
  // datagrams arrive on (DatagramMeta::port_id), its VLAN (0 = untagged),
  // our MAC there and the next hop's MAC towards the peer.
  uint16_t access_port = 0;
  uint16_t vlan = 0;
  MacAddress local_mac{};
  MacAddress peer_mac{};

  bool operator==(const FastPathEntry&) const = default;
};

class FastPath {
 public:
  virtual ~FastPath() = default;

  // Adds the session, or replaces what was published for the same
  // local_session_id (the replacement is atomic for the workers). false
  // when the entry is refused: an ID of 0, or a subscriber address that
  // another session holds.
  virtual bool publish(const FastPathEntry& entry) = 0;

  // Removes the session; its data becomes an "unknown session" drop.
  // false when it was not published.
  virtual bool withdraw(uint16_t local_session_id) = 0;

  // The live tunnels, so that the workers can tell the control messages of
  // a tunnel from its peer from spoofed ones for random tunnel IDs and
  // police those apart (dataplane/police.hpp). The Engine calls tunnel_up
  // when it allocates a tunnel ID for a peer (LNS: the SCCRQ it answers;
  // LAC: the SCCRQ it sends), before anything that could draw an answer
  // leaves, and tunnel_down when it frees the ID. peer.addr is what the
  // data plane checks (host order). The default: nothing to tell.
  virtual void tunnel_up(uint16_t /*local_tunnel_id*/, const Endpoint& /*peer*/) {}
  virtual void tunnel_down(uint16_t /*local_tunnel_id*/) {}
};

}  // namespace l2tp::control
