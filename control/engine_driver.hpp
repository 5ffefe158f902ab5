#pragma once
// Runs an Engine on an EventLoop over a DatagramIo: reads datagrams when the
// seam's fd is readable (or on every pass when it has none, as DPDK rings),
// and keeps one loop timer armed at the Engine's next deadline.

#include <optional>

#include "control/engine.hpp"
#include "control/event_loop.hpp"
#include "control/net.hpp"

namespace l2tp::control {

class EngineDriver {
 public:
  // Registers with the loop; throws std::system_error if the fd cannot be
  // added (start-up only).
  EngineDriver(EventLoop& loop, DatagramIo& io, Engine& engine);
  ~EngineDriver();
  EngineDriver(const EngineDriver&) = delete;
  EngineDriver& operator=(const EngineDriver&) = delete;

  // Call after acting on the Engine from outside (a command opened or
  // closed a tunnel): its next deadline may have moved.
  void reschedule();

  // Datagrams read per readiness event before other events get a turn.
  static constexpr size_t kMaxBatchesPerEvent = 8;

 private:
  void drain(TimePoint now);

  EventLoop& loop_;
  DatagramIo& io_;
  Engine& engine_;
  TimerId timer_ = TimerId::kNone;
  std::optional<TimePoint> armed_;
  PollerId poller_ = PollerId::kNone;
};

}  // namespace l2tp::control
