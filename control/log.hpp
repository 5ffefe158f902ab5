#pragma once
// The one logging facility (CONVENTIONS.md): levels, and output to stderr
// (foreground, tests) or syslog (the daemon). Library code in shared/ does
// not log; the control plane logs through here.

#include <cstdarg>

namespace l2tp::control {

enum class LogLevel : int { kError = 0, kWarning = 1, kNotice = 2, kInfo = 3, kDebug = 4 };

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  bool to_syslog = false;    // else stderr
  const char* ident = "l2tpd";
};

void log_init(const LogConfig& config);
bool log_enabled(LogLevel level);
void log_message(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

#define L2TP_LOG(level, ...)                                                        \
  do {                                                                              \
    if (::l2tp::control::log_enabled(level)) ::l2tp::control::log_message(level, __VA_ARGS__); \
  } while (0)
#define LOG_ERROR(...) L2TP_LOG(::l2tp::control::LogLevel::kError, __VA_ARGS__)
#define LOG_WARN(...) L2TP_LOG(::l2tp::control::LogLevel::kWarning, __VA_ARGS__)
#define LOG_NOTICE(...) L2TP_LOG(::l2tp::control::LogLevel::kNotice, __VA_ARGS__)
#define LOG_INFO(...) L2TP_LOG(::l2tp::control::LogLevel::kInfo, __VA_ARGS__)
#define LOG_DEBUG(...) L2TP_LOG(::l2tp::control::LogLevel::kDebug, __VA_ARGS__)

}  // namespace l2tp::control
