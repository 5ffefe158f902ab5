#include "control/text.hpp"
#include "control/command_fifo.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace l2tp::control {

namespace {

using text::trim;
}  // namespace

std::optional<Command> parse_command(std::string_view line) {
  line = trim(line);
  if (line.empty()) return std::nullopt;
  Command c;
  if (line.front() == '@') {
    const size_t sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos) return c;  // a reply FIFO and no command
    c.reply_fifo = std::string(line.substr(1, sp - 1));
    line = trim(line.substr(sp));
    if (line.empty()) return c;
  }
  // The letter stands alone: "c name", or "c" with nothing after it.
  if (line.size() > 1 && line[1] != ' ' && line[1] != '\t') return c;
  c.letter = line.front();
  c.args = std::string(trim(line.substr(1)));
  return c;
}

CommandFifo::CommandFifo(EventLoop& loop, std::string path, Handler on_command)
    : loop_(loop), path_(std::move(path)), handler_(std::move(on_command)) {
  struct stat st;
  if (lstat(path_.c_str(), &st) == 0) {
    // A stale FIFO from a previous run is replaced; anything else is not ours.
    if (!S_ISFIFO(st.st_mode))
      throw std::system_error(EEXIST, std::generic_category(), "command FIFO " + path_ + ": exists and is not a FIFO");
    unlink(path_.c_str());
  }
  if (mkfifo(path_.c_str(), 0600) != 0)
    throw std::system_error(errno, std::generic_category(), "command FIFO " + path_ + ": mkfifo");
  chmod(path_.c_str(), 0600);  // whatever the umask
  fd_.reset(open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd_) throw std::system_error(errno, std::generic_category(), "command FIFO " + path_ + ": open");
  if (auto ec = loop_.add_fd(fd_.get(), EPOLLIN, [this](uint32_t, TimePoint now) { on_readable(now); }))
    throw std::system_error(ec, "command FIFO " + path_ + ": event loop");
}

CommandFifo::~CommandFifo() {
  if (fd_) loop_.remove_fd(fd_.get());
  unlink(path_.c_str());
}

void CommandFifo::on_readable(TimePoint now) {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Drained. xl2tpd-control writes its command in one write() and no
      // newline (xl2tpd reads a command a read()); a write of up to
      // PIPE_BUF bytes arrives whole, so what is left unterminated once the
      // FIFO is empty is a complete command. The tail of a line too long
      // to keep stays discarded up to its newline: it must not run.
      if (!buffer_.empty() && !discarding_) {
        if (auto c = parse_command(buffer_)) handler_(*c, now);
        buffer_.clear();
      }
      break;
    }
    for (ssize_t i = 0; i < n; ++i) {
      const char ch = buf[i];
      if (ch == '\n') {
        if (!discarding_) {
          if (auto c = parse_command(buffer_)) handler_(*c, now);
        }
        buffer_.clear();
        discarding_ = false;
      } else if (!discarding_) {
        if (buffer_.size() >= kMaxLine) {
          ++dropped_;
          discarding_ = true;
          buffer_.clear();
        } else {
          buffer_.push_back(ch);
        }
      }
    }
  }
}

bool CommandFifo::reply(const std::string& fifo, std::string_view text) {
  // Only into a FIFO that is already there: never create, follow a link to,
  // or write into a file (the path comes from whoever can write our FIFO).
  // O_NONBLOCK: fails at once (ENXIO) when no client has it open for reading.
  struct stat st;
  if (lstat(fifo.c_str(), &st) != 0 || !S_ISFIFO(st.st_mode)) return false;
  const int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    close(fd);
    return false;
  }
  const ssize_t n = write(fd, text.data(), text.size());
  close(fd);
  return n == static_cast<ssize_t>(text.size());
}

}  // namespace l2tp::control
