#pragma once
// The data plane as the daemon runs it: the EAL, the mbuf pool, the access
// and core ports, the fast-path tables with their RCU, one worker lcore
// per queue pair, the rings to the control thread, and the two seams the
// control plane talks through (control/net.hpp DatagramIo,
// control/fast_path.hpp FastPath). main() builds it before the Daemon and
// destroys it after.
//
// The control thread is the EAL main lcore (so dpdk-dumpcap, a secondary
// process, can attach when the shared configuration is on); the caller
// blocks the signals it handles before init_eal(), so that no EAL thread
// takes SIGTERM or SIGUSR1 away from the daemon's signalfd.

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "control/fast_path.hpp"
#include "control/net.hpp"
#include "dataplane/control_io.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/dp_config.hpp"
#include "dataplane/tunnel_table.hpp"
#include "dataplane/worker.hpp"

struct rte_mempool;
struct rte_rcu_qsbr;

namespace l2tp::dp {

class SessionTable;

// rte_eal_init with argv[0] "l2tpd"; throws std::runtime_error naming
// DPDK's reason. Once per process.
void init_eal(const std::vector<std::string>& args);

class DataPlane final : private control::FastPath {
 public:
  // Ports up, next hop resolved, workers launched; throws
  // std::runtime_error with what to fix (a port that does not exist, too
  // few lcores, an unanswered ARP for the next hop...).
  explicit DataPlane(const DataPlaneConfig& config);
  ~DataPlane() override;  // stops and joins the workers, stops the ports
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  control::DatagramIo& io() { return *io_; }
  control::FastPath& fast_path() { return *this; }
  ControlIo& control_io() { return *io_; }
  const SessionTable& table() const { return *table_; }

  // Summed over the workers (read racily while they run: a report).
  WorkerCounters totals() const;
  unsigned workers() const { return static_cast<unsigned>(workers_.size()); }
  const DataPlaneConfig& config() const { return config_; }
  // One line per port and the drop counters, for the status report.
  std::vector<std::string> report() const;
  // Packets the fast path moved for a session, both ways (read racily from
  // the owner worker's counters: for idle time and reports).
  uint64_t session_packets(uint16_t local_session_id) const;
  const WorkerCounters& worker_counters(unsigned w) const;

  // What is published, for telemetry's thread (under a lock of its own:
  // the workers' tables are not read there).
  size_t published_count() const;
  size_t published_subscribers() const;
  std::vector<uint16_t> published_ids() const;
  std::optional<control::FastPathEntry> published_entry(uint16_t local_session_id) const;

  using LaunchArg = std::pair<Worker*, const std::atomic<bool>*>;

 private:
  // control::FastPath: the session table, with the MACs filled in from the
  // ports and the neighbour table.
  bool publish(const control::FastPathEntry& entry) override;
  bool withdraw(uint16_t local_session_id) override;
  // The live tunnels the workers' policer reads (tunnel_table.hpp).
  void tunnel_up(uint16_t local_tunnel_id, const control::Endpoint& peer) override;
  void tunnel_down(uint16_t local_tunnel_id) override;

  void setup_port(uint16_t port, unsigned queues);
  // Stops the workers and frees everything built, in order; idempotent.
  void teardown() noexcept;
  rte_ether_addr resolve_next_hop();

  DataPlaneConfig config_;
  rte_mempool* pool_ = nullptr;
  rte_mempool* indirect_pool_ = nullptr;  // fragments' indirect mbufs; nullptr: fragment = no
  bool access_multi_seg_ = false;          // the access port sends mbuf chains
  rte_rcu_qsbr* rcu_ = nullptr;
  std::unique_ptr<SessionTable> table_;
  std::unique_ptr<TunnelTable> tunnels_;
  std::vector<ControlRings> rings_;
  std::vector<HandoffRings> handoff_;  // one per worker, when there are several
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<unsigned> lcores_;
  std::unique_ptr<ControlIo> io_;
  rte_ether_addr access_mac_{}, core_mac_{};
  std::atomic<bool> stop_{false};
  std::vector<LaunchArg> launch_args_;
  bool launched_ = false;
  uint64_t unpublishable_ = 0;  // sessions refused: the peer's MAC is unknown
  mutable std::mutex published_mutex_;
  std::map<uint16_t, control::FastPathEntry> published_;  // what the table holds
};

}  // namespace l2tp::dp
