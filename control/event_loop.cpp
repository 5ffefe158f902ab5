#include "control/event_loop.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <string>

namespace l2tp::control {

namespace {

// One epoll_wait returns at most this many events; the rest wait for the
// next pass (level-triggered, nothing is lost).
constexpr int kMaxEvents = 64;
// Cancelled timers may stay in the heap until they outnumber the pending
// ones by this much: the purge is then amortised over as many cancels.
constexpr size_t kTimerHeapSlack = 64;

std::system_error setup_error(int err, const std::string& what) {
  return std::system_error(err, std::system_category(), "event loop: " + what);
}

// Reads an eventfd or timerfd counter. 0, or the errno of a failed read;
// EAGAIN (nothing to read: a spurious wake-up) counts as success.
int read_counter(int fd) {
  uint64_t value;
  for (;;) {
    if (::read(fd, &value, sizeof value) >= 0) return 0;
    if (errno == EINTR) continue;
    return errno == EAGAIN ? 0 : errno;
  }
}

void write_counter(int fd) {
  uint64_t one = 1;
  // Fails only with EAGAIN when the counter would overflow, and then the fd
  // is readable anyway: the wake-up is already pending.
  ssize_t r = ::write(fd, &one, sizeof one);
  (void)r;
}

// epoll data: the fd and the registration it belongs to, so that an event
// already returned for a removed (or removed and re-added) fd is ignored.
uint64_t fd_token(int fd, uint32_t generation) {
  return (uint64_t{generation} << 32) | static_cast<uint32_t>(fd);
}

// Min-heap order on (deadline, id) for the std::*_heap functions.
struct Later {
  template <class E>
  bool operator()(const E& a, const E& b) const {
    return a.deadline != b.deadline ? a.deadline > b.deadline : a.id > b.id;
  }
};

timespec to_timespec(TimePoint t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  // A zero it_value disarms a timerfd: a deadline at or before the clock's
  // epoch must still fire, so it becomes the earliest time that arms it.
  if (ns <= 0) return timespec{0, 1};
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

int to_timeout_ms(Duration wait) {
  if (wait == EventLoop::kForever) return -1;
  if (wait <= Duration::zero()) return 0;
  // Round up: rounding down would wake before the bound and spin.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, INT_MAX));
}

}  // namespace

void UniqueFd::reset(int fd) noexcept {
  // close() is not retried on EINTR: Linux has released the fd already.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

EventLoop::EventLoop() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) throw setup_error(errno, "epoll_create1");
  timerfd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timerfd_) throw setup_error(errno, "timerfd_create(CLOCK_MONOTONIC)");
  wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_) throw setup_error(errno, "eventfd");

  // The timerfd only wakes the wait; fire_due_timers runs on every pass.
  auto ec = register_fd(timerfd_.get(), EPOLLIN, [this](uint32_t, TimePoint) {
    // Expired, so disarmed: the next pass arms it again if timers remain.
    armed_ = false;
    if (int err = read_counter(timerfd_.get())) report("read timerfd", err);
  }, true);
  if (ec) throw setup_error(ec.value(), "epoll_ctl(timerfd)");
  ec = register_fd(wake_.get(), EPOLLIN, [this](uint32_t, TimePoint) {
    if (int err = read_counter(wake_.get())) report("read wake eventfd", err);
  }, true);
  if (ec) throw setup_error(ec.value(), "epoll_ctl(eventfd)");
}

EventLoop::~EventLoop() = default;

std::error_code EventLoop::add_fd(int fd, uint32_t events, FdCallback callback) {
  return register_fd(fd, events, std::move(callback), false);
}

std::error_code EventLoop::register_fd(int fd, uint32_t events, FdCallback callback, bool internal) {
  if (fd < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  if (fds_.contains(fd)) return std::make_error_code(std::errc::file_exists);
  uint32_t generation = next_generation_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = fd_token(fd, generation);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
    return std::error_code(errno, std::system_category());
  fds_.emplace(fd, FdEntry{generation, std::make_shared<FdCallback>(std::move(callback)), internal});
  return {};
}

std::error_code EventLoop::modify_fd(int fd, uint32_t events) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return std::make_error_code(std::errc::no_such_file_or_directory);
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = fd_token(fd, it->second.generation);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) < 0)
    return std::error_code(errno, std::system_category());
  return {};
}

std::error_code EventLoop::remove_fd(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return std::make_error_code(std::errc::no_such_file_or_directory);
  // Forget the registration even if epoll_ctl fails (fd closed already:
  // the kernel has dropped it from the epoll set by itself).
  // A callback running right now keeps its own reference (run_once).
  fds_.erase(it);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr) < 0)
    return std::error_code(errno, std::system_category());
  return {};
}

TimerId EventLoop::add_timer(TimePoint deadline, TimerCallback callback) {
  uint64_t id = next_timer_id_++;
  timers_.emplace(id, std::move(callback));
  heap_.push_back(HeapEntry{deadline, id});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  return TimerId{id};
}

bool EventLoop::cancel_timer(TimerId id) {
  // Lazy: the heap entry stays until it reaches the top or a purge.
  if (timers_.erase(static_cast<uint64_t>(id)) == 0) return false;
  if (heap_.size() > 2 * timers_.size() + kTimerHeapSlack) purge_cancelled_timers();
  return true;
}

void EventLoop::purge_cancelled_timers() {
  std::erase_if(heap_, [this](const HeapEntry& e) { return !timers_.contains(e.id); });
  std::make_heap(heap_.begin(), heap_.end(), Later{});
}

void EventLoop::add_signal(int signo, SignalCallback callback) {
  if (signo <= 0 || signo > 64 || signo == SIGKILL || signo == SIGSTOP)
    throw setup_error(EINVAL, "add_signal(" + std::to_string(signo) + ")");
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signo);
  if (int err = ::pthread_sigmask(SIG_BLOCK, &one, nullptr))
    throw setup_error(err, "pthread_sigmask(SIG_BLOCK, " + std::to_string(signo) + ")");
  signals_[signo] = std::make_shared<SignalCallback>(std::move(callback));

  uint64_t bit = uint64_t{1} << (signo - 1);
  if (signal_mask_ & bit) return;
  sigset_t all;
  sigemptyset(&all);
  for (int s = 1; s <= 64; ++s)
    if (((signal_mask_ | bit) >> (s - 1)) & 1) sigaddset(&all, s);
  // Passing the existing signalfd updates its mask in place.
  int fd = ::signalfd(signalfd_ ? signalfd_.get() : -1, &all, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw setup_error(errno, "signalfd");
  signal_mask_ |= bit;
  if (!signalfd_) {
    signalfd_.reset(fd);
    auto ec = register_fd(fd, EPOLLIN, [this](uint32_t, TimePoint now) { read_signals(now); }, true);
    if (ec) throw setup_error(ec.value(), "epoll_ctl(signalfd)");
  }
}

void EventLoop::read_signals(TimePoint now) {
  signalfd_siginfo info[8];
  for (;;) {
    ssize_t r = ::read(signalfd_.get(), info, sizeof info);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) report("read signalfd", errno);
      return;
    }
    size_t n = static_cast<size_t>(r) / sizeof info[0];
    for (size_t i = 0; i < n; ++i) {
      auto it = signals_.find(static_cast<int>(info[i].ssi_signo));
      if (it == signals_.end()) continue;
      auto callback = it->second;  // survives a replacement from inside
      ++counters_.signals;
      (*callback)(static_cast<int>(info[i].ssi_signo), now);
    }
    if (n < std::size(info)) return;
  }
}

PollerId EventLoop::add_poller(PollerCallback callback) {
  uint64_t id = next_poller_id_++;
  pollers_.push_back(Poller{id, std::make_shared<PollerCallback>(std::move(callback))});
  ++live_pollers_;
  return PollerId{id};
}

bool EventLoop::remove_poller(PollerId id) {
  for (auto& p : pollers_) {
    if (p.id != static_cast<uint64_t>(id) || !p.callback) continue;
    // Only cleared here: run_pollers may be iterating over the vector.
    p.callback.reset();
    --live_pollers_;
    pollers_dirty_ = true;
    if (!running_pollers_) compact_pollers();
    return true;
  }
  return false;
}

void EventLoop::compact_pollers() {
  std::erase_if(pollers_, [](const Poller& p) { return !p.callback; });
  pollers_dirty_ = false;
}

bool EventLoop::run_pollers(TimePoint now) {
  if (live_pollers_ == 0) return false;
  bool did_work = false;
  running_pollers_ = true;
  // By index, with a reference held: a poller may add or remove pollers.
  for (size_t i = 0; i < pollers_.size(); ++i) {
    auto callback = pollers_[i].callback;
    if (!callback) continue;
    if ((*callback)(now)) {
      did_work = true;
      ++counters_.poller_work;
    }
  }
  running_pollers_ = false;
  if (pollers_dirty_) compact_pollers();
  return did_work;
}

void EventLoop::arm_timerfd() {
  // The top must be a pending timer, or the timerfd would wake us for a
  // cancelled one.
  while (!heap_.empty() && !timers_.contains(heap_.front().id)) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
  itimerspec spec{};
  if (heap_.empty()) {
    if (!armed_) return;
  } else {
    TimePoint deadline = heap_.front().deadline;
    if (armed_ && deadline == armed_deadline_) return;
    spec.it_value = to_timespec(deadline);
    armed_deadline_ = deadline;
  }
  // TFD_TIMER_ABSTIME: a deadline already passed expires at once.
  if (::timerfd_settime(timerfd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) < 0) {
    report("timerfd_settime", errno);
    armed_ = false;
    return;
  }
  armed_ = !heap_.empty();
}

void EventLoop::fire_due_timers(TimePoint now) {
  // Take the due ones first: a timer added by a callback, even one already
  // due, waits for the next pass, so a timer that re-adds itself at `now`
  // cannot keep this pass going for ever.
  due_.clear();
  while (!heap_.empty() && heap_.front().deadline <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    due_.push_back(heap_.back());
    heap_.pop_back();
  }
  for (const HeapEntry& e : due_) {
    auto it = timers_.find(e.id);
    if (it == timers_.end()) continue;  // cancelled, maybe by an earlier one
    TimerCallback callback = std::move(it->second);
    timers_.erase(it);
    ++counters_.timers_fired;
    callback(now);
  }
}

void EventLoop::report(std::string_view what, int err) {
  ++counters_.errors;
  if (on_error_) on_error_(what, std::error_code(err, std::system_category()));
}

size_t EventLoop::run_once(Duration max_wait) {
  auto work = [this] {
    return counters_.fd_callbacks + counters_.timers_fired + counters_.signals + counters_.poller_work;
  };
  const uint64_t work_before = work();
  ++counters_.passes;

  arm_timerfd();
  Duration wait = max_wait;
  if (live_pollers_ > 0) wait = pollers_did_work_ ? Duration::zero() : std::min(wait, poll_interval_);

  epoll_event events[kMaxEvents];
  int n;
  do {
    n = ::epoll_wait(epoll_.get(), events, kMaxEvents, to_timeout_ms(wait));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    report("epoll_wait", errno);
    n = 0;
  }

  TimePoint t = now();
  for (int i = 0; i < n; ++i) {
    uint64_t token = events[i].data.u64;
    auto it = fds_.find(static_cast<int>(static_cast<uint32_t>(token)));
    if (it == fds_.end() || it->second.generation != static_cast<uint32_t>(token >> 32))
      continue;  // removed by an earlier callback of this pass
    // Our own reference: the callback may remove its fd and so destroy the
    // entry's copy while it runs.
    auto callback = it->second.callback;
    if (!it->second.internal) ++counters_.fd_callbacks;
    (*callback)(events[i].events, t);
  }

  t = now();
  fire_due_timers(t);
  pollers_did_work_ = run_pollers(t);
  return static_cast<size_t>(work() - work_before);
}

void EventLoop::run() {
  while (!stop_requested_.exchange(false, std::memory_order_acq_rel)) run_once(kForever);
}

void EventLoop::stop() noexcept {
  stop_requested_.store(true, std::memory_order_release);
  write_counter(wake_.get());  // wakes a wait in progress
}

EventFdKick::EventFdKick(EventLoop& loop, Callback on_kick)
    : loop_(loop), on_kick_(std::move(on_kick)) {
  fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd_) throw setup_error(errno, "EventFdKick eventfd");
  auto ec = loop_.add_fd(fd_.get(), EPOLLIN, [this](uint32_t, TimePoint now) {
    read_counter(fd_.get());  // only EAGAIN can fail, and that is harmless
    // Arm before on_kick looks at the ring (the protocol in the header).
    armed_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    on_kick_(now);
  });
  if (ec) throw setup_error(ec.value(), "EventFdKick epoll_ctl");
}

EventFdKick::~EventFdKick() { loop_.remove_fd(fd_.get()); }

void EventFdKick::kick() noexcept {
  // Orders the caller's ring enqueue before the look at armed_.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (armed_.load(std::memory_order_relaxed) && armed_.exchange(false, std::memory_order_acq_rel))
    write_counter(fd_.get());
}

}  // namespace l2tp::control
