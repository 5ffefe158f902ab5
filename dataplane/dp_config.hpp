#pragma once
// The [dataplane] section of the configuration file (control/config.cpp
// keeps it as a map of lower-cased keys; this is where its keys mean
// something). No DPDK here: it is parsed before the EAL starts.
//
//   [dataplane]
//   eal args = -l 0-1 --no-huge -m 512 --no-shconf --vdev=net_af_packet0,iface=eth1
//   access port = 0                  DPDK port ID facing the LACs
//   access address = 192.0.2.2/24    our L2TP address there (and its subnet)
//   access gateway = 192.0.2.254     optional: LACs beyond the subnet
//   core port = 1                    facing the Internet (may be the access port)
//   core address = 198.51.100.1/24   ours on the core side (ARP, ping)
//   core next hop = 198.51.100.254   where subscriber traffic is routed
//   core next hop mac = 02:..:01     optional: skip ARP for the next hop
//   workers = 1                      worker lcores (after the main lcore)
//   mbufs = 16383                    mbuf pool size
//   ring size = 4096                 each control<->worker ring
//   handoff ring size = 1024         each worker's two handoff inputs (workers > 1):
//                                    packets of its sessions other workers received
//   max subscribers = 65536
//   idle sleep = yes                 idle workers back off (no: benchmarks)
//   capture = auto                   dpdk-dumpcap on our ports: auto (when the
//                                    eal args allow it), yes (they must), no
//                                    (never); dataplane/packet_capture.hpp
//   access mtu = 1500                IP MTU of the access link: with the peer's
//                                    LCP MRU, bounds each session's MTU (the
//                                    largest inner packet, after the outer
//                                    IPv4/UDP/L2TP/PPP headers; 576-65535)
//   fragment = yes                   downstream packets longer than the session
//                                    MTU with DF clear are fragmented (no: dropped,
//                                    counted as mtu_exceeded); with DF set they
//                                    always get ICMP "fragmentation needed"
//   mss clamp = auto                 lower the MSS option of TCP SYNs both ways to
//                                    session MTU - 40 (auto), to a number (64-65534),
//                                    or not at all (no)
//   icmp rate = 1000                 ICMP errors a second per worker at most (bursts
//                                    of up to 50); 0: none, the packets are only dropped
//   reassembly = yes                 reassemble outer IPv4 fragments from LACs
//                                    (no: they are counted ipv4_fragment drops)
//   reassembly flows = 128           datagrams in progress per worker (1-65536);
//                                    workers * flows * 8 fragments must stay
//                                    within half of mbufs
//   reassembly timeout = 500         ms before an incomplete datagram is given up
//   reorder window = 16              RFC 2661 5.4: sequenced data up to this many
//                                    Ns early waits for the gap (0-256; 0: none
//                                    waits, late data is still dropped)
//   reorder timeout = 10             ms a gap may stay open (1-1000)
//   reorder sessions = auto          per worker, sessions holding packets at once
//                                    (auto: mbufs / (4 * workers * window), 1-1024)
//
// reorder timeout: reordering on a path (ECMP, LAG, a multi-queue NIC at
// the LAC) is microseconds to a few ms; a gap older than that is a loss,
// and every packet of the session waits behind it, so the timeout stays
// far below TCP's minimum RTO (200 ms) and a lost packet costs the
// subscriber's flows 10 ms of delay, not a retransmission timeout.
// reorder sessions bounds the mbufs parked in reorder buffers (at most
// sessions x window per worker): explicit values that could park half of
// the pool are refused.
//
// Policing of what workers punt to the control thread (dataplane/police.hpp):
// token buckets per peer (outer IPv4 source) and per worker, in packets per
// second and packets of burst; a packet over its bucket is a counted drop
// (Drop::kPoliced*) before it reaches the ring.
//   police control rate = 2000       per peer: L2TP control of its live tunnels
//   police control burst = 512         (tunnel ID != 0), PPP LCP, ARP replies;
//                                      these go on the high-priority ring
//   police sccrq rate = 50           per peer: L2TP control with tunnel ID 0
//   police sccrq burst = 16            (SCCRQ: a new tunnel)
//   police stray rate = 50           per peer: L2TP control for a tunnel ID
//   police stray burst = 16            that is not live or not the sender's
//                                      (dataplane/tunnel_table.hpp)
//   police other rate = 5000         per peer: everything else punted (IPCP,
//   police other burst = 1024          PAP/CHAP, data not in the fast path,
//                                      ICMP to us, ARP requests)
// and per worker, all peers together (spoofed sources each get a bucket of
// their own, so the per-peer limits alone do not bound a flood):
//   police control worker rate = 5000    police control worker burst = 1024
//   police sccrq worker rate = 500       police sccrq worker burst = 128
//   police other worker rate = 5000      police other worker burst = 1024
//   police stray worker rate = 500       police stray worker burst = 128
// Rates 1 to 10000000, bursts 1 to 1000000.
//
// Invariant: addresses in host byte order.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/packet_capture.hpp"

namespace l2tp::dp {

// One token bucket's limits (packets per second, packets of burst).
struct PuntLimit {
  uint32_t rate = 0;
  uint32_t burst = 0;
};

// The limits of each class of punted traffic (defaults: see above). An
// established tunnel's control traffic is a few packets a second, and even
// a LAC with thousands of sessions sends LCP echoes at some hundreds a
// second; SCCRQs from one peer at more than a few hundred a second is an
// attack. The worker caps leave the control thread time for its timers
// under a flood from spoofed sources: at 5000 a second of spoofed control
// it is busy but keeps every tunnel (tests/integration/control_flood.sh);
// LCP echoes of 60000 sessions every 30 s are 2000 a second.
struct PuntPolicy {
  PuntLimit control{2000, 512};
  PuntLimit sccrq{50, 16};
  PuntLimit other{5000, 1024};
  PuntLimit control_worker{5000, 1024};
  PuntLimit sccrq_worker{500, 128};
  PuntLimit other_worker{5000, 1024};
  // Control the control thread would drop as an unknown tunnel: a real
  // peer sends it only around a tunnel's end, a flood for random tunnel
  // IDs sends nothing else.
  PuntLimit stray{50, 16};
  PuntLimit stray_worker{500, 128};
};

struct DataPlaneConfig {
  std::vector<std::string> eal_args;  // without argv[0]
  uint16_t access_port = 0;
  uint32_t access_addr = 0;
  uint8_t access_prefix = 24;
  uint32_t access_gateway = 0;  // 0: none
  uint16_t core_port = 0;
  uint32_t core_addr = 0;
  uint8_t core_prefix = 24;
  uint32_t core_next_hop = 0;
  std::optional<std::array<uint8_t, 6>> core_next_hop_mac;
  uint16_t l2tp_port = 1701;  // [global] port
  unsigned workers = 1;
  unsigned mbufs = 16383;
  unsigned ring_size = 4096;
  unsigned handoff_ring_size = 1024;
  uint32_t max_subscribers = 65536;
  bool idle_sleep = true;
  CaptureMode capture = CaptureMode::kAuto;
  uint16_t access_mtu = 1500;
  bool fragment = true;
  uint16_t mss_clamp = 0xFFFF;  // 0xFFFF: auto (session MTU - 40), 0: no, else that MSS
  uint32_t icmp_rate = 1000;
  bool reassembly = true;
  uint32_t reassembly_flows = 128;
  uint32_t reassembly_timeout_ms = 500;
  // What one worker's reassembly table may hold at most per flow (rte_ip_frag's
  // RTE_LIBRTE_IP_FRAG_MAX_FRAG; dataplane/reassembly.hpp keeps it in step).
  static constexpr uint32_t kFragmentsPerFlow = 8;
  PuntPolicy police;
  unsigned reorder_window = 16;
  unsigned reorder_timeout_ms = 10;
  unsigned reorder_sessions = 64;  // per worker; the parser sizes it from the pool unless set

  bool on_access_subnet(uint32_t a) const { return same_subnet(a, access_addr, access_prefix); }
  bool on_core_subnet(uint32_t a) const { return same_subnet(a, core_addr, core_prefix); }
  static bool same_subnet(uint32_t a, uint32_t b, uint8_t prefix) {
    const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    return (a & mask) == (b & mask);
  }
};

struct DataPlaneConfigResult {
  std::optional<DataPlaneConfig> config;
  std::vector<std::string> errors;  // "[dataplane] KEY: VALUE: why", all of them
};

// Reads the section; extra_eal (from the command line) is appended to
// "eal args". Missing required keys (access address, core address, core
// next hop) and unknown keys are errors.
DataPlaneConfigResult parse_dataplane_config(const std::map<std::string, std::string>& section,
                                             const std::vector<std::string>& extra_eal, uint16_t l2tp_port);

// Splits on blanks (EAL arguments hold no quoted blanks).
std::vector<std::string> split_args(const std::string& text);

}  // namespace l2tp::dp
