#pragma once
// pppd's `idle N` enforced by the daemon: once the data plane carries a
// session's traffic, pppd and its pppN interface see none of it and would
// hang up a busy subscriber, so the daemon keeps `idle` away from pppd and
// decides itself, from activity counters it is given: the fast path's
// per-session packet counters, or in socket mode the data frames the
// control thread moved. As in pppd, only data counts (IP packets both
// ways); LCP echoes and other control traffic keep no link alive.
//
// Time is an argument and the counters come through a callback, so tests
// run it on simulated time.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "control/transport.hpp"

namespace l2tp::control {

class IdleMonitor {
 public:
  // Data packets a session has moved so far, both directions together
  // (monotonic: a count that goes back is read as activity).
  using CountFn = std::function<uint64_t(uint16_t session_id)>;

  // How often the counters are read: a session is found idle at most this
  // late. pppd itself checks once a second; ours may be coarser, since
  // reading fast-path counters of thousands of sessions is not free.
  explicit IdleMonitor(Duration resolution = 1s) : resolution_(resolution) {}

  // Starts watching a session with its limit (0: not watched).
  void watch(uint16_t session_id, Duration limit, uint64_t count_now, TimePoint now);
  void forget(uint16_t session_id) { sessions_.erase(session_id); }

  // Reads every watched session's counter; returns those idle for their
  // limit or longer, and forgets them (one verdict per session).
  std::vector<uint16_t> check(TimePoint now, const CountFn& count);
  // When check() should next run; nullopt while nothing is watched.
  std::optional<TimePoint> next_check() const;

  size_t watched() const { return sessions_.size(); }

 private:
  struct Watched {
    Duration limit;
    uint64_t count;
    TimePoint last_active;
  };
  Duration resolution_;
  std::map<uint16_t, Watched> sessions_;
  std::optional<TimePoint> last_check_;
};

// The `idle N` of a pppd options file (pppd's syntax: words, '#' comments
// to the end of the line, the last `idle` wins), in seconds; nullopt when
// the file does not set it or cannot be read. Options files are small; a
// file past 1 MiB is not read.
std::optional<unsigned> pppd_idle_option(const std::string& path);

}  // namespace l2tp::control
