#include "dataplane/packet_capture.hpp"

#include <cerrno>
#include <stdexcept>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>

namespace l2tp::dp {

namespace {

constexpr const char* kStillWorks = "; telemetry (dpdk-telemetry.py) and the SIGUSR1 report still work";

// The multi-process channel is on when an action can be registered on it:
// under --no-shconf (or --in-memory, or an abbreviation of either that the
// EAL's getopt accepts) registration fails with ENOTSUP, which
// rte_pdump_init() ignores, so it cannot tell us.
bool mp_channel_on() {
  static constexpr const char* kProbe = "l2tpd_capture_probe";
  if (rte_mp_action_register(kProbe, [](const rte_mp_msg*, const void*) { return 0; }) != 0)
    return rte_errno != ENOTSUP;
  rte_mp_action_unregister(kProbe);
  return true;
}

std::string file_prefix() {
  // The runtime folder is /var/run/dpdk/<prefix> (or under $XDG_RUNTIME_DIR).
  const std::string dir = rte_eal_get_runtime_dir();
  const auto slash = dir.find_last_of('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

}  // namespace

std::optional<std::string> capture_blocker(const std::vector<std::string>& eal_args) {
  // All of them, so that the operator fixes the arguments in one go.
  std::string why;
  auto add = [&why](const char* reason) { why += (why.empty() ? "" : "; ") + std::string(reason); };
  for (const std::string& a : eal_args) {
    if (a == "--no-shconf")
      add("--no-shconf: no shared runtime files and no multi-process channel, so no secondary process "
          "(dpdk-dumpcap, dpdk-proc-info) can attach");
    else if (a == "--in-memory")
      add("--in-memory: it implies --no-shconf, so no secondary process (dpdk-dumpcap, dpdk-proc-info) can "
          "attach");
    else if (a == "--no-huge")
      add("--no-huge: the EAL's memory is anonymous, so a secondary process (dpdk-dumpcap, dpdk-proc-info) "
          "cannot map it; reserve hugepages (./hugepage-setup)");
    else if (a == "--huge-unlink" || a == "--huge-unlink=always")
      add("--huge-unlink: the hugepage files are gone once mapped, so a secondary process (dpdk-dumpcap, "
          "dpdk-proc-info) cannot map them");
  }
  if (why.empty()) return std::nullopt;
  return why;
}

CaptureServer::CaptureServer(CaptureMode mode, const std::vector<std::string>& eal_args) {
  if (mode == CaptureMode::kNo) {
    status_ = "capture: off ([dataplane] capture = no): dpdk-dumpcap cannot tap our ports";
    return;
  }
  // The arguments first (their reason is the clearest), then what the EAL
  // says it runs with, for spellings the argument check does not know.
  std::optional<std::string> why = capture_blocker(eal_args);
  if (!why && !rte_eal_has_hugepages())
    why = "the EAL runs without hugepages, so a secondary process (dpdk-dumpcap) cannot map its memory";
  if (!why && !mp_channel_on())
    why = "the EAL's multi-process channel is off (--no-shconf or --in-memory), so no secondary process "
          "(dpdk-dumpcap, dpdk-proc-info) can attach";
  if (!why && rte_pdump_init() != 0) why = std::string("rte_pdump_init: ") + rte_strerror(rte_errno);
  if (why) {
    if (mode == CaptureMode::kYes) throw std::runtime_error("[dataplane] capture = yes, but " + *why);
    status_ = "capture: not available: " + *why + kStillWorks;
    return;
  }
  serving_ = true;
  status_ = "capture: dpdk-dumpcap can attach: dpdk-dumpcap --file-prefix=" + file_prefix() +
            " -p -i <port ID or name> -w FILE.pcapng";
}

CaptureServer::~CaptureServer() {
  if (serving_) rte_pdump_uninit();
}

}  // namespace l2tp::dp
