#include "control/pppd_handler.hpp"

#include "control/config.hpp"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <utility>

extern char** environ;

namespace l2tp::control {

std::vector<std::string> pppd_arguments(const PppdConfig& c) {
  std::vector<std::string> a;
  // pppd waits for the peer's LCP (passive) and stays in the foreground so
  // that its pid is the one we supervise (nodetach).
  a.push_back("passive");
  a.push_back("nodetach");
  if (c.defaultroute) a.push_back("defaultroute");
  // `<local>:<remote>`, either side empty when unknown; ":" alone still
  // tells pppd not to guess a local address from the host name.
  a.push_back((c.local_ip ? ipv4_to_string(*c.local_ip) : std::string()) + ":" +
              (c.remote_ip ? ipv4_to_string(*c.remote_ip) : std::string()));
  // Authenticating ourselves to the peer: xl2tpd refuses both when
  // "refuse authentication" is set, else only what is refused by name.
  if (c.refuse_authentication) {
    a.push_back("refuse-pap");
    a.push_back("refuse-chap");
  } else {
    if (c.refuse_pap) a.push_back("refuse-pap");
    if (c.refuse_chap) a.push_back("refuse-chap");
  }
  // Authenticating the peer: xl2tpd asks for it only with "require
  // authentication"; "require pap/chap" pick the protocols then. Without it
  // we say `noauth` outright, since pppd otherwise demands authentication
  // whenever the box has a default route. It comes before `file`, so an
  // options file can still say `auth`.
  if (c.require_authentication) {
    a.push_back("auth");
    if (c.require_pap) a.push_back("require-pap");
    if (c.require_chap) a.push_back("require-chap");
  } else {
    a.push_back("noauth");
  }
  if (c.unix_authentication) a.push_back("login");
  if (!c.pppoptfile.empty()) {
    a.push_back("file");
    a.push_back(c.pppoptfile);
  }
  if (c.override_idle) {
    a.push_back("idle");
    a.push_back("0");
  }
  if (c.fast_path)
    for (const char* o : {"novj", "novjccomp", "noccp"}) a.push_back(o);
  if (!c.name.empty()) {
    a.push_back("name");
    a.push_back(c.name);
  }
  if (c.debug) a.push_back("debug");
  if (!c.ipparam.empty()) {
    a.push_back("ipparam");
    a.push_back(c.ipparam);
  }
  // pppd's own `idle N` is never passed (xl2tpd passed one): once the data
  // plane carries the traffic pppd sees none of it, so the daemon enforces
  // idle time; an options file's `idle` is overridden with `idle 0` above.
  return a;
}

namespace {

std::error_code last_error() { return {errno, std::system_category()}; }

// The slave in raw mode before pppd has it: no echo of what we write, no
// CR/NL or other output processing, 8-bit clean. pppd sets its own modes
// later; the window before then must not corrupt frames either.
bool make_raw(int fd) {
  termios t{};
  if (tcgetattr(fd, &t) != 0) return false;
  cfmakeraw(&t);
  return tcsetattr(fd, TCSANOW, &t) == 0;
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "pppd exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return std::string("pppd killed by ") +
           (name ? std::string("SIG") + name : "signal " + std::to_string(WTERMSIG(status)));
  }
  return "pppd ended (status " + std::to_string(status) + ")";
}

// Owns the posix_spawn attribute and file-action objects.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  bool attr_ok = false;
  bool actions_ok = false;
  ~SpawnSetup() {
    if (attr_ok) posix_spawnattr_destroy(&attr);
    if (actions_ok) posix_spawn_file_actions_destroy(&actions);
  }
};

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr int kMaxReadsPerEvent = 8;  // fairness between ptys

}  // namespace

PppdHandler::PppdHandler(EventLoop& loop, PppdOptions options, PppEvents events)
    : loop_(loop), options_(std::move(options)), events_(std::move(events)),
      watch_([this](PppEvent e, const PppLinkState& s) {
        if (events_.link) events_.link(e, s);
      }) {
  read_buf_.resize(kReadChunk);
}

PppdHandler::SpawnResult PppdHandler::spawn(EventLoop& loop, PppdOptions options,
                                            PppEvents events) {
  SpawnResult r;
  auto fail = [&r](const char* what, std::error_code e) {
    r.handler.reset();  // closes whatever was opened
    r.error = e;
    r.what = what;
    return std::move(r);
  };
  r.handler.reset(new PppdHandler(loop, std::move(options), std::move(events)));
  PppdHandler& h = *r.handler;

  // Every descriptor O_CLOEXEC: pppd gets the slave as 0 and 1 and nothing
  // else of ours (sockets, other ptys, the FIFO).
  h.master_.reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!h.master_) return fail("posix_openpt", last_error());
  if (grantpt(h.master_.get()) != 0) return fail("grantpt", last_error());
  if (unlockpt(h.master_.get()) != 0) return fail("unlockpt", last_error());
  char name[64];
  if (int e = ptsname_r(h.master_.get(), name, sizeof name); e != 0)
    return fail("ptsname_r", {e, std::system_category()});
  h.tty_name_ = name;
  UniqueFd slave(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return fail("open pty slave", last_error());
  if (!make_raw(slave.get())) return fail("tcsetattr", last_error());
  const int fl = fcntl(h.master_.get(), F_GETFL);
  if (fl < 0 || fcntl(h.master_.get(), F_SETFL, fl | O_NONBLOCK) != 0)
    return fail("fcntl O_NONBLOCK", last_error());

  // The password pipe: written whole now (a password is far below the
  // pipe's buffer) and closed, so pppd reads it and then EOF.
  UniqueFd password_read;
  if (!h.options_.password.empty()) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return fail("pipe2", last_error());
    password_read.reset(p[0]);
    UniqueFd password_write(p[1]);
    const std::string& pw = h.options_.password;
    if (write(password_write.get(), pw.data(), pw.size()) != static_cast<ssize_t>(pw.size()))
      return fail("write password pipe", last_error());
  }

  std::vector<std::string> argv_s;
  argv_s.push_back(h.options_.path);
  argv_s.insert(argv_s.end(), h.options_.args.begin(), h.options_.args.end());
  if (password_read) {
    for (const char* a : {"plugin", "passwordfd.so", "passwordfd"}) argv_s.push_back(a);
    argv_s.push_back(std::to_string(kPasswordFd));
  }
  if (h.options_.append_tty_name) argv_s.push_back(h.tty_name_);
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; e && *e; ++e) envp.push_back(*e);
  std::vector<std::string> extra = h.options_.extra_env;
  for (auto& s : extra) envp.push_back(s.data());
  envp.push_back(nullptr);

  SpawnSetup s;
  int e = posix_spawnattr_init(&s.attr);
  if (e != 0) return fail("posix_spawnattr_init", {e, std::system_category()});
  s.attr_ok = true;
  e = posix_spawn_file_actions_init(&s.actions);
  if (e != 0) return fail("posix_spawn_file_actions_init", {e, std::system_category()});
  s.actions_ok = true;
  // The daemon blocks SIGTERM, SIGCHLD and the rest for its signalfd, and
  // may ignore SIGPIPE: pppd must start with an empty mask and default
  // dispositions. Its own session (setsid): no controlling tty of ours, and
  // a signal to our process group does not reach it.
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  e = posix_spawnattr_setsigmask(&s.attr, &empty);
  if (e == 0) e = posix_spawnattr_setsigdefault(&s.attr, &all);
  if (e == 0)
    e = posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                              POSIX_SPAWN_SETSID);
  if (e != 0) return fail("posix_spawnattr", {e, std::system_category()});
  e = posix_spawn_file_actions_adddup2(&s.actions, slave.get(), 0);
  if (e == 0) e = posix_spawn_file_actions_adddup2(&s.actions, slave.get(), 1);
  // dup2 leaves the copy without O_CLOEXEC: pppd inherits exactly this one.
  if (e == 0 && password_read) e = posix_spawn_file_actions_adddup2(&s.actions, password_read.get(), kPasswordFd);
  if (e != 0) return fail("posix_spawn_file_actions", {e, std::system_category()});

  pid_t pid = -1;
  // glibc's posix_spawn reports an exec failure (ENOENT, EACCES) here, and
  // has then already reaped the child.
  e = posix_spawn(&pid, argv[0], &s.actions, &s.attr, argv.data(), envp.data());
  if (e != 0) return fail("posix_spawn", {e, std::system_category()});
  h.pid_ = pid;
  // Our copy of the slave goes now: once pppd's copies close too, the
  // master reads EIO and polls EPOLLHUP.
  slave.reset();

  if (std::error_code ec = loop.add_fd(h.master_.get(), EPOLLIN,
                                       [hp = &h](uint32_t ev, TimePoint) { hp->on_pty(ev); });
      ec) {
    // Not reachable in practice (epoll refuses a pty only on ENOMEM);
    // the destructor kills and reaps the child.
    return fail("epoll_ctl", ec);
  }
  return r;
}

PppdHandler::~PppdHandler() {
  if (kill_timer_ != TimerId::kNone) loop_.cancel_timer(kill_timer_);
  close_pty();
  if (pid_ > 0 && !reaped_) {
    // Last resort (shutdown): the owner normally keeps the handler until
    // ended. SIGKILL cannot be ignored, so the wait is short.
    kill(pid_, SIGKILL);
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void PppdHandler::frame_from_peer(std::span<const uint8_t> ppp) {
  if (!master_) {
    ++counters_.dropped_closed;
    return;
  }
  // Encode straight onto the queue's tail; undo when it breaks the bound.
  // ACCM all ones: we do not see what pppd and the peer negotiate, and
  // escaping every control octet is always acceptable (RFC 1662 7.1).
  const std::size_t before = queue_.size();
  wire::hdlc_encode(ppp, wire::kHdlcDefaultAccm, wire::AddressControl::kAsIs, queue_);
  if (queue_.size() - queue_head_ > options_.write_queue_limit) {
    queue_.resize(before);
    ++counters_.dropped_queue_full;
    return;
  }
  ++counters_.frames_from_peer;
  counters_.bytes_from_peer += ppp.size();
  watch_.observe(PppDirection::kFromPeer, ppp);
  if (!want_write_) flush_queue();  // else EPOLLOUT flushes in order
}

void PppdHandler::flush_queue() {
  while (master_ && queue_head_ < queue_.size()) {
    const ssize_t n = write(master_.get(), queue_.data() + queue_head_, queue_.size() - queue_head_);
    if (n > 0) {
      queue_head_ += static_cast<std::size_t>(n);
      counters_.pty_write_bytes += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EIO) ++counters_.pty_errors;
    break;  // EAGAIN: wait for EPOLLOUT; EIO: the hang-up shows as EPOLLHUP
  }
  if (queue_head_ == queue_.size()) {
    queue_.clear();
    queue_head_ = 0;
  } else if (queue_head_ > queue_.size() / 2) {
    // Keep the buffer from creeping: move the unwritten tail to the front.
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(queue_head_));
    queue_head_ = 0;
  }
  const bool want = master_ && queue_head_ < queue_.size();
  if (want != want_write_ && master_) {
    // EPOLLOUT only while something waits: a pty is almost always writable.
    if (!loop_.modify_fd(master_.get(), want ? EPOLLIN | EPOLLOUT : EPOLLIN)) want_write_ = want;
  }
}

void PppdHandler::on_pty(uint32_t events) {
  if (events & EPOLLOUT) flush_queue();
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_pty();
}

void PppdHandler::read_pty() {
  for (int i = 0; i < kMaxReadsPerEvent && master_; ++i) {
    const ssize_t n = read(master_.get(), read_buf_.data(), read_buf_.size());
    if (n > 0) {
      counters_.pty_read_bytes += static_cast<std::size_t>(n);
      decoder_.feed(std::span<const uint8_t>(read_buf_.data(), static_cast<std::size_t>(n)),
                    [this](std::span<const uint8_t> frame) {
                      ++counters_.frames_to_peer;
                      counters_.bytes_to_peer += frame.size();
                      watch_.observe(PppDirection::kFromLocal, frame);
                      if (events_.frame_to_peer) events_.frame_to_peer(frame);
                    });
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // EOF or EIO: every slave descriptor is closed, pppd is gone or going.
    // Any other error also ends the pty: a level-triggered fd that keeps
    // failing would spin the loop.
    if (n < 0 && errno != EIO) ++counters_.pty_errors;
    if (close_reason_.empty()) close_reason_ = "pty hang-up";  // not after our own terminate()
    close_pty();
    terminate();  // ended follows from reap()
    return;
  }
}

void PppdHandler::close_pty() {
  if (!master_) return;
  loop_.remove_fd(master_.get());
  master_.reset();
  want_write_ = false;
  queue_.clear();
  queue_head_ = 0;
}

void PppdHandler::terminate() {
  if (reaped_ || terminating_ || pid_ <= 0) return;
  terminating_ = true;
  if (close_reason_.empty()) close_reason_ = "terminated";
  kill(pid_, SIGTERM);
  ++counters_.sigterm_sent;
  kill_timer_ = loop_.add_timer(loop_.now() + options_.kill_grace,
                                [this](TimePoint) { on_kill_timer(); });
}

void PppdHandler::on_kill_timer() {
  kill_timer_ = TimerId::kNone;
  if (reaped_) return;
  // pppd ignored SIGTERM for the whole grace period (or is stuck).
  kill(pid_, SIGKILL);
  ++counters_.sigkill_sent;
}

bool PppdHandler::reap() {
  if (reaped_ || pid_ <= 0) return false;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  reaped_ = true;
  std::string why;
  if (r < 0) {
    // ECHILD: someone else waited for it (a waitpid(-1) elsewhere). It is
    // gone all the same.
    why = "pppd gone (already reaped elsewhere)";
  } else {
    why = exit_text(status);
  }
  if (!close_reason_.empty()) why += " (" + close_reason_ + ")";
  if (kill_timer_ != TimerId::kNone) {
    loop_.cancel_timer(kill_timer_);
    kill_timer_ = TimerId::kNone;
  }
  // What pppd wrote before it went (an LCP Terminate-Ack) still goes out.
  if (master_) read_pty();
  close_pty();
  // Last act: ended may destroy *this.
  if (auto ended = std::move(events_.ended)) ended(why);
  return true;
}

}  // namespace l2tp::control
