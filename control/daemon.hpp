#pragma once
// The daemon: configuration, the control plane's Engine on the event loop,
// the command FIFO, signals and the pid file, wired together. Socket mode
// (kernel UDP, no DPDK) moves PPP frames through the control thread the way
// the classic daemon did.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "control/command_fifo.hpp"
#include "control/config.hpp"
#include "control/engine.hpp"
#include "control/engine_driver.hpp"
#include "control/event_loop.hpp"
#include "control/secrets.hpp"
#include "control/udp_socket.hpp"

namespace l2tp::control {

struct DaemonOptions {
  std::string config_path = "/etc/xl2tpd/xl2tpd.conf";
  std::string secrets_path;  // empty: [global] "auth file"
  std::string fifo_path = "/var/run/xl2tpd/l2tp-control";
  std::string pid_file = "/var/run/l2tpd.pid";
  bool foreground = false;
  Duration shutdown_grace = 3s;  // SIGTERM: wait this long for StopCCN acks
};

struct DaemonCounters {
  uint64_t commands = 0;
  uint64_t bad_commands = 0;
  uint64_t ppp_frames_unhandled = 0;  // no PPP handler for the session (yet)
};

class Daemon : public ControlObserver {
 public:
  // Throws std::system_error / std::runtime_error with a message for the
  // user on what prevents start-up (socket, FIFO).
  Daemon(Config config, Secrets secrets, const DaemonOptions& options);
  ~Daemon() override;

  // Runs until SIGTERM or SIGINT; returns the exit status.
  int run();

  // The command FIFO's commands (also for tests).
  void on_command(const Command& c, TimePoint now);

  // ControlObserver
  void tunnel_up(const Tunnel& t) override;
  void tunnel_down(const Tunnel& t, const wire::ResultCode& why) override;
  void session_up(const Session& s) override;
  void session_down(const Session& s, const wire::ResultCode& why) override;
  void ppp_frame(const Session& s, std::span<const uint8_t> frame) override;

  Engine& engine() { return *engine_; }
  EventLoop& loop() { return loop_; }
  const DaemonCounters& counters() const { return counters_; }

 private:
  PeerDecision decide(const DatagramMeta& from, const std::string& host_name);
  TunnelSettings settings_for(const EndpointConfig& e, const std::string& peer_host) const;
  std::string our_host_name(const EndpointConfig& e) const;
  bool dial(const std::string& lac_name, TimePoint now, std::string& error);
  bool disconnect(const std::string& lac_name, TimePoint now, std::string& error);
  void begin_shutdown(TimePoint now);
  void log_status() const;

  Config config_;
  Secrets secrets_;
  DaemonOptions options_;
  std::string system_host_name_;
  EventLoop loop_;
  std::unique_ptr<UdpSocket> socket_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<EngineDriver> driver_;
  std::unique_ptr<CommandFifo> fifo_;
  std::map<std::string, uint16_t> lac_tunnels_;  // [lac NAME] -> its tunnel
  std::map<uint16_t, std::string> tunnel_lac_;   // and back
  DaemonCounters counters_;
  bool shutting_down_ = false;
  std::optional<TimePoint> shutdown_deadline_;
};

}  // namespace l2tp::control
