#pragma once
// The control thread's side of the worker rings (DESIGN.md "Processes and
// threads"): the data plane's implementation of the control plane's
// network seam (control/net.hpp DatagramIo).
//
// receive_batch() drains the workers' to-control rings, the high-priority
// ones first (L2TP control of existing tunnels, LCP, ARP replies: what
// keeps established tunnels and sessions alive, see dataplane/police.hpp),
// (up to three quarters of the batch), then the normal ones for the rest,
// a quarter at least, so that neither class starves the other. Frames
// taken, not datagrams delivered, count against the batch: a flood of
// anything holds the event loop (and the Engine's timers) for one batch at
// most per call (EngineDriver bounds the calls per pass). L2TP datagrams to
// our access address and port go up to the Engine with their metadata
// (addresses, port, VLAN, worker), PPP data included; ARP is answered for
// our addresses and learned; ICMP echo to our addresses is answered; the
// rest is counted and freed. send_batch() builds Ethernet [+VLAN] / IPv4 /
// UDP around each datagram and queues it on a worker's from-control ring
// for the access port: a data message of a session (TxDatagram's
// meta.session, pppd's frames) on the session's owner worker's ring, marked
// for the owner to write its Ns when the session is sequenced (one Ns
// counter per session, the owner's: sequences_data()); anything else on
// the ring of the worker the tunnel's datagrams come in on (meta.worker). A destination whose MAC is unknown gets an ARP
// request (at most one a second) and its datagram is a counted drop: the
// control transport retransmits, and pppd's LCP does too.

#include <cstdint>
#include <vector>

#include <rte_ether.h>

#include "control/net.hpp"
#include "dataplane/dp_config.hpp"
#include "dataplane/handoff.hpp"
#include "dataplane/neighbours.hpp"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace l2tp::dp {

struct ControlIoCounters {
  uint64_t arp_replies_sent = 0;   // we answered a request for our address
  uint64_t echo_replies_sent = 0;  // ICMP echo to our address
  uint64_t unresolved = 0;         // datagrams dropped: no MAC for the next hop yet
  uint64_t not_for_us = 0;         // punted frames that were neither ARP, ICMP nor L2TP to us
  uint64_t ring_full = 0;          // frames the worker's ring did not take
  uint64_t no_mbuf = 0;            // the pool was empty
};

class ControlIo final : public control::DatagramIo {
 public:
  struct WorkerRings {
    rte_ring* to_control;
    rte_ring* from_control;
    rte_ring* to_control_high = nullptr;  // drained first; may be absent
  };
  // mac_of(port) must be valid for the access and the core port.
  ControlIo(const DataPlaneConfig& config, rte_mempool* pool, std::vector<WorkerRings> rings,
            const rte_ether_addr& access_mac, const rte_ether_addr& core_mac);
  ~ControlIo() override = default;

  size_t send_batch(std::span<const control::TxDatagram> batch) override;
  size_t receive_batch(size_t max, const DatagramFn& on_datagram) override;
  int wait_fd() const override { return -1; }  // rings: polled
  bool sequences_data() const override { return true; }  // the owner worker does
  const control::IoCounters& counters() const override { return io_counters_; }

  Neighbours& neighbours() { return neighbours_; }
  const ControlIoCounters& dp_counters() const { return counters_; }

  // Handles one frame a worker handed up (exposed for tests); true when it
  // delivered an L2TP datagram.
  bool handle(rte_mbuf* m, uint16_t worker, const DatagramFn& on_datagram);

 private:
  bool handle_arp(rte_mbuf* m, uint16_t worker, size_t l2_len);
  bool answer_echo(rte_mbuf* m, uint16_t worker, size_t l2_len);
  void request(uint16_t port, uint16_t vlan, uint16_t worker, uint32_t target);
  bool enqueue(rte_mbuf* m, uint16_t worker);
  bool ours(uint16_t port, uint32_t addr) const;
  // Takes up to budget frames from one ring of each worker in turn (from
  // next_*_ on, so that no worker is always last); returns how many.
  size_t drain(bool high, size_t budget, size_t& delivered, const DatagramFn& on_datagram);
  const rte_ether_addr& mac_of(uint16_t port) const {
    return port == config_.access_port ? access_mac_ : core_mac_;
  }

  DataPlaneConfig config_;
  rte_mempool* pool_;
  std::vector<WorkerRings> rings_;
  rte_ether_addr access_mac_, core_mac_;
  Neighbours neighbours_;
  control::IoCounters io_counters_;
  ControlIoCounters counters_;
  NsRequestMark ns_mark_;
  uint16_t next_high_ = 0, next_normal_ = 0;
};

}  // namespace l2tp::dp
