#pragma once
// The per-lcore loop (DESIGN.md "Processes and threads", CONVENTIONS.md
// "The per-lcore loop"): burst RX from the access and core ports, sort each
// burst into fast-path, control-bound and dropped packets, run decap/encap
// over the fast-path array, buffer TX per port and drain it on a TSC
// deadline, exchange frames with the control thread over SP/SC rings
// (what goes up is policed per peer and class first, and the control
// thread drains the high-priority ring first: police.hpp), and report an
// RCU quiescent state once per loop.
//
// One worker serves one RX/TX queue pair on one access port and one core
// port; the sessions it owns are published with its ID as owner_worker.
// Fast-path packets of sessions another worker owns are handed to that
// worker's handoff rings (handoff.hpp), and the worker takes in what the
// others hand it through its own.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <rte_common.h>

#include "dataplane/counters.hpp"
#include "dataplane/decap.hpp"
#include "dataplane/handoff.hpp"
#include "dataplane/mtu.hpp"
#include "dataplane/reassembly.hpp"
#include "dataplane/police.hpp"
#include "dataplane/reorder.hpp"
#include "dataplane/session_table.hpp"

struct rte_eth_dev_tx_buffer;
struct rte_mbuf;
struct rte_rcu_qsbr;
struct rte_ring;

namespace l2tp::dp {

inline constexpr uint16_t kBurst = 32;

struct WorkerConfig {
  uint16_t id = 0;  // owner_worker of its sessions and its RCU thread ID
  uint16_t access_port = 0;
  uint16_t core_port = 0;
  uint16_t rx_queue = 0;
  uint16_t tx_queue = 0;
  CoreNextHop core_hop;
  // Our own addresses (network order; 0: none): a packet for the box itself
  // that is not L2TP (a ping, say) goes to the control thread, not to the
  // "not L2TP" or "no subscriber" drop.
  rte_be32_t access_addr = 0;
  rte_be32_t core_addr = 0;
  const SessionTable* table = nullptr;
  rte_rcu_qsbr* rcu = nullptr;
  // Worker -> control: frames for the control thread (L2TP control, PPP
  // control, data of sessions not in the fast path, ARP), as received,
  // after policing (dataplane/police.hpp): the high-priority class (control
  // of existing tunnels, LCP, ARP replies) on to_control_high, the rest on
  // to_control. Without to_control_high everything goes on to_control.
  rte_ring* to_control = nullptr;
  rte_ring* to_control_high = nullptr;
  // Control -> worker: complete Ethernet frames to send; mbuf->port names
  // the port (the access or the core port).
  rte_ring* from_control = nullptr;
  // Every worker's handoff inputs (handoff.hpp), an array of `workers`
  // indexed by worker ID, this one's at [id]; the caller keeps it alive.
  // nullptr with one worker: a session owned elsewhere is then a
  // kNotOwner drop.
  const HandoffRings* handoff = nullptr;
  uint16_t workers = 1;
  uint32_t drain_us = 100;  // longest a packet waits in a TX buffer
  // Idle back-off: after idle_polls empty loops, sleep idle_sleep_us per
  // loop until traffic returns. false for benchmarks (pure polling).
  bool idle_sleep = true;
  uint32_t idle_polls = 256;
  uint32_t idle_sleep_us = 50;
  // Downstream packets longer than their session's MTU: ICMP, fragments
  // (dataplane/mtu.hpp); core_addr is the ICMP's source.
  MtuConfig mtu;
  // Outer IPv4 fragments from the LACs (dataplane/reassembly.hpp).
  ReassemblyConfig reassembly;
  PuntPolicy police;  // limits of what goes up to the control thread
  // The live tunnels (tunnel_table.hpp), for the policer's classes; the
  // caller keeps it alive. nullptr: none is live (all tunnel control is
  // kStray).
  const TunnelTable* tunnels = nullptr;
  uint32_t police_seed = 0;  // the policer's bucket hash; 0: random (rte_rand)
  // Receive sequencing of upstream data with S set (dataplane/reorder.hpp).
  ReorderConfig reorder;
};

// The rings of one worker, single producer and single consumer each.
// Throws std::runtime_error (start-up only).
struct ControlRings {
  rte_ring* to_control = nullptr;
  rte_ring* from_control = nullptr;
  rte_ring* to_control_high = nullptr;
};
ControlRings create_control_rings(uint16_t worker, unsigned size, int socket_id);
void free_control_rings(ControlRings& rings);

class alignas(RTE_CACHE_LINE_SIZE) Worker {
 public:
  // Allocates the TX buffers and the reorder pool (throws
  // std::runtime_error). Any thread.
  explicit Worker(const WorkerConfig& config);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // On the worker's lcore: registers with RCU and goes online / offline.
  void attach();
  void detach();

  // One turn of the loop, without idle back-off: RX from both ports, the
  // handoff rings and the control ring, process, drain TX when the deadline has passed, then
  // a quiescent state. Returns the number of packets taken in.
  uint32_t poll();
  // Processes the bursts poll() holds, if any (see UpstreamBurst and
  // DownstreamBurst), and sends what the TX buffers hold now.
  void flush();
  // attach(), poll() until stop is set (with idle back-off when
  // configured), flush(), detach(). An lcore entry point.
  void run(const std::atomic<bool>& stop);

  const WorkerCounters& counters() const { return counters_; }
  const WorkerConfig& config() const { return config_; }
  const Reorder& reorder() const { return reorder_; }

 private:
  uint32_t poll_access();
  // What poll_access() and poll_core() share: the RX, and holding a full
  // burst between its passes (UpstreamBurst, DownstreamBurst).
  template <class Burst, class Shape, class Fetch, class Finish>
  uint16_t poll_port(uint16_t port, Burst (&bursts)[2], uint16_t& fill_at, uint64_t& rx, Shape shape, Fetch fetch,
                     Finish finish);
  // What the reorder buffer released, through upstream() again.
  void release_reordered();
  [[gnu::noinline, gnu::cold]] void note_peer_sequencing(const UpstreamPacket& up);
  uint32_t poll_core();
  uint32_t poll_handoff();
  uint32_t poll_control();
  // The paths poll_access/poll_core run on a burst; handed: it came
  // through this worker's handoff ring and is never handed on. admit:
  // sequenced data goes through the reorder buffer first (false for what
  // the buffer releases, which is also never handed on).
  void upstream(rte_mbuf** pkts, uint16_t n, bool handed, bool admit = true);
  // A burst from the access port between upstream_shape() and decap, held
  // by poll_access() under load as DownstreamBurst is by poll_core(): its
  // sessions' slots and states, then the sessions, each have a turn of the
  // loop to arrive.
  struct UpstreamBurst {
    rte_mbuf* pkts[kBurst];
    UpstreamShape shapes[kBurst];
    uint16_t ids[kBurst];  // the session ID to fetch for
    bool shaped[kBurst];
    uint16_t n = 0;
  };
  void shape_upstream(UpstreamBurst& b) const;
  void fetch_upstream(const UpstreamBurst& b) const;
  void finish_upstream(UpstreamBurst& b, bool handed, bool admit);
  void downstream(rte_mbuf** pkts, uint16_t n, bool handed);
  // A burst from the core port between downstream_shape() and encap. Under
  // load (the RX burst came back full, so the next one is already waiting)
  // poll_core() holds it until the next poll: its subscribers' DirectLines
  // then have a turn of the loop to arrive, not a pass over the burst, and
  // what encap reads next (fetch_downstream) another. A burst that is not
  // full is processed at once, so a quiet port waits for nothing; flush()
  // processes a held one.
  struct DownstreamBurst {
    rte_mbuf* pkts[kBurst];
    rte_be32_t dst[kBurst];
    uint16_t ip_len[kBurst];
    const DirectLine* line[kBurst];  // nullptr: downstream_general()
    uint16_t n = 0;
  };
  void shape_downstream(DownstreamBurst& b) const;
  void fetch_downstream(const DownstreamBurst& b) const;
  void finish_downstream(DownstreamBurst& b, bool handed);
  // What leaves a burst, either way, other than by a TX buffer, sent when
  // the burst is done (the arrays are filled only as far as the counts say).
  struct Aside {
    rte_mbuf* control[kBurst];
    rte_mbuf* dropped[kBurst];
    rte_mbuf* hand[kBurst];
    uint16_t owners[kBurst];
    uint16_t nc = 0, nd = 0, nh = 0;
  };
  void downstream_general(rte_mbuf* m, bool handed, Aside& aside);
  // Enqueues each pkts[i] to owners[i]'s handoff ring for the direction.
  void hand_over(rte_mbuf** pkts, const uint16_t* owners, uint16_t n, bool up);
  void to_control(rte_mbuf** pkts, uint16_t n);
  void finish_held();
  void drain_tx();
  void enqueue_to_control(rte_ring* ring, rte_mbuf** pkts, uint16_t n);
  void send(rte_eth_dev_tx_buffer* buffer, uint16_t port, rte_mbuf* m, uint64_t& sent);
  void send_bulk(rte_eth_dev_tx_buffer* buffer, uint16_t port, rte_mbuf** pkts, uint16_t& n, uint64_t& sent,
                 uint64_t& forwarded);
  void too_big(rte_mbuf* m, const DownstreamPacket& pkt, const Session& s, SessionState& state);

  WorkerCounters counters_;
  WorkerConfig config_;
  NsRequestMark ns_mark_;
  Reorder reorder_;
  rte_eth_dev_tx_buffer* tx_access_ = nullptr;
  rte_eth_dev_tx_buffer* tx_core_ = nullptr;
  std::unique_ptr<Reassembly> reassembly_;  // null: reassembly off
  UpstreamBurst up_[2];      // filled by poll_access(), alternately
  uint16_t up_fill_ = 0;     // the one the next RX fills; the other may be held
  DownstreamBurst down_[2];  // filled by poll_core(), alternately
  uint16_t down_fill_ = 0;   // the one the next RX fills; the other may be held
  uint64_t drain_tsc_ = 0;
  uint64_t last_drain_ = 0;
  DownstreamMtu mtu_;
  PuntPolicer policer_;
  CoreL2Header core_l2_;  // config_.core_hop as decap writes it
};

}  // namespace l2tp::dp
