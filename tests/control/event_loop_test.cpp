// The control thread's event loop on the real clock and real fds. No test
// sleeps: every wait is the loop's own, with a generous bound that only a
// broken loop reaches.

#include "control/event_loop.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace l2tp::control;
using namespace std::chrono_literals;

namespace {

// Far longer than any of these waits takes: reached only when broken.
constexpr Duration kGuard = 10s;

// Runs passes until done() or kGuard has passed; returns done().
template <class Pred>
bool run_until(EventLoop& loop, Pred done) {
  const TimePoint give_up = loop.now() + kGuard;
  while (!done()) {
    TimePoint now = loop.now();
    if (now >= give_up) return false;
    loop.run_once(give_up - now);
  }
  return true;
}

UniqueFd make_eventfd() {
  UniqueFd fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  EXPECT_TRUE(fd) << "eventfd: " << errno;
  return fd;
}

void signal_fd(int fd) {
  uint64_t one = 1;
  ASSERT_EQ(::write(fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
}

void drain(int fd) {
  uint64_t value;
  ssize_t r = ::read(fd, &value, sizeof value);
  (void)r;
}

}  // namespace

TEST(EventLoop, TimersFireInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> fired;
  const TimePoint base = loop.now();
  loop.add_timer(base + 3ms, [&](TimePoint) { fired.push_back(3); });
  loop.add_timer(base + 1ms, [&](TimePoint) { fired.push_back(1); });
  loop.add_timer(base - 1s, [&](TimePoint) { fired.push_back(0); });  // already due
  loop.add_timer(base + 2ms, [&](TimePoint) { fired.push_back(2); });
  ASSERT_TRUE(run_until(loop, [&] { return fired.size() == 4; }));
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(loop.pending_timers(), 0u);
}

TEST(EventLoop, TimersWithEqualDeadlinesFireInOrderAdded) {
  EventLoop loop;
  std::vector<int> fired;
  const TimePoint deadline = loop.now();
  for (int i = 0; i < 5; ++i) loop.add_timer(deadline, [&fired, i](TimePoint) { fired.push_back(i); });
  ASSERT_TRUE(run_until(loop, [&] { return fired.size() == 5; }));
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EventLoop, TimerWakesABlockedWaitNoEarlierThanItsDeadline) {
  EventLoop loop;
  const TimePoint deadline = loop.now() + 5ms;
  std::optional<TimePoint> fired_at;
  loop.add_timer(deadline, [&](TimePoint now) { fired_at = now; });
  // Nothing else can wake this wait: only the timerfd ends it early.
  while (!fired_at && loop.now() < deadline + kGuard) loop.run_once(kGuard);
  ASSERT_TRUE(fired_at);
  EXPECT_GE(*fired_at, deadline);
}

TEST(EventLoop, CancelledTimerNeverFires) {
  EventLoop loop;
  bool cancelled_fired = false;
  bool other_fired = false;
  const TimePoint base = loop.now();
  TimerId id = loop.add_timer(base + 1ms, [&](TimePoint) { cancelled_fired = true; });
  loop.add_timer(base + 3ms, [&](TimePoint) { other_fired = true; });
  EXPECT_TRUE(loop.cancel_timer(id));
  EXPECT_FALSE(loop.cancel_timer(id));  // once only
  ASSERT_TRUE(run_until(loop, [&] { return other_fired; }));
  EXPECT_FALSE(cancelled_fired);
}

TEST(EventLoop, TimerCancelledByAnEarlierTimerOfTheSamePassNeverFires) {
  EventLoop loop;
  const TimePoint past = loop.now() - 1s;
  bool second_fired = false;
  TimerId second{};
  loop.add_timer(past, [&](TimePoint) { loop.cancel_timer(second); });
  second = loop.add_timer(past + 1ms, [&](TimePoint) { second_fired = true; });
  loop.run_once(0s);
  EXPECT_EQ(loop.counters().timers_fired, 1u);
  EXPECT_FALSE(second_fired);
}

TEST(EventLoop, CancelledTimersDoNotAccumulateInTheHeap) {
  EventLoop loop;
  const TimePoint far = loop.now() + 1h;
  // A tunnel re-arming its retransmission timer on every message.
  TimerId id = loop.add_timer(far, [](TimePoint) {});
  for (int i = 0; i < 100000; ++i) {
    loop.cancel_timer(id);
    id = loop.add_timer(far + std::chrono::milliseconds(i), [](TimePoint) {});
    ASSERT_LE(loop.timer_queue_size(), 2 * loop.pending_timers() + 65);
  }
  EXPECT_EQ(loop.pending_timers(), 1u);
}

TEST(EventLoop, TimerAddedFromACallbackFires) {
  EventLoop loop;
  std::vector<int> fired;
  loop.add_timer(loop.now(), [&](TimePoint now) {
    fired.push_back(1);
    loop.add_timer(now + 1ms, [&](TimePoint) { fired.push_back(2); });
  });
  ASSERT_TRUE(run_until(loop, [&] { return fired.size() == 2; }));
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
}

TEST(EventLoop, TimerReaddingItselfAtNowWaitsForTheNextPass) {
  EventLoop loop;
  int fired = 0;
  std::function<void(TimePoint)> again = [&](TimePoint now) {
    ++fired;
    loop.add_timer(now, again);
  };
  loop.add_timer(loop.now(), again);
  loop.run_once(0s);
  EXPECT_EQ(fired, 1);
  loop.run_once(kGuard);  // the timerfd, armed in the past, wakes at once
  EXPECT_EQ(fired, 2);
}

TEST(EventLoop, FdCallbackRunsWhenReadable) {
  EventLoop loop;
  UniqueFd efd = make_eventfd();
  std::vector<uint32_t> seen;
  ASSERT_FALSE(loop.add_fd(efd.get(), EPOLLIN, [&](uint32_t events, TimePoint) {
    seen.push_back(events);
    drain(efd.get());
  }));
  EXPECT_EQ(loop.run_once(0s), 0u);
  EXPECT_TRUE(seen.empty());
  signal_fd(efd.get());
  EXPECT_EQ(loop.run_once(kGuard), 1u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0] & EPOLLIN);
  EXPECT_FALSE(loop.remove_fd(efd.get()));
}

TEST(EventLoop, AddingAnFdTwiceIsAnError) {
  EventLoop loop;
  UniqueFd efd = make_eventfd();
  ASSERT_FALSE(loop.add_fd(efd.get(), EPOLLIN, [](uint32_t, TimePoint) {}));
  EXPECT_EQ(loop.add_fd(efd.get(), EPOLLIN, [](uint32_t, TimePoint) {}), std::errc::file_exists);
  EXPECT_FALSE(loop.remove_fd(efd.get()));
  EXPECT_EQ(loop.remove_fd(efd.get()), std::errc::no_such_file_or_directory);
}

TEST(EventLoop, ModifyFdChangesTheEventsWaitedFor) {
  EventLoop loop;
  UniqueFd efd = make_eventfd();  // always writable, readable only when signalled
  uint32_t seen = 0;
  ASSERT_FALSE(loop.add_fd(efd.get(), EPOLLIN, [&](uint32_t events, TimePoint) { seen |= events; }));
  loop.run_once(0s);
  EXPECT_EQ(seen, 0u);
  ASSERT_FALSE(loop.modify_fd(efd.get(), EPOLLOUT));
  loop.run_once(kGuard);
  EXPECT_EQ(seen, static_cast<uint32_t>(EPOLLOUT));
  EXPECT_FALSE(loop.remove_fd(efd.get()));
}

TEST(EventLoop, RemovingAnFdInsideItsOwnCallbackIsSafe) {
  EventLoop loop;
  UniqueFd efd = make_eventfd();
  int calls = 0;
  // State captured by the callback: ASan would catch its use after the
  // registration (and the std::function holding it) was destroyed.
  auto state = std::make_shared<std::string>(1000, 'x');
  ASSERT_FALSE(loop.add_fd(efd.get(), EPOLLIN, [&loop, &calls, fd = efd.get(), state](uint32_t, TimePoint) {
    ++calls;
    EXPECT_FALSE(loop.remove_fd(fd));
    EXPECT_EQ(state->size(), 1000u);  // still alive after the removal
  }));
  state.reset();
  signal_fd(efd.get());
  loop.run_once(kGuard);
  EXPECT_EQ(calls, 1);
  loop.run_once(0s);  // still readable, but no longer registered
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, FdRemovedByAnEarlierCallbackOfTheSamePassIsNotCalled) {
  EventLoop loop;
  UniqueFd a = make_eventfd();
  UniqueFd b = make_eventfd();
  int originals = 0;
  int readded = 0;
  // Both are ready in one epoll_wait; whichever runs first removes the
  // other and registers it again: the other's event from that wait belongs
  // to the old registration and must be dropped, not given to the new one.
  auto first = [&](int other) {
    return [&, other](uint32_t, TimePoint) {
      ++originals;
      drain(other == a.get() ? b.get() : a.get());  // its own fd
      EXPECT_FALSE(loop.remove_fd(other));
      EXPECT_FALSE(loop.add_fd(other, EPOLLIN, [&, other](uint32_t, TimePoint) {
        ++readded;
        drain(other);
      }));
    };
  };
  ASSERT_FALSE(loop.add_fd(a.get(), EPOLLIN, first(b.get())));
  ASSERT_FALSE(loop.add_fd(b.get(), EPOLLIN, first(a.get())));
  signal_fd(a.get());
  signal_fd(b.get());
  // Both events come back from one wait: eventfds are readable already.
  loop.run_once(kGuard);
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(readded, 0);
  loop.run_once(kGuard);  // level-triggered: the new registration sees it now
  EXPECT_EQ(readded, 1);
}

TEST(EventLoop, SignalIsDeliveredThroughSignalfd) {
  EventLoop loop;
  std::vector<int> seen;
  loop.add_signal(SIGUSR1, [&](int signo, TimePoint) { seen.push_back(signo); });
  sigset_t mask;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, nullptr, &mask), 0);
  EXPECT_TRUE(sigismember(&mask, SIGUSR1));  // blocked, not handled
  ASSERT_EQ(::raise(SIGUSR1), 0);
  ASSERT_TRUE(run_until(loop, [&] { return !seen.empty(); }));
  EXPECT_EQ(seen, (std::vector<int>{SIGUSR1}));
  EXPECT_EQ(loop.counters().signals, 1u);
}

TEST(EventLoop, TwoSignalsShareTheOneSignalfd) {
  EventLoop loop;
  std::vector<int> seen;
  loop.add_signal(SIGUSR1, [&](int signo, TimePoint) { seen.push_back(signo); });
  loop.add_signal(SIGUSR2, [&](int signo, TimePoint) { seen.push_back(signo); });
  ASSERT_EQ(::raise(SIGUSR2), 0);
  ASSERT_EQ(::raise(SIGUSR1), 0);
  ASSERT_TRUE(run_until(loop, [&] { return seen.size() == 2; }));
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int>{SIGUSR1, SIGUSR2}));
}

TEST(EventLoop, PollersAreCalledEveryPassAndTheWaitIsBounded) {
  EventLoop loop;
  loop.set_poll_interval(1ms);
  int calls = 0;
  bool guard_fired = false;
  loop.add_timer(loop.now() + kGuard, [&](TimePoint) {
    guard_fired = true;
    loop.stop();
  });
  // Idle: returns false. Nothing else is ready, so only the bounded wait
  // lets run() come back for the next pass.
  loop.add_poller([&](TimePoint) {
    if (++calls == 5) loop.stop();
    return false;
  });
  loop.run();
  EXPECT_FALSE(guard_fired);
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(loop.counters().passes, 5u);
}

TEST(EventLoop, RemovedPollerIsNotCalledAgain) {
  EventLoop loop;
  int calls = 0;
  PollerId id{};
  id = loop.add_poller([&](TimePoint) {
    ++calls;
    EXPECT_TRUE(loop.remove_poller(id));  // from inside itself
    return true;
  });
  loop.run_once(0s);
  loop.run_once(0s);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(loop.remove_poller(id));
}

TEST(EventFdKick, WakesALoopBlockedInAnotherThread) {
  EventLoop loop;
  int kicks = 0;
  EventFdKick kick(loop, [&](TimePoint) { ++kicks; });
  // The worker may kick before or after run_once starts waiting: either
  // way the eventfd is readable and the wait ends.
  std::thread worker([&] { kick.kick(); });
  loop.run_once(kGuard);
  worker.join();
  EXPECT_EQ(kicks, 1);
}

TEST(EventFdKick, KicksWithoutAnArmMakeOneWakeUp) {
  EventLoop loop;
  int kicks = 0;
  EventFdKick kick(loop, [&](TimePoint) { ++kicks; });
  kick.kick();
  kick.kick();  // not armed again yet: no second write
  loop.run_once(kGuard);
  EXPECT_EQ(kicks, 1);
  loop.run_once(0s);
  EXPECT_EQ(kicks, 1);
  kick.kick();  // on_kick armed it
  loop.run_once(kGuard);
  EXPECT_EQ(kicks, 2);
}

TEST(EventFdKick, KickFromOnKickRunsItAgainNextPass) {
  EventLoop loop;
  int kicks = 0;
  EventFdKick* self = nullptr;
  EventFdKick kick(loop, [&](TimePoint) {
    if (++kicks == 1) self->kick();  // left work behind for fairness
  });
  self = &kick;
  kick.kick();
  loop.run_once(kGuard);
  loop.run_once(kGuard);
  EXPECT_EQ(kicks, 2);
}

TEST(EventLoop, StopEndsRun) {
  EventLoop loop;
  bool later_fired = false;
  const TimePoint now = loop.now();
  loop.add_timer(now + 1ms, [&](TimePoint) { loop.stop(); });
  loop.add_timer(now + kGuard, [&](TimePoint) {
    later_fired = true;
    loop.stop();
  });
  loop.run();
  EXPECT_FALSE(later_fired);
  EXPECT_EQ(loop.pending_timers(), 1u);
}

TEST(EventLoop, StopFromAnotherThreadEndsRun) {
  EventLoop loop;
  bool guard_fired = false;
  loop.add_timer(loop.now() + kGuard, [&](TimePoint) {
    guard_fired = true;
    loop.stop();
  });
  std::thread other([&] { loop.stop(); });
  loop.run();
  other.join();
  EXPECT_FALSE(guard_fired);
}
