#pragma once
// The control thread's one event loop (DESIGN.md "Processes and threads"):
// fd readiness through epoll, timers through one timerfd, signals through
// one signalfd, and pollers for what has no fd (the DPDK rings).
//
// The loop is the only place in the control plane that reads the real
// clock: every callback gets `now`, and the protocol objects take it from
// there (they run on simulated time in the tests).
//
// Single-threaded: every member is for the loop's own thread, except stop()
// and EventFdKick::kick(), which any thread (or a signal handler) may call.
// Callbacks may add and remove fds, timers and pollers, including their own;
// they must not call run() or run_once() (the loop is not reentrant) nor
// destroy the loop.
//
// One pass of run_once(): wait (epoll_wait) -> fd callbacks (the timerfd and
// signalfd among them) -> timers whose deadline has passed, in deadline
// order -> every poller. A pass in which some poller did work does not wait
// at all before the next one, so a busy ring is drained at full speed.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace l2tp::control {

// The control plane's time types (same aliases as control/transport.hpp).
// steady_clock is CLOCK_MONOTONIC on Linux, the clock the timerfd runs on.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

// Owns one file descriptor and closes it. For the loop's own fds and the
// other fd owners of the control thread (socket, ptys, FIFO).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) noexcept;  // closes the fd held, if any

 private:
  int fd_ = -1;
};

// 0 is never a valid ID, so a default TimerId{} means "no timer".
enum class TimerId : uint64_t { kNone = 0 };
enum class PollerId : uint64_t { kNone = 0 };

struct EventLoopCounters {
  uint64_t passes = 0;          // run_once() calls
  uint64_t fd_callbacks = 0;    // registered fd callbacks run (own fds excluded)
  uint64_t timers_fired = 0;
  uint64_t signals = 0;         // signal callbacks run
  uint64_t poller_work = 0;     // poller calls that returned true
  uint64_t errors = 0;          // reported through the error handler
};

class EventLoop {
 public:
  // events: the EPOLL* bits that are ready (EPOLLIN, EPOLLOUT, EPOLLHUP...).
  using FdCallback = std::function<void(uint32_t events, TimePoint now)>;
  using TimerCallback = std::function<void(TimePoint now)>;
  using SignalCallback = std::function<void(int signo, TimePoint now)>;
  // Returns whether it did work (took something off a ring): a loop whose
  // pollers are busy does not wait before the next pass.
  using PollerCallback = std::function<bool(TimePoint now)>;
  // what: the failing call ("epoll_wait", "read timerfd"...).
  using ErrorCallback = std::function<void(std::string_view what, std::error_code error)>;

  static constexpr Duration kDefaultPollInterval = std::chrono::milliseconds(1);
  // run_once(kForever) waits until something happens.
  static constexpr Duration kForever = Duration::max();

  // Creates the epoll fd, the timerfd and the wake-up eventfd. Throws
  // std::system_error (start-up only).
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // --- File descriptors. The loop does not own them: remove_fd before
  // close, or a later fd with the same number would be confused with it.
  // Level-triggered: a callback that leaves data unread is called again on
  // the next pass. A callback is never run after its fd was removed, even
  // for an event already returned by the same epoll_wait.
  [[nodiscard]] std::error_code add_fd(int fd, uint32_t events, FdCallback callback);
  [[nodiscard]] std::error_code modify_fd(int fd, uint32_t events);
  // Safe from inside any callback, that fd's own included.
  std::error_code remove_fd(int fd);

  // --- Timers. One-shot; a deadline already passed fires on the next pass.
  // Timers with equal deadlines fire in the order they were added.
  TimerId add_timer(TimePoint deadline, TimerCallback callback);
  // True if the timer was pending (false: fired, cancelled or unknown).
  bool cancel_timer(TimerId id);
  size_t pending_timers() const { return timers_.size(); }
  // Heap entries, lazily cancelled ones included: purged whenever they
  // outnumber the pending timers (plus a small slack), so a tunnel that
  // re-arms its timer on every message cannot grow the heap without bound.
  size_t timer_queue_size() const { return heap_.size(); }

  // --- Signals. Blocks signo in the calling thread (pthread_sigmask) and
  // reads it through the loop's signalfd. A signal is delivered to a
  // signalfd only if it is blocked in EVERY thread (otherwise the kernel may
  // run its default action in a thread that has it unblocked, killing the
  // daemon on SIGTERM): call add_signal for SIGTERM, SIGINT, SIGHUP, SIGUSR1
  // and SIGCHLD before creating any other thread. DPDK's EAL lcore threads
  // inherit the mask of the thread that calls rte_eal_init, so call it
  // before EAL init too. A child created with fork/exec (pppd) inherits the
  // blocked mask as well: unblock in the child before exec. Signals of one
  // kind coalesce while pending (one SIGCHLD for several children: reap with
  // waitpid(WNOHANG) in a loop). A second add_signal for the same signo
  // replaces its callback. Throws std::system_error (start-up only).
  void add_signal(int signo, SignalCallback callback);

  // --- Pollers, for sources with no fd (DPDK rings). Called once per pass.
  // While any is registered, the wait is bounded by the poll interval
  // instead of infinite. The alternative with no latency and no idle
  // wake-ups is an EventFdKick that the producer thread kicks.
  PollerId add_poller(PollerCallback callback);
  bool remove_poller(PollerId id);
  // epoll_wait counts in milliseconds: an interval under 1 ms waits 1 ms.
  void set_poll_interval(Duration interval) { poll_interval_ = interval; }

  // Errors inside run() (never at set-up) go here and into counters().errors;
  // the loop carries on. EINTR is retried, never reported.
  void set_error_handler(ErrorCallback handler) { on_error_ = std::move(handler); }

  // Runs passes until stop(). A stop() before run() makes run() return at
  // once; the request is consumed either way, so run() can be called again.
  void run();
  // Thread-safe and async-signal-safe: ends run() after the current pass.
  void stop() noexcept;

  // One pass, waiting at most max_wait (rounded up to milliseconds; 0 = do
  // not wait; kForever = until an event). Returns the number of callbacks
  // that did something: fd callbacks, timers, signals, pollers returning
  // true. For tests and for a caller that owns the loop's thread.
  size_t run_once(Duration max_wait);

  // The real clock: the one read of it the control plane makes.
  TimePoint now() const { return Clock::now(); }

  const EventLoopCounters& counters() const { return counters_; }

 private:
  struct FdEntry {
    uint32_t generation;  // epoll_event.data says which registration fired
    std::shared_ptr<FdCallback> callback;  // shared: kept alive while it runs
    bool internal;        // the loop's own fd: not counted as user work
  };
  struct HeapEntry {
    TimePoint deadline;
    uint64_t id;  // tie-break: equal deadlines fire in order added
  };
  struct Poller {
    uint64_t id;
    std::shared_ptr<PollerCallback> callback;  // null once removed
  };

  std::error_code register_fd(int fd, uint32_t events, FdCallback callback, bool internal);
  void report(std::string_view what, int err);
  void arm_timerfd();
  void drain_fd(int fd, const char* what);
  void read_signals(TimePoint now);
  void fire_due_timers(TimePoint now);
  bool run_pollers(TimePoint now);
  void purge_cancelled_timers();
  void compact_pollers();

  UniqueFd epoll_;
  UniqueFd timerfd_;
  UniqueFd wake_;      // eventfd: stop() from another thread
  UniqueFd signalfd_;  // created by the first add_signal

  std::unordered_map<int, FdEntry> fds_;
  uint32_t next_generation_ = 1;

  std::vector<HeapEntry> heap_;  // min-heap on (deadline, id)
  std::unordered_map<uint64_t, TimerCallback> timers_;  // the pending ones
  uint64_t next_timer_id_ = 1;
  TimePoint armed_deadline_{};  // what the timerfd is set to
  bool armed_ = false;
  std::vector<HeapEntry> due_;  // reused by fire_due_timers

  std::unordered_map<int, std::shared_ptr<SignalCallback>> signals_;
  uint64_t signal_mask_ = 0;  // bit signo-1: the signals in the signalfd

  std::vector<Poller> pollers_;
  uint64_t next_poller_id_ = 1;
  size_t live_pollers_ = 0;
  bool pollers_dirty_ = false;  // removed entries to compact
  bool running_pollers_ = false;
  bool pollers_did_work_ = false;
  Duration poll_interval_ = kDefaultPollInterval;

  std::atomic<bool> stop_requested_{false};
  ErrorCallback on_error_;
  EventLoopCounters counters_;
};

// Wakes the loop from another thread: an eventfd registered in the loop.
// The alternative to a poller for a DPDK ring (worker -> control): no idle
// wake-ups and no poll-interval latency, at the price of one write(2) in the
// worker when the control thread has gone idle.
//
// Protocol. The worker enqueues, then calls kick(). kick() makes the
// syscall only if the loop has "armed" the kick since the last one, so
// calling it after every enqueue costs one atomic load while the control
// thread is busy. The loop arms just before each on_kick call, and on_kick
// drains the ring. Kicking only "when the ring goes from empty to
// non-empty" would lose a wake-up: the worker can see one last item still
// there, not kick, and the control thread then take that item, find the
// ring empty and sleep with the new item behind it. Arming before draining
// closes that window (both sides order their ring access and the flag with
// a seq_cst fence): either on_kick sees the item, or kick() sees the arm.
//
// on_kick should drain everything; if it stops early (fairness), it calls
// kick() itself to be called again on the next pass.
class EventFdKick {
 public:
  using Callback = std::function<void(TimePoint now)>;

  // Throws std::system_error (start-up only). The loop must outlive this.
  EventFdKick(EventLoop& loop, Callback on_kick);
  ~EventFdKick();
  EventFdKick(const EventFdKick&) = delete;
  EventFdKick& operator=(const EventFdKick&) = delete;

  // Any thread, async-signal-safe, no allocation: wakes the loop (once per
  // arm) so that it calls on_kick.
  void kick() noexcept;

  int fd() const { return fd_.get(); }

 private:
  EventLoop& loop_;
  UniqueFd fd_;
  Callback on_kick_;
  std::atomic<bool> armed_{true};  // the first kick always wakes
};

}  // namespace l2tp::control
