// l2tpd: the daemon's command line, and the one place that picks and wires
// the control plane's seams (DESIGN.md "Dependencies"): a kernel UDP
// socket (--socket), or the DPDK data plane's rings and fast-path tables.

#include <boost/program_options.hpp>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "control/daemon.hpp"
#include "control/log.hpp"
#include "dataplane/dataplane.hpp"
#include "dataplane/packet_capture.hpp"

namespace po = boost::program_options;
using namespace l2tp::control;

namespace {

constexpr const char* kVersion = "0.1.0";

// Creates the parent directories of path (mode 0755), as /var/run/xl2tpd.
void make_parent_dirs(const std::string& path) {
  for (size_t i = 1; (i = path.find('/', i)) != std::string::npos; ++i) mkdir(path.substr(0, i).c_str(), 0755);
}

// One pty master per call with a pppd, plus the sockets, FIFO and timers:
// the soft descriptor limit (1024 by default) would cap a box at about a
// thousand calls. Raises it to what the session limit needs (root may raise
// the hard limit too), or at least to the hard limit.
void raise_fd_limit(uint32_t max_sessions) {
  constexpr rlim_t kOverhead = 256;
  const rlim_t want = (max_sessions ? max_sessions : 65535) + kOverhead;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
  rlimit raised{want, std::max(want, rl.rlim_max)};
  if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
  raised = {rl.rlim_max, rl.rlim_max};  // not root: as far as the hard limit goes
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) raised = rl;
  std::fprintf(stderr, "l2tpd: warning: descriptor limit %llu: about %llu calls with pppd at most\n",
               static_cast<unsigned long long>(raised.rlim_cur),
               static_cast<unsigned long long>(raised.rlim_cur > kOverhead ? raised.rlim_cur - kOverhead : 0));
}

// Refuses to start over a live daemon's pid file; false with a message.
bool claim_pid_file(const std::string& path, std::string& error) {
  std::ifstream in(path);
  long pid = 0;
  if (in >> pid && pid > 0 && kill(static_cast<pid_t>(pid), 0) == 0) {
    error = "already running as pid " + std::to_string(pid) + " (pid file " + path + ")";
    return false;
  }
  return true;
}

bool write_pid_file(const std::string& path) {
  make_parent_dirs(path);
  std::ofstream out(path, std::ios::trunc);
  out << getpid() << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  DaemonOptions opt;
  bool socket_mode = false;
  std::string log_level = "info";
  std::string eal_extra;
  po::options_description desc(
      "Usage: l2tpd [options]\n"
      "An L2TPv2 (RFC 2661) LAC and LNS. Reads an xl2tpd.conf-style configuration and\n"
      "xl2tpd's l2tp-secrets, and starts pppd on a pseudo-tty for every established call.\n"
      "Controlled through a command FIFO with xl2tpd-control or by hand:\n"
      "  t HOST[:PORT]   open a tunnel ([lac default]'s settings)\n"
      "  c TID|LAC       place a call on a tunnel, or dial a [lac NAME] entry\n"
      "  h CID           hang up a call\n"
      "  d TID|LAC       close a tunnel, or a [lac NAME]'s\n"
      "  o TID|LNS NUM   request an outgoing call (OCRQ)\n"
      "SIGUSR1 logs every tunnel and call, SIGHUP re-reads the secrets and the\n"
      "configuration, SIGTERM sends StopCCN to every tunnel, ends the pppds and exits.\n"
      "Without --socket the DPDK data plane runs as the config's [dataplane] section\n"
      "says (eal args, access/core port, access/core address, core next hop, workers).\n\nOptions");
  desc.add_options()
      ("help,h", "show this help")
      ("version,V", "show the version")
      ("config,c", po::value(&opt.config_path)->default_value(opt.config_path), "configuration file")
      ("secrets,s", po::value(&opt.secrets_path), "secrets file (default: [global] auth file)")
      ("control,C", po::value(&opt.fifo_path)->default_value(opt.fifo_path), "command FIFO")
      ("pidfile,p", po::value(&opt.pid_file)->default_value(opt.pid_file), "pid file")
      ("foreground,D", po::bool_switch(&opt.foreground), "stay in the foreground, log to stderr")
      ("socket", po::bool_switch(&socket_mode), "socket mode: kernel UDP socket, no DPDK")
      ("eal", po::value(&eal_extra), "DPDK EAL arguments, after [dataplane] eal args (one string)")
      ("pppd", po::value(&opt.pppd_path)->default_value(opt.pppd_path), "the pppd to start for each call")
      ("log-level", po::value(&log_level)->default_value(log_level), "error, warning, notice, info or debug");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "l2tpd: %s (try --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (vm.count("version")) {
    std::printf("l2tpd %s\n", kVersion);
    return 0;
  }
  LogConfig lc;
  const std::pair<const char*, LogLevel> levels[] = {{"error", LogLevel::kError},   {"warning", LogLevel::kWarning},
                                                      {"notice", LogLevel::kNotice}, {"info", LogLevel::kInfo},
                                                      {"debug", LogLevel::kDebug}};
  bool level_ok = false;
  for (auto [name, level] : levels)
    if (log_level == name) lc.level = level, level_ok = true;
  if (!level_ok) {
    std::fprintf(stderr, "l2tpd: --log-level %s: one of error, warning, notice, info, debug\n", log_level.c_str());
    return 2;
  }
  log_init(lc);

  // The default path may be absent (xl2tpd not installed): the built-in
  // LNS then serves. A file named with -c must exist.
  const bool config_given = !vm["config"].defaulted();
  auto config = !config_given && access(opt.config_path.c_str(), F_OK) != 0
                    ? parse_config("", opt.config_path)
                    : load_config(opt.config_path);
  if (!config) {
    for (const auto& e : config.errors()) std::fprintf(stderr, "l2tpd: %s\n", e.to_string().c_str());
    return 1;
  }
  for (const auto& w : config->warnings) std::fprintf(stderr, "l2tpd: warning: %s\n", w.c_str());
  if (configures_nothing(*config)) {
    auto builtin = parse_config(kBuiltinLnsSection, kBuiltinLnsName);
    config->lns = std::move(builtin->lns);
    opt.builtin_lns = true;
    std::fprintf(stderr, "l2tpd: %s sets up no [lns] and no [lac]: serving as an LNS with the %s:\n%s",
                 opt.config_path.c_str(), kBuiltinLnsName, std::string(kBuiltinLnsSection).c_str());
  }
  const std::string secrets_path = opt.secrets_path.empty() ? config->global.auth_file : opt.secrets_path;
  Secrets secrets;
  if (access(secrets_path.c_str(), F_OK) == 0 || !opt.secrets_path.empty()) {
    auto s = Secrets::load(secrets_path);
    if (!s) {
      for (const auto& e : s.errors()) std::fprintf(stderr, "l2tpd: %s\n", e.to_string().c_str());
      return 1;
    }
    secrets = std::move(*s);
  }
  if (access(opt.pppd_path.c_str(), X_OK) != 0)
    std::fprintf(stderr, "l2tpd: warning: --pppd %s: %s: calls will be hung up until it exists\n",
                 opt.pppd_path.c_str(), std::strerror(errno));
  raise_fd_limit(config->global.max_sessions);
  std::string error;
  if (!claim_pid_file(opt.pid_file, error)) {
    std::fprintf(stderr, "l2tpd: %s\n", error.c_str());
    return 1;
  }
  make_parent_dirs(opt.fifo_path);
  std::optional<l2tp::dp::DataPlaneConfig> dp_config;
  if (!socket_mode) {
    auto r = l2tp::dp::parse_dataplane_config(config->dataplane, l2tp::dp::split_args(eal_extra), config->global.port);
    if (!r.config) {
      for (const auto& e : r.errors) std::fprintf(stderr, "l2tpd: %s: %s\n", opt.config_path.c_str(), e.c_str());
      std::fprintf(stderr, "l2tpd: the DPDK data plane needs a [dataplane] section (see the README), or run "
                           "with --socket (kernel UDP socket, PPP through the control thread)\n");
      return 1;
    }
    dp_config = std::move(r.config);
  }
  auto detach = [&]() -> bool {
    lc.to_syslog = true;
    log_init(lc);
    if (::daemon(0, 0) == 0) return true;
    LOG_ERROR("cannot detach: %s", std::strerror(errno));
    return false;
  };
  try {
    std::unique_ptr<l2tp::dp::DataPlane> plane;
    // After the plane: served once the ports have their queues (pdump hooks
    // them), unregistered before they stop.
    std::optional<l2tp::dp::CaptureServer> capture;
    DataPlaneSeams seams;
    if (dp_config) {
      // EAL threads do not survive a fork: detach first. And they inherit
      // the signal mask: block what the daemon's signalfd takes before any
      // of them starts, or one of them would take SIGTERM and die with it.
      if (!opt.foreground && !detach()) return 1;
      sigset_t set;
      sigemptyset(&set);
      for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD}) sigaddset(&set, sig);
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
      l2tp::dp::init_eal(dp_config->eal_args);
      plane = std::make_unique<l2tp::dp::DataPlane>(*dp_config);
      capture.emplace(dp_config->capture, dp_config->eal_args);
      LOG_NOTICE("%s", capture->status().c_str());
      seams.io = &plane->io();
      seams.fast_path = &plane->fast_path();
      seams.report = [&plane] { return plane->report(); };
      seams.fast_path_packets = [&plane](uint16_t sid) { return plane->session_packets(sid); };
      seams.local_addr = dp_config->access_addr;
    }
    Daemon daemon(std::move(*config), std::move(secrets), opt, seams);
    if (!dp_config && !opt.foreground && !detach()) return 1;
    if (!write_pid_file(opt.pid_file)) LOG_WARN("cannot write pid file %s", opt.pid_file.c_str());
    const int rc = daemon.run();
    unlink(opt.pid_file.c_str());
    return rc;  // the Daemon goes first, then the data plane it talked through
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "l2tpd: %s\n", e.what());
    if (e.code().value() == EADDRINUSE)
      std::fprintf(stderr, "l2tpd: another L2TP daemon holds the port (xl2tpd? \"systemctl stop xl2tpd\"), or "
                           "set \"port\" or \"listen-addr\" in [global]\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "l2tpd: %s\n", e.what());
    return 1;
  }
}
