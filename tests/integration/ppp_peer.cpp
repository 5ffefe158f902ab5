// ppp-peer: a stand-in for pppd on hosts whose kernel has no PPP, so that an
// IPv4 ping can cross an L2TP tunnel in the integration tests. It is started
// exactly as pppd is (xl2tpd: the pty on stdin/stdout, the tty path among
// the arguments; our l2tpd: the tty path last), speaks async HDLC on the
// tty (RFC 1662), negotiates LCP (RFC 1661) and IPCP (RFC 1332), and once
// IPCP is up bridges IPv4 between PPP and a TUN device that stands in for
// pppd's pppN interface.
//
// Honoured options (pppd(8) names): local:remote, ipparam, nodetach,
// passive, file, logfile, ifname, ip-up-script, ip-down-script, mru, and a
// device path. Everything else is accepted and ignored. PPP_PEER_LOG names
// the log when there is no "logfile". Each phase is logged, one line each:
// "LCP up", "IPCP up: local A remote B interface N", "LCP down", "exit".

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ppp_cp.hpp"
#include "ppp_options.hpp"
#include "ppp_peer_args.hpp"
#include "shared/hdlc.hpp"
#include "shared/ppp.hpp"

extern char** environ;

namespace l2tp::peer {
namespace {

// RFC 1661 4.6: Restart timer default.
constexpr int64_t kRestartMs = 3000;
// How long a Terminate-Request on SIGTERM may wait for its Ack before we
// go anyway. pppd waits Max-Terminate restart periods (6 s), but xl2tpd and
// our l2tpd SIGKILL their pppd 3 s after SIGTERM, and a tunnel that is
// already gone never acknowledges: exit well before that, by ourselves.
constexpr int64_t kTerminateGraceMs = 1000;
constexpr std::size_t kMaxPacket = 65536;

// pppd's exit statuses (pppd(8) EXIT STATUS), which xl2tpd and our daemon
// log when their pppd child exits.
enum Exit : int {
  kExitOk = 0,
  kExitFatalError = 1,
  kExitOptionError = 2,
  kExitUserRequest = 5,
  kExitOpenFailed = 7,
  kExitNegotiationFailed = 10,
  kExitHangup = 16,
};

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

class Log {
 public:
  explicit Log(FILE* f) : f_(f) {}
  void operator()(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    gmtime_r(&ts.tv_sec, &t);
    std::fprintf(f_, "%02d:%02d:%02d.%03ld ppp-peer[%d]: ", t.tm_hour, t.tm_min, t.tm_sec,
                 ts.tv_nsec / 1000000, static_cast<int>(getpid()));
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(f_, fmt, ap);
    va_end(ap);
    std::fputc('\n', f_);
    std::fflush(f_);
  }

 private:
  FILE* f_;
};

bool write_all(int fd, const uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

sockaddr to_sockaddr(uint32_t addr) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(addr);
  sockaddr sa{};
  std::memcpy(&sa, &sin, sizeof sin);
  return sa;
}

class Peer final : public FsmOutput {
 public:
  Peer(const PeerArgs& args, int tty_in, int tty_out, Log& log)
      : args_(args),
        tty_in_(tty_in),
        tty_out_(tty_out),
        log_(log),
        rng_(std::random_device{}()),
        lcp_policy_(args.mru, [this] { return static_cast<uint32_t>(rng_()); }),
        ipcp_policy_(args.local, args.remote),
        lcp_(wire::ppp::kLcp, lcp_policy_, *this),
        ipcp_(wire::ppp::kIpcp, ipcp_policy_, *this),
        decoder_(wire::AddressControl::kAsIs) {}

  int run(int signal_fd);

  // FsmOutput
  void send(uint16_t protocol, const Bytes& info) override { send_frame(protocol, info); }
  void layer_up(uint16_t protocol) override;
  void layer_down(uint16_t protocol) override;
  void layer_started(uint16_t) override {}
  void layer_finished(uint16_t protocol) override;
  bool extra_code(uint16_t protocol, const CpPacket& packet) override;

 private:
  struct Timer {
    uint64_t generation = 0;
    std::optional<int64_t> deadline;
  };

  void send_frame(uint16_t protocol, std::span<const uint8_t> info);
  void on_frame(std::span<const uint8_t> frame);
  void on_tty_readable();
  void on_tun_readable();
  void on_signal(int signal_fd);
  void sync_timer(const Fsm& fsm, Timer& t);
  void fire_timers();
  int poll_timeout_ms() const;
  bool tun_up();
  void tun_down();
  void run_script(const std::string& script);
  void finish(const char* why, int status) {
    if (!done_) {
      log_("exit: %s (status %d)", why, status);
      exit_status_ = status;
    }
    done_ = true;
  }
  // Ends the link because of a local failure: LCP Close, exit when done.
  void give_up(int status) {
    failure_status_ = status;
    lcp_.close();
  }

  PeerArgs args_;
  int tty_in_;
  int tty_out_;
  Log& log_;
  std::mt19937 rng_;
  LcpPolicy lcp_policy_;
  IpcpPolicy ipcp_policy_;
  Fsm lcp_;
  Fsm ipcp_;
  wire::HdlcDecoder decoder_;
  Bytes out_;
  Timer lcp_timer_, ipcp_timer_;
  std::optional<int64_t> terminate_deadline_;
  bool lcp_was_opened_ = false;
  bool terminating_ = false;
  bool done_ = false;
  int exit_status_ = kExitOk;
  std::optional<int> failure_status_;  // why we closed the link ourselves
  int tun_fd_ = -1;
  std::string ifname_;
  uint64_t ipv4_in_ = 0, ipv4_out_ = 0;
};

void Peer::send_frame(uint16_t protocol, std::span<const uint8_t> info) {
  const Bytes frame = build_frame(protocol, info);
  out_.clear();
  // RFC 1662 7.1: escape every control character; correct whatever ACCM
  // the peer asked for, and we never negotiate our receive side down.
  wire::hdlc_encode(frame, wire::kHdlcDefaultAccm, wire::AddressControl::kAsIs, out_);
  if (!done_ && !write_all(tty_out_, out_.data(), out_.size())) {
    // EIO: the other side of the pty is closed, a hangup as pppd sees it
    // (we may be inside the automaton, so just stop; run() cleans up).
    log_("write to the tty failed: %s", std::strerror(errno));
    finish(errno == EIO ? "hangup" : "tty write error", errno == EIO ? kExitHangup : kExitFatalError);
  }
}

void Peer::layer_up(uint16_t protocol) {
  if (protocol == wire::ppp::kLcp) {
    lcp_was_opened_ = true;
    log_("LCP up: our MRU %u, peer MRU %u, our magic 0x%08x, peer magic 0x%08x", lcp_policy_.our_mru(),
         lcp_policy_.peer_mru(), lcp_policy_.our_magic(), lcp_policy_.peer_magic());
    // RFC 1661 3.5: no authentication phase, straight to the network
    // layer protocols.
    ipcp_.open();
    ipcp_.up();
    return;
  }
  if (ipcp_policy_.local() == 0) {
    // pppd's "Could not determine local IP address": the link is useless.
    log_("IPCP up without a local address: closing");
    give_up(kExitNegotiationFailed);
    return;
  }
  if (!tun_up()) {
    give_up(kExitFatalError);
    return;
  }
  log_("IPCP up: local %s remote %s interface %s", ipv4_to_string(ipcp_policy_.local()).c_str(),
       ipv4_to_string(ipcp_policy_.remote()).c_str(), ifname_.c_str());
  if (!args_.ip_up_script.empty()) run_script(args_.ip_up_script);
}

void Peer::layer_down(uint16_t protocol) {
  if (protocol == wire::ppp::kLcp) {
    log_("LCP down");
    ipcp_.down();
    return;
  }
  log_("IPCP down (%llu IPv4 packets in, %llu out)", static_cast<unsigned long long>(ipv4_in_),
       static_cast<unsigned long long>(ipv4_out_));
  if (tun_fd_ >= 0 && !args_.ip_down_script.empty()) run_script(args_.ip_down_script);
  tun_down();
}

void Peer::layer_finished(uint16_t protocol) {
  if (protocol == wire::ppp::kIpcp) {
    // The only network protocol gave up: with nothing to carry, the link
    // goes too (RFC 1661 3.7, pppd does the same).
    if (lcp_.state() == State::kOpened) {
      log_("IPCP finished: closing the link");
      give_up(kExitNegotiationFailed);
    }
    return;
  }
  if (args_.passive && !lcp_was_opened_ && !terminating_ && lcp_.state() == State::kStopped) {
    // pppd's "passive": no answer to our requests, so wait for the peer's
    // (RFC 1661 4.2, Stopped: a Configure-Request restarts negotiation).
    log_("LCP: no answer, waiting passively for the peer");
    return;
  }
  if (terminating_)
    finish("link terminated on signal", kExitUserRequest);
  else if (failure_status_)
    finish("link closed after a failure", *failure_status_);
  else if (lcp_was_opened_)
    finish("link terminated by the peer", kExitOk);
  else
    finish("LCP negotiation failed", kExitNegotiationFailed);
}

bool Peer::extra_code(uint16_t protocol, const CpPacket& p) {
  if (protocol != wire::ppp::kLcp) return false;
  switch (static_cast<Code>(p.code)) {
    case Code::kEchoRequest: {
      // RFC 1661 5.8: answered only in the Opened state; the reply carries
      // our Magic-Number and the request's data.
      if (lcp_.state() != State::kOpened) return true;
      if (p.data.size() >= 4 && lcp_policy_.our_magic() != 0 && get_u32(p.data) == lcp_policy_.our_magic()) {
        log_("LCP Echo-Request with our own magic: looped-back link?");
        return true;
      }
      if (const auto reply = build_echo_reply(p, lcp_policy_.our_magic())) send_frame(wire::ppp::kLcp, *reply);
      return true;
    }
    case Code::kEchoReply:
    case Code::kDiscardRequest: return true;  // RFC 1661 5.9: discarded
    case Code::kProtocolReject:
      // RFC 1661 5.7: the peer does not speak that protocol; only IPCP is
      // ours to stop (RXJ- for its automaton).
      if (lcp_.state() == State::kOpened && p.data.size() >= 2 && get_u16(p.data) == wire::ppp::kIpcp) {
        log_("peer rejected IPCP");
        ipcp_.protocol_rejected();
      }
      return true;
    default: return false;
  }
}

void Peer::on_frame(std::span<const uint8_t> frame) {
  const auto f = wire::parse_ppp(frame);
  if (!f) return;
  const uint16_t protocol = f->protocol;
  if (protocol == wire::ppp::kLcp) {
    // Terminations are logged for the tests to wait on (pppd logs them too).
    if (const auto p = parse_cp(f->information)) {
      if (p->code == static_cast<uint8_t>(Code::kTerminateRequest)) log_("LCP Terminate-Request received");
      if (p->code == static_cast<uint8_t>(Code::kTerminateAck)) log_("LCP Terminate-Ack received");
    }
    lcp_.receive(f->information);
    return;
  }
  // RFC 1661 3.3: until LCP is open, anything else is silently discarded.
  if (lcp_.state() != State::kOpened) return;
  if (protocol == wire::ppp::kIpcp) {
    ipcp_.receive(f->information);
  } else if (protocol == wire::ppp::kIpv4) {
    // RFC 1661 3.4/RFC 1332 1: IPv4 only once IPCP is Opened.
    if (ipcp_.state() != State::kOpened || tun_fd_ < 0) return;
    if (write(tun_fd_, f->information.data(), f->information.size()) >= 0) ++ipv4_in_;
  } else {
    // RFC 1661 5.7: Protocol-Reject with the protocol and its information,
    // truncated so that the reject fits the peer's MRU.
    log_("Protocol-Reject of protocol 0x%04x", protocol);
    send_frame(wire::ppp::kLcp,
               build_protocol_reject(lcp_.next_id(), protocol, f->information, lcp_policy_.peer_mru()));
  }
}

void Peer::on_tty_readable() {
  uint8_t buf[8192];
  const ssize_t n = read(tty_in_, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    // The pty's other end closed (EIO on a pty slave, EOF on a pipe): the
    // modem hung up, as pppd sees it.
    log_("hangup on the tty (%s)", n == 0 ? "EOF" : std::strerror(errno));
    lcp_.down();
    finish("hangup", kExitHangup);
    return;
  }
  decoder_.feed(std::span<const uint8_t>(buf, static_cast<std::size_t>(n)),
                [this](std::span<const uint8_t> frame) { on_frame(frame); });
}

void Peer::on_tun_readable() {
  static uint8_t buf[kMaxPacket];
  const ssize_t n = read(tun_fd_, buf, sizeof buf);
  if (n <= 0) return;
  // Only IPv4 (version nibble 4) goes out as protocol 0x0021; the TUN's
  // MTU is the peer's MRU, so a packet fits one frame.
  if ((buf[0] >> 4) != 4 || static_cast<std::size_t>(n) > lcp_policy_.peer_mru()) return;
  if (ipcp_.state() != State::kOpened) return;
  send_frame(wire::ppp::kIpv4, std::span<const uint8_t>(buf, static_cast<std::size_t>(n)));
  ++ipv4_out_;
}

void Peer::on_signal(int signal_fd) {
  signalfd_siginfo si{};
  while (read(signal_fd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      int status = 0;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        log_("script %d exited with status %d", static_cast<int>(pid),
             WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      continue;
    }
    if (terminating_) {
      finish("second signal", kExitUserRequest);
      return;
    }
    terminating_ = true;
    log_("terminating on signal %u", si.ssi_signo);
    switch (lcp_.state()) {
      case State::kReqSent:
      case State::kAckRcvd:
      case State::kAckSent:
      case State::kOpened:
        // RFC 1661 4.1 Close: Terminate-Request, then wait for the Ack.
        lcp_.close();
        terminate_deadline_ = now_ms() + kTerminateGraceMs;
        break;
      default: finish("signal", kExitUserRequest); break;
    }
  }
}

void Peer::sync_timer(const Fsm& fsm, Timer& t) {
  if (!fsm.timer_running()) {
    t.deadline.reset();
  } else if (fsm.timer_generation() != t.generation || !t.deadline) {
    t.generation = fsm.timer_generation();
    t.deadline = now_ms() + kRestartMs;
  }
}

void Peer::fire_timers() {
  const int64_t now = now_ms();
  if (lcp_timer_.deadline && *lcp_timer_.deadline <= now) {
    lcp_timer_.deadline.reset();
    lcp_.timeout();
  }
  sync_timer(lcp_, lcp_timer_);
  sync_timer(ipcp_, ipcp_timer_);
  if (ipcp_timer_.deadline && *ipcp_timer_.deadline <= now) {
    ipcp_timer_.deadline.reset();
    ipcp_.timeout();
  }
  sync_timer(lcp_, lcp_timer_);
  sync_timer(ipcp_, ipcp_timer_);
  if (terminate_deadline_ && *terminate_deadline_ <= now) finish("no Terminate-Ack in time", kExitUserRequest);
}

int Peer::poll_timeout_ms() const {
  std::optional<int64_t> next;
  for (const auto& d : {lcp_timer_.deadline, ipcp_timer_.deadline, terminate_deadline_})
    if (d && (!next || *d < *next)) next = d;
  if (!next) return -1;
  return static_cast<int>(std::max<int64_t>(0, *next - now_ms()));
}

bool Peer::tun_up() {
  tun_fd_ = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tun_fd_ < 0) {
    log_("open /dev/net/tun: %s", std::strerror(errno));
    return false;
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", args_.ifname.c_str());
  if (ioctl(tun_fd_, TUNSETIFF, &ifr) < 0) {
    log_("TUNSETIFF %s: %s", args_.ifname.c_str(), std::strerror(errno));
    tun_down();
    return false;
  }
  ifname_ = ifr.ifr_name;
  // A TUN device is point-to-point and NOARP already: what pppd does for
  // pppN (address, peer address, /32 mask, MTU, up) works the same way.
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  bool ok = s >= 0;
  auto req = [&](unsigned long op, const char* what, auto set) {
    if (!ok) return;
    ifreq r{};
    std::snprintf(r.ifr_name, IFNAMSIZ, "%s", ifname_.c_str());
    set(r);
    if (ioctl(s, op, &r) < 0) {
      log_("%s on %s: %s", what, ifname_.c_str(), std::strerror(errno));
      ok = false;
    }
  };
  req(SIOCSIFADDR, "SIOCSIFADDR", [&](ifreq& r) { r.ifr_addr = to_sockaddr(ipcp_policy_.local()); });
  if (ipcp_policy_.remote() != 0)
    req(SIOCSIFDSTADDR, "SIOCSIFDSTADDR", [&](ifreq& r) { r.ifr_dstaddr = to_sockaddr(ipcp_policy_.remote()); });
  req(SIOCSIFNETMASK, "SIOCSIFNETMASK", [&](ifreq& r) { r.ifr_netmask = to_sockaddr(0xFFFFFFFF); });
  // The peer's MRU bounds what we may send (RFC 1661 6.1).
  req(SIOCSIFMTU, "SIOCSIFMTU", [&](ifreq& r) { r.ifr_mtu = lcp_policy_.peer_mru(); });
  req(SIOCSIFFLAGS, "SIOCSIFFLAGS", [&](ifreq& r) { r.ifr_flags = IFF_UP | IFF_RUNNING | IFF_POINTOPOINT | IFF_NOARP; });
  if (s >= 0) close(s);
  if (!ok) tun_down();
  return ok;
}

void Peer::tun_down() {
  // A non-persistent TUN device disappears with its last descriptor.
  if (tun_fd_ >= 0) close(tun_fd_);
  tun_fd_ = -1;
}

void Peer::run_script(const std::string& script) {
  // pppd(8) SCRIPTS: interface-name tty-device speed local-IP remote-IP ipparam.
  const std::string tty = args_.tty.empty() ? (ttyname(tty_in_) ? ttyname(tty_in_) : "") : args_.tty;
  const std::string local = ipv4_to_string(ipcp_policy_.local());
  const std::string remote = ipv4_to_string(ipcp_policy_.remote());
  std::vector<std::string> argv_s = {script, ifname_, tty, "0", local, remote, args_.ipparam};
  std::vector<std::string> env_s = {"PPP_IFACE=" + ifname_, "PPP_TTY=" + tty, "PPP_LOCAL=" + local,
                                    "PPP_REMOTE=" + remote, "PPP_IPPARAM=" + args_.ipparam};
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  // The child must not inherit our blocked signals (they go to signalfd).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, script.c_str(), nullptr, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    log_("cannot run %s: %s", script.c_str(), std::strerror(rc));
  else
    log_("started %s %s (pid %d)", script.c_str(), ifname_.c_str(), static_cast<int>(pid));
}

int Peer::run(int signal_fd) {
  log_("start: tty %s, local %s, remote %s, ipparam '%s'%s%s",
       args_.tty.empty() ? "stdin/stdout" : args_.tty.c_str(), ipv4_to_string(args_.local).c_str(),
       ipv4_to_string(args_.remote).c_str(), args_.ipparam.c_str(), args_.passive ? ", passive" : "",
       args_.nodetach ? ", nodetach" : "");
  // RFC 1661 3.2: the physical link (the pty) is there: Open then Up.
  lcp_.open();
  lcp_.up();
  sync_timer(lcp_, lcp_timer_);
  while (!done_) {
    pollfd fds[3] = {{tty_in_, POLLIN, 0}, {signal_fd, POLLIN, 0}, {tun_fd_, POLLIN, 0}};
    const int n = poll(fds, tun_fd_ >= 0 ? 3 : 2, poll_timeout_ms());
    if (n < 0 && errno != EINTR) {
      log_("poll: %s", std::strerror(errno));
      return kExitFatalError;
    }
    if (n > 0) {
      if (fds[1].revents) on_signal(signal_fd);
      if (!done_ && fds[0].revents) on_tty_readable();
      if (!done_ && tun_fd_ >= 0 && fds[2].revents & POLLIN) on_tun_readable();
    }
    if (!done_) fire_timers();
    sync_timer(lcp_, lcp_timer_);
    sync_timer(ipcp_, ipcp_timer_);
  }
  if (ipcp_.state() == State::kOpened) ipcp_.down();
  tun_down();
  return exit_status_;
}

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace
}  // namespace l2tp::peer

int main(int argc, char** argv) {
  using namespace l2tp::peer;
  const std::vector<std::string> words(argv + 1, argv + argc);
  const ParseResult parsed = parse_args(words, read_whole_file);
  PeerArgs args = parsed.args;
  if (args.logfile.empty())
    if (const char* env = getenv("PPP_PEER_LOG")) args.logfile = env;
  FILE* log_file = stderr;
  if (!args.logfile.empty()) {
    log_file = std::fopen(args.logfile.c_str(), "ae");
    if (!log_file) {
      std::fprintf(stderr, "ppp-peer: cannot open log %s: %s\n", args.logfile.c_str(), std::strerror(errno));
      return 1;
    }
  }
  Log log(log_file);
  if (!parsed.error.empty()) {
    log("bad arguments: %s", parsed.error.c_str());
    return kExitOptionError;
  }

  int tty_in = STDIN_FILENO, tty_out = STDOUT_FILENO;
  if (!args.tty.empty()) {
    const int fd = open(args.tty.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
      log("open %s: %s", args.tty.c_str(), std::strerror(errno));
      return kExitOpenFailed;
    }
    tty_in = tty_out = fd;
  }
  // pppd puts the tty in raw mode: without it the line discipline would
  // translate CR/NL and eat control characters out of our frames.
  termios tio{};
  if (tcgetattr(tty_in, &tio) == 0) {
    cfmakeraw(&tio);
    if (tcsetattr(tty_in, TCSANOW, &tio) < 0) log("tcsetattr: %s", std::strerror(errno));
  }

  if (!args.nodetach) {
    // pppd forks into the background unless told "nodetach".
    const pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid > 0) return 0;
    setsid();
  }

  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGHUP, SIGINT, SIGCHLD}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) {
    log("signalfd: %s", std::strerror(errno));
    return 1;
  }
  for (const auto& w : args.ignored) log("ignoring option '%s'", w.c_str());
  Peer peer(args, tty_in, tty_out, log);
  return peer.run(signal_fd);
}
