#include "dataplane/dataplane.hpp"

#include <cstring>
#include <stdexcept>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "control/net.hpp"
#include "dataplane/session_table.hpp"
#include "dataplane/telemetry.hpp"

namespace l2tp::dp {

namespace {

constexpr uint16_t kRxDescriptors = 1024;
constexpr uint16_t kTxDescriptors = 1024;
constexpr unsigned kMbufCache = 256;

std::runtime_error dpdk_error(const std::string& what) {
  return std::runtime_error(what + ": " + rte_strerror(rte_errno));
}

std::string port_name(uint16_t port) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  if (rte_eth_dev_get_name_by_port(port, name) != 0) return "port " + std::to_string(port);
  return "port " + std::to_string(port) + " (" + name + ")";
}

int lcore_main(void* arg) {
  auto* w = static_cast<DataPlane::LaunchArg*>(arg);
  w->first->run(*w->second);
  return 0;
}

}  // namespace

void init_eal(const std::vector<std::string>& args) {
  std::vector<std::string> all{"l2tpd"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(all.size()), argv.data()) < 0)
    throw dpdk_error("EAL (eal args in [dataplane], or --eal)");
}

void DataPlane::setup_port(uint16_t port, unsigned queues) {
  if (!rte_eth_dev_is_valid_port(port))
    throw std::runtime_error("[dataplane] port " + std::to_string(port) + " does not exist: " +
                             std::to_string(rte_eth_dev_count_avail()) +
                             " ports came from the EAL arguments (--vdev=..., PCI devices)");
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(port, &info) != 0) throw dpdk_error(port_name(port) + ": device info");
  if (queues > info.max_rx_queues || queues > info.max_tx_queues)
    throw std::runtime_error(port_name(port) + " has " + std::to_string(info.max_rx_queues) + " RX / " +
                             std::to_string(info.max_tx_queues) + " TX queues: fewer than the " +
                             std::to_string(queues) + " workers");
  rte_eth_conf conf{};
  // Fragments (dataplane/mtu.hpp) are chains; a port that cannot send
  // them gets them copied into one segment.
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  if (port == config_.access_port) access_multi_seg_ = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
  if (queues > 1 && info.flow_type_rss_offloads != 0) {
    // RSS spreads tunnels (one outer 5-tuple each) over the queues, or
    // sessions where the NIC hashes on the L2TPv2 Session ID (one LAC's
    // load over every queue); the workers hand each other what did not
    // land on the owner's queue (session_owner).
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_L2TPV2);
  }
  if (rte_eth_dev_configure(port, static_cast<uint16_t>(queues), static_cast<uint16_t>(queues), &conf) != 0)
    throw dpdk_error(port_name(port) + ": configure");
  uint16_t rxd = kRxDescriptors, txd = kTxDescriptors;
  if (rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd) != 0) throw dpdk_error(port_name(port) + ": descriptors");
  const int socket = rte_eth_dev_socket_id(port);
  for (uint16_t q = 0; q < queues; ++q) {
    if (rte_eth_rx_queue_setup(port, q, rxd, socket, nullptr, pool_) != 0)
      throw dpdk_error(port_name(port) + ": RX queue " + std::to_string(q));
    if (rte_eth_tx_queue_setup(port, q, txd, socket, nullptr) != 0)
      throw dpdk_error(port_name(port) + ": TX queue " + std::to_string(q));
  }
  if (rte_eth_dev_start(port) != 0) throw dpdk_error(port_name(port) + ": start");
  // The fast path answers to our MAC only, but ARP requests are broadcast
  // and a virtual port may hand us a copy of everything: harmless either way.
  rte_eth_promiscuous_disable(port);
}

rte_ether_addr DataPlane::resolve_next_hop() {
  if (config_.core_next_hop_mac) {
    rte_ether_addr mac;
    std::memcpy(mac.addr_bytes, config_.core_next_hop_mac->data(), 6);
    return mac;
  }
  // Before the workers start, the control thread has the core port's
  // queue 0 to itself: ask, and wait a few seconds for the answer
  // (answering requests for our own address meanwhile, so that a next hop
  // that asks first is not left waiting).
  const uint16_t port = config_.core_port;
  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t deadline = rte_get_tsc_cycles() + 5 * hz;
  uint64_t next_request = 0;
  while (rte_get_tsc_cycles() < deadline) {
    if (rte_get_tsc_cycles() >= next_request) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      if (m == nullptr) throw std::runtime_error("mbuf pool empty while resolving the next hop");
      auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
      memset(&eth->dst_addr, 0xFF, sizeof eth->dst_addr);
      rte_ether_addr_copy(&core_mac_, &eth->src_addr);
      eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
      auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
      arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
      arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
      arp->arp_hlen = RTE_ETHER_ADDR_LEN;
      arp->arp_plen = 4;
      arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
      rte_ether_addr_copy(&core_mac_, &arp->arp_data.arp_sha);
      arp->arp_data.arp_sip = rte_cpu_to_be_32(config_.core_addr);
      memset(&arp->arp_data.arp_tha, 0, sizeof arp->arp_data.arp_tha);
      arp->arp_data.arp_tip = rte_cpu_to_be_32(config_.core_next_hop);
      m->data_len = m->pkt_len = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
      if (rte_eth_tx_burst(port, 0, &m, 1) != 1) rte_pktmbuf_free(m);
      next_request = rte_get_tsc_cycles() + hz / 2;
    }
    rte_mbuf* burst[32];
    const uint16_t n = rte_eth_rx_burst(port, 0, burst, 32);
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = burst[i];
      const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
      if (m->data_len >= sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr) &&
          eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
        const auto* arp = reinterpret_cast<const rte_arp_hdr*>(eth + 1);
        if (arp->arp_data.arp_sip == rte_cpu_to_be_32(config_.core_next_hop) &&
            arp->arp_data.arp_tip == rte_cpu_to_be_32(config_.core_addr)) {
          rte_ether_addr mac = arp->arp_data.arp_sha;
          rte_pktmbuf_free_bulk(burst + i, n - i);
          return mac;
        }
      }
      rte_pktmbuf_free(m);
    }
    rte_delay_us_sleep(1000);
  }
  throw std::runtime_error("[dataplane] core next hop " + control::Endpoint{config_.core_next_hop, 0}.to_string() +
                           " did not answer ARP on " + port_name(port) + " within 5 s (or set \"core next hop mac\")");
}

DataPlane::DataPlane(const DataPlaneConfig& config) : config_(config) {
  try {
    // Worker lcores: every EAL lcore but the main one (the control thread).
    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore) lcores_.push_back(lcore);
    if (lcores_.size() < config_.workers)
      throw std::runtime_error("[dataplane] workers = " + std::to_string(config_.workers) + " but the EAL has " +
                               std::to_string(lcores_.size()) +
                               " lcores besides the main one: give it more (eal args -l 0-" +
                               std::to_string(config_.workers) + ")");
    lcores_.resize(config_.workers);
    const int socket = static_cast<int>(rte_socket_id());
    pool_ = rte_pktmbuf_pool_create("l2tp_mbufs", config_.mbufs, kMbufCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (pool_ == nullptr) throw dpdk_error("mbuf pool of " + std::to_string(config_.mbufs));
    setup_port(config_.access_port, config_.workers);
    if (config_.core_port != config_.access_port) setup_port(config_.core_port, config_.workers);
    if (rte_eth_macaddr_get(config_.access_port, &access_mac_) != 0 ||
        rte_eth_macaddr_get(config_.core_port, &core_mac_) != 0)
      throw dpdk_error("port MAC address");

    const size_t rcu_size = rte_rcu_qsbr_get_memsize(config_.workers);
    rcu_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("l2tp_rcu", rcu_size, RTE_CACHE_LINE_SIZE));
    if (rcu_ == nullptr || rte_rcu_qsbr_init(rcu_, config_.workers) != 0) throw dpdk_error("RCU");
    table_ = std::make_unique<SessionTable>("l2tp_subscribers", rcu_, config_.max_subscribers, socket);
    table_->set_limits({config_.access_mtu, config_.mss_clamp});
    tunnels_ = std::make_unique<TunnelTable>();
    if (config_.fragment) {
      // Fragments reference the original's data through indirect mbufs
      // (no data room); their headers come from the main pool.
      indirect_pool_ = rte_pktmbuf_pool_create("l2tp_indirect", config_.mbufs, kMbufCache, 0, 0, socket);
      if (indirect_pool_ == nullptr) throw dpdk_error("indirect mbuf pool of " + std::to_string(config_.mbufs));
    }

    CoreNextHop hop;
    hop.src = core_mac_;
    hop.dst = resolve_next_hop();

    std::vector<ControlIo::WorkerRings> io_rings;
    // All the handoff rings before any worker: each worker holds them all.
    if (config_.workers > 1)
      for (unsigned w = 0; w < config_.workers; ++w)
        handoff_.push_back(create_handoff_rings(static_cast<uint16_t>(w), config_.handoff_ring_size, socket));
    for (unsigned w = 0; w < config_.workers; ++w) {
      rings_.push_back(create_control_rings(static_cast<uint16_t>(w), config_.ring_size, socket));
      io_rings.push_back({rings_.back().to_control, rings_.back().from_control, rings_.back().to_control_high});
      WorkerConfig wc;
      wc.id = static_cast<uint16_t>(w);
      wc.access_port = config_.access_port;
      wc.core_port = config_.core_port;
      wc.rx_queue = wc.tx_queue = static_cast<uint16_t>(w);
      wc.core_hop = hop;
      wc.access_addr = rte_cpu_to_be_32(config_.access_addr);
      wc.core_addr = rte_cpu_to_be_32(config_.core_addr);
      wc.table = table_.get();
      wc.rcu = rcu_;
      wc.to_control = rings_.back().to_control;
      wc.from_control = rings_.back().from_control;
      wc.handoff = handoff_.empty() ? nullptr : handoff_.data();
      wc.workers = static_cast<uint16_t>(config_.workers);
      wc.to_control_high = rings_.back().to_control_high;
      wc.police = config_.police;
      wc.tunnels = tunnels_.get();
      wc.idle_sleep = config_.idle_sleep;
      wc.mtu.fragment_direct = pool_;
      wc.mtu.fragment_indirect = indirect_pool_;  // nullptr with "fragment = no"
      wc.mtu.linearize_fragments = !access_multi_seg_;
      wc.mtu.icmp_per_second = config_.icmp_rate;
      wc.reassembly = {config_.reassembly, config_.reassembly_flows, config_.reassembly_timeout_ms};
      wc.reorder.window = static_cast<uint16_t>(config_.reorder_window);
      wc.reorder.timeout_us = config_.reorder_timeout_ms * 1000;
      wc.reorder.contexts = config_.reorder_sessions;
      workers_.push_back(std::make_unique<Worker>(wc));
    }
    io_ = std::make_unique<ControlIo>(config_, pool_, std::move(io_rings), access_mac_, core_mac_);
    io_->neighbours().learn(config_.core_port, config_.core_next_hop, hop.dst);

    for (auto& w : workers_) launch_args_.emplace_back(w.get(), &stop_);
    for (unsigned w = 0; w < workers_.size(); ++w) {
      if (rte_eal_remote_launch(lcore_main, &launch_args_[w], lcores_[w]) != 0) throw dpdk_error("worker launch");
      launched_ = true;
    }
    attach_telemetry(this);
  } catch (...) {
    teardown();  // what was built, in order; the members then destroy nothing twice
    throw;
  }
}

DataPlane::~DataPlane() { teardown(); }

void DataPlane::teardown() noexcept {
  detach_telemetry();  // its thread reads us: first
  if (launched_) {
    stop_.store(true);
    rte_eal_mp_wait_lcore();
    launched_ = false;
  }
  io_.reset();
  workers_.clear();
  for (auto& r : rings_) free_control_rings(r);
  rings_.clear();
  for (auto& r : handoff_) free_handoff_rings(r);
  handoff_.clear();
  if (table_) table_->synchronize();
  table_.reset();
  tunnels_.reset();  // after the workers: they read it
  rte_free(rcu_);
  rcu_ = nullptr;
  if (pool_ != nullptr)  // the ports were set up only once the pool existed
    for (uint16_t port : {config_.access_port, config_.core_port})
      if (rte_eth_dev_is_valid_port(port)) rte_eth_dev_stop(port);
  rte_mempool_free(pool_);
  pool_ = nullptr;
  rte_mempool_free(indirect_pool_);
  indirect_pool_ = nullptr;
}

bool DataPlane::publish(const control::FastPathEntry& entry) {
  control::FastPathEntry e = entry;
  // Our MAC on the access port, and the peer's as its datagrams came (or
  // its gateway's, for a LAC beyond the access subnet).
  std::memcpy(e.local_mac.data(), access_mac_.addr_bytes, 6);
  const uint32_t hop = config_.on_access_subnet(e.peer.addr) ? e.peer.addr : config_.access_gateway;
  const auto mac = io_->neighbours().lookup(config_.access_port, hop);
  if (!mac) {
    ++unpublishable_;
    return false;
  }
  std::memcpy(e.peer_mac.data(), mac->addr_bytes, 6);
  e.access_port = config_.access_port;
  // The owner by session ID, whichever worker the tunnel came in on:
  // sessions spread over the workers, and ControlIo finds the same owner
  // for pppd's frames.
  e.owner_worker = session_owner(e.local_session_id, static_cast<unsigned>(workers_.size()));
  if (!table_->publish(e)) return false;
  std::lock_guard lock(published_mutex_);
  published_[e.local_session_id] = e;
  return true;
}

bool DataPlane::withdraw(uint16_t local_session_id) {
  {
    std::lock_guard lock(published_mutex_);
    published_.erase(local_session_id);
  }
  return table_->withdraw(local_session_id);
}

void DataPlane::tunnel_up(uint16_t local_tunnel_id, const control::Endpoint& peer) {
  tunnels_->publish(local_tunnel_id, rte_cpu_to_be_32(peer.addr));
}

void DataPlane::tunnel_down(uint16_t local_tunnel_id) { tunnels_->withdraw(local_tunnel_id); }

const WorkerCounters& DataPlane::worker_counters(unsigned w) const { return workers_.at(w)->counters(); }

size_t DataPlane::published_count() const {
  std::lock_guard lock(published_mutex_);
  return published_.size();
}

size_t DataPlane::published_subscribers() const {
  std::lock_guard lock(published_mutex_);
  size_t n = 0;
  for (const auto& [id, e] : published_) n += e.subscriber_addr != 0;
  return n;
}

std::vector<uint16_t> DataPlane::published_ids() const {
  std::lock_guard lock(published_mutex_);
  std::vector<uint16_t> ids;
  ids.reserve(published_.size());
  for (const auto& [id, e] : published_) ids.push_back(id);
  return ids;
}

std::optional<control::FastPathEntry> DataPlane::published_entry(uint16_t id) const {
  std::lock_guard lock(published_mutex_);
  auto it = published_.find(id);
  if (it == published_.end()) return std::nullopt;
  return it->second;
}

uint64_t DataPlane::session_packets(uint16_t local_session_id) const {
  const SessionState& st = table_->state(local_session_id);
  return st.rx_packets + st.tx_packets;
}

WorkerCounters DataPlane::totals() const {
  WorkerCounters sum;
  for (const auto& w : workers_) sum += w->counters();
  return sum;
}

std::vector<std::string> DataPlane::report() const {
  std::vector<std::string> lines;
  for (uint16_t port : {config_.access_port, config_.core_port}) {
    rte_eth_stats st{};
    if (rte_eth_stats_get(port, &st) != 0) continue;
    lines.push_back(port_name(port) + (port == config_.access_port ? " access" : "") +
                    (port == config_.core_port ? " core" : "") + ": rx " + std::to_string(st.ipackets) + " tx " +
                    std::to_string(st.opackets) + " missed " + std::to_string(st.imissed) + " rx errors " +
                    std::to_string(st.ierrors) + " tx errors " + std::to_string(st.oerrors));
    if (config_.core_port == config_.access_port) break;
  }
  for (size_t w = 0; w < workers_.size(); ++w) {
    const WorkerCounters& c = workers_[w]->counters();
    auto n = [](uint64_t v) { return std::to_string(v); };
    std::string line = "worker " + n(w) + " (lcore " + n(lcores_[w]) + "): rx access " + n(c.rx_access) +
                       " core " + n(c.rx_core) + ", decap " + n(c.decap) + ", encap " + n(c.encap) +
                       ", to control " + n(c.to_control) + ", dropped " + n(c.dropped_total()) +
                       ", idle sleeps " + n(c.idle_sleeps);
    line += ", handed off " + n(c.handed_off) + " in " + n(c.handed_in);
    line += ", ICMP frag needed " + n(c.icmp_frag_needed) + " (rate-limited " + n(c.icmp_rate_limited) +
            "), fragmented " + n(c.fragmented) + " into " + n(c.fragments) + ", MSS clamped " +
            n(c.mss_clamped);
    line += ", outer fragments " + n(c.outer_fragments) + " reassembled " + n(c.reassembled);
    line += ", reordered " + n(c.reordered) + ", sequence gaps " + n(c.reorder_gaps) + ", reorder pool empty " +
            n(c.reorder_no_context);
    lines.push_back(std::move(line));
  }
  const WorkerCounters t = totals();
  std::string drops;
  for (size_t i = 0; i < kDropCount; ++i)
    if (t.drops[i]) drops += std::string(drops.empty() ? "" : ", ") + drop_name(static_cast<Drop>(i)) + " " + std::to_string(t.drops[i]);
  lines.push_back("workers " + std::to_string(workers_.size()) + ": decap " + std::to_string(t.decap) + " encap " +
                  std::to_string(t.encap) + " to control " + std::to_string(t.to_control) + " from control " +
                  std::to_string(t.from_control) + "; live tunnels " + std::to_string(tunnels_->published()) +
                  "; fast-path sessions " + std::to_string(table_->sessions()) +
                  "; drops: " + (drops.empty() ? "none" : drops));
  const ControlIoCounters& c = io_->dp_counters();
  lines.push_back("control path: ARP replies " + std::to_string(c.arp_replies_sent) + ", echo replies " +
                  std::to_string(c.echo_replies_sent) + ", unresolved " + std::to_string(c.unresolved) +
                  ", not for us " + std::to_string(c.not_for_us) + ", ring full " + std::to_string(c.ring_full) +
                  ", no mbuf " + std::to_string(c.no_mbuf) + ", neighbours " +
                  std::to_string(io_->neighbours().size()) + ", sessions without a peer MAC " +
                  std::to_string(unpublishable_));
  return lines;
}

}  // namespace l2tp::dp
