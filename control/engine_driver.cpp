#include "control/engine_driver.hpp"

#include <sys/epoll.h>

#include <system_error>

namespace l2tp::control {

EngineDriver::EngineDriver(EventLoop& loop, DatagramIo& io, Engine& engine)
    : loop_(loop), io_(io), engine_(engine) {
  if (io_.wait_fd() >= 0) {
    if (auto ec = loop_.add_fd(io_.wait_fd(), EPOLLIN, [this](uint32_t, TimePoint now) { drain(now); }))
      throw std::system_error(ec, "event loop: cannot watch the L2TP socket");
  } else {
    poller_ = loop_.add_poller([this](TimePoint now) {
      const uint64_t before = io_.counters().rx_datagrams;
      drain(now);
      return io_.counters().rx_datagrams != before;
    });
  }
  reschedule();
}

EngineDriver::~EngineDriver() {
  if (io_.wait_fd() >= 0) loop_.remove_fd(io_.wait_fd());
  if (poller_ != PollerId::kNone) loop_.remove_poller(poller_);
  if (timer_ != TimerId::kNone) loop_.cancel_timer(timer_);
}

void EngineDriver::drain(TimePoint now) {
  for (size_t i = 0; i < kMaxBatchesPerEvent; ++i) {
    const size_t n = io_.receive_batch(32, [&](const DatagramMeta& meta, std::span<const uint8_t> d) {
      engine_.on_datagram(meta, d, now);
    });
    if (n < 32) break;
  }
  reschedule();
}

void EngineDriver::reschedule() {
  const std::optional<TimePoint> next = engine_.next_deadline();
  if (next == armed_) return;
  if (timer_ != TimerId::kNone) loop_.cancel_timer(timer_);
  timer_ = TimerId::kNone;
  armed_ = next;
  if (!next) return;
  timer_ = loop_.add_timer(*next, [this](TimePoint now) {
    timer_ = TimerId::kNone;
    armed_.reset();
    engine_.on_timer(now);
    reschedule();
  });
}

}  // namespace l2tp::control
