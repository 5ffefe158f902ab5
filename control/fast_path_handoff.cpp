#include "control/fast_path_handoff.hpp"

#include "control/tunnel.hpp"

namespace l2tp::control {

void FastPathHandoff::session_up(const Session& s, const DatagramMeta& route) {
  FastPathEntry e;
  e.local_tunnel_id = s.tunnel().local_id();
  e.local_session_id = s.local_id();
  e.peer_tunnel_id = s.tunnel().peer_id();
  e.peer_session_id = s.peer_id();
  e.local = route.local;
  e.peer = route.peer;
  // RFC 2661 5.4: a LAC's Sequencing Required makes the session sequenced
  // for its whole life; otherwise an LNS (we) does not ask for it, and a
  // LAC follows the S bit of what it receives (the data plane's part).
  e.sequenced = s.info().sequencing_required;
  e.follows_peer_sequencing = s.role() == Role::kLac && !e.sequenced;
  e.owner_worker = route.worker;  // the data plane may place it elsewhere
  e.access_port = route.port_id;
  e.vlan = route.vlan;
  if (!fp_.publish(e)) {
    ++counters_.refused;
    return;
  }
  ++counters_.published;
  entries_[e.local_session_id] = e;
}

bool FastPathHandoff::republish(FastPathEntry& e, uint32_t subscriber, uint16_t peer_mru) {
  if (e.subscriber_addr == subscriber && e.peer_mru == peer_mru) return true;
  FastPathEntry next = e;
  next.subscriber_addr = subscriber;
  next.peer_mru = peer_mru;
  if (!fp_.publish(next)) {
    ++counters_.refused;
    return false;
  }
  e = next;
  return true;
}

void FastPathHandoff::link_event(uint16_t sid, PppEvent ev, const PppLinkState& st) {
  auto it = entries_.find(sid);
  if (it == entries_.end()) return;
  FastPathEntry& e = it->second;
  switch (ev) {
    case PppEvent::kIpcpUp:
      // 0.0.0.0 is no address: IPCP with it stays on the slow path. The
      // MRU LCP settled (IPCP opens only over an open LCP) bounds what the
      // data plane sends down the session (dataplane/mtu.hpp).
      if (st.peer_ipv4 != 0 && republish(e, st.peer_ipv4, st.peer_mru)) ++counters_.fast;
      break;
    case PppEvent::kIpcpDown:
    case PppEvent::kLcpDown:
      if (e.subscriber_addr != 0 && republish(e, 0, e.peer_mru)) ++counters_.slow;
      break;
    default:
      break;
  }
}

void FastPathHandoff::session_down(uint16_t sid) {
  auto it = entries_.find(sid);
  if (it == entries_.end()) return;
  entries_.erase(it);
  fp_.withdraw(sid);
  ++counters_.withdrawn;
}

const FastPathEntry* FastPathHandoff::entry(uint16_t sid) const {
  auto it = entries_.find(sid);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace l2tp::control
