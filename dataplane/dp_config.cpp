#include "dataplane/dp_config.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "control/net.hpp"

namespace l2tp::dp {

namespace {

template <class T>
std::optional<T> number(const std::string& v, T max) {
  T n{};
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n > max) return std::nullopt;
  return n;
}

std::optional<uint32_t> address(const std::string& v) {
  auto e = control::parse_endpoint(v);
  if (!e || v.find(':') != std::string::npos) return std::nullopt;
  return e->addr;
}

// "a.b.c.d/len" (len 0..32; without it, /32 is refused: a subnet is needed
// to tell on-link neighbours from the rest).
bool prefix_address(const std::string& v, uint32_t& addr, uint8_t& prefix) {
  const auto slash = v.find('/');
  if (slash == std::string::npos) return false;
  auto a = address(v.substr(0, slash));
  auto p = number<unsigned>(v.substr(slash + 1), 32);
  if (!a || !p) return false;
  addr = *a;
  prefix = static_cast<uint8_t>(*p);
  return true;
}

std::optional<std::array<uint8_t, 6>> mac(const std::string& v) {
  // Exactly "hh:hh:hh:hh:hh:hh".
  std::array<uint8_t, 6> m{};
  if (v.size() != 17) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && v[i * 3 - 1] != ':') return std::nullopt;
    const char* first = v.data() + i * 3;
    unsigned x = 0;
    auto [end, ec] = std::from_chars(first, first + 2, x, 16);
    if (ec != std::errc() || end != first + 2) return std::nullopt;
    m[i] = static_cast<uint8_t>(x);
  }
  return m;
}

std::optional<bool> boolean(const std::string& v) {
  if (v == "yes" || v == "y" || v == "true") return true;
  if (v == "no" || v == "n" || v == "false") return false;
  return std::nullopt;
}

// The limit a "police CLASS rate|burst" key sets, or nullptr.
PuntLimit* police_limit(PuntPolicy& p, const std::string& key) {
  for (auto [name, limit] : {std::pair{"control", &p.control}, std::pair{"sccrq", &p.sccrq},
                             std::pair{"other", &p.other}, std::pair{"control worker", &p.control_worker},
                             std::pair{"sccrq worker", &p.sccrq_worker}, std::pair{"other worker", &p.other_worker},
                             std::pair{"stray", &p.stray}, std::pair{"stray worker", &p.stray_worker}}) {
    const std::string prefix = std::string("police ") + name;
    if (key == prefix + " rate" || key == prefix + " burst") return limit;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> split_args(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

DataPlaneConfigResult parse_dataplane_config(const std::map<std::string, std::string>& section,
                                             const std::vector<std::string>& extra_eal, uint16_t l2tp_port) {
  DataPlaneConfigResult r;
  DataPlaneConfig c;
  c.l2tp_port = l2tp_port;
  bool have_access = false, have_core = false, have_hop = false, have_core_port = false;
  bool have_reorder_sessions = false;
  auto bad = [&](const std::string& key, const std::string& value, const std::string& why) {
    r.errors.push_back("[dataplane] \"" + key + "\": \"" + value + "\": " + why);
  };
  for (const auto& [key, value] : section) {
    if (key == "eal args") {
      c.eal_args = split_args(value);
    } else if (key == "access port" || key == "core port") {
      auto p = number<unsigned>(value, 65535);
      if (!p) {
        bad(key, value, "a DPDK port ID (0-65535)");
        continue;
      }
      (key == "access port" ? c.access_port : c.core_port) = static_cast<uint16_t>(*p);
      if (key == "core port") have_core_port = true;
    } else if (key == "access address") {
      have_access = prefix_address(value, c.access_addr, c.access_prefix);
      if (!have_access) bad(key, value, "an IPv4 address with its prefix length, as 192.0.2.2/24");
    } else if (key == "core address") {
      have_core = prefix_address(value, c.core_addr, c.core_prefix);
      if (!have_core) bad(key, value, "an IPv4 address with its prefix length, as 198.51.100.1/24");
    } else if (key == "access gateway" || key == "core next hop") {
      auto a = address(value);
      if (!a) {
        bad(key, value, "an IPv4 address");
        continue;
      }
      (key == "access gateway" ? c.access_gateway : c.core_next_hop) = *a;
      if (key == "core next hop") have_hop = true;
    } else if (key == "core next hop mac") {
      c.core_next_hop_mac = mac(value);
      if (!c.core_next_hop_mac) bad(key, value, "a MAC address, as 02:00:00:00:00:01");
    } else if (key == "workers") {
      auto n = number<unsigned>(value, 64);
      if (!n || *n == 0) bad(key, value, "1 to 64 worker lcores");
      else c.workers = *n;
    } else if (key == "mbufs") {
      auto n = number<unsigned>(value, 1u << 24);
      if (!n || *n < 1024) bad(key, value, "1024 or more");
      else c.mbufs = *n;
    } else if (key == "ring size" || key == "handoff ring size") {
      auto n = number<unsigned>(value, 1u << 20);
      if (!n || *n < 64 || (*n & (*n - 1)) != 0) bad(key, value, "a power of two, 64 or more");
      else (key == "ring size" ? c.ring_size : c.handoff_ring_size) = *n;
    } else if (key == "max subscribers") {
      auto n = number<uint32_t>(value, 1u << 24);
      if (!n || *n == 0) bad(key, value, "1 or more");
      else c.max_subscribers = *n;
    } else if (key == "reorder window") {
      auto n = number<unsigned>(value, 256);
      if (!n) bad(key, value, "0 to 256 packets");
      else c.reorder_window = *n;
    } else if (key == "reorder timeout") {
      auto n = number<unsigned>(value, 1000);
      if (!n || *n == 0) bad(key, value, "1 to 1000 milliseconds");
      else c.reorder_timeout_ms = *n;
    } else if (key == "reorder sessions") {
      auto n = number<unsigned>(value, 1024);
      if (value != "auto" && (!n || *n == 0)) bad(key, value, "auto, or 1 to 1024 per worker");
      else if (n) c.reorder_sessions = *n, have_reorder_sessions = true;
    } else if (key == "idle sleep") {
      auto b = boolean(value);
      if (!b) bad(key, value, "yes or no");
      else c.idle_sleep = *b;
    } else if (key == "capture") {
      auto b = boolean(value);
      if (value == "auto") c.capture = CaptureMode::kAuto;
      else if (!b) bad(key, value, "auto, yes or no");
      else c.capture = *b ? CaptureMode::kYes : CaptureMode::kNo;
    } else if (key == "access mtu") {
      auto n = number<unsigned>(value, 65535);
      if (!n || *n < 576) bad(key, value, "an IP MTU of 576 to 65535 octets");
      else c.access_mtu = static_cast<uint16_t>(*n);
    } else if (key == "fragment") {
      auto b = boolean(value);
      if (!b) bad(key, value, "yes or no");
      else c.fragment = *b;
    } else if (key == "mss clamp") {
      auto b = boolean(value);
      auto n = number<unsigned>(value, 65534);
      if (value == "auto") c.mss_clamp = 0xFFFF;
      else if (b && !*b) c.mss_clamp = 0;
      else if (n && *n >= 64) c.mss_clamp = static_cast<uint16_t>(*n);
      else bad(key, value, "auto (session MTU - 40), no, or an MSS of 64 to 65534");
    } else if (key == "icmp rate") {
      auto n = number<uint32_t>(value, 1000000);
      if (!n) bad(key, value, "ICMP errors a second per worker, 0 to 1000000");
      else c.icmp_rate = *n;
    } else if (key == "reassembly") {
      auto b = boolean(value);
      if (!b) bad(key, value, "yes or no");
      else c.reassembly = *b;
    } else if (key == "reassembly flows") {
      auto n = number<uint32_t>(value, 65536);
      if (!n || *n == 0) bad(key, value, "1 to 65536 datagrams in progress per worker");
      else c.reassembly_flows = *n;
    } else if (key == "reassembly timeout") {
      auto n = number<uint32_t>(value, 60000);
      if (!n || *n == 0) bad(key, value, "1 to 60000 milliseconds");
      else c.reassembly_timeout_ms = *n;
    } else if (PuntLimit* limit = police_limit(c.police, key)) {
      const bool is_rate = key.ends_with(" rate");
      auto n = number<uint32_t>(value, is_rate ? 10000000u : 1000000u);
      if (!n || *n == 0) bad(key, value, is_rate ? "packets per second, 1 to 10000000" : "packets, 1 to 1000000");
      else (is_rate ? limit->rate : limit->burst) = *n;
    } else {
      bad(key, value, "unknown key (see dataplane/dp_config.hpp or the README)");
    }
  }
  if (!have_core_port) c.core_port = c.access_port;
  if (!have_access && !section.count("access address")) r.errors.push_back("[dataplane] \"access address\" is required");
  if (!have_core && !section.count("core address")) r.errors.push_back("[dataplane] \"core address\" is required");
  if (!have_hop && !section.count("core next hop")) r.errors.push_back("[dataplane] \"core next hop\" is required");
  if (have_core && have_hop && !c.on_core_subnet(c.core_next_hop))
    r.errors.push_back("[dataplane] \"core next hop\" is not on the core address's subnet");
  if (have_access && c.access_gateway && !c.on_access_subnet(c.access_gateway))
    r.errors.push_back("[dataplane] \"access gateway\" is not on the access address's subnet");
  // Incomplete datagrams must not be able to starve the pool.
  if (c.reassembly &&
      uint64_t{c.workers} * c.reassembly_flows * DataPlaneConfig::kFragmentsPerFlow > c.mbufs / 2)
    r.errors.push_back("[dataplane] \"reassembly flows\" (" + std::to_string(c.reassembly_flows) + ") * " +
                       std::to_string(DataPlaneConfig::kFragmentsPerFlow) + " fragments * " +
                       std::to_string(c.workers) + " workers exceeds half of \"mbufs\" (" +
                       std::to_string(c.mbufs) + "): lower it or raise mbufs");
  // Reorder buffers may park at most a quarter of the mbufs by default;
  // an explicit size that could take half of them starves RX.
  const unsigned parkable = c.workers * std::max(c.reorder_window, 1u);
  if (!have_reorder_sessions) {
    c.reorder_sessions = std::clamp(c.mbufs / (4 * parkable), 1u, 1024u);
  } else if (uint64_t{c.reorder_sessions} * parkable > c.mbufs / 2) {
    r.errors.push_back("[dataplane] \"reorder sessions\": " + std::to_string(c.reorder_sessions) + " x window " +
                       std::to_string(c.reorder_window) + " x " + std::to_string(c.workers) +
                       " workers could hold more than half of the " + std::to_string(c.mbufs) + " mbufs");
  }
  c.eal_args.insert(c.eal_args.end(), extra_eal.begin(), extra_eal.end());
  if (c.capture == CaptureMode::kYes)
    if (auto why = capture_blocker(c.eal_args))
      r.errors.push_back("[dataplane] \"capture\": \"yes\": the eal args rule dpdk-dumpcap out: " + *why +
                         " (drop the argument, or set capture = auto or no)");
  if (r.errors.empty()) r.config = std::move(c);
  return r;
}

}  // namespace l2tp::dp
