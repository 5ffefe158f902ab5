#include "control/idle_monitor.hpp"

#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace l2tp::control {

void IdleMonitor::watch(uint16_t session_id, Duration limit, uint64_t count_now, TimePoint now) {
  if (limit <= Duration::zero()) {
    sessions_.erase(session_id);
    return;
  }
  sessions_[session_id] = Watched{limit, count_now, now};
  if (!last_check_) last_check_ = now;
}

std::vector<uint16_t> IdleMonitor::check(TimePoint now, const CountFn& count) {
  std::vector<uint16_t> idle;
  last_check_ = now;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Watched& w = it->second;
    const uint64_t c = count(it->first);
    if (c != w.count) {
      // Activity since the last look: it happened somewhere in between,
      // and the session gets the benefit of the doubt (now).
      w.count = c;
      w.last_active = now;
    }
    if (now - w.last_active >= w.limit) {
      idle.push_back(it->first);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  if (sessions_.empty()) last_check_.reset();
  return idle;
}

std::optional<TimePoint> IdleMonitor::next_check() const {
  if (sessions_.empty() || !last_check_) return std::nullopt;
  return *last_check_ + resolution_;
}

std::optional<unsigned> pppd_idle_option(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  constexpr std::streamsize kMax = 1 << 20;
  std::string text(static_cast<size_t>(kMax) + 1, '\0');
  in.read(text.data(), kMax + 1);
  if (in.gcount() > kMax) return std::nullopt;
  text.resize(static_cast<size_t>(in.gcount()));

  std::optional<unsigned> idle;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    for (std::string w; words >> w;) {
      if (w != "idle") continue;
      std::string v;
      if (!(words >> v)) break;
      unsigned n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec == std::errc() && end == v.data() + v.size()) idle = n;
    }
  }
  return idle;
}

}  // namespace l2tp::control
