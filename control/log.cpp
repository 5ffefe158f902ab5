#include "control/log.hpp"

#include <syslog.h>
#include <time.h>

#include <cstdio>

namespace l2tp::control {

namespace {
LogConfig g_config;

int syslog_priority(LogLevel l) {
  switch (l) {
    case LogLevel::kError: return LOG_ERR;
    case LogLevel::kWarning: return LOG_WARNING;
    case LogLevel::kNotice: return LOG_NOTICE;
    case LogLevel::kInfo: return LOG_INFO;
    case LogLevel::kDebug: return LOG_DEBUG;
  }
  return LOG_INFO;
}

const char* name(LogLevel l) {
  switch (l) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kNotice: return "notice";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "?";
}
}  // namespace

void log_init(const LogConfig& config) {
  g_config = config;
  if (config.to_syslog) openlog(config.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= static_cast<int>(g_config.level); }

void log_message(LogLevel level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (g_config.to_syslog) {
    vsyslog(syslog_priority(level), fmt, ap);
  } else {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t;
    gmtime_r(&ts.tv_sec, &t);
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%02d:%02d:%02d.%03ld", t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
    std::fprintf(stderr, "%s %s %s: ", stamp, g_config.ident, name(level));
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
  }
  va_end(ap);
}

}  // namespace l2tp::control
