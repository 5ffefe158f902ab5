#pragma once
// A simulated network and clock for control-plane tests: datagrams between
// numbered nodes are dropped, delayed (and so reordered) and duplicated with
// seeded randomness; time moves only when the test says so. No sleeps.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <vector>

#include "control/transport.hpp"

namespace l2tp::control::test {

struct LinkProfile {
  double loss = 0;         // probability a datagram is dropped
  double duplicate = 0;    // probability it arrives twice
  Duration min_delay = 10ms;
  Duration max_delay = 10ms;  // > min_delay: datagrams overtake each other
};

class SimNet {
 public:
  using Receiver = std::function<void(int from, std::span<const uint8_t>, TimePoint now)>;

  explicit SimNet(uint64_t seed = 1) : rng_(seed) {}

  TimePoint now() const { return now_; }
  void set_profile(const LinkProfile& p) { profile_ = p; }
  void attach(int node, Receiver r) { receivers_[node] = std::move(r); }

  void send(int from, int to, std::span<const uint8_t> bytes) {
    ++sent_;
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng_) < profile_.loss) {
      ++dropped_;
      return;
    }
    const int copies = u(rng_) < profile_.duplicate ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      const auto span = (profile_.max_delay - profile_.min_delay).count();
      Duration d = profile_.min_delay;
      if (span > 0) d += Duration(std::uniform_int_distribution<int64_t>(0, span)(rng_));
      queue_.push(InFlight{now_ + d, seq_++, from, to, std::vector<uint8_t>(bytes.begin(), bytes.end())});
    }
  }

  std::optional<TimePoint> next_arrival() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.top().at;
  }

  // Moves time to t and delivers everything due by then.
  void advance_to(TimePoint t) {
    while (!queue_.empty() && queue_.top().at <= t) {
      InFlight f = queue_.top();
      queue_.pop();
      now_ = f.at;
      ++delivered_;
      if (auto it = receivers_.find(f.to); it != receivers_.end()) it->second(f.from, f.bytes, now_);
    }
    if (t > now_) now_ = t;
  }

  uint64_t sent() const { return sent_; }
  uint64_t dropped() const { return dropped_; }
  uint64_t delivered() const { return delivered_; }

 private:
  struct InFlight {
    TimePoint at;
    uint64_t seq;
    int from, to;
    std::vector<uint8_t> bytes;
    bool operator>(const InFlight& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  std::mt19937_64 rng_;
  LinkProfile profile_;
  TimePoint now_{};
  uint64_t seq_ = 0, sent_ = 0, dropped_ = 0, delivered_ = 0;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> queue_;
  std::map<int, Receiver> receivers_;
};

}  // namespace l2tp::control::test
