#pragma once
// The control plane's owner of tunnels: it takes every L2TP datagram the
// network seam delivers, drops what is not ours (counted), answers SCCRQs
// by creating tunnels under the limits and the per-peer policy, routes
// everything else to its tunnel by our Tunnel ID, allocates tunnel and
// session IDs, and frees dead tunnels. It reads no clock: every entry takes
// `now`; the event loop calls on_timer() at next_deadline().

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control/fast_path.hpp"
#include "control/id_pool.hpp"
#include "control/net.hpp"
#include "control/tunnel.hpp"
#include "control/tunnel_context.hpp"

namespace l2tp::control {

struct EngineLimits {
  uint32_t max_tunnels = 4096;
  uint32_t max_sessions = 65535;  // box-wide; per tunnel: TunnelSettings
  Duration id_hold = 31s;         // quarantine of freed IDs (the StopCCN hold)
};

struct EngineCounters {
  uint64_t datagrams = 0;
  uint64_t bad_version = 0;       // 3.1: not L2TPv2 (v3 shares the port): dropped silently
  uint64_t malformed = 0;         // header does not decode
  uint64_t unknown_tunnel = 0;    // no tunnel with that ID (or not from its peer)
  uint64_t not_sccrq = 0;         // Tunnel ID 0 but not an SCCRQ
  uint64_t tunnels_refused = 0;   // policy, limits or no free ID: one-shot StopCCN
  uint64_t tie_breaker_lost = 0;  // 4.4.3: our SCCRQ lost to the peer's
  uint64_t data_unknown = 0;      // data for no established session
  uint64_t data_in = 0;
  uint64_t data_out = 0;
  uint64_t data_stale = 0;        // 5.4: sequenced data older than expected (late or duplicated): dropped
};

// What the Engine asks about a peer that sends an SCCRQ: the settings of
// the tunnel to answer it with, or why not (StopCCN result 4, not
// authorized). Secrets and access control live behind it.
struct PeerDecision {
  std::optional<TunnelSettings> settings;
  std::string refusal;  // when no settings
};
using PeerPolicy = std::function<PeerDecision(const DatagramMeta& from, const std::string& host_name)>;

class Engine : public TunnelContext {
 public:
  Engine(DatagramIo& io, ControlObserver& observer, PeerPolicy policy, const EngineLimits& limits, uint64_t seed);
  ~Engine() override;

  // With a data plane: told of every tunnel ID allocated for a peer and of
  // its release (FastPath::tunnel_up/tunnel_down). nullptr (socket mode):
  // nobody to tell. Set before the first datagram.
  void set_fast_path(FastPath* fast_path) { fast_path_ = fast_path; }

  // One datagram from the network (any of ours: the caller filtered the port).
  void on_datagram(const DatagramMeta& meta, std::span<const uint8_t> datagram, TimePoint now);
  void on_timer(TimePoint now);
  // O(log tunnels): the deadlines of tunnels that changed since the last
  // call are refreshed, the others are kept in an ordered set. Also sends
  // what calls made on a Tunnel directly have queued: call it after them.
  std::optional<TimePoint> next_deadline();

  // LAC: opens a tunnel to peer (SCCRQ). nullptr at the limits.
  Tunnel* open_tunnel(const Endpoint& local, const Endpoint& peer, const TunnelSettings& settings, TimePoint now);
  void close_tunnel(uint16_t local_id, const wire::ResultCode& why, TimePoint now);
  // StopCCN on every tunnel (SIGTERM); they are freed after the hold time.
  void close_all(const wire::ResultCode& why, TimePoint now);

  // A PPP frame for the session's peer, in an L2TP data message tagged
  // with the session (DatagramMeta::session). Sequenced (Ns) when the
  // session is (Session::sends_sequenced_data); Ns is left 0 for the I/O
  // to write when it sequences data itself (DatagramIo::sequences_data).
  bool send_ppp(Session& session, std::span<const uint8_t> frame, TimePoint now);

  Tunnel* tunnel(uint16_t local_id);
  // How a tunnel reaches its peer: our address and port, the peer's, and
  // (DPDK) the port, VLAN and worker its datagrams last came in on, which
  // its own datagrams leave by. nullptr for an unknown tunnel.
  const DatagramMeta* route_of(uint16_t local_id) const {
    auto it = tunnels_.find(local_id);
    return it == tunnels_.end() ? nullptr : &it->second.route;
  }
  size_t tunnel_count() const { return tunnels_.size(); }
  size_t session_count() const { return session_ids_.live(); }
  template <class F>
  void for_each_tunnel(F&& f) const {
    for (const auto& [id, e] : tunnels_) f(*e.tunnel, e.route.local, e.route.peer);
  }
  const EngineCounters& counters() const { return counters_; }
  const IdPool& tunnel_ids() const { return tunnel_ids_; }
  const IdPool& session_ids() const { return session_ids_; }

  // TunnelContext
  std::optional<uint16_t> allocate_session_id(TimePoint now) override { return session_ids_.allocate(now); }
  void release_session_id(uint16_t id, TimePoint now) override { session_ids_.free(id, now); }
  bool session_slot_available() const override { return session_ids_.live() < session_ids_.capacity(); }
  void random_bytes(std::span<uint8_t> out) override;
  void send_datagram(const Tunnel& tunnel, std::span<const uint8_t> datagram) override;
  ControlObserver& observer() override { return observer_; }

 private:
  struct Entry {
    std::unique_ptr<Tunnel> tunnel;
    DatagramMeta route;  // local and peer endpoints, port, VLAN, worker
    std::optional<TimePoint> deadline;  // as entered in deadlines_
  };
  using PeerKey = std::pair<Endpoint, uint16_t>;  // peer, its Assigned Tunnel ID

  void on_sccrq(const DatagramMeta& meta, const wire::Header& h, std::span<const uint8_t> avps, TimePoint now);
  void on_data(const DatagramMeta& meta, const wire::Header& h, std::span<const uint8_t> payload);
  void refuse(const DatagramMeta& meta, uint16_t peer_tunnel_id, uint16_t result, uint16_t error,
              const std::string& why);
  Tunnel& add_tunnel(uint16_t id, Role role, const TunnelSettings& s, const DatagramMeta& route, TimePoint now);
  void queue(const DatagramMeta& meta, std::span<const uint8_t> bytes);
  void flush();
  void reap(TimePoint now);
  // A tunnel whose deadline may have moved: anything it sent or received,
  // and anything done to it from outside, passes through here.
  void mark(uint16_t id) { dirty_.push_back(id); }
  void refresh_deadlines();

  DatagramIo& io_;
  ControlObserver& observer_;
  FastPath* fast_path_ = nullptr;
  PeerPolicy policy_;
  EngineLimits limits_;
  IdPool tunnel_ids_;
  IdPool session_ids_;
  std::mt19937_64 rng_;
  std::map<uint16_t, Entry> tunnels_;
  std::map<PeerKey, uint16_t> by_peer_;  // responder tunnels: retransmitted SCCRQs
  EngineCounters counters_;
  std::set<std::pair<TimePoint, uint16_t>> deadlines_;
  std::vector<uint16_t> dirty_;
  // Datagrams produced while handling one event, sent as one batch.
  std::vector<std::pair<DatagramMeta, std::vector<uint8_t>>> tx_;
};

}  // namespace l2tp::control
