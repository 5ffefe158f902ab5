// l2tp-dp-bench: the real worker loop (dataplane/worker.*) on ring ports
// carrying real L2TP packets, against dpdk-testpmd on ring ports in the
// same run. A benchmark, never part of tests/run (CONVENTIONS.md: speed is
// measured, never asserted).
//
// Method. Each round fills the RX rings of the access and/or core port
// with --packets frames (untimed), then times the worker's poll() until it
// has taken them all in and flushed them (timed: RX burst, classify, table
// lookups, decap/encap, TX burst into the rings, the control-ring poll, the
// quiescent state), then collects the mbufs from the TX rings (untimed).
// Sessions are published in random ID order and every frame picks a
// session at random, so 60000 sessions exercise the tables beyond the L2.
// testpmd forwards (macswap) on a looped net_ring port with one burst in
// flight: its number is the cost of moving packets through rings with a
// trivial rewrite, all in L1, which is the ceiling we compare against.

#include <boost/program_options.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

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

struct RingPort {
  rte_ring* rx = nullptr;
  rte_ring* tx = nullptr;
  uint16_t port = 0;

  RingPort(const std::string& name, unsigned size, rte_mempool* pool) {
    rx = rte_ring_create((name + "_rx").c_str(), size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx = rte_ring_create((name + "_tx").c_str(), size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (rx == nullptr || tx == nullptr) throw std::runtime_error("rte_ring_create: " + std::string(rte_strerror(rte_errno)));
    int id = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
    if (id < 0) throw std::runtime_error("rte_eth_from_rings failed");
    port = static_cast<uint16_t>(id);
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(port, 0, size, SOCKET_ID_ANY, nullptr, pool) != 0 ||
        rte_eth_tx_queue_setup(port, 0, size, SOCKET_ID_ANY, nullptr) != 0 || rte_eth_dev_start(port) != 0)
      throw std::runtime_error("ring port setup failed");
  }
};

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
void write_upstream(rte_mbuf* m, const control::FastPathEntry& e, uint16_t inner_len) {
  const uint16_t l2tp_len = 6 + 4 + inner_len;
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(14 + 20 + 8 + l2tp_len)));
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
}

// Ethernet / IPv4 to the subscriber.
void write_downstream(rte_mbuf* m, const control::FastPathEntry& e, uint16_t inner_len) {
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(14 + inner_len)));
  std::memcpy(p, kMacA, 6);
  std::memcpy(p + 6, kMacB, 6);
  p = put16(p + 12, 0x0800);
  ipv4(p, control::ipv4(203, 0, 113, 9), e.subscriber_addr, 17, inner_len);
}

struct Result {
  uint64_t packets = 0;
  uint64_t bytes = 0;  // inner IPv4 bytes
  uint64_t cycles = 0;
  uint64_t drops = 0;
  // Per round: on a shared machine some rounds are preempted, so the
  // median and the best round say more than the sum.
  std::vector<uint64_t> round_cycles;
  uint64_t packets_per_round = 0;
  uint64_t bytes_per_round = 0;
};

struct Bench {
  rte_mempool* pool;
  RingPort& access;
  RingPort& core;
  unsigned packets;
  unsigned rounds;
  std::mt19937& rng;

  Result run(unsigned n_sessions, Mode mode, bool imix) {
    // A fresh table and RCU variable per configuration.
    static int instance = 0;
    ++instance;
    const size_t rcu_size = rte_rcu_qsbr_get_memsize(1);
    auto* rcu = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, rcu_size, RTE_CACHE_LINE_SIZE));
    rte_rcu_qsbr_init(rcu, 1);
    auto table_owner = std::make_unique<dp::SessionTable>("bench_subs_" + std::to_string(instance), rcu, 65536,
                                                          SOCKET_ID_ANY);
    dp::SessionTable& table = *table_owner;
    Sessions sessions = make_sessions(n_sessions, rng);
    for (const auto& e : sessions.entries)
      if (!table.publish(e)) throw std::runtime_error("publish refused");
    dp::ControlRings rings = dp::create_control_rings(static_cast<uint16_t>(instance), 1024, SOCKET_ID_ANY);

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
    Result r;
    {
      dp::Worker w(c);
      w.attach();
      std::vector<rte_mbuf*> mbufs(packets);
      if (rte_pktmbuf_alloc_bulk(pool, mbufs.data(), packets) != 0) throw std::runtime_error("mbuf pool too small");
      std::vector<rte_mbuf*> up_list, down_list;
      up_list.reserve(packets);
      down_list.reserve(packets);
      // Simple IMIX 7:4:1 of 64, 594 and 1518-octet frames (inner IPv4
      // 46, 576 and 1500 octets).
      static constexpr uint16_t kImix[12] = {46, 46, 46, 46, 46, 46, 46, 576, 576, 576, 576, 1500};
      for (unsigned round = 0; round < rounds + 1; ++round) {  // round 0 warms up
        up_list.clear();
        down_list.clear();
        uint64_t bytes = 0;
        for (unsigned i = 0; i < packets; ++i) {
          rte_mbuf* m = mbufs[i];
          rte_pktmbuf_reset(m);
          const auto& e = sessions.entries[rng() % n_sessions];
          const uint16_t len = imix ? kImix[i % 12] : 46;
          bytes += len;
          if (mode == Mode::kDecap || (mode == Mode::kMix && (i & 1) == 0)) {
            write_upstream(m, e, len);
            up_list.push_back(m);
          } else {
            write_downstream(m, e, len);
            down_list.push_back(m);
          }
        }
        rte_ring_enqueue_bulk(access.rx, reinterpret_cast<void**>(up_list.data()),
                              static_cast<unsigned>(up_list.size()), nullptr);
        rte_ring_enqueue_bulk(core.rx, reinterpret_cast<void**>(down_list.data()),
                              static_cast<unsigned>(down_list.size()), nullptr);
        const uint64_t drops_before = w.counters().dropped_total();

        uint64_t seen = 0;
        const uint64_t t0 = rte_rdtsc_precise();
        while (seen < packets) seen += w.poll();
        w.flush();
        const uint64_t t1 = rte_rdtsc_precise();

        unsigned got = rte_ring_dequeue_burst(access.tx, reinterpret_cast<void**>(mbufs.data()), packets, nullptr);
        got += rte_ring_dequeue_burst(core.tx, reinterpret_cast<void**>(mbufs.data() + got), packets - got, nullptr);
        const uint64_t dropped = w.counters().dropped_total() - drops_before;
        if (got + dropped != packets) throw std::runtime_error("packets lost in the bench itself");
        // Dropped mbufs went back to the pool: take replacements.
        if (dropped != 0 &&
            rte_pktmbuf_alloc_bulk(pool, mbufs.data() + got, static_cast<unsigned>(dropped)) != 0)
          throw std::runtime_error("mbuf pool too small");
        if (round == 0) continue;
        r.packets += packets;
        r.bytes += bytes;
        r.cycles += t1 - t0;
        r.drops += dropped;
        r.round_cycles.push_back(t1 - t0);
        r.packets_per_round = packets;
        r.bytes_per_round = bytes;
      }
      rte_pktmbuf_free_bulk(mbufs.data(), packets);
      w.detach();
    }
    dp::free_control_rings(rings);
    table.synchronize();
    table_owner.reset();  // before the RCU variable its hash reclaims through
    rte_free(rcu);
    return r;
  }
};

// testpmd on a looped ring port (what it sends comes back), macswap,
// one forwarding core. Returns its median Rx-pps after the first samples,
// 0 if it could not be run.
double run_testpmd(const std::string& lcores, unsigned seconds) {
  char path[] = "/tmp/l2tp-dp-bench-testpmd-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  std::vector<std::string> args = {"dpdk-testpmd", "-l", lcores, "--no-huge", "-m", "512", "--no-shconf",
                                   "--no-pci", "--file-prefix", "l2tpdpbench_testpmd", "--vdev=net_ring0",
                                   "--log-level=lib.*:error", "--", "--forward-mode=macswap", "--tx-first",
                                   "--stats-period=1", "--nb-cores=1", "--port-topology=loop",
                                   "--total-num-mbufs=8192", "--no-mlockall"};
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
    return 0;
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);

  std::ifstream in(path);
  std::string line;
  std::vector<double> pps;
  while (std::getline(in, line)) {
    auto at = line.find("Rx-pps:");
    if (at != std::string::npos) pps.push_back(std::stod(line.substr(at + 7)));
  }
  unlink(path);
  // The first samples include start-up (and the zero before --tx-first).
  if (pps.size() > 2) pps.erase(pps.begin(), pps.begin() + 2);
  if (pps.empty()) return 0;
  std::sort(pps.begin(), pps.end());
  return pps[pps.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<unsigned> session_counts;
  unsigned packets = 4096, rounds = 200, testpmd_seconds = 6;
  std::string lcore = "1", testpmd_lcores = "0,1";
  bool no_testpmd = false;
  bool huge = false;
  uint32_t seed = 1;
  po::options_description opts("l2tp-dp-bench [options]");
  opts.add_options()("help,h", "this help")(
      "sessions,s", po::value(&session_counts)->multitoken(), "session counts (default 1 1000 60000)")(
      "packets,p", po::value(&packets), "frames per round (default 4096: an RX ring's worth)")(
      "rounds,r", po::value(&rounds), "timed rounds per configuration (default 200)")(
      "lcore", po::value(&lcore), "CPU of the worker (default 1)")(
      "testpmd-lcores", po::value(&testpmd_lcores), "testpmd -l, main and forwarding (default 0,1)")(
      "testpmd-seconds", po::value(&testpmd_seconds), "how long testpmd forwards (default 6)")(
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

  // Without hugepages every random table access can miss the TLB: the
  // 60000-session figures need --huge to mean anything.
  std::vector<std::string> eal = {"l2tp-dp-bench", "-l", lcore, "--no-pci", "--log-level=lib.*:error",
                                  "--no-telemetry"};
  if (huge) {
    eal.insert(eal.end(), {"--in-memory", "-m", "1024"});
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
    const unsigned ring_size = rte_align32pow2(packets + 1);
    rte_mempool* pool = rte_pktmbuf_pool_create("bench_pool", packets + 8192, 256, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (pool == nullptr) throw std::runtime_error("rte_pktmbuf_pool_create: " + std::string(rte_strerror(rte_errno)));
    RingPort access("bench_access", ring_size, pool);
    RingPort core("bench_core", ring_size, pool);
    std::mt19937 rng(seed);
    Bench bench{pool, access, core, packets, rounds, rng};
    const double hz = static_cast<double>(rte_get_tsc_hz());

    double testpmd_pps = 0;
    if (!no_testpmd) {
      testpmd_pps = run_testpmd(testpmd_lcores, testpmd_seconds);
      if (testpmd_pps == 0) std::cerr << "l2tp-dp-bench: dpdk-testpmd did not run or printed no rate\n";
    }
    std::printf("TSC %.0f MHz; %u frames per round, %u rounds; one worker on lcore %s; %s\n", hz / 1e6,
                packets, rounds, lcore.c_str(), huge ? "hugepages" : "no hugepages (4 KB pages)");
    if (testpmd_pps > 0)
      std::printf("dpdk-testpmd macswap, looped net_ring, 1 core: %.2f Mpps\n", testpmd_pps / 1e6);
    std::printf("median round: Mpps, cycles/pkt, inner Gbit/s; best round: cycles/pkt\n");
    std::printf("%-8s %-6s %-6s %10s %12s %10s %10s %8s\n", "sessions", "mode", "size", "Mpps", "cycles/pkt",
                "best", "Gbit/s", "vs pmd");
    for (unsigned n : session_counts)
      for (bool imix : {false, true})
        for (Mode mode : {Mode::kDecap, Mode::kEncap, Mode::kMix}) {
          Result r = bench.run(n, mode, imix);
          std::sort(r.round_cycles.begin(), r.round_cycles.end());
          const double median = static_cast<double>(r.round_cycles[r.round_cycles.size() / 2]);
          const double best = static_cast<double>(r.round_cycles.front());
          const double cpp = median / static_cast<double>(r.packets_per_round);
          const double mpps = hz / cpp / 1e6;
          const double gbps = static_cast<double>(r.bytes_per_round) * 8 / (median / hz) / 1e9;
          std::printf("%-8u %-6s %-6s %10.2f %12.1f %10.1f %10.2f", n, mode_name(mode), imix ? "imix" : "64",
                      mpps, cpp, best / static_cast<double>(r.packets_per_round), gbps);
          if (testpmd_pps > 0) std::printf(" %8.2f", mpps * 1e6 / testpmd_pps);
          if (r.drops) std::printf("  (%lu drops!)", static_cast<unsigned long>(r.drops));
          std::printf("\n");
          std::fflush(stdout);
        }
  } catch (const std::exception& e) {
    std::cerr << "l2tp-dp-bench: " << e.what() << "\n";
    status = 1;
  }
  rte_eal_cleanup();
  return status;
}
