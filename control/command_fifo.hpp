#pragma once
// The command FIFO of the classic l2tpd and of xl2tpd: one command a line,
//   [@REPLYFIFO ]<letter> <arguments>
// (xl2tpd-control prefixes the path of its own FIFO, where the answer goes).
// Parsing is apart from the I/O so that it is tested on its own.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/event_loop.hpp"

namespace l2tp::control {

struct Command {
  char letter = 0;           // 't', 'c', 'h', 'd', 'o', 'a', 's', ...
  std::string args;          // the rest of the line, trimmed
  std::string reply_fifo;    // from "@path ", empty when none
};

// nullopt for a blank line; a Command with letter 0 for an unparsable one.
std::optional<Command> parse_command(std::string_view line);

// Creates (mode 0600) and reads the FIFO on the event loop; each complete
// line is handed to on_command, and so is what is left without a newline
// once the FIFO is drained (xl2tpd-control sends no newline). The FIFO is opened read-write so that it
// never reports end-of-file when a writer closes. Lines longer than
// kMaxLine are dropped (counted).
class CommandFifo {
 public:
  static constexpr size_t kMaxLine = 4096;
  using Handler = std::function<void(const Command&, TimePoint now)>;

  // Throws std::system_error naming the path (start-up only).
  CommandFifo(EventLoop& loop, std::string path, Handler on_command);
  ~CommandFifo();
  CommandFifo(const CommandFifo&) = delete;
  CommandFifo& operator=(const CommandFifo&) = delete;

  const std::string& path() const { return path_; }
  uint64_t dropped_lines() const { return dropped_; }

  // Writes one reply line to a client's FIFO without blocking (a client
  // that is gone or not reading loses it). False when it could not.
  static bool reply(const std::string& fifo, std::string_view text);

 private:
  void on_readable(TimePoint now);

  EventLoop& loop_;
  std::string path_;
  Handler handler_;
  UniqueFd fd_;
  std::string buffer_;
  bool discarding_ = false;
  uint64_t dropped_ = 0;
};

}  // namespace l2tp::control
