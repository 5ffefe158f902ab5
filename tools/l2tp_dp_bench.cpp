// l2tp-dp-bench: the real worker loop (dataplane/worker.*) against
// dpdk-testpmd, both on identical ports carrying identical traffic, in the
// same run. A benchmark, never part of tests/run (CONVENTIONS.md: speed is
// measured, never asserted).
//
// Method. For each configuration (1/1000/60000 sessions published in random
// ID order, full-size tables; 64-octet or IMIX inner packets; decap, encap
// or an even mix) the tool writes pcap files of --frames real frames, each
// for a session drawn at random: upstream L2TP data frames for the access
// port, downstream IPv4 frames for the core port. Both sides then use
// net_pcap ports with infinite_rx=1 over those files and no TX file:
// every RX copies a stored frame into a fresh mbuf (the data arrives in
// memory the way a NIC's DMA puts it there, the store being larger than
// the L2), and TX frees (the PMD's "tx drop"). Same mbuf pool (--frames +
// 8192 mbufs, cache 256, RTE_MBUF_DEFAULT_BUF_SIZE), same burst (32), one
// core each (the same lcore, one after the other), same page size.
// - Ours: the worker's poll() over rounds of --packets packets, each round
//   timed from the first poll to the flush after the last by the thread's
//   CPU time (converted to TSC cycles; the TSC's wall time is printed too);
//   the rate is that of the median round (one warm-up round is dropped).
// - testpmd: --forward-mode=macswap (or 5tswap), --port-topology=loop on
//   the same ports; the rate is the median of its one-second Rx-pps
//   samples (after the first two), summed over its ports, divided by the
//   share of that window its forwarding thread was on the CPU
//   (/proc/PID/task/TID/schedstat).
// Both are thus per second on the CPU: the machine is shared, and time a
// process spends preempted is not its cost (the cache it loses is).
// - "port": the same ports alone (RX to TX, nothing read), timed as ours:
//   the share of every figure that is the ports' and not the worker's.
// The ratio is ours over testpmd's. Each testpmd run follows ours on the
// same core, so on a shared machine the two can see different load: run
// it more than once and compare medians.

#include <boost/program_options.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "control/fast_path.hpp"
#include "dataplane/session_table.hpp"
#include "dataplane/worker.hpp"

extern char** environ;

namespace po = boost::program_options;
using namespace l2tp;

namespace {

constexpr uint32_t kOurAddr = control::ipv4(192, 0, 2, 1);
constexpr uint32_t kSubscriberBase = control::ipv4(100, 64, 0, 0);
constexpr unsigned kLacs = 16;
constexpr uint8_t kMacA[6] = {0x02, 0, 0, 0, 0, 1};
constexpr uint8_t kMacB[6] = {0x02, 0, 0, 0, 0, 2};

enum class Mode { kDecap, kEncap, kMix };
const char* mode_name(Mode m) { return m == Mode::kDecap ? "decap" : m == Mode::kEncap ? "encap" : "mix"; }


struct Sessions {
  std::vector<control::FastPathEntry> entries;
};

Sessions make_sessions(unsigned n, std::mt19937& rng) {
  std::vector<uint16_t> ids(65535);
  std::iota(ids.begin(), ids.end(), uint16_t{1});
  std::shuffle(ids.begin(), ids.end(), rng);
  Sessions s;
  for (unsigned i = 0; i < n; ++i) {
    control::FastPathEntry e;
    const unsigned lac = i % kLacs;
    e.local_tunnel_id = static_cast<uint16_t>(1000 + lac);
    e.peer_tunnel_id = static_cast<uint16_t>(2000 + lac);
    e.local_session_id = ids[i];
    e.peer_session_id = static_cast<uint16_t>(1 + rng() % 65535);
    e.local = {kOurAddr, 1701};
    e.peer = {control::ipv4(198, 51, 100, static_cast<uint8_t>(1 + lac)), 1701};
    e.subscriber_addr = kSubscriberBase + 1 + i;
    e.sequenced = (i % 4) == 0;  // a quarter send Ns
    std::memcpy(e.local_mac.data(), kMacA, 6);
    std::memcpy(e.peer_mac.data(), kMacB, 6);
    s.entries.push_back(e);
  }
  return s;
}

inline uint8_t* put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
  return p + 2;
}
inline uint8_t* put32(uint8_t* p, uint32_t v) { return put16(put16(p, static_cast<uint16_t>(v >> 16)), static_cast<uint16_t>(v)); }

uint8_t* ipv4(uint8_t* p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t total) {
  std::memset(p, 0, 20);
  p[0] = 0x45;
  put16(p + 2, total);
  p[8] = 64;
  p[9] = proto;
  put32(p + 12, src);
  put32(p + 16, dst);
  return p + 20;
}

// Ethernet / IPv4 / UDP / L2TP (no L, no S) / FF 03 00 21 / inner IPv4.
std::vector<uint8_t> upstream_frame(const control::FastPathEntry& e, uint16_t inner_len) {
  const uint16_t l2tp_len = 6 + 4 + inner_len;
  std::vector<uint8_t> frame(14 + 20 + 8 + l2tp_len);
  uint8_t* p = frame.data();
  std::memcpy(p, kMacA, 6);
  std::memcpy(p + 6, kMacB, 6);
  p = put16(p + 12, 0x0800);
  p = ipv4(p, e.peer.addr, e.local.addr, 17, static_cast<uint16_t>(20 + 8 + l2tp_len));
  p = put16(p, 1701);
  p = put16(p, 1701);
  p = put16(p, static_cast<uint16_t>(8 + l2tp_len));
  p = put16(p, 0);
  p = put16(p, 0x0002);
  p = put16(p, e.local_tunnel_id);
  p = put16(p, e.local_session_id);
  *p++ = 0xFF;
  *p++ = 0x03;
  p = put16(p, 0x0021);
  ipv4(p, e.subscriber_addr, control::ipv4(203, 0, 113, 9), 17, inner_len);
  return frame;
}

// Ethernet / IPv4 to the subscriber.
std::vector<uint8_t> downstream_frame(const control::FastPathEntry& e, uint16_t inner_len) {
  std::vector<uint8_t> frame(14 + inner_len);
  uint8_t* p = frame.data();
  std::memcpy(p, kMacA, 6);
  std::memcpy(p + 6, kMacB, 6);
  p = put16(p + 12, 0x0800);
  ipv4(p, control::ipv4(203, 0, 113, 9), e.subscriber_addr, 17, inner_len);
  return frame;
}

// A classic pcap file (microsecond timestamps, Ethernet link type) written
// by hand: the pcap PMD reads it back with libpcap.
void write_pcap(const std::string& path, const std::vector<std::vector<uint8_t>>& frames) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  auto put = [&out](uint32_t v, size_t n) { out.write(reinterpret_cast<const char*>(&v), static_cast<std::streamsize>(n)); };
  put(0xa1b2c3d4, 4);  // magic, native byte order
  put(2, 2);
  put(4, 2);
  put(0, 4);
  put(0, 4);
  put(65535, 4);  // snaplen
  put(1, 4);      // LINKTYPE_ETHERNET
  uint32_t usec = 0;
  for (const auto& f : frames) {
    put(0, 4);
    put(usec++, 4);
    put(static_cast<uint32_t>(f.size()), 4);
    put(static_cast<uint32_t>(f.size()), 4);
    out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
  }
  if (!out) throw std::runtime_error("cannot write " + path);
}

// The traffic of one configuration: the pcap the access port receives
// (upstream L2TP frames) and the one the core port receives (downstream
// IPv4 frames); "" when that port receives nothing.
struct Traffic {
  std::string access_pcap, core_pcap;
  uint64_t inner_bytes = 0;  // per pass over all frames
  unsigned frames = 0;
};

// Simple IMIX 7:4:1 of 64, 594 and 1518-octet frames (inner IPv4 46, 576
// and 1500 octets).
constexpr uint16_t kImix[12] = {46, 46, 46, 46, 46, 46, 46, 576, 576, 576, 576, 1500};

Traffic make_traffic(const std::string& dir, const Sessions& sessions, Mode mode, bool imix, unsigned frames,
                     std::mt19937& rng) {
  std::vector<std::vector<uint8_t>> up, down;
  Traffic t;
  t.frames = frames;
  for (unsigned i = 0; i < frames; ++i) {
    const auto& e = sessions.entries[rng() % sessions.entries.size()];
    const uint16_t len = imix ? kImix[rng() % 12] : 46;
    t.inner_bytes += len;
    if (mode == Mode::kDecap || (mode == Mode::kMix && (i & 1) == 0))
      up.push_back(upstream_frame(e, len));
    else
      down.push_back(downstream_frame(e, len));
  }
  if (!up.empty()) write_pcap(t.access_pcap = dir + "/access.pcap", up);
  if (!down.empty()) write_pcap(t.core_pcap = dir + "/core.pcap", down);
  return t;
}

// A net_pcap port: with a pcap, it receives the file's frames for ever
// (infinite_rx: each RX copies a stored frame into a fresh mbuf of the
// queue's pool, as a NIC writes into the buffers it is given); without,
// it receives nothing (an empty file). It has no TX file, so TX frees what
// it is given (the PMD's "tx drop"). Exactly what testpmd gets.
std::string pcap_devargs(const std::string& pcap, const std::string& empty) {
  return pcap.empty() ? "rx_pcap=" + empty : "rx_pcap=" + pcap + ",infinite_rx=1";
}

struct PcapPort {
  std::string name;
  uint16_t port = 0;

  PcapPort(const std::string& n, const std::string& args, rte_mempool* pool) : name(n) {
    if (rte_eal_hotplug_add("vdev", name.c_str(), args.c_str()) != 0 ||
        rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0)
      throw std::runtime_error("cannot create " + name + "," + args);
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, nullptr, pool) != 0 ||
        rte_eth_tx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, nullptr) != 0 || rte_eth_dev_start(port) != 0)
      throw std::runtime_error(name + ": port setup failed (mbuf pool too small?)");
  }
  ~PcapPort() {
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
    rte_eal_hotplug_remove("vdev", name.c_str());
  }
  PcapPort(const PcapPort&) = delete;
  PcapPort& operator=(const PcapPort&) = delete;
};

// This thread's CPU time (ns): on a shared machine the worker is at times
// preempted, and the time it was not running is not the worker's cost.
uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// CPU time (ns) of each thread of a process, from /proc/PID/task/*/schedstat.
std::vector<std::pair<std::string, uint64_t>> task_cpu_ns(pid_t pid) {
  std::vector<std::pair<std::string, uint64_t>> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(t.path() / "schedstat");
    uint64_t ns = 0;
    if (in >> ns) out.emplace_back(t.path().filename().string(), ns);
  }
  return out;
}

struct Result {
  // Per round of `packets` packets, in TSC cycles: on-CPU time (the
  // figures) and wall time (for reference).
  std::vector<uint64_t> round_cycles;
  std::vector<uint64_t> round_wall;
  uint64_t packets_per_round = 0;
  uint64_t drops = 0;
  uint64_t slow = 0;  // taken in but neither decapsulated nor encapsulated
  uint64_t port_cycles = 0;  // median round of port_only()
};

struct Bench {
  static uint64_t ns_to_cycles(uint64_t ns) {
    return static_cast<uint64_t>(static_cast<double>(ns) * static_cast<double>(rte_get_tsc_hz()) / 1e9);
  }

  // The ports alone on the same traffic, timed the same way: RX bursts of
  // 32 from both ports, each sent as it came out of the other port, no
  // look at the data. What the ports cost of every figure (testpmd's too).
  uint64_t port_only(uint16_t access, uint16_t core) {
    std::vector<uint64_t> cycles;
    rte_mbuf* pkts[dp::kBurst];
    for (unsigned round = 0; round < rounds + 1; ++round) {
      uint64_t seen = 0;
      const uint64_t c0 = thread_cpu_ns();
      while (seen < packets) {
        for (auto [from, to] : {std::pair{access, core}, std::pair{core, access}}) {
          const uint16_t n = rte_eth_rx_burst(from, 0, pkts, dp::kBurst);
          const uint16_t sent = rte_eth_tx_burst(to, 0, pkts, n);
          rte_pktmbuf_free_bulk(pkts + sent, n - sent);
          seen += n;
        }
      }
      const uint64_t c1 = thread_cpu_ns();
      if (round != 0) cycles.push_back(ns_to_cycles(c1 - c0) * packets / seen);
    }
    std::sort(cycles.begin(), cycles.end());
    return cycles[cycles.size() / 2];
  }

  rte_mempool* pool;
  std::string empty_pcap;
  unsigned packets;
  unsigned rounds;

  // The worker between two net_pcap ports over the configuration's
  // traffic: rounds of `packets` packets, each timed from the first
  // poll() to the flush after the last (RX burst from the port, classify,
  // table lookups, decap/encap, TX burst, the control-ring poll, the
  // quiescent state), after one untimed warm-up round.
  Result run(const Sessions& sessions, const Traffic& traffic) {
    static int instance = 0;
    ++instance;
    const size_t rcu_size = rte_rcu_qsbr_get_memsize(1);
    auto* rcu = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, rcu_size, RTE_CACHE_LINE_SIZE));
    rte_rcu_qsbr_init(rcu, 1);
    auto table_owner = std::make_unique<dp::SessionTable>("bench_subs_" + std::to_string(instance), rcu, 65536,
                                                          SOCKET_ID_ANY);
    dp::SessionTable& table = *table_owner;
    // An access link that takes the IMIX's 1500-octet inner packets whole
    // (session MTU 1500, the peer's MRU): fragmenting them is not what is
    // measured here.
    table.set_limits({9000, dp::kMssClampAuto});
    for (const auto& e : sessions.entries)
      if (!table.publish(e)) throw std::runtime_error("publish refused");
    dp::ControlRings rings = dp::create_control_rings(static_cast<uint16_t>(instance), 1024, SOCKET_ID_ANY);
    Result r;
    {
      const std::string tag = std::to_string(instance);
      PcapPort access("net_pcap_access" + tag, pcap_devargs(traffic.access_pcap, empty_pcap), pool);
      PcapPort core("net_pcap_core" + tag, pcap_devargs(traffic.core_pcap, empty_pcap), pool);
      dp::WorkerConfig c;
      c.access_port = access.port;
      c.core_port = core.port;
      c.table = &table;
      c.rcu = rcu;
      c.to_control = rings.to_control;
      c.from_control = rings.from_control;
      c.idle_sleep = false;
      std::memcpy(c.core_hop.src.addr_bytes, kMacA, 6);
      std::memcpy(c.core_hop.dst.addr_bytes, kMacB, 6);
      dp::Worker w(c);
      w.attach();
      for (unsigned round = 0; round < rounds + 1; ++round) {  // round 0 warms up
        const auto& k = w.counters();
        const uint64_t drops_before = k.dropped_total(), fast_before = k.decap + k.encap;
        uint64_t seen = 0;
        const uint64_t c0 = thread_cpu_ns();
        const uint64_t t0 = rte_rdtsc_precise();
        while (seen < packets) seen += w.poll();
        w.flush();
        const uint64_t t1 = rte_rdtsc_precise();
        const uint64_t c1 = thread_cpu_ns();
        if (round == 0) continue;
        r.drops += k.dropped_total() - drops_before;
        r.slow += seen - (k.decap + k.encap - fast_before);
        r.round_cycles.push_back(ns_to_cycles(c1 - c0) * packets / seen);
        r.round_wall.push_back((t1 - t0) * packets / seen);
        r.packets_per_round = packets;
      }
      w.detach();
      r.port_cycles = port_only(access.port, core.port);
    }
    dp::free_control_rings(rings);
    table.synchronize();
    table_owner.reset();  // before the RCU variable its hash reclaims through
    rte_free(rcu);
    return r;
  }
};

struct TestpmdOptions {
  std::string lcores;
  std::string mode;  // macswap or 5tswap
  unsigned seconds;
  unsigned mbufs;
  bool huge;
};

// dpdk-testpmd, one forwarding core, on the same two net_pcap ports over
// the same pcaps, the idle one included (loop topology: each port sends back out of itself, and TX
// frees), same mbuf count, cache and size, burst 32. Returns the median
// over its one-second samples (after the first two) of the Rx-pps summed
// over its ports, per second of its forwarding thread on the CPU; 0 if it
// could not be run.
struct TestpmdRate {
  double median = 0;  // pps, per second on the CPU; 0: it could not be run
  double best = 0;    // the best one-second sample, likewise
};

TestpmdRate run_testpmd(const TestpmdOptions& o, const Traffic& t, const std::string& empty) {
  char path[] = "/tmp/l2tp-dp-bench-testpmd-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return {};
  std::vector<std::string> args = {"dpdk-testpmd", "-l", o.lcores, "--no-pci", "--file-prefix",
                                   "l2tpdpbench_testpmd", "--log-level=lib.*:error"};
  if (o.huge)
    args.insert(args.end(), {"--in-memory"});
  else
    args.insert(args.end(), {"--no-huge", "-m", "1024", "--no-shconf"});
  unsigned ports = 0;
  // Both ports, as the worker has them: an idle one is polled too.
  for (const std::string* pcap : {&t.access_pcap, &t.core_pcap})
    args.push_back("--vdev=net_pcap" + std::to_string(ports++) + "," + pcap_devargs(*pcap, empty));
  args.insert(args.end(), {"--", "--forward-mode=" + o.mode, "--stats-period=1", "--nb-cores=1",
                           "--port-topology=loop", "--burst=32", "--mbcache=256",
                           "--total-num-mbufs=" + std::to_string(o.mbufs), "--mbuf-size=" +
                           std::to_string(RTE_MBUF_DEFAULT_BUF_SIZE), "--no-mlockall"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fd, 1);
  posix_spawn_file_actions_adddup2(&fa, fd, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "dpdk-testpmd", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fd);
  if (rc != 0) {
    unlink(path);
    return {};
  }
  // Its forwarding thread's CPU time over the sampled window (after the
  // first two seconds, as the samples): on a shared machine it too is
  // preempted at times, and its rate is counted per second on the CPU.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto cpu0 = task_cpu_ns(pid);
  const auto wall0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(o.seconds > 2 ? o.seconds - 2 : 1));
  const auto cpu1 = task_cpu_ns(pid);
  const double wall =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - wall0).count();
  double on_cpu = 0;  // the busiest thread's share of the window
  for (const auto& [tid, ns] : cpu1)
    for (const auto& [tid0, ns0] : cpu0)
      if (tid == tid0) on_cpu = std::max(on_cpu, static_cast<double>(ns - ns0) / wall);
  if (on_cpu <= 0 || on_cpu > 1) on_cpu = 1;
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);

  std::ifstream in(path);
  std::string line;
  std::vector<double> each;
  while (std::getline(in, line)) {
    auto at = line.find("Rx-pps:");
    if (at != std::string::npos) each.push_back(std::stod(line.substr(at + 7)));
  }
  unlink(path);
  std::vector<double> pps;  // one sample per period: the ports' sum
  for (size_t i = 0; ports != 0 && i + ports <= each.size(); i += ports)
    pps.push_back(std::accumulate(each.begin() + static_cast<long>(i), each.begin() + static_cast<long>(i + ports), 0.0));
  // The first samples include start-up.
  if (pps.size() > 2) pps.erase(pps.begin(), pps.begin() + 2);
  if (pps.empty()) return {};
  std::sort(pps.begin(), pps.end());
  return {pps[pps.size() / 2] / on_cpu, pps.back() / on_cpu};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<unsigned> session_counts;
  unsigned packets = 4096, rounds = 1000, frames = 65536, repeat = 1;
  TestpmdOptions tp{"0,1", "macswap", 5, 0, false};
  std::string lcore = "1";
  bool no_testpmd = false;
  bool huge = false;

  std::vector<std::string> mode_names, size_names;
  uint32_t seed = 1;
  po::options_description opts("l2tp-dp-bench [options]");
  opts.add_options()("help,h", "this help")(
      "sessions,s", po::value(&session_counts)->multitoken(), "session counts (default 1 1000 60000)")(
      "frames,f", po::value(&frames), "frames in each generated pcap, each for a random session (default 65536)")(
      "packets,p", po::value(&packets), "packets per timed round (default 4096)")(
      "rounds,r", po::value(&rounds),
      "timed rounds per configuration (default 1000: 0.2-0.5 s, near one of testpmd's 1 s samples)")(
      "repeat", po::value(&repeat), "runs of ours and testpmd in turn per configuration, then their median (default 1)")(
      "lcore", po::value(&lcore), "CPU of the worker (default 1)")(
      "testpmd-lcores", po::value(&tp.lcores), "testpmd -l, main and forwarding (default 0,1)")(
      "testpmd-mode", po::value(&tp.mode), "testpmd forwarding mode: macswap (default) or 5tswap")(
      "testpmd-seconds", po::value(&tp.seconds), "how long testpmd forwards per configuration (default 5)")(
      "mode", po::value(&mode_names)->multitoken(), "what to measure: decap, encap, mix (default all three)")(
      "size", po::value(&size_names)->multitoken(), "inner packets: 64, imix (default both)")(
      "no-testpmd", po::bool_switch(&no_testpmd), "skip the testpmd baseline")(

      "huge", po::bool_switch(&huge), "use hugepages (./hugepage-setup first) instead of --no-huge")(
      "seed", po::value(&seed), "random seed (default 1)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "l2tp-dp-bench: " << e.what() << "\n" << opts;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (session_counts.empty()) session_counts = {1, 1000, 60000};
  for (unsigned n : session_counts)
    if (n == 0 || n > 65535) {
      std::cerr << "l2tp-dp-bench: session counts are 1..65535\n";
      return 2;
    }
  std::vector<Mode> modes;
  for (const auto& m : mode_names.empty() ? std::vector<std::string>{"decap", "encap", "mix"} : mode_names) {
    if (m == "decap") modes.push_back(Mode::kDecap);
    else if (m == "encap") modes.push_back(Mode::kEncap);
    else if (m == "mix") modes.push_back(Mode::kMix);
    else {
      std::cerr << "l2tp-dp-bench: --mode is decap, encap or mix, not " << m << "\n";
      return 2;
    }
  }
  std::vector<bool> sizes;
  for (const auto& z : size_names.empty() ? std::vector<std::string>{"64", "imix"} : size_names) {
    if (z == "64") sizes.push_back(false);
    else if (z == "imix") sizes.push_back(true);
    else {
      std::cerr << "l2tp-dp-bench: --size is 64 or imix, not " << z << "\n";
      return 2;
    }
  }
  if (repeat == 0) {
    std::cerr << "l2tp-dp-bench: --repeat is at least 1\n";
    return 2;
  }
  if (frames < 64 || packets == 0) {
    std::cerr << "l2tp-dp-bench: at least 64 frames and 1 packet per round\n";
    return 2;
  }
  tp.huge = huge;
  // The pcap PMD keeps every frame of its file in an mbuf of the pool;
  // the rest is in flight (bursts, TX buffers, mempool caches).
  tp.mbufs = frames + 8192;

  char dir_template[] = "/tmp/l2tp-dp-bench-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = dir_template;
  const std::string empty_pcap = dir + "/empty.pcap";
  write_pcap(empty_pcap, {});

  // Without hugepages every random table access can miss the TLB: the
  // 60000-session figures need --huge to mean anything.
  std::vector<std::string> eal = {"l2tp-dp-bench", "-l", lcore, "--no-pci", "--log-level=lib.*:error",
                                  "--log-level=pmd.net.pcap:error", "--log-level=user1:error", "--no-telemetry"};
  if (huge) {
    eal.insert(eal.end(), {"--in-memory"});
  } else {
    eal.insert(eal.end(), {"--no-huge", "-m", "1024", "--no-shconf", "--file-prefix", "l2tpdpbench"});
  }
  std::vector<char*> eal_argv;
  for (auto& a : eal) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::cerr << "rte_eal_init: " << rte_strerror(rte_errno) << "\n";
    return 1;
  }
  int status = 0;
  try {
    rte_mempool* pool = rte_pktmbuf_pool_create("bench_pool", tp.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                                SOCKET_ID_ANY);
    if (pool == nullptr) throw std::runtime_error("rte_pktmbuf_pool_create: " + std::string(rte_strerror(rte_errno)));
    std::mt19937 rng(seed);
    Bench bench{pool, empty_pcap, packets, rounds};
    const double hz = static_cast<double>(rte_get_tsc_hz());

    std::printf("TSC %.0f MHz; net_pcap ports (infinite_rx, tx drop), %u frames per pcap, %u packets per round, "
                "%u rounds; one worker on lcore %s; %s\n", hz / 1e6, frames, packets, rounds, lcore.c_str(),
                huge ? "hugepages" : "no hugepages (4 KB pages)");
    if (!no_testpmd)
      std::printf("baseline: dpdk-testpmd %s on the same ports and pcaps, 1 forwarding core, %u s\n",
                  tp.mode.c_str(), tp.seconds);
    std::printf("per second on the CPU; median round: Mpps, cycles/pkt, inner Gbit/s; best round: cycles/pkt;\n"
                "wall: median round's cycles/pkt by the TSC; port: cycles/pkt of the ports alone (RX to TX,\n"
                "same traffic, same timing), included in ours and testpmd's\n");
    std::printf("%-8s %-6s %-6s %8s %10s %8s %8s %8s %8s %8s %8s %8s\n", "sessions", "mode", "size", "Mpps",
                "cycles/pkt", "best", "wall", "port", "Gbit/s", "pmd Mpps", "vs pmd", "best vs");
    for (unsigned n : session_counts) {
      const Sessions sessions = make_sessions(n, rng);
      for (bool imix : sizes)
        for (Mode mode : modes) {
          const Traffic traffic = make_traffic(dir, sessions, mode, imix, frames, rng);
          // Ours and testpmd's in turn, `repeat` times: on a shared machine
          // the load changes between runs, and each ratio compares two runs
          // made one after the other.
          std::vector<double> ratios, best_ratios;
          for (unsigned rep = 0; rep < repeat; ++rep) {
            Result r = bench.run(sessions, traffic);
            TestpmdRate pmd;
            if (!no_testpmd) {
              pmd = run_testpmd(tp, traffic, empty_pcap);
              if (pmd.median == 0) std::cerr << "l2tp-dp-bench: dpdk-testpmd did not run or printed no rate\n";
            }
            std::sort(r.round_cycles.begin(), r.round_cycles.end());
            const double median = static_cast<double>(r.round_cycles[r.round_cycles.size() / 2]);
            const double best = static_cast<double>(r.round_cycles.front());
            std::sort(r.round_wall.begin(), r.round_wall.end());
            const double wall = static_cast<double>(r.round_wall[r.round_wall.size() / 2]);
            const double per_round = static_cast<double>(r.packets_per_round);
            const double cpp = median / per_round;
            const double mpps = hz / cpp / 1e6;
            const double best_mpps = hz / (best / per_round) / 1e6;
            const double gbps = mpps * 1e6 * static_cast<double>(traffic.inner_bytes) / traffic.frames * 8 / 1e9;
            std::printf("%-8u %-6s %-6s %8.2f %10.1f %8.1f %8.1f %8.1f %8.2f", n, mode_name(mode),
                        imix ? "imix" : "64", mpps, cpp, best / per_round, wall / per_round,
                        static_cast<double>(r.port_cycles) / per_round, gbps);
            if (pmd.median > 0) {
              ratios.push_back(mpps * 1e6 / pmd.median);
              best_ratios.push_back(best_mpps * 1e6 / pmd.best);
              std::printf(" %8.2f %8.2f %8.2f", pmd.median / 1e6, ratios.back(), best_ratios.back());
            }
            if (r.drops) std::printf("  (%lu drops!)", static_cast<unsigned long>(r.drops));
            if (r.slow) std::printf("  (%lu not on the fast path!)", static_cast<unsigned long>(r.slow));
            std::printf("\n");
            std::fflush(stdout);
          }
          if (ratios.size() > 1) {
            std::sort(ratios.begin(), ratios.end());
            std::sort(best_ratios.begin(), best_ratios.end());
            std::printf("%-8u %-6s %-6s median of %zu runs: vs pmd %.2f (%.2f..%.2f), best vs best %.2f (%.2f..%.2f)\n", n,
                        mode_name(mode), imix ? "imix" : "64", ratios.size(), ratios[ratios.size() / 2],
                        ratios.front(), ratios.back(), best_ratios[best_ratios.size() / 2], best_ratios.front(),
                        best_ratios.back());
          }
          std::fflush(stdout);
        }
    }
  } catch (const std::exception& e) {
    std::cerr << "l2tp-dp-bench: " << e.what() << "\n";
    status = 1;
  }
  rte_eal_cleanup();
  std::filesystem::remove_all(dir);
  return status;
}
