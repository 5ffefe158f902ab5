#include "control/daemon.hpp"

#include <limits.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "control/log.hpp"
#include "control/text.hpp"

namespace l2tp::control {

namespace result = wire::result;

namespace {

// IPv4 literal, or a name resolved now (a command, not the packet path).
std::optional<uint32_t> resolve(const std::string& host) {
  if (auto e = parse_endpoint(host)) return e->addr;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return std::nullopt;
  const uint32_t addr = ntohl(reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr.s_addr);
  freeaddrinfo(res);
  return addr;
}

const char* role_name(const Tunnel& t) { return t.role() == Role::kLns ? "LNS" : "LAC"; }

}  // namespace

Daemon::Daemon(Config config, Secrets secrets, const DaemonOptions& options, const DataPlaneSeams& plane)
    : config_(std::move(config)), secrets_(std::move(secrets)), options_(options), plane_(plane) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  system_host_name_ = host;

  if (plane.io) {
    io_ = plane.io;
    // The kernel's addresses mean nothing to LACs here: ours is the data
    // plane's access address.
    local_ = Endpoint{plane.local_addr ? plane.local_addr : config_.global.listen_addr, config_.global.port};
  } else {
    UdpSocketConfig sc;
    sc.bind = Endpoint{config_.global.listen_addr, config_.global.port};
    socket_ = std::make_unique<UdpSocket>(sc);
    io_ = socket_.get();
    local_ = Endpoint{config_.global.listen_addr, socket_->local_endpoint().port};
  }
  if (plane.fast_path) handoff_.emplace(*plane.fast_path);
  EngineLimits limits;
  if (config_.global.max_tunnels) limits.max_tunnels = config_.global.max_tunnels;
  if (config_.global.max_sessions) limits.max_sessions = std::min<uint32_t>(config_.global.max_sessions, 65535);
  limits.id_hold = config_.global.hold_time;
  engine_ = std::make_unique<Engine>(
      *io_, *this, [this](const DatagramMeta& m, const std::string& h) { return decide(m, h); }, limits,
      std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32));
  if (plane.fast_path) engine_->set_fast_path(plane.fast_path);
  driver_ = std::make_unique<EngineDriver>(loop_, *io_, *engine_);
  fifo_ = std::make_unique<CommandFifo>(loop_, options_.fifo_path,
                                        [this](const Command& c, TimePoint now) { on_command(c, now); });

  link_classic_fifo();

  loop_.add_signal(SIGTERM, [this](int, TimePoint now) { begin_shutdown(now); });
  loop_.add_signal(SIGINT, [this](int, TimePoint now) { begin_shutdown(now); });
  loop_.add_signal(SIGUSR1, [this](int, TimePoint) { log_status(); });
  // pppd children: signals coalesce, so every live one is asked.
  loop_.add_signal(SIGCHLD, [this](int, TimePoint) { reap_children(); });
  loop_.add_signal(SIGHUP, [this](int, TimePoint now) { reload(now); });
  for (const LacConfig& lac : config_.lac)
    if (lac.autodial) {
      std::string error;
      if (!dial(lac.name, loop_.now(), error)) LOG_ERROR("autodial [lac %s]: %s", lac.name.c_str(), error.c_str());
    }
  LOG_NOTICE("listening on %s (%s), command FIFO %s", local_.to_string().c_str(),
             socket_ ? "socket mode" : "DPDK data plane",
             options_.fifo_path.c_str());
  announce();
}

void Daemon::reload(TimePoint now) {
  // The secrets first: they stand alone.
  const std::string spath = options_.secrets_path.empty() ? config_.global.auth_file : options_.secrets_path;
  if (auto sec = Secrets::load(spath)) {
    secrets_ = std::move(*sec);
    LOG_NOTICE("SIGHUP: re-read %zu secrets from %s", secrets_.entries().size(), spath.c_str());
  } else {
    for (const auto& e : sec.errors()) LOG_ERROR("SIGHUP: %s (keeping the old secrets)", e.to_string().c_str());
  }

  auto loaded = access(options_.config_path.c_str(), F_OK) != 0 && options_.builtin_lns
                    ? parse_config("", options_.config_path)
                    : load_config(options_.config_path);
  if (!loaded) {
    for (const auto& e : loaded.errors()) LOG_ERROR("SIGHUP: %s", e.to_string().c_str());
    LOG_ERROR("SIGHUP: %s not reloaded: the running configuration stays", options_.config_path.c_str());
    return;
  }
  Config next = std::move(*loaded);
  for (const auto& w : next.warnings) LOG_WARN("SIGHUP: %s", w.c_str());
  const bool builtin = configures_nothing(next);
  if (builtin) next.lns = std::move(parse_config(kBuiltinLnsSection, kBuiltinLnsName)->lns);

  // What the running sockets, ID pools and data plane were built from
  // stays as it is until a restart; say so for each.
  std::vector<std::string> restart;
  GlobalConfig& g = next.global;
  const GlobalConfig& old = config_.global;
  auto keep = [&](auto& now_value, const auto& running, const char* key) {
    if (now_value == running) return;
    restart.emplace_back(key);
    now_value = running;
  };
  keep(g.listen_addr, old.listen_addr, "listen-addr");
  keep(g.port, old.port, "port");
  keep(g.max_tunnels, old.max_tunnels, "max tunnels");
  keep(g.max_sessions, old.max_sessions, "max sessions");
  keep(g.hold_time, old.hold_time, "hold time");
  keep(next.dataplane, config_.dataplane, "[dataplane]");

  // Entries added through the FIFO live on, unless the file now has an
  // entry of that name: the file wins.
  for (bool lac : {true, false}) {
    auto& added = lac ? added_lac_ : added_lns_;
    const char* kind = lac ? "lac" : "lns";
    for (auto it = added.begin(); it != added.end();) {
      const bool in_file = lac ? next.find_lac(it->first) != nullptr : next.find_lns(it->first) != nullptr;
      if (in_file) {
        LOG_WARN("SIGHUP: [%s %s] is in %s now: the entry added with add-%s is replaced by it", kind,
                 it->first.c_str(), options_.config_path.c_str(), kind);
        it = added.erase(it);
        continue;
      }
      auto cfg = parse_config(section_text(kind, EntryArgs{it->first, it->second}), std::string("add-") + kind);
      if (cfg && lac) next.lac.push_back(std::move(cfg->lac.at(0)));
      if (cfg && !lac) next.lns.push_back(std::move(cfg->lns.at(0)));
      ++it;
    }
  }

  config_ = std::move(next);
  options_.builtin_lns = builtin;
  LOG_NOTICE("SIGHUP: reloaded %s: %zu [lns], %zu [lac]%s; new tunnels and calls use it, established ones keep "
             "their settings",
             options_.config_path.c_str(), config_.lns.size(), config_.lac.size(), builtin ? " (built-in LNS)" : "");
  if (!restart.empty()) {
    std::string keys;
    for (const auto& k : restart) keys += (keys.empty() ? "" : ", ") + k;
    LOG_WARN("SIGHUP: changed, but only a restart applies them (running values kept): %s", keys.c_str());
  }
  // [lac] entries to dial now: autodial ones not connected or waiting.
  for (const LacConfig& lac : config_.lac) {
    if (!lac.autodial || lac_tunnels_.count(lac.name) || redial_timers_.count(lac.name)) continue;
    std::string error;
    if (!dial(lac.name, now, error)) LOG_ERROR("SIGHUP: autodial [lac %s]: %s", lac.name.c_str(), error.c_str());
  }
}

void Daemon::announce() const {
  if (config_.lns.empty()) return;
  // The addresses a LAC can use: the one we are bound to, or every IPv4
  // address of the box (outside ones first).
  std::vector<std::string> addrs;
  if (local_.addr != 0) {
    addrs.push_back(ipv4_to_string(local_.addr));
  } else if (ifaddrs* list = nullptr; getifaddrs(&list) == 0) {
    std::vector<std::string> loopback;
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
      const uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
      ((a >> 24) == 127 ? loopback : addrs).push_back(ipv4_to_string(a));
    }
    freeifaddrs(list);
    addrs.insert(addrs.end(), loopback.begin(), loopback.end());
  }
  std::string where;
  for (const auto& a : addrs) where += (where.empty() ? "" : ", ") + a;
  const unsigned port = local_.port;
  LOG_NOTICE("LNS: LACs reach this box at UDP port %u of %s", port, where.empty() ? "(no IPv4 address)" : where.c_str());
  if (!options_.builtin_lns || addrs.empty()) return;
  const std::string lns = addrs.front() + (port == kDefaultPort ? "" : ":" + std::to_string(port));
  LOG_NOTICE("LNS: an xl2tpd LAC dials it with: xl2tpd-control add-lac l2tpd lns=%s; xl2tpd-control connect-lac l2tpd",
             lns.c_str());
  LOG_NOTICE("LNS: or in its xl2tpd.conf: [lac l2tpd] lns = %s, autodial = yes (no tunnel or PPP authentication; "
             "subscribers get 10.9.0.10-10.9.0.254, this end is 10.9.0.1)", lns.c_str());
}

Daemon::~Daemon() {
  // The classic path's symlink, if it still is the one we made.
  if (!classic_link_.empty()) {
    char target[PATH_MAX];
    const ssize_t n = readlink(classic_link_.c_str(), target, sizeof target - 1);
    if (n >= 0 && std::string_view(target, static_cast<size_t>(n)) == options_.fifo_path) unlink(classic_link_.c_str());
  }
}

std::string Daemon::our_host_name(const EndpointConfig& e) const {
  return e.hostname.empty() ? system_host_name_ : e.hostname;
}

TunnelSettings Daemon::settings_for(const EndpointConfig& e, const std::string& peer_host) const {
  TunnelSettings s;
  s.host_name = our_host_name(e);
  s.vendor_name = "l2tpd";
  s.challenge = e.challenge;
  s.hide_avps = e.hidden_bit;
  s.transport.receive_window = e.tunnel_rws ? e.tunnel_rws : 4;
  s.transport.max_retries = config_.global.max_retries;
  if (config_.global.cap_backoff) s.transport.max_rto = *config_.global.cap_backoff;
  s.hello_interval = config_.global.hello_interval;
  s.hold_time = config_.global.hold_time;
  s.max_sessions = config_.global.max_sessions_per_tunnel;
  if (auto secret = secrets_.lookup(peer_host, s.host_name)) s.secret = *secret;
  return s;
}

PeerDecision Daemon::decide(const DatagramMeta& from, const std::string& host_name) {
  if (shutting_down_) return {std::nullopt, "being shut down"};
  const LnsConfig* lns = config_.lns_for_peer(from.peer.addr);
  if (!lns) return {std::nullopt, "no [lns] entry admits " + ipv4_to_string(from.peer.addr)};
  TunnelSettings s = settings_for(*lns, host_name);
  if (s.challenge && s.secret.empty())
    return {std::nullopt, "challenge = yes but no secret for peer \"" + host_name + "\""};
  return {s, ""};
}

Tunnel* Daemon::open_to(const EndpointConfig& entry, const std::string& host, const Endpoint& peer, TimePoint now,
                        std::string& error) {
  TunnelSettings s = settings_for(entry, host);
  if (s.challenge && s.secret.empty()) {
    error = "challenge = yes but no secret for \"" + host + "\"";
    return nullptr;
  }
  Tunnel* t = engine_->open_tunnel(local_, peer, s, now);
  driver_->reschedule();
  if (!t) error = "tunnel limit reached";
  return t;
}

bool Daemon::dial(const std::string& lac_name, TimePoint now, std::string& error) {
  const LacConfig* lac = config_.find_lac(lac_name);
  if (!lac) {
    error = "no [lac " + lac_name + "] in " + options_.config_path;
    return false;
  }
  if (lac_tunnels_.count(lac->name)) {
    error = "[lac " + lac->name + "] is already connected or connecting";
    return false;
  }
  if (lac->lns.empty()) {
    error = "[lac " + lac->name + "] has no \"lns\"";
    return false;
  }
  const auto addr = resolve(lac->lns.front().host);
  if (!addr) {
    error = "cannot resolve lns \"" + lac->lns.front().host + "\"";
    return false;
  }
  Tunnel* t = open_to(*lac, lac->lns.front().host, Endpoint{*addr, lac->lns.front().port}, now, error);
  if (!t) return false;
  lac_tunnels_[lac->name] = t->local_id();
  tunnel_lac_[t->local_id()] = lac->name;
  LOG_NOTICE("[lac %s]: connecting to %s (tunnel %u)", lac->name.c_str(), lac->lns.front().host.c_str(),
             t->local_id());
  return true;
}

bool Daemon::disconnect(const std::string& lac_name, TimePoint now, std::string& error) {
  const LacConfig* lac = config_.find_lac(lac_name);
  auto it = lac ? lac_tunnels_.find(lac->name) : lac_tunnels_.end();
  // A disconnect also stops a redial that is waiting.
  const bool was_waiting = lac && cancel_redial(lac->name);
  if (lac) redials_.erase(lac->name);
  if (it == lac_tunnels_.end() && was_waiting) return true;
  if (it != lac_tunnels_.end()) closed_by_us_.insert(lac->name);
  if (it == lac_tunnels_.end()) {
    error = lac ? "[lac " + lac->name + "] is not connected" : "no [lac " + lac_name + "]";
    return false;
  }
  engine_->close_tunnel(it->second, {result::kGeneralClearControl, 0, "disconnected by command"}, now);
  driver_->reschedule();
  return true;
}

void Daemon::on_command(const Command& c, TimePoint now) {
  ++counters_.commands;
  const Reply r = execute(c, now);
  // Only the first word of the arguments: connect-lac may carry a password.
  const auto words = split_words(c.args);
  const char* name = command_name(c.letter);
  const std::string what = (name ? std::string(1, c.letter) + " (" + name + ")" : std::string("?")) +
                           (words.empty() ? "" : " " + std::string(words.front()));
  if (!r.ok()) {
    ++counters_.bad_commands;
    LOG_ERROR("command FIFO: %s: %s", what.c_str(), r.lines.empty() ? "error" : r.lines.front().c_str());
  } else if (c.reply_fifo.empty()) {
    // No one to answer: what a query found goes to the log.
    for (size_t i = 1; i < r.lines.size(); ++i) LOG_NOTICE("command FIFO: %s: %s", what.c_str(), r.lines[i].c_str());
  }
  if (!c.reply_fifo.empty() && !CommandFifo::reply(c.reply_fifo, format_reply(r)))
    LOG_WARN("command FIFO: %s: cannot answer into %s (not a FIFO, or no reader)", what.c_str(),
             c.reply_fifo.c_str());
}

Reply Daemon::execute(const Command& c, TimePoint now) {
  switch (c.letter) {
    case 't': return cmd_tunnel(c.args, now);
    case 'c': return cmd_call(c.args, now);
    case 'h': return cmd_hang_up(c.args, now);
    case 'd': return cmd_disconnect(c.args, now);
    case 'o': return cmd_outgoing_call(c.args, now);
    case 'a': return cmd_add(true, c.args, now);
    case 'z': return cmd_add(false, c.args, now);
    case 'r': return cmd_remove_lac(c.args, now);
    case 'w': return cmd_remove_lns(c.args, now);
    case 's': return cmd_status_lac(c.args);
    case 'y': return cmd_status_lns(c.args);
    case 'x': return cmd_available();
    default: return unknown_command_reply(c.letter);
  }
}

namespace {

std::string lower_name(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = text::lower(ch);
  return out;
}

Reply no_such(std::string_view what) { return error_reply("No such tunnel '" + std::string(what) + "'"); }

}  // namespace

TunnelStatus Daemon::status_of(const Tunnel& t, const Endpoint& peer) const {
  TunnelStatus ts;
  ts.id = t.local_id();
  ts.peer_id = t.peer_id();
  ts.role = role_name(t);
  ts.peer = peer.to_string();
  ts.peer_host = t.peer_host_name();
  ts.state = tunnel_state_name(t.state());
  for (const auto& [id, s] : t.sessions()) {
    if (s->closed()) continue;
    CallStatus cs;
    cs.id = s->local_id();
    cs.peer_id = s->peer_id();
    cs.state = session_state_name(s->state());
    cs.direction = s->direction() == CallDirection::kIncoming ? "incoming" : "outgoing";
    if (auto c = calls_.find(s->local_id()); c != calls_.end()) {
      const PppLinkState& ls = c->second.pppd->link_state();
      const PppdCounters& pc = c->second.pppd->counters();
      if (ls.ipcp_up) cs.subscriber = ipv4_to_string(ls.peer_ipv4);
      cs.user = ls.peer_auth_name;
      cs.frames_in = pc.frames_from_peer;
      cs.bytes_in = pc.bytes_from_peer;
      cs.frames_out = pc.frames_to_peer;
      cs.bytes_out = pc.bytes_to_peer;
    }
    if (plane_.fast_path_packets) cs.fast_path_packets = plane_.fast_path_packets(s->local_id());
    ts.calls.push_back(std::move(cs));
  }
  return ts;
}

const LnsConfig* Daemon::lns_of(const Tunnel& t, const Endpoint& peer) const {
  return t.role() == Role::kLns ? config_.lns_for_peer(peer.addr) : nullptr;
}

Reply Daemon::cmd_tunnel(const std::string& args, TimePoint now) {
  const auto words = split_words(args);
  if (words.size() != 1) return error_reply("usage: t <host>[:port]");
  std::string host(words[0]);
  uint16_t port = kDefaultPort;
  if (auto e = parse_endpoint(host, kDefaultPort)) {
    host = ipv4_to_string(e->addr);
    port = e->port;
  }
  const auto addr = resolve(host);
  if (!addr) return error_reply("cannot resolve \"" + host + "\"");
  // An ad-hoc dial-out takes [lac default]'s settings, as in xl2tpd.
  std::string error;
  Tunnel* t = open_to(config_.lac_default, host, Endpoint{*addr, port}, now, error);
  if (!t) return error_reply(error);
  LOG_NOTICE("command FIFO: tunnel %u to %s:%u", t->local_id(), host.c_str(), port);
  return Reply{kReplyOk, {"OK", "TUNNEL id=" + std::to_string(t->local_id())}};
}

Reply Daemon::cmd_call(const std::string& args, TimePoint now) {
  const auto words = split_words(args);
  if (words.empty()) return error_reply("usage: c <tunnel id|lac entry> [authname [password]]");
  const std::string target(words[0]);
  if (config_.find_lac(target)) {
    // xl2tpd's connect-lac NAME [authname [password]]: kept with the entry
    // (redials use them too) and handed to its pppd: `name`, and the
    // password through a pipe to the passwordfd plugin, never on argv.
    if (words.size() > 1) {
      LacCredentials& cred = lac_credentials_[config_.find_lac(target)->name];
      cred.authname = std::string(words[1]);
      cred.password = words.size() > 2 ? std::string(words[2]) : std::string();
    }
    std::string error;
    if (!dial(target, now, error)) return error_reply(error);
    return ok_reply();
  }
  const auto id = parse_id(target);
  if (!id) return no_such(target);
  Tunnel* t = engine_->tunnel(*id);
  if (!t || t->dead()) return no_such(target);
  Session* s = t->place_call("", now);
  driver_->reschedule();
  if (!s) return error_reply("tunnel " + target + " is not established, or at its session limit");
  return Reply{kReplyOk, {"OK", "CALL id=" + std::to_string(s->local_id())}};
}

Reply Daemon::cmd_hang_up(const std::string& args, TimePoint now) {
  const auto words = split_words(args);
  const auto cid = words.size() == 1 ? parse_id(words[0]) : std::nullopt;
  if (!cid) return error_reply("usage: h <session id>");
  // Session IDs are unique across tunnels (the Engine allocates them).
  std::optional<uint16_t> tid;
  engine_->for_each_tunnel([&](const Tunnel& t, const Endpoint&, const Endpoint&) {
    if (auto it = t.sessions().find(*cid); it != t.sessions().end() && !it->second->closed()) tid = t.local_id();
  });
  if (!tid) return error_reply("No such call " + std::to_string(*cid));
  engine_->tunnel(*tid)->hang_up(*cid, {result::kAdministrative, 0, "hung up by command"}, now);
  driver_->reschedule();
  return ok_reply();
}

Reply Daemon::cmd_disconnect(const std::string& args, TimePoint now) {
  const auto words = split_words(args);
  if (words.size() != 1) return error_reply("usage: d <tunnel id|lac entry>");
  const std::string target(words[0]);
  if (config_.find_lac(target)) {
    std::string error;
    if (!disconnect(target, now, error)) return error_reply(error);
    return ok_reply();
  }
  const auto id = parse_id(target);
  Tunnel* t = id ? engine_->tunnel(*id) : nullptr;
  if (!t || t->dead()) return no_such(target);
  if (auto lac = tunnel_lac_.find(*id); lac != tunnel_lac_.end()) closed_by_us_.insert(lac->second);  // no redial
  engine_->close_tunnel(*id, {result::kGeneralClearControl, 0, "disconnected by command"}, now);
  driver_->reschedule();
  return ok_reply();
}

Reply Daemon::cmd_outgoing_call(const std::string& args, TimePoint now) {
  const auto words = split_words(args);
  if (words.size() != 2) return error_reply("usage: o <tunnel id|lns entry> <number>");
  const std::string target(words[0]);
  Tunnel* t = nullptr;
  if (const LnsConfig* lns = config_.find_lns(target)) {
    // The first established tunnel this entry serves.
    std::optional<uint16_t> tid;
    engine_->for_each_tunnel([&](const Tunnel& tun, const Endpoint&, const Endpoint& peer) {
      if (!tid && tun.established() && lns_of(tun, peer) == lns) tid = tun.local_id();
    });
    if (!tid) return error_reply("[lns " + lns->name + "] has no established tunnel");
    t = engine_->tunnel(*tid);
  } else if (config_.find_lac(target)) {
    return error_reply("[lac " + target + "]'s tunnel is a LAC's: an outgoing call (OCRQ) is the LNS's to request");
  } else if (const auto id = parse_id(target)) {
    t = engine_->tunnel(*id);
  }
  if (!t || t->dead()) return no_such(target);
  if (t->role() != Role::kLns)
    return error_reply("tunnel " + std::to_string(t->local_id()) +
                       " is a LAC's: an outgoing call (OCRQ) is the LNS's to request");
  Session* s = t->place_call(std::string(words[1]), now);
  driver_->reschedule();
  if (!s) return error_reply("tunnel " + std::to_string(t->local_id()) + " is not established, or at its session limit");
  return Reply{kReplyOk, {"OK", "CALL id=" + std::to_string(s->local_id())}};
}

Reply Daemon::cmd_add(bool lac, const std::string& args, TimePoint now) {
  const char* kind = lac ? "lac" : "lns";
  if (split_words(args).empty()) return error_reply(std::string("Configuration parse error: ") + kind + "-name expected");
  auto parsed = parse_entry_args(args);
  if (!parsed.value) return error_reply("Configuration parse error: " + parsed.error, kReplyParseError);
  EntryArgs& e = *parsed.value;
  if (lac && text::iequals(e.name, "default"))
    return error_reply("[lac default] is the config file's template for [lac] entries: change it there");
  auto& added = lac ? added_lac_ : added_lns_;
  const std::string key = lower_name(e.name);
  const auto it = added.find(key);
  const bool exists = lac ? config_.find_lac(e.name) != nullptr : config_.find_lns(e.name) != nullptr;
  if (exists && it == added.end())
    return error_reply("[" + std::string(kind) + " " + e.name + "] comes from " + options_.config_path +
                       ": change it there, or remove it first");
  e.pairs = merge_pairs(it == added.end() ? std::vector<KeyValue>{} : it->second, e.pairs);
  // Through the config parser: the keys mean what they mean in the file,
  // and the errors read the same.
  auto cfg = parse_config(section_text(kind, e), std::string("add-") + kind);
  if (!cfg) {
    Reply r{kReplyParseError, {}};
    for (const auto& err : cfg.errors()) r.lines.push_back("Configuration parse error: " + err.to_string());
    return r;
  }
  for (const auto& w : cfg->warnings) LOG_WARN("add-%s %s: %s", kind, e.name.c_str(), w.c_str());
  if (lac) {
    LacConfig entry = cfg->lac.at(0);
    auto pos = std::find_if(config_.lac.begin(), config_.lac.end(),
                            [&](const LacConfig& l) { return text::iequals(l.name, e.name); });
    if (pos != config_.lac.end()) {
      entry.name = pos->name;  // lac_tunnels_ is keyed by the name as first given
      *pos = std::move(entry);
    } else {
      config_.lac.push_back(std::move(entry));
    }
  } else {
    LnsConfig entry = cfg->lns.at(0);
    auto pos = std::find_if(config_.lns.begin(), config_.lns.end(),
                            [&](const LnsConfig& l) { return text::iequals(l.name, e.name); });
    if (pos != config_.lns.end()) {
      entry.name = pos->name;
      *pos = std::move(entry);
    } else {
      config_.lns.push_back(std::move(entry));
    }
  }
  added[key] = e.pairs;
  LOG_NOTICE("add-%s: [%s %s] with %zu settings", kind, kind, e.name.c_str(), e.pairs.size());
  if (lac) {
    const LacConfig* l = config_.find_lac(e.name);
    if (l && l->autodial && !lac_tunnels_.count(l->name)) {
      std::string error;
      if (!dial(l->name, now, error)) LOG_ERROR("autodial [lac %s]: %s", l->name.c_str(), error.c_str());
    }
  }
  return ok_reply();
}

Reply Daemon::cmd_remove_lac(const std::string& args, TimePoint now) {
  const auto words = split_words(args);
  if (words.size() != 1) return error_reply("usage: r <lac entry>");
  const LacConfig* lac = config_.find_lac(words[0]);
  if (!lac) return no_such(words[0]);
  const std::string name = lac->name;
  cancel_redial(name);
  redials_.erase(name);
  if (auto it = lac_tunnels_.find(name); it != lac_tunnels_.end()) {
    engine_->close_tunnel(it->second, {result::kGeneralClearControl, 0, "entry removed by command"}, now);
    driver_->reschedule();
    tunnel_lac_.erase(it->second);
    lac_tunnels_.erase(it);
  }
  std::erase_if(config_.lac, [&](const LacConfig& l) { return l.name == name; });
  added_lac_.erase(lower_name(name));
  LOG_NOTICE("remove-lac: [lac %s] removed", name.c_str());
  return ok_reply();
}

Reply Daemon::cmd_remove_lns(const std::string& args, TimePoint now) {
  const auto words = split_words(args);
  if (words.size() != 1) return error_reply("usage: w <lns entry>");
  const LnsConfig* lns = config_.find_lns(words[0]);
  if (!lns) return no_such(words[0]);
  // The tunnels it serves go with it: StopCCN.
  std::vector<uint16_t> served;
  engine_->for_each_tunnel([&](const Tunnel& t, const Endpoint&, const Endpoint& peer) {
    if (!t.dead() && lns_of(t, peer) == lns) served.push_back(t.local_id());
  });
  for (uint16_t id : served) engine_->close_tunnel(id, {result::kGeneralClearControl, 0, "entry removed by command"}, now);
  if (!served.empty()) driver_->reschedule();
  const std::string name = lns->name;
  std::erase_if(config_.lns, [&](const LnsConfig& l) { return &l == lns; });
  added_lns_.erase(lower_name(name));
  LOG_NOTICE("remove-lns: [lns %s] removed, %zu tunnels closed", name.c_str(), served.size());
  return ok_reply();
}

Reply Daemon::cmd_status_lac(const std::string& args) const {
  const auto words = split_words(args);
  if (words.size() != 1) return error_reply("usage: s <lac entry>");
  const LacConfig* lac = config_.find_lac(words[0]);
  if (!lac) return no_such(words[0]);
  LacStatus st;
  st.name = lac->name;
  if (!lac->lns.empty()) st.lns = lac->lns.front().host + ":" + std::to_string(lac->lns.front().port);
  if (auto it = lac_tunnels_.find(lac->name); it != lac_tunnels_.end())
    engine_->for_each_tunnel([&](const Tunnel& t, const Endpoint&, const Endpoint& peer) {
      if (t.local_id() == it->second) st.tunnel = status_of(t, peer);
    });
  return lac_status_reply(st);
}

Reply Daemon::cmd_status_lns(const std::string& args) const {
  const auto words = split_words(args);
  if (words.size() != 1) return error_reply("usage: y <lns entry>");
  const LnsConfig* lns = config_.find_lns(words[0]);
  if (!lns) return error_reply("Error: Could not find lns '" + std::string(words[0]) + "'");
  std::vector<TunnelStatus> tunnels;
  engine_->for_each_tunnel([&](const Tunnel& t, const Endpoint&, const Endpoint& peer) {
    if (!t.dead() && lns_of(t, peer) == lns) tunnels.push_back(status_of(t, peer));
  });
  return lns_status_reply(lns->name, tunnels);
}

Reply Daemon::cmd_available() const {
  std::vector<std::string> lns_names, lac_names;
  for (const LnsConfig& l : config_.lns) lns_names.push_back(l.name);
  for (const LacConfig& l : config_.lac) lac_names.push_back(l.name);
  std::vector<TunnelStatus> tunnels;
  engine_->for_each_tunnel([&](const Tunnel& t, const Endpoint&, const Endpoint& peer) {
    if (!t.dead()) tunnels.push_back(status_of(t, peer));
  });
  return available_reply(lns_names, lac_names, tunnels);
}

void Daemon::link_classic_fifo() {
  if (options_.fifo_path != kDefaultFifoPath || options_.classic_fifo_link.empty()) return;
  const std::string& link = options_.classic_fifo_link;
  struct stat st;
  if (lstat(link.c_str(), &st) == 0) {
    // Ours from a previous run (it points at our path): replace it.
    // Anything else (a classic l2tpd's live FIFO, a file) is left alone.
    char target[PATH_MAX];
    const ssize_t n = S_ISLNK(st.st_mode) ? readlink(link.c_str(), target, sizeof target - 1) : -1;
    if (n < 0 || std::string_view(target, static_cast<size_t>(n)) != options_.fifo_path) {
      LOG_WARN("%s exists and is not our symlink: the FIFO is only at %s", link.c_str(), options_.fifo_path.c_str());
      return;
    }
    unlink(link.c_str());
  }
  if (symlink(options_.fifo_path.c_str(), link.c_str()) != 0) {
    LOG_WARN("cannot link %s to %s: %s", link.c_str(), options_.fifo_path.c_str(), std::strerror(errno));
    return;
  }
  classic_link_ = link;
}

void Daemon::tunnel_up(const Tunnel& t) {
  LOG_NOTICE("tunnel %u up as %s with %s (peer tunnel %u)%s", t.local_id(), role_name(t), t.peer_host_name().c_str(),
             t.peer_id(), t.authenticated() ? ", authenticated" : "");
  // A LAC entry's tunnel carries one call, placed as soon as it is up.
  if (auto it = tunnel_lac_.find(t.local_id()); it != tunnel_lac_.end())
    if (Tunnel* mt = engine_->tunnel(t.local_id())) mt->place_call("", loop_.now());
}

void Daemon::tunnel_down(const Tunnel& t, const wire::ResultCode& why) {
  LOG_NOTICE("tunnel %u down: result %u error %u \"%s\"", t.local_id(), why.result, why.error.value_or(0),
             why.message.c_str());
  if (auto it = tunnel_lac_.find(t.local_id()); it != tunnel_lac_.end()) {
    const std::string name = it->second;
    lac_tunnels_.erase(name);
    tunnel_lac_.erase(it);
    const bool ours = closed_by_us_.erase(name) > 0;
    if (!ours && !shutting_down_) schedule_redial(name, loop_.now());
  }
}

void Daemon::schedule_redial(const std::string& lac_name, TimePoint now) {
  const LacConfig* lac = config_.find_lac(lac_name);
  if (!lac || !lac->redial || redial_timers_.count(lac->name)) return;
  unsigned& done = redials_[lac->name];
  if (lac->max_redials && done >= lac->max_redials) {
    LOG_NOTICE("[lac %s]: not redialling: %u redials in a row (max redials)", lac->name.c_str(), done);
    redials_.erase(lac->name);
    return;
  }
  ++done;
  LOG_NOTICE("[lac %s]: redialling in %lld s (%u%s)", lac->name.c_str(),
             static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(lac->redial_timeout).count()),
             done, lac->max_redials ? (" of " + std::to_string(lac->max_redials)).c_str() : "");
  const std::string name = lac->name;
  redial_timers_[name] = loop_.add_timer(now + lac->redial_timeout, [this, name](TimePoint t) {
    redial_timers_.erase(name);
    std::string error;
    if (!dial(name, t, error)) {
      LOG_ERROR("[lac %s]: redial: %s", name.c_str(), error.c_str());
      schedule_redial(name, t);  // counts as one more attempt
    }
  });
}

bool Daemon::cancel_redial(const std::string& lac_name) {
  auto it = redial_timers_.find(lac_name);
  if (it == redial_timers_.end()) return false;
  loop_.cancel_timer(it->second);
  redial_timers_.erase(it);
  return true;
}

void Daemon::session_up(const Session& s) {
  LOG_NOTICE("session %u up on tunnel %u (peer session %u, %s call)", s.local_id(), s.tunnel().local_id(),
             s.peer_id(), s.direction() == CallDirection::kIncoming ? "incoming" : "outgoing");
  // A call that came up ends a run of redials.
  if (auto it = tunnel_lac_.find(s.tunnel().local_id()); it != tunnel_lac_.end()) redials_.erase(it->second);
  if (handoff_)
    if (const DatagramMeta* route = engine_->route_of(s.tunnel().local_id())) handoff_->session_up(s, *route);
  start_ppp(s, loop_.now());
}

void Daemon::session_down(const Session& s, const wire::ResultCode& why) {
  LOG_NOTICE("session %u on tunnel %u down: result %u \"%s\"", s.local_id(), s.tunnel().local_id(), why.result,
             why.message.c_str());
  // CDN, StopCCN or hang-up: pppd goes (SIGTERM, then SIGKILL); the call's
  // addresses return to the pool once it has been reaped.
  idle_.forget(s.local_id());
  if (handoff_) handoff_->session_down(s.local_id());
  if (auto it = calls_.find(s.local_id()); it != calls_.end()) {
    it->second.session_gone = true;
    it->second.pppd->terminate();
  }
}

void Daemon::ppp_frame(const Session& s, std::span<const uint8_t> frame) {
  auto it = calls_.find(s.local_id());
  if (it == calls_.end() || it->second.session_gone) {
    ++counters_.ppp_frames_unhandled;
    return;
  }
  it->second.pppd->frame_from_peer(frame);
}

void Daemon::start_ppp(const Session& s, TimePoint now) {
  const uint16_t sid = s.local_id();
  const uint16_t tid = s.tunnel().local_id();
  const DatagramMeta* route = engine_->route_of(tid);
  const Endpoint* peer = route ? &route->peer : nullptr;
  auto hang_up = [&](uint16_t result_code, const std::string& why) {
    LOG_ERROR("session %u on tunnel %u: %s: hanging up", sid, tid, why.c_str());
    if (Tunnel* t = engine_->tunnel(tid)) t->hang_up(sid, {result_code, 0, why}, now);
    driver_->reschedule();
  };
  if (!peer) return;  // the tunnel is gone already
  // The entry the call is served under: the [lns] that admitted the peer,
  // the [lac] that dialled, or [lac default] for a tunnel opened with "t".
  CallPpp call;
  call.tunnel_id = tid;
  call.started = now;
  PppdConfig pc;
  const EndpointConfig* entry = nullptr;
  std::string authname, password;  // a LAC's, from connect-lac
  if (s.tunnel().role() == Role::kLns) {
    const LnsConfig* lns = lns_of(s.tunnel(), *peer);
    if (!lns) return hang_up(result::kAdministrative, "no [lns] entry serves " + peer->to_string() + " any more");
    entry = lns;
    if (lns->local_ip) {
      addresses_.reserve(*lns->local_ip);  // never a peer's (idempotent)
      pc.local_ip = lns->local_ip;
    } else if (!lns->local_ip_ranges.empty()) {
      call.local_addr = addresses_.allocate(lns->local_ip_ranges);
      if (!call.local_addr) {
        ++counters_.address_pool_empty;
        return hang_up(result::kNoFacilitiesTemporary, "no address left in [lns " + lns->name + "] local ip range");
      }
      pc.local_ip = call.local_addr;
    }
    if (lns->assign_ip && !lns->ip_ranges.empty()) {
      call.peer_addr = addresses_.allocate(lns->ip_ranges);
      if (!call.peer_addr) {
        if (call.local_addr) addresses_.release(*call.local_addr);
        ++counters_.address_pool_empty;
        return hang_up(result::kNoFacilitiesTemporary, "no address left in [lns " + lns->name + "] ip range");
      }
      pc.remote_ip = call.peer_addr;
    }
    pc.unix_authentication = lns->unix_authentication;
  } else {
    const LacConfig* lac = nullptr;
    if (auto it = tunnel_lac_.find(tid); it != tunnel_lac_.end()) lac = config_.find_lac(it->second);
    if (!lac) lac = &config_.lac_default;
    entry = lac;
    if (auto cred = lac_credentials_.find(lac->name); cred != lac_credentials_.end()) {
      authname = cred->second.authname;
      password = cred->second.password;
    }
    pc.local_ip = lac->local_ip;
    pc.remote_ip = lac->remote_ip;
    pc.defaultroute = lac->defaultroute;
  }
  pc.pppoptfile = entry->pppoptfile;
  pc.name = authname.empty() ? entry->auth_name : authname;
  pc.require_pap = entry->require_pap;
  pc.require_chap = entry->require_chap;
  pc.require_authentication = entry->require_authentication;
  pc.refuse_pap = entry->refuse_pap;
  pc.refuse_chap = entry->refuse_chap;
  pc.refuse_authentication = entry->refuse_authentication;
  pc.debug = entry->ppp_debug;
  if (entry->pass_peer) pc.ipparam = ipv4_to_string(peer->addr);
  pc.fast_path = handoff_.has_value();
  if (!entry->pppoptfile.empty()) {
    if (auto idle = pppd_idle_option(entry->pppoptfile); idle && *idle > 0) {
      call.idle_limit = std::chrono::seconds(*idle);
      pc.override_idle = true;
    }
  }

  PppdOptions po;
  po.path = options_.pppd_path;
  po.args = pppd_arguments(pc);
  po.kill_grace = options_.pppd_kill_grace;
  po.password = std::move(password);
  PppEvents ev;
  ev.frame_to_peer = [this, sid, tid](std::span<const uint8_t> frame) {
    Tunnel* t = engine_->tunnel(tid);
    Session* sess = t ? t->session(sid) : nullptr;
    if (!sess || !engine_->send_ppp(*sess, frame, loop_.now())) ++counters_.ppp_frames_unsent;
  };
  ev.ended = [this, sid](const std::string& why) { ppp_ended(sid, why); };
  ev.link = [this, sid](PppEvent e, const PppLinkState& st) {
    if (handoff_) handoff_->link_event(sid, e, st);
    switch (e) {
      case PppEvent::kLcpUp:
        LOG_NOTICE("session %u: LCP up, MRU %u (peer) / %u (pppd)", sid, st.peer_mru, st.local_mru);
        break;
      case PppEvent::kAuthenticated:
        if (!st.peer_auth_name.empty()) LOG_NOTICE("session %u: peer authenticated as \"%s\"", sid, st.peer_auth_name.c_str());
        if (!st.local_auth_name.empty()) LOG_NOTICE("session %u: authenticated to the peer as \"%s\"", sid, st.local_auth_name.c_str());
        break;
      case PppEvent::kIpcpUp:
        LOG_NOTICE("session %u: IPCP up, peer %s, local %s", sid, ipv4_to_string(st.peer_ipv4).c_str(),
                   ipv4_to_string(st.local_ipv4).c_str());
        break;
      case PppEvent::kIpv6cpUp:
        LOG_NOTICE("session %u: IPV6CP up, peer interface id %016llx, local %016llx", sid,
                   static_cast<unsigned long long>(st.peer_interface_id),
                   static_cast<unsigned long long>(st.local_interface_id));
        break;
      default:
        LOG_NOTICE("session %u: %s", sid, ppp_event_name(e));
    }
  };
  auto spawned = PppdHandler::spawn(loop_, std::move(po), std::move(ev));
  if (!spawned.handler) {
    ++counters_.pppd_spawn_failures;
    if (call.peer_addr) addresses_.release(*call.peer_addr);
    if (call.local_addr) addresses_.release(*call.local_addr);
    return hang_up(result::kCdnGeneralError,
                   std::string("cannot start ") + options_.pppd_path + ": " + spawned.what + ": " +
                       spawned.error.message());
  }
  ++counters_.pppd_started;
  call.pppd = std::move(spawned.handler);
  if (call.idle_limit > Duration::zero()) {
    LOG_NOTICE("session %u: idle %lld s (from %s) is enforced by l2tpd from the data counters; pppd gets idle 0, "
               "since it would not see fast-path traffic",
               sid, static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(call.idle_limit).count()),
               pc.pppoptfile.c_str());
    idle_.watch(sid, call.idle_limit, 0, now);
    arm_idle_timer();
  }
  LOG_NOTICE("session %u on tunnel %u: pppd %d on %s, %s:%s", sid, tid, static_cast<int>(call.pppd->pid()),
             call.pppd->tty_name().c_str(), pc.local_ip ? ipv4_to_string(*pc.local_ip).c_str() : "",
             pc.remote_ip ? ipv4_to_string(*pc.remote_ip).c_str() : "");
  calls_[sid] = std::move(call);
}

void Daemon::ppp_ended(uint16_t sid, const std::string& why) {
  auto it = calls_.find(sid);
  if (it == calls_.end()) return;
  ++counters_.pppd_exits;
  CallPpp& call = it->second;
  LOG_NOTICE("session %u: %s", sid, why.c_str());
  if (call.peer_addr) addresses_.release(*call.peer_addr);
  if (call.local_addr) addresses_.release(*call.local_addr);
  const bool hang_up = !call.session_gone;
  const uint16_t tid = call.tunnel_id;
  const bool idled_out = call.idled_out;
  const Duration idle_limit = call.idle_limit;
  idle_.forget(sid);
  // Called from the handler's reap() as its last act: destroying it here
  // is allowed (PppEvents::ended).
  calls_.erase(it);
  if (hang_up) {
    // pppd went on its own (the PPP link ended, or it failed): the call
    // ends with CDN (RFC 2661 5.4 / 7.4: the PPP side is gone).
    // An idle timeout is ours: administrative, as RFC 2661 4.4.2 has it.
    const wire::ResultCode rc =
        idled_out ? wire::ResultCode{result::kAdministrative, 0,
                                     "idle for " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                                      idle_limit).count()) + " s"}
                  : wire::ResultCode{result::kLostCarrier, 0, why};
    if (Tunnel* t = engine_->tunnel(tid)) t->hang_up(sid, rc, loop_.now());
    driver_->reschedule();
  }
}

uint64_t Daemon::data_frames(uint16_t sid) const {
  // Socket mode: every data frame crosses the control thread and the pty
  // watch counts it. (The data plane's per-session counters join here.)
  auto it = calls_.find(sid);
  const uint64_t slow = it == calls_.end() ? 0 : it->second.pppd->link_counters().data_frames;
  return slow + (plane_.fast_path_packets ? plane_.fast_path_packets(sid) : 0);
}

void Daemon::arm_idle_timer() {
  const auto next = idle_.next_check();
  if (idle_timer_ != TimerId::kNone) {
    loop_.cancel_timer(idle_timer_);
    idle_timer_ = TimerId::kNone;
  }
  if (next) idle_timer_ = loop_.add_timer(*next, [this](TimePoint t) {
    idle_timer_ = TimerId::kNone;
    check_idle(t);
  });
}

void Daemon::check_idle(TimePoint now) {
  for (uint16_t sid : idle_.check(now, [this](uint16_t s) { return data_frames(s); })) {
    auto it = calls_.find(sid);
    if (it == calls_.end() || it->second.session_gone) continue;
    ++counters_.idle_hangups;
    LOG_NOTICE("session %u: no data for %lld s (idle): ending pppd, then CDN", sid,
               static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(it->second.idle_limit).count()));
    // pppd ends LCP with the subscriber (Terminate-Request) before it
    // exits; its exit then sends the CDN (ppp_ended).
    it->second.idled_out = true;
    it->second.pppd->terminate();
  }
  arm_idle_timer();
}

void Daemon::reap_children() {
  std::vector<uint16_t> ids;
  ids.reserve(calls_.size());
  for (const auto& [sid, call] : calls_) ids.push_back(sid);
  for (uint16_t sid : ids) {
    auto it = calls_.find(sid);
    if (it != calls_.end()) it->second.pppd->reap();  // may erase it (ppp_ended)
  }
}

void Daemon::log_status() const {
  const TimePoint now = loop_.now();
  auto age = [now](TimePoint t) { return static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(now - t).count()); };
  const EngineCounters& ec = engine_->counters();
  LOG_NOTICE("status: %zu tunnels, %zu sessions, %zu pppds, %zu pool addresses in use; %llu datagrams, %llu bad "
             "version, %llu malformed, %llu unknown tunnel, %llu tunnels refused, data %llu in / %llu out, %llu for "
             "no session",
             engine_->tunnel_count(), engine_->session_count(), calls_.size(), addresses_.used(),
             static_cast<unsigned long long>(ec.datagrams), static_cast<unsigned long long>(ec.bad_version),
             static_cast<unsigned long long>(ec.malformed), static_cast<unsigned long long>(ec.unknown_tunnel),
             static_cast<unsigned long long>(ec.tunnels_refused), static_cast<unsigned long long>(ec.data_in),
             static_cast<unsigned long long>(ec.data_out), static_cast<unsigned long long>(ec.data_unknown));
  LOG_NOTICE("status: pppd %llu started, %llu exited, %llu failed to start; %llu calls refused for an empty pool, "
             "%llu ended idle; PPP frames dropped: %llu without pppd, %llu after the session",
             static_cast<unsigned long long>(counters_.pppd_started),
             static_cast<unsigned long long>(counters_.pppd_exits),
             static_cast<unsigned long long>(counters_.pppd_spawn_failures),
             static_cast<unsigned long long>(counters_.address_pool_empty),
             static_cast<unsigned long long>(counters_.idle_hangups),
             static_cast<unsigned long long>(counters_.ppp_frames_unhandled),
             static_cast<unsigned long long>(counters_.ppp_frames_unsent));
  if (plane_.report)
    for (const std::string& line : plane_.report()) LOG_NOTICE("status: data plane: %s", line.c_str());
  if (handoff_) {
    const HandoffCounters& h = handoff_->counters();
    LOG_NOTICE("status: fast path: %zu sessions published, %llu subscribers in, %llu out, %llu refused",
               handoff_->sessions(), static_cast<unsigned long long>(h.fast), static_cast<unsigned long long>(h.slow),
               static_cast<unsigned long long>(h.refused));
  }
  engine_->for_each_tunnel([&](const Tunnel& t, const Endpoint&, const Endpoint& peer) {
    const TransportCounters& tc = t.transport().counters();
    LOG_NOTICE("  tunnel %u %s %s peer %s (%s) tunnel %u, %zu sessions; control %llu sent, %llu retransmitted, "
               "%llu received, %llu duplicates, %llu out of order, rto %lld ms, window %u/%u",
               t.local_id(), role_name(t), tunnel_state_name(t.state()), peer.to_string().c_str(),
               t.peer_host_name().c_str(), t.peer_id(), t.sessions().size(),
               static_cast<unsigned long long>(tc.sent), static_cast<unsigned long long>(tc.retransmitted),
               static_cast<unsigned long long>(tc.received), static_cast<unsigned long long>(tc.duplicates),
               static_cast<unsigned long long>(tc.out_of_order),
               static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(t.transport().rto()).count()),
               t.transport().congestion_window(), t.transport().peer_window());
    for (const auto& [sid, sp] : t.sessions()) {
      const Session& s = *sp;
      auto c = calls_.find(sid);
      if (c == calls_.end()) {
        LOG_NOTICE("    session %u %s peer session %u, age %lld s, no pppd", sid, session_state_name(s.state()),
                   s.peer_id(), age(s.created()));
        continue;
      }
      const PppdHandler& h = *c->second.pppd;
      const PppLinkState& ls = h.link_state();
      const PppdCounters& pc = h.counters();
      LOG_NOTICE("    session %u %s peer session %u, age %lld s, pppd %d on %s, LCP %s%s%s, IPCP %s %s/%s, "
                 "pty frames %llu in (%llu B) / %llu out (%llu B), %llu dropped, %llu of them data; fast path %llu",
                 sid, session_state_name(s.state()), s.peer_id(), age(s.created()), static_cast<int>(h.pid()),
                 h.tty_name().c_str(), ls.lcp_up ? "up" : "down",
                 ls.peer_auth_name.empty() ? "" : ", user ", ls.peer_auth_name.c_str(), ls.ipcp_up ? "up" : "down",
                 ipv4_to_string(ls.peer_ipv4).c_str(), ipv4_to_string(ls.local_ipv4).c_str(),
                 static_cast<unsigned long long>(pc.frames_from_peer), static_cast<unsigned long long>(pc.bytes_from_peer),
                 static_cast<unsigned long long>(pc.frames_to_peer), static_cast<unsigned long long>(pc.bytes_to_peer),
                 static_cast<unsigned long long>(pc.dropped_queue_full + pc.dropped_closed),
                 static_cast<unsigned long long>(h.link_counters().data_frames),
                 static_cast<unsigned long long>(plane_.fast_path_packets ? plane_.fast_path_packets(sid) : 0));
    }
  });
}

void Daemon::begin_shutdown(TimePoint now) {
  if (shutting_down_) {
    loop_.stop();  // a second signal: do not wait for acknowledgements
    return;
  }
  shutting_down_ = true;
  LOG_NOTICE("shutting down: StopCCN to %zu tunnels", engine_->tunnel_count());
  engine_->close_all({result::kBeingShutDown, 0, "l2tpd shutting down"}, now);
  driver_->reschedule();
  shutdown_deadline_ = now + options_.shutdown_grace;
  loop_.add_poller([this](TimePoint t) {
    bool all_acked = true;
    engine_->for_each_tunnel([&](const Tunnel& tun, const Endpoint&, const Endpoint&) {
      if (!tun.dead() && !tun.transport().idle()) all_acked = false;
    });
    if ((all_acked && calls_.empty()) || t >= *shutdown_deadline_) loop_.stop();
    return false;
  });
  loop_.set_poll_interval(50ms);
}

int Daemon::run() {
  loop_.run();
  LOG_NOTICE("exiting");
  return 0;
}

}  // namespace l2tp::control
