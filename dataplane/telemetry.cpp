#include "dataplane/telemetry.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "dataplane/dataplane.hpp"
#include "dataplane/session_table.hpp"

namespace l2tp::dp {

namespace {

constexpr size_t kPageSize = 256;  // RTE_TEL_MAX_ARRAY_ENTRIES is 512

// Held by every callback while it reads the data plane, and by
// detach_telemetry() while it takes it away.
std::mutex g_mutex;
const DataPlane* g_dp = nullptr;

void add_counters(rte_tel_data* d, const WorkerCounters& c) {
  rte_tel_data_add_dict_u64(d, "rx_access", c.rx_access);
  rte_tel_data_add_dict_u64(d, "rx_core", c.rx_core);
  rte_tel_data_add_dict_u64(d, "decap", c.decap);
  rte_tel_data_add_dict_u64(d, "encap", c.encap);
  rte_tel_data_add_dict_u64(d, "to_control", c.to_control);
  rte_tel_data_add_dict_u64(d, "from_control", c.from_control);
  rte_tel_data_add_dict_u64(d, "tx_access", c.tx_access);
  rte_tel_data_add_dict_u64(d, "tx_core", c.tx_core);
  rte_tel_data_add_dict_u64(d, "handed_off", c.handed_off);
  rte_tel_data_add_dict_u64(d, "handed_in", c.handed_in);
  rte_tel_data_add_dict_u64(d, "outer_fragments", c.outer_fragments);
  rte_tel_data_add_dict_u64(d, "reassembled", c.reassembled);
  rte_tel_data_add_dict_u64(d, "dropped", c.dropped_total());
  rte_tel_data_add_dict_u64(d, "icmp_frag_needed", c.icmp_frag_needed);
  rte_tel_data_add_dict_u64(d, "icmp_rate_limited", c.icmp_rate_limited);
  rte_tel_data_add_dict_u64(d, "fragmented", c.fragmented);
  rte_tel_data_add_dict_u64(d, "fragments", c.fragments);
  rte_tel_data_add_dict_u64(d, "mss_clamped", c.mss_clamped);
  rte_tel_data_add_dict_u64(d, "reordered", c.reordered);
  rte_tel_data_add_dict_u64(d, "reorder_gaps", c.reorder_gaps);
  rte_tel_data_add_dict_u64(d, "reorder_no_context", c.reorder_no_context);
}

void add_drops(rte_tel_data* d, const WorkerCounters& c) {
  for (size_t i = 0; i < kDropCount; ++i) rte_tel_data_add_dict_u64(d, drop_name(static_cast<Drop>(i)), c.drops[i]);
}

// A decimal parameter, or -1.
long parameter(const char* params) {
  if (params == nullptr || *params == '\0') return -1;
  char* end = nullptr;
  const long v = std::strtol(params, &end, 10);
  return (end && *end == '\0' && v >= 0) ? v : -1;
}

std::string dotted(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xFF) + "." + std::to_string((a >> 8) & 0xFF) +
         "." + std::to_string(a & 0xFF);
}

int with_dp(rte_tel_data* d, const auto& fn) {
  std::lock_guard lock(g_mutex);
  if (g_dp == nullptr) {
    rte_tel_data_string(d, "no data plane");
    return 0;
  }
  return fn(*g_dp);
}

int summary(const char*, const char*, rte_tel_data* d) {
  return with_dp(d, [&](const DataPlane& dp) {
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_int(d, "workers", static_cast<int>(dp.workers()));
    rte_tel_data_add_dict_u64(d, "sessions", dp.published_count());
    rte_tel_data_add_dict_u64(d, "subscribers", dp.published_subscribers());
    add_counters(d, dp.totals());
    return 0;
  });
}

int drops(const char*, const char*, rte_tel_data* d) {
  return with_dp(d, [&](const DataPlane& dp) {
    rte_tel_data_start_dict(d);
    add_drops(d, dp.totals());
    return 0;
  });
}

int worker(const char*, const char* params, rte_tel_data* d) {
  return with_dp(d, [&](const DataPlane& dp) {
    const long w = parameter(params);
    if (w < 0 || static_cast<unsigned long>(w) >= dp.workers()) return -EINVAL;
    const WorkerCounters& c = dp.worker_counters(static_cast<unsigned>(w));
    rte_tel_data_start_dict(d);
    add_counters(d, c);
    rte_tel_data_add_dict_u64(d, "idle_sleeps", c.idle_sleeps);
    rte_tel_data* dd = rte_tel_data_alloc();
    if (dd == nullptr) return -ENOMEM;
    rte_tel_data_start_dict(dd);
    add_drops(dd, c);
    rte_tel_data_add_dict_container(d, "drops", dd, 0);
    return 0;
  });
}

int ports(const char*, const char*, rte_tel_data* d) {
  return with_dp(d, [&](const DataPlane& dp) {
    rte_tel_data_start_dict(d);
    const DataPlaneConfig& c = dp.config();
    for (uint16_t port : {c.access_port, c.core_port}) {
      rte_eth_stats st{};
      if (rte_eth_stats_get(port, &st) != 0) continue;
      rte_tel_data* p = rte_tel_data_alloc();
      if (p == nullptr) return -ENOMEM;
      rte_tel_data_start_dict(p);
      rte_tel_data_add_dict_u64(p, "rx_packets", st.ipackets);
      rte_tel_data_add_dict_u64(p, "tx_packets", st.opackets);
      rte_tel_data_add_dict_u64(p, "rx_bytes", st.ibytes);
      rte_tel_data_add_dict_u64(p, "tx_bytes", st.obytes);
      rte_tel_data_add_dict_u64(p, "rx_missed", st.imissed);
      rte_tel_data_add_dict_u64(p, "rx_errors", st.ierrors);
      rte_tel_data_add_dict_u64(p, "tx_errors", st.oerrors);
      rte_tel_data_add_dict_u64(p, "rx_no_mbuf", st.rx_nombuf);
      const std::string name = port == c.access_port && port == c.core_port ? "access_core"
                               : port == c.access_port                      ? "access"
                                                                            : "core";
      rte_tel_data_add_dict_container(d, name.c_str(), p, 0);
      if (c.access_port == c.core_port) break;
    }
    return 0;
  });
}

int sessions(const char*, const char* params, rte_tel_data* d) {
  return with_dp(d, [&](const DataPlane& dp) {
    const long page = params && *params ? parameter(params) : 0;
    if (page < 0) return -EINVAL;
    const std::vector<uint16_t> ids = dp.published_ids();
    const size_t pages = (ids.size() + kPageSize - 1) / kPageSize;
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "total", ids.size());
    rte_tel_data_add_dict_u64(d, "page", static_cast<uint64_t>(page));
    rte_tel_data_add_dict_u64(d, "pages", pages);
    rte_tel_data* a = rte_tel_data_alloc();
    if (a == nullptr) return -ENOMEM;
    rte_tel_data_start_array(a, RTE_TEL_INT_VAL);
    for (size_t i = static_cast<size_t>(page) * kPageSize; i < ids.size() && i < (static_cast<size_t>(page) + 1) * kPageSize; ++i)
      rte_tel_data_add_array_int(a, ids[i]);
    rte_tel_data_add_dict_container(d, "sessions", a, 0);
    return 0;
  });
}

int session(const char*, const char* params, rte_tel_data* d) {
  return with_dp(d, [&](const DataPlane& dp) {
    const long id = parameter(params);
    if (id <= 0 || id > 65535) return -EINVAL;
    const auto e = dp.published_entry(static_cast<uint16_t>(id));
    if (!e) return -ENOENT;
    const SessionState& st = dp.table().state(static_cast<uint16_t>(id));
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_int(d, "local_session_id", e->local_session_id);
    rte_tel_data_add_dict_int(d, "local_tunnel_id", e->local_tunnel_id);
    rte_tel_data_add_dict_int(d, "peer_session_id", e->peer_session_id);
    rte_tel_data_add_dict_int(d, "peer_tunnel_id", e->peer_tunnel_id);
    rte_tel_data_add_dict_string(d, "peer", (dotted(e->peer.addr) + ":" + std::to_string(e->peer.port)).c_str());
    rte_tel_data_add_dict_string(d, "subscriber", e->subscriber_addr ? dotted(e->subscriber_addr).c_str() : "");
    rte_tel_data_add_dict_int(d, "owner_worker", e->owner_worker);
    rte_tel_data_add_dict_int(d, "vlan", e->vlan);
    // RFC 2661 5.4: whether what the session sends carries Ns now (for
    // its life, or for a LAC while the LNS's data carries S), and whether
    // the LNS decides that.
    rte_tel_data_add_dict_int(d, "sequenced", e->sequenced || (e->follows_peer_sequencing && st.peer_sequences) ? 1 : 0);
    rte_tel_data_add_dict_int(d, "follows_peer_sequencing", e->follows_peer_sequencing ? 1 : 0);
    rte_tel_data_add_dict_u64(d, "rx_packets", st.rx_packets);
    rte_tel_data_add_dict_u64(d, "rx_bytes", st.rx_bytes);
    rte_tel_data_add_dict_u64(d, "tx_packets", st.tx_packets);
    rte_tel_data_add_dict_u64(d, "tx_bytes", st.tx_bytes);
    return 0;
  });
}

}  // namespace

void attach_telemetry(const DataPlane* dp) {
  static std::once_flag registered;
  std::call_once(registered, [] {
    rte_telemetry_register_cmd("/l2tp/summary", summary, "l2tpd data plane totals. No parameters");
    rte_telemetry_register_cmd("/l2tp/drops", drops, "Packets dropped, by reason, all workers. No parameters");
    rte_telemetry_register_cmd("/l2tp/worker", worker, "One worker lcore's counters. Parameters: worker number");
    rte_telemetry_register_cmd("/l2tp/ports", ports, "The access and core ports' statistics. No parameters");
    rte_telemetry_register_cmd("/l2tp/sessions", sessions,
                               "Session IDs in the fast path, 256 a page. Parameters: page (default 0)");
    rte_telemetry_register_cmd("/l2tp/session", session, "One fast-path session. Parameters: local session ID");
  });
  std::lock_guard lock(g_mutex);
  g_dp = dp;
}

void detach_telemetry() {
  std::lock_guard lock(g_mutex);
  g_dp = nullptr;
}

}  // namespace l2tp::dp
