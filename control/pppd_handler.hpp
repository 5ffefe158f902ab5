#pragma once
// The classic PPP handler: one pppd per session on a pseudo-tty, async HDLC
// framing on the pty (RFC 1662 4, shared/hdlc.hpp), the way xl2tpd ran it
// without kernel L2TP support.
//
// Lifecycle. spawn() opens the pty and starts pppd with posix_spawn. Frames
// move both ways until pppd exits, the pty hangs up or terminate() is
// called. terminate() sends SIGTERM, then SIGKILL after a grace period. The
// owner reaps: on SIGCHLD it calls reap() on its handlers (the loop's
// signals coalesce, so on every SIGCHLD each live handler must be asked).
// PppEvents::ended fires exactly once, from reap(), after pppd has been
// waited for: when it fires there is no zombie, the pty is closed and the
// handler may be destroyed (from inside ended too). A pty hang-up before
// the exit only starts terminate(); ended still waits for the reap.
//
// Destroying a handler whose pppd has not been reaped sends SIGKILL and
// waits for it (a blocking waitpid): keep handlers until ended, so that this
// happens only at shutdown.

#include "control/event_loop.hpp"
#include "control/ppp_handler.hpp"
#include "shared/hdlc.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace l2tp::control {

// What pppd's command line is built from: the xl2tpd.conf keys of an [lns]
// or [lac] section (control/config.hpp EndpointConfig), resolved for one
// call. Addresses in host byte order.
struct PppdConfig {
  std::optional<uint32_t> local_ip;   // "local ip" (or one of "local ip range")
  std::optional<uint32_t> remote_ip;  // from "ip range" when "assign ip",
                                      // or a LAC's "remote ip"
  std::string pppoptfile;             // "pppoptfile": `file <path>`
  std::string name;                   // "name": pppd `name`
  bool require_pap = false;           // "require pap"
  bool require_chap = false;          // "require chap"
  bool require_authentication = false;  // "require authentication"
  bool refuse_pap = false;            // "refuse pap"
  bool refuse_chap = false;           // "refuse chap"
  bool refuse_authentication = false;   // "refuse authentication"
  bool unix_authentication = false;   // "unix authentication": pppd `login`
  bool defaultroute = false;          // a LAC's "defaultroute"
  bool debug = false;                 // "ppp debug"
  std::string ipparam;                // the peer's address when "pass peer";
                                      // empty: no `ipparam`
  // The options file sets `idle`: the daemon enforces it from the data
  // counters (control/idle_monitor.hpp), so pppd gets `idle 0` after the
  // file, which overrides it.
  bool override_idle = false;
  // A data plane forwards the subscriber's IPv4: it understands plain IPv4
  // only, so pppd must not negotiate what would turn it into something
  // else (Van Jacobson TCP/IP header compression, RFC 1144; CCP
  // compression, RFC 1962). Said after the options file, which cannot turn
  // them back on.
  bool fast_path = false;
};

// pppd's arguments (argv[1..], the pty's name not included) with xl2tpd's
// semantics (control.c, where it starts pppd for an established call).
// Pure: unit-tested without a pppd.
std::vector<std::string> pppd_arguments(const PppdConfig& config);

struct PppdOptions {
  std::string path = "/usr/sbin/pppd";
  std::vector<std::string> args;       // argv[1..], e.g. pppd_arguments()
  std::vector<std::string> extra_env;  // "NAME=value", added to our environ
  Duration kill_grace = std::chrono::seconds(3);  // SIGTERM -> SIGKILL
  std::size_t write_queue_limit = 64 * 1024;  // octets queued for the pty
  // Append the slave's path (/dev/pts/N) as pppd's last argument, as xl2tpd
  // does: pppd then opens the tty itself (and makes it its controlling
  // terminal) rather than relying on stdin.
  bool append_tty_name = true;
  // Not empty: pppd reads it from a pipe on descriptor kPasswordFd through
  // its passwordfd plugin (`plugin passwordfd.so passwordfd 3` is added to
  // the arguments), as xl2tpd does for connect-lac: never on argv, where
  // ps would show it.
  std::string password;
};

inline constexpr int kPasswordFd = 3;

struct PppdCounters {
  uint64_t frames_to_peer = 0;     // good frames read from pppd
  uint64_t bytes_to_peer = 0;      // their PPP octets
  uint64_t frames_from_peer = 0;   // frames queued for pppd
  uint64_t bytes_from_peer = 0;    // their PPP octets
  uint64_t dropped_queue_full = 0; // frames from the peer dropped: queue full
  uint64_t dropped_closed = 0;     // frames from the peer after the pty closed
  uint64_t pty_read_bytes = 0;     // raw octets read from the pty
  uint64_t pty_write_bytes = 0;    // raw octets written to the pty
  uint64_t pty_errors = 0;         // read/write errors other than EAGAIN/EIO
  uint64_t sigterm_sent = 0;
  uint64_t sigkill_sent = 0;
};

class PppdHandler final : public PppHandler {
 public:
  struct SpawnResult {
    std::unique_ptr<PppdHandler> handler;  // null on error
    std::error_code error;
    const char* what = "";                 // the failing call on error
  };

  // Opens a pty and starts pppd on it. No exceptions: a failure (pty limit,
  // pppd missing) is returned, nothing is left open and no child remains.
  // The loop must outlive the handler.
  static SpawnResult spawn(EventLoop& loop, PppdOptions options, PppEvents events);

  ~PppdHandler() override;
  PppdHandler(const PppdHandler&) = delete;
  PppdHandler& operator=(const PppdHandler&) = delete;

  void frame_from_peer(std::span<const uint8_t> ppp) override;
  void terminate() override;
  const PppLinkState& link_state() const override { return watch_.state(); }
  const PppWatchCounters& link_counters() const override { return watch_.counters(); }

  // The SIGCHLD hook: waitpid(pid(), WNOHANG). True when pppd was reaped by
  // this call (ended has then fired; do not touch the handler again if
  // ended may have destroyed it). False while pppd runs or once reaped.
  bool reap();

  pid_t pid() const { return pid_; }
  bool reaped() const { return reaped_; }
  const std::string& tty_name() const { return tty_name_; }
  const PppdCounters& counters() const { return counters_; }
  const wire::HdlcCounters& hdlc_counters() const { return decoder_.counters(); }
  std::size_t queued_bytes() const { return queue_.size() - queue_head_; }

 private:
  PppdHandler(EventLoop& loop, PppdOptions options, PppEvents events);

  void on_pty(uint32_t events);
  void read_pty();
  void flush_queue();
  void close_pty();
  void on_kill_timer();

  EventLoop& loop_;
  PppdOptions options_;
  PppEvents events_;
  UniqueFd master_;
  std::string tty_name_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  bool terminating_ = false;
  bool want_write_ = false;          // EPOLLOUT armed
  TimerId kill_timer_ = TimerId::kNone;
  std::string close_reason_;         // why we closed the pty or signalled

  wire::HdlcDecoder decoder_{wire::AddressControl::kAsIs};
  PppWatch watch_;  // LCP/auth/IPCP/IPV6CP seen both ways -> events_.link
  std::vector<uint8_t> read_buf_;
  std::vector<uint8_t> queue_;       // encoded octets for the pty
  std::size_t queue_head_ = 0;       // first unwritten octet in queue_
  PppdCounters counters_;
};

}  // namespace l2tp::control
