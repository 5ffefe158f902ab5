// l2tp-bench: the control plane's setup rate, measured against itself
// through the socket seam. A child process runs an LNS Engine on its own
// core; the parent, on the other core, is a LAC that opens tunnels and then
// places calls with a bounded number of setups outstanding. Reports tunnels
// and sessions per second (wall clock and per LNS CPU second) and the LNS's
// memory per idle session (its RSS growth over the sessions, read from
// /proc). Traffic stays on 127.0.0.1.

#include <boost/program_options.hpp>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "control/engine.hpp"
#include "control/engine_driver.hpp"
#include "control/event_loop.hpp"
#include "control/udp_socket.hpp"

namespace po = boost::program_options;
using namespace l2tp::control;

namespace {

struct Options {
  uint32_t tunnels = 200;
  uint32_t sessions_per_tunnel = 50;
  uint32_t window = 64;  // setups outstanding at once
  uint16_t lns_port = 17010;
  uint16_t lac_port = 17011;
  double timeout_s = 120;
};

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)), &set);
  sched_setaffinity(0, sizeof set, &set);  // best effort: a benchmark, not a test
}

long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

double cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), {});
  auto close = all.rfind(')');
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

[[noreturn]] void run_lns(const Options& o) {
  pin_to(0);
  EventLoop loop;
  UdpSocketConfig sc;
  sc.bind = Endpoint{ipv4(127, 0, 0, 1), o.lns_port};
  UdpSocket sock(sc);
  ControlObserver quiet;
  EngineLimits limits;
  limits.max_tunnels = o.tunnels + 16;
  limits.max_sessions = 65535;
  TunnelSettings settings;
  settings.host_name = "bench-lns";
  settings.max_sessions = 65535;
  settings.hello_interval = 0s;
  Engine engine(sock, quiet, [&](const DatagramMeta&, const std::string&) { return PeerDecision{settings, ""}; },
                limits, 42);
  EngineDriver driver(loop, sock, engine);
  loop.add_signal(SIGTERM, [&](int, TimePoint) { loop.stop(); });
  loop.run();
  std::_Exit(0);
}

struct Lac : ControlObserver {
  uint32_t tunnels_up = 0, tunnels_down = 0, sessions_up = 0, sessions_down = 0;
  void tunnel_up(const Tunnel&) override { ++tunnels_up; }
  void tunnel_down(const Tunnel&, const l2tp::wire::ResultCode&) override { ++tunnels_down; }
  void session_up(const Session&) override { ++sessions_up; }
  void session_down(const Session&, const l2tp::wire::ResultCode&) override { ++sessions_down; }
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  po::options_description desc(
      "Usage: l2tp-bench [options]\n"
      "Measures tunnel and session setup rates of the control plane against itself over\n"
      "UDP on 127.0.0.1 (the LNS in a child process pinned to CPU 0, the LAC on CPU 1),\n"
      "and the LNS's memory per idle session.\n\nOptions");
  desc.add_options()("help,h", "show this help")
      ("tunnels,t", po::value(&o.tunnels)->default_value(o.tunnels), "tunnels to open")
      ("sessions,s", po::value(&o.sessions_per_tunnel)->default_value(o.sessions_per_tunnel), "sessions per tunnel")
      ("window,w", po::value(&o.window)->default_value(o.window), "setups outstanding at once")
      ("port", po::value(&o.lns_port)->default_value(o.lns_port), "LNS UDP port (the LAC uses port+1)")
      ("timeout", po::value(&o.timeout_s)->default_value(o.timeout_s), "give up after this many seconds");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "l2tp-bench: %s (try --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  o.lac_port = static_cast<uint16_t>(o.lns_port + 1);
  if (uint64_t(o.tunnels) * o.sessions_per_tunnel > 60000) {
    std::fprintf(stderr, "l2tp-bench: tunnels x sessions must stay under 60000 (16-bit session IDs)\n");
    return 2;
  }

  // Signals blocked before the fork: the child's loop takes SIGTERM from its signalfd.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);
  const pid_t lns = fork();
  if (lns < 0) {
    std::perror("l2tp-bench: fork");
    return 1;
  }
  if (lns == 0) run_lns(o);
  pin_to(1);

  EventLoop loop;
  UdpSocketConfig sc;
  sc.bind = Endpoint{ipv4(127, 0, 0, 1), o.lac_port};
  UdpSocket sock(sc);
  Lac lac;
  EngineLimits limits;
  limits.max_tunnels = o.tunnels + 16;
  Engine engine(sock, lac, [](const DatagramMeta&, const std::string&) { return PeerDecision{std::nullopt, "LAC"}; },
                limits, 7);
  EngineDriver driver(loop, sock, engine);
  TunnelSettings settings;
  settings.host_name = "bench-lac";
  settings.hello_interval = 0s;
  const Endpoint local{ipv4(127, 0, 0, 1), o.lac_port}, peer{ipv4(127, 0, 0, 1), o.lns_port};

  using SteadyClock = std::chrono::steady_clock;
  const auto deadline = SteadyClock::now() + std::chrono::duration<double>(o.timeout_s);
  auto wait_until = [&](auto done, auto feed) {
    while (!done()) {
      feed();
      driver.reschedule();
      loop.run_once(10ms);
      if (SteadyClock::now() > deadline) return false;
    }
    return true;
  };
  // Let the child bind first.
  wait_until([&] { return rss_kib(lns) > 0; }, [] {});
  loop.run_once(100ms);
  const long rss_start = rss_kib(lns);
  const double cpu_start = cpu_seconds(lns);

  std::vector<Tunnel*> tunnels;
  const auto t0 = SteadyClock::now();
  uint32_t opened = 0;
  bool ok = wait_until([&] { return lac.tunnels_up == o.tunnels; },
                       [&] {
                         while (opened < o.tunnels && opened - lac.tunnels_up - lac.tunnels_down < o.window) {
                           tunnels.push_back(engine.open_tunnel(local, peer, settings, loop.now()));
                           ++opened;
                         }
                       });
  const auto t1 = SteadyClock::now();
  const double cpu_tunnels = cpu_seconds(lns);
  const long rss_tunnels = rss_kib(lns);
  if (!ok || lac.tunnels_down) {
    std::fprintf(stderr, "l2tp-bench: only %u of %u tunnels came up (%u down)\n", lac.tunnels_up, o.tunnels,
                 lac.tunnels_down);
    kill(lns, SIGTERM);
    return 1;
  }
  const uint32_t total = o.tunnels * o.sessions_per_tunnel;
  uint32_t placed = 0;
  ok = wait_until([&] { return lac.sessions_up == total; },
                  [&] {
                    while (placed < total && placed - lac.sessions_up - lac.sessions_down < o.window) {
                      tunnels[placed % o.tunnels]->place_call("", loop.now());
                      ++placed;
                    }
                  });
  const auto t2 = SteadyClock::now();
  const double cpu_sessions = cpu_seconds(lns);
  // Idle a moment so that acknowledgements settle, then measure.
  const auto settle = SteadyClock::now() + 300ms;
  wait_until([&] { return SteadyClock::now() > settle; }, [] {});
  const long rss_sessions = rss_kib(lns);
  kill(lns, SIGTERM);
  int status = 0;
  waitpid(lns, &status, 0);
  if (!ok || lac.sessions_down) {
    std::fprintf(stderr, "l2tp-bench: only %u of %u sessions came up (%u refused or down)\n", lac.sessions_up, total,
                 lac.sessions_down);
    return 1;
  }
  const double tunnel_wall = std::chrono::duration<double>(t1 - t0).count();
  const double session_wall = std::chrono::duration<double>(t2 - t1).count();
  std::printf("tunnels: %u in %.3f s: %.0f tunnels/s (LNS CPU %.3f s: %.0f tunnels per CPU second)\n", o.tunnels,
              tunnel_wall, o.tunnels / tunnel_wall, cpu_tunnels - cpu_start,
              o.tunnels / std::max(1e-3, cpu_tunnels - cpu_start));
  std::printf("sessions: %u in %.3f s: %.0f sessions/s (LNS CPU %.3f s: %.0f sessions per CPU second)\n", total,
              session_wall, total / session_wall, cpu_sessions - cpu_tunnels,
              total / std::max(1e-3, cpu_sessions - cpu_tunnels));
  std::printf("LNS memory: %ld KiB at start, %ld KiB with %u tunnels, %ld KiB with %u sessions: %.0f bytes per idle session\n",
              rss_start, rss_tunnels, o.tunnels, rss_sessions, total,
              double(rss_sessions - rss_tunnels) * 1024.0 / total);
  return 0;
}
