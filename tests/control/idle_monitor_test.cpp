#include "control/idle_monitor.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

namespace l2tp::control {
namespace {

// Simulated time: the monitor is driven at its own next_check(), the way
// the daemon's timer drives it, while "traffic" bumps the counters.
struct Sim {
  IdleMonitor monitor;
  std::map<uint16_t, uint64_t> counts;
  TimePoint now{};
  std::map<uint16_t, TimePoint> hung_up;

  void run_until(TimePoint end, const std::function<void(TimePoint)>& traffic = {}) {
    while (auto next = monitor.next_check()) {
      if (*next > end) break;
      now = *next;
      if (traffic) traffic(now);
      for (uint16_t sid : monitor.check(now, [&](uint16_t s) { return counts[s]; })) hung_up[sid] = now;
    }
    now = end;
  }
};

TEST(IdleMonitor, BusySessionStaysUpAndAnIdleOneIsFoundWithinTheResolution) {
  Sim sim;
  sim.monitor.watch(1, 30s, 0, sim.now);  // busy: a packet every 10 s
  sim.monitor.watch(2, 30s, 0, sim.now);  // silent from the start
  const TimePoint start = sim.now;
  sim.run_until(start + 120s, [&](TimePoint t) {
    if ((t - start) % 10s == 0s) ++sim.counts[1];
  });
  EXPECT_EQ(sim.hung_up.count(1), 0u);
  ASSERT_EQ(sim.hung_up.count(2), 1u);
  EXPECT_GE(sim.hung_up[2] - start, 30s);
  EXPECT_LE(sim.hung_up[2] - start, 31s);
  EXPECT_EQ(sim.monitor.watched(), 1u);
}

TEST(IdleMonitor, TrafficThatStopsStartsTheClock) {
  Sim sim;
  sim.monitor.watch(7, 60s, 100, sim.now);
  const TimePoint start = sim.now;
  // Traffic for 45 s, then nothing: idle at 45 + 60 s.
  sim.run_until(start + 300s, [&](TimePoint t) {
    if (t - start <= 45s) ++sim.counts[7];
  });
  ASSERT_EQ(sim.hung_up.count(7), 1u);
  EXPECT_GE(sim.hung_up[7] - start, 105s);
  EXPECT_LE(sim.hung_up[7] - start, 106s);
}

TEST(IdleMonitor, ForgottenOrUnlimitedSessionsAreNeverHungUp) {
  Sim sim;
  sim.monitor.watch(1, 5s, 0, sim.now);
  sim.monitor.watch(2, 0s, 0, sim.now);  // no limit: not watched
  EXPECT_EQ(sim.monitor.watched(), 1u);
  sim.monitor.forget(1);
  EXPECT_EQ(sim.monitor.next_check(), std::nullopt);  // nothing to wake up for
  sim.run_until(sim.now + 60s);
  EXPECT_TRUE(sim.hung_up.empty());
}

TEST(IdleMonitor, ResolutionSetsHowOftenCountersAreRead) {
  IdleMonitor m(5s);
  TimePoint t{};
  m.watch(1, 30s, 0, t);
  EXPECT_EQ(m.next_check(), t + 5s);
  int reads = 0;
  m.check(t + 5s, [&](uint16_t) { return ++reads, uint64_t{0}; });
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(m.next_check(), t + 10s);
}

class PppdIdleOption : public ::testing::Test {
 protected:
  std::filesystem::path file_ = std::filesystem::temp_directory_path() / ("idle_opt." + std::to_string(getpid()));
  void write(const std::string& text) { std::ofstream(file_) << text; }
  void TearDown() override { std::filesystem::remove(file_); }
};

TEST_F(PppdIdleOption, ReadsTheLastIdleOutsideComments) {
  write("# idle 5\nnoauth\nidle 300 lcp-echo-interval 30\nmtu 1400 # idle 7\n  idle\t600\n");
  EXPECT_EQ(pppd_idle_option(file_), 600u);
}

TEST_F(PppdIdleOption, AbsentMalformedOrMissingIsNone) {
  write("noauth\nmtu 1400\n");
  EXPECT_EQ(pppd_idle_option(file_), std::nullopt);
  write("idle forever\n");
  EXPECT_EQ(pppd_idle_option(file_), std::nullopt);
  write("idle");
  EXPECT_EQ(pppd_idle_option(file_), std::nullopt);
  EXPECT_EQ(pppd_idle_option("/nonexistent/options"), std::nullopt);
}

}  // namespace
}  // namespace l2tp::control
