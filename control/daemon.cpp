#include "control/daemon.hpp"

#include <netdb.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "control/log.hpp"

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

Daemon::Daemon(Config config, Secrets secrets, const DaemonOptions& options)
    : config_(std::move(config)), secrets_(std::move(secrets)), options_(options) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  system_host_name_ = host;

  UdpSocketConfig sc;
  sc.bind = Endpoint{config_.global.listen_addr, config_.global.port};
  socket_ = std::make_unique<UdpSocket>(sc);
  EngineLimits limits;
  if (config_.global.max_tunnels) limits.max_tunnels = config_.global.max_tunnels;
  if (config_.global.max_sessions) limits.max_sessions = std::min<uint32_t>(config_.global.max_sessions, 65535);
  limits.id_hold = config_.global.hold_time;
  engine_ = std::make_unique<Engine>(
      *socket_, *this, [this](const DatagramMeta& m, const std::string& h) { return decide(m, h); }, limits,
      std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32));
  driver_ = std::make_unique<EngineDriver>(loop_, *socket_, *engine_);
  fifo_ = std::make_unique<CommandFifo>(loop_, options_.fifo_path,
                                        [this](const Command& c, TimePoint now) { on_command(c, now); });

  loop_.add_signal(SIGTERM, [this](int, TimePoint now) { begin_shutdown(now); });
  loop_.add_signal(SIGINT, [this](int, TimePoint now) { begin_shutdown(now); });
  loop_.add_signal(SIGUSR1, [this](int, TimePoint) { log_status(); });
  loop_.add_signal(SIGHUP, [this](int, TimePoint) {
    // Secrets are re-read; the rest of the configuration needs a restart
    // for now (what may change under live tunnels is a later issue's).
    const std::string path = options_.secrets_path.empty() ? config_.global.auth_file : options_.secrets_path;
    auto s = Secrets::load(path);
    if (!s) {
      for (const auto& e : s.errors()) LOG_ERROR("SIGHUP: %s (keeping the old secrets)", e.to_string().c_str());
      return;
    }
    secrets_ = std::move(*s);
    LOG_NOTICE("SIGHUP: re-read %zu secrets from %s", secrets_.entries().size(), path.c_str());
  });
  for (const LacConfig& lac : config_.lac)
    if (lac.autodial) {
      std::string error;
      if (!dial(lac.name, loop_.now(), error)) LOG_ERROR("autodial [lac %s]: %s", lac.name.c_str(), error.c_str());
    }
  LOG_NOTICE("listening on %s (socket mode), command FIFO %s", socket_->local_endpoint().to_string().c_str(),
             options_.fifo_path.c_str());
}

Daemon::~Daemon() = default;

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
  TunnelSettings s = settings_for(*lac, lac->lns.front().host);
  if (s.challenge && s.secret.empty()) {
    error = "challenge = yes but no secret for \"" + lac->lns.front().host + "\"";
    return false;
  }
  Tunnel* t = engine_->open_tunnel(Endpoint{config_.global.listen_addr, socket_->local_endpoint().port},
                                   Endpoint{*addr, lac->lns.front().port}, s, now);
  driver_->reschedule();
  if (!t) {
    error = "tunnel limit reached";
    return false;
  }
  lac_tunnels_[lac->name] = t->local_id();
  tunnel_lac_[t->local_id()] = lac->name;
  LOG_NOTICE("[lac %s]: connecting to %s (tunnel %u)", lac->name.c_str(), lac->lns.front().host.c_str(),
             t->local_id());
  return true;
}

bool Daemon::disconnect(const std::string& lac_name, TimePoint now, std::string& error) {
  const LacConfig* lac = config_.find_lac(lac_name);
  auto it = lac ? lac_tunnels_.find(lac->name) : lac_tunnels_.end();
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
  std::string error;
  bool ok = false;
  switch (c.letter) {
    case 'c': ok = dial(c.args, now, error); break;
    case 'd': ok = disconnect(c.args, now, error); break;
    default:
      error = c.letter ? std::string("unknown command '") + c.letter + "'" : "unparsable command line";
      break;
  }
  if (!ok) {
    ++counters_.bad_commands;
    LOG_ERROR("command FIFO: %c %s: %s", c.letter ? c.letter : '?', c.args.c_str(), error.c_str());
  }
  if (!c.reply_fifo.empty()) CommandFifo::reply(c.reply_fifo, ok ? "00 OK\n" : "01 " + error + "\n");
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
    lac_tunnels_.erase(it->second);
    tunnel_lac_.erase(it);
  }
}

void Daemon::session_up(const Session& s) {
  LOG_NOTICE("session %u up on tunnel %u (peer session %u, %s call)", s.local_id(), s.tunnel().local_id(),
             s.peer_id(), s.direction() == CallDirection::kIncoming ? "incoming" : "outgoing");
}

void Daemon::session_down(const Session& s, const wire::ResultCode& why) {
  LOG_NOTICE("session %u on tunnel %u down: result %u \"%s\"", s.local_id(), s.tunnel().local_id(), why.result,
             why.message.c_str());
}

void Daemon::ppp_frame(const Session&, std::span<const uint8_t>) {
  // The pty/pppd handler is the next issue's; until then frames are counted.
  ++counters_.ppp_frames_unhandled;
}

void Daemon::log_status() const {
  LOG_NOTICE("status: %zu tunnels, %zu sessions; %llu datagrams, %llu bad version, %llu malformed, %llu unknown "
             "tunnel, %llu refused",
             engine_->tunnel_count(), engine_->session_count(),
             static_cast<unsigned long long>(engine_->counters().datagrams),
             static_cast<unsigned long long>(engine_->counters().bad_version),
             static_cast<unsigned long long>(engine_->counters().malformed),
             static_cast<unsigned long long>(engine_->counters().unknown_tunnel),
             static_cast<unsigned long long>(engine_->counters().tunnels_refused));
  engine_->for_each_tunnel([](const Tunnel& t, const Endpoint&, const Endpoint& peer) {
    LOG_NOTICE("  tunnel %u %s %s peer %s (%s) tunnel %u, %zu sessions", t.local_id(), role_name(t),
               tunnel_state_name(t.state()), peer.to_string().c_str(), t.peer_host_name().c_str(), t.peer_id(),
               t.sessions().size());
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
    if (all_acked || t >= *shutdown_deadline_) loop_.stop();
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
