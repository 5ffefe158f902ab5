#pragma once
// Capture on our ports with dpdk-dumpcap (or dpdk-pdump): the daemon, the
// EAL primary process, serves DPDK's packet-capture requests
// (rte_pdump_init). dpdk-dumpcap is a secondary process: it attaches
// through the primary's runtime folder (/var/run/dpdk/<file prefix>), its
// multi-process channel and its shared memory; on request the primary adds
// RX and TX callbacks to the ports' queues, which copy each packet the
// workers receive or send (rte_eth_tx_buffer ends in rte_eth_tx_burst) into
// the secondary's ring. Nothing runs per packet while no one captures.
//
// So capture needs the shared configuration, which these EAL arguments
// turn off:
//   --no-shconf   no runtime files, no multi-process channel
//   --in-memory   implies --no-shconf
//   --no-huge     the memory is anonymous: a secondary cannot map it
//   --huge-unlink (=always)  the hugepage files are unlinked once mapped
// [dataplane] capture (DataPlaneConfig::capture) says what the operator
// wants: auto (the default) serves capture when the EAL arguments allow
// it and says once why not otherwise; yes makes arguments that rule it out
// a configuration error; no never serves it (subscriber traffic stays
// untappable from outside the daemon).
//
// No DPDK in this header: dp_config.cpp checks the arguments before the
// EAL starts.

#include <optional>
#include <string>
#include <vector>

namespace l2tp::dp {

enum class CaptureMode { kAuto, kYes, kNo };

// Why these EAL arguments (without argv[0]) keep dpdk-dumpcap from
// attaching, each reason naming its argument ("--no-shconf: ...", joined
// by "; " in the arguments' order); nullopt when they allow it. Exact
// spellings only: the server also asks the running EAL.
std::optional<std::string> capture_blocker(const std::vector<std::string>& eal_args);

// The packet-capture server for the primary's lifetime: construct it after
// init_eal(), before the ports carry traffic; the destructor unregisters it
// (rte_pdump_uninit). Throws std::runtime_error when mode is kYes and the
// server cannot start (the arguments were checked by the config parser, so
// this is DPDK's own refusal).
class CaptureServer {
 public:
  CaptureServer(CaptureMode mode, const std::vector<std::string>& eal_args);
  ~CaptureServer();
  CaptureServer(const CaptureServer&) = delete;
  CaptureServer& operator=(const CaptureServer&) = delete;

  bool serving() const { return serving_; }
  // One line for the log: the dpdk-dumpcap command that attaches, or why
  // capture is not available and what still works.
  const std::string& status() const { return status_; }

 private:
  bool serving_ = false;
  std::string status_;
};

}  // namespace l2tp::dp
