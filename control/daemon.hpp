#pragma once
// The daemon: configuration, the control plane's Engine on the event loop,
// the command FIFO, signals and the pid file, wired together. Socket mode
// (kernel UDP, no DPDK) moves PPP frames through the control thread the way
// the classic daemon did.

#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>

#include "control/address_pool.hpp"
#include "control/command_fifo.hpp"
#include "control/commands.hpp"
#include "control/config.hpp"
#include "control/engine.hpp"
#include "control/engine_driver.hpp"
#include "control/event_loop.hpp"
#include "control/fast_path_handoff.hpp"
#include "control/idle_monitor.hpp"
#include "control/pppd_handler.hpp"
#include "control/secrets.hpp"
#include "control/udp_socket.hpp"

namespace l2tp::control {

// Where Debian's xl2tpd-control looks when given no -c.
inline constexpr const char* kDefaultFifoPath = "/var/run/xl2tpd/l2tp-control";

struct DaemonOptions {
  std::string config_path = "/etc/xl2tpd/xl2tpd.conf";
  std::string secrets_path;  // empty: [global] "auth file"
  std::string fifo_path = kDefaultFifoPath;
  // When the FIFO is at kDefaultFifoPath, a symlink here names it too (the
  // classic l2tpd's path); removed at exit if it is still ours.
  std::string classic_fifo_link = "/var/run/l2tp-control";
  std::string pid_file = "/var/run/l2tpd.pid";
  bool foreground = false;
  Duration shutdown_grace = 3s;  // SIGTERM: wait this long for StopCCN acks and pppd exits
  // pppd, started for every established call (xl2tpd's arguments).
  std::string pppd_path = "/usr/sbin/pppd";
  Duration pppd_kill_grace = 3s;  // SIGTERM -> SIGKILL
  // The configuration is the built-in LNS (config.hpp kBuiltinLnsSection):
  // the start-up message tells how a LAC reaches it.
  bool builtin_lns = false;
};

struct DaemonCounters {
  uint64_t commands = 0;
  uint64_t bad_commands = 0;
  uint64_t ppp_frames_unhandled = 0;  // from the peer for a session without pppd: dropped
  uint64_t ppp_frames_unsent = 0;     // from pppd for a session no longer up: dropped
  uint64_t pppd_started = 0;
  uint64_t pppd_spawn_failures = 0;   // the call was hung up (CDN)
  uint64_t pppd_exits = 0;            // reaped, whoever ended it
  uint64_t address_pool_empty = 0;    // calls refused: no address left in "ip range"
  uint64_t idle_hangups = 0;          // calls ended by the idle timeout
};

// The PPP side of one established call: its pppd and what it was given.
struct CallPpp {
  uint16_t tunnel_id = 0;
  std::unique_ptr<PppdHandler> pppd;
  std::optional<uint32_t> peer_addr;   // from the pool ("ip range"), returned at the end
  std::optional<uint32_t> local_addr;  // from "local ip range", returned at the end
  bool session_gone = false;           // the L2TP side ended first: no CDN from us
  Duration idle_limit{};               // the options file's `idle`, enforced by us; 0: none
  bool idled_out = false;              // we ended pppd for idling: the CDN says so
  TimePoint started{};
};

// What the DPDK data plane gives the control plane (dataplane/ implements
// both; main wires them). Empty: socket mode, a kernel UDP socket and no
// fast path. Both must outlive the Daemon.
struct DataPlaneSeams {
  DatagramIo* io = nullptr;
  FastPath* fast_path = nullptr;
  // Lines for the SIGUSR1 report (ports, workers, drops).
  std::function<std::vector<std::string>()> report;
  // Packets the fast path moved for a session (idle time counts them).
  std::function<uint64_t(uint16_t)> fast_path_packets;
  // Our L2TP address on the access side (host order): what LACs dial.
  uint32_t local_addr = 0;
};

class Daemon : public ControlObserver {
 public:
  // Throws std::system_error / std::runtime_error with a message for the
  // user on what prevents start-up (socket, FIFO).
  Daemon(Config config, Secrets secrets, const DaemonOptions& options, const DataPlaneSeams& plane = {});
  ~Daemon() override;

  // Runs until SIGTERM or SIGINT; returns the exit status.
  int run();

  // The command FIFO's commands (also for tests): the reply goes to
  // c.reply_fifo when there is one, and to the log.
  void on_command(const Command& c, TimePoint now);
  Reply execute(const Command& c, TimePoint now);

  // ControlObserver
  void tunnel_up(const Tunnel& t) override;
  void tunnel_down(const Tunnel& t, const wire::ResultCode& why) override;
  void session_up(const Session& s) override;
  void session_down(const Session& s, const wire::ResultCode& why) override;
  void ppp_frame(const Session& s, std::span<const uint8_t> frame) override;

  Engine& engine() { return *engine_; }
  EventLoop& loop() { return loop_; }
  const DaemonCounters& counters() const { return counters_; }
  const std::map<uint16_t, CallPpp>& calls() const { return calls_; }

 private:
  PeerDecision decide(const DatagramMeta& from, const std::string& host_name);
  TunnelSettings settings_for(const EndpointConfig& e, const std::string& peer_host) const;
  std::string our_host_name(const EndpointConfig& e) const;
  // Opens a tunnel with an entry's settings (and the secret for host); on
  // failure nullptr and why in error.
  Tunnel* open_to(const EndpointConfig& entry, const std::string& host, const Endpoint& peer, TimePoint now,
                  std::string& error);
  bool dial(const std::string& lac_name, TimePoint now, std::string& error);
  bool disconnect(const std::string& lac_name, TimePoint now, std::string& error);
  // The commands (commands.hpp says what each takes and answers).
  Reply cmd_tunnel(const std::string& args, TimePoint now);
  Reply cmd_call(const std::string& args, TimePoint now);
  Reply cmd_hang_up(const std::string& args, TimePoint now);
  Reply cmd_disconnect(const std::string& args, TimePoint now);
  Reply cmd_outgoing_call(const std::string& args, TimePoint now);
  Reply cmd_add(bool lac, const std::string& args, TimePoint now);
  Reply cmd_remove_lac(const std::string& args, TimePoint now);
  Reply cmd_remove_lns(const std::string& args, TimePoint now);
  Reply cmd_status_lac(const std::string& args) const;
  Reply cmd_status_lns(const std::string& args) const;
  Reply cmd_available() const;
  TunnelStatus status_of(const Tunnel& t, const Endpoint& peer) const;
  // The [lns] entry a tunnel we answered is served by (as decide() chose).
  const LnsConfig* lns_of(const Tunnel& t, const Endpoint& peer) const;
  void link_classic_fifo();
  // Says where LACs reach us (and, on the built-in LNS, how to set one up).
  void announce() const;
  // SIGHUP: the secrets and the configuration file again. Entries and
  // per-tunnel settings apply to new tunnels and calls; what the running
  // sockets and pools were built from is kept and reported.
  void reload(TimePoint now);
  void begin_shutdown(TimePoint now);
  void schedule_redial(const std::string& lac_name, TimePoint now);
  bool cancel_redial(const std::string& lac_name);
  void log_status() const;
  // pppd for an established call; a failure hangs the call up.
  void start_ppp(const Session& s, TimePoint now);
  void ppp_ended(uint16_t session_id, const std::string& why);
  void reap_children();
  // Idle timeouts: the data frames of each watched call, read on a timer.
  void check_idle(TimePoint now);
  void arm_idle_timer();
  uint64_t data_frames(uint16_t session_id) const;

  Config config_;
  Secrets secrets_;
  DaemonOptions options_;
  std::string system_host_name_;
  EventLoop loop_;
  std::unique_ptr<UdpSocket> socket_;  // socket mode only
  DatagramIo* io_ = nullptr;           // the socket, or the data plane's rings
  Endpoint local_;                     // our address and L2TP port
  std::optional<FastPathHandoff> handoff_;  // with a data plane
  DataPlaneSeams plane_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<EngineDriver> driver_;
  std::unique_ptr<CommandFifo> fifo_;
  std::map<std::string, uint16_t> lac_tunnels_;  // [lac NAME] -> its tunnel
  std::map<uint16_t, std::string> tunnel_lac_;   // and back
  // xl2tpd's redial: a [lac] whose tunnel went down by the peer's or the
  // network's doing is dialled again after "redial timeout", at most
  // "max redials" times in a row (0: no limit); a call that comes up resets
  // the count. Not after our own disconnect.
  std::map<std::string, unsigned> redials_;
  // connect-lac NAME authname password, by [lac] name.
  struct LacCredentials {
    std::string authname, password;
  };
  std::map<std::string, LacCredentials> lac_credentials_;
  std::map<std::string, TimerId> redial_timers_;
  std::set<std::string> closed_by_us_;
  // Entries added by add-lac / add-lns, by lower-cased name: their pairs,
  // which a later add-* on the same name extends.
  std::map<std::string, std::vector<KeyValue>> added_lac_, added_lns_;
  std::string classic_link_;  // the symlink we made, to remove at exit
  // By local session ID (box-wide unique): the PPP side of every call that
  // got a pppd, until that pppd has been reaped.
  std::map<uint16_t, CallPpp> calls_;
  AddressPool addresses_;
  IdleMonitor idle_;
  TimerId idle_timer_ = TimerId::kNone;
  DaemonCounters counters_;
  bool shutting_down_ = false;
  std::optional<TimePoint> shutdown_deadline_;
};

}  // namespace l2tp::control
