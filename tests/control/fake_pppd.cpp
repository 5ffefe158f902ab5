// A stand-in for pppd in the PPP handler tests (the test kernel has no PPP):
// an echo peer on its stdin/stdout pty. Every good async HDLC frame it reads
// is written back re-encoded, so a frame sent in comes back out unchanged.
//
// Environment:
//   FAKE_PPPD_ARGV   file to write argv into, one argument a line; when
//                    descriptor 3 is open (the passwordfd pipe), what it
//                    reads there follows on a line "fd3:<text>"
//   FAKE_PPPD_MODE   echo (default) | ignore-term (echo, SIGTERM ignored) |
//                    no-read (never reads: the pty fills up) |
//                    exit (exits at once with FAKE_PPPD_STATUS, default 0) |
//                    close-pty (closes stdin/stdout, then waits for a signal)

#include "shared/hdlc.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode_env = getenv("FAKE_PPPD_MODE");
  const std::string mode = mode_env ? mode_env : "echo";
  if (mode == "ignore-term") signal(SIGTERM, SIG_IGN);

  // Descriptor 3 as we were started with it (fopen below may take it).
  const bool fd3_open = fcntl(3, F_GETFD) >= 0;
  std::string fd3;
  char buf[256];
  for (ssize_t n; fd3_open && (n = read(3, buf, sizeof buf)) > 0;) fd3.append(buf, static_cast<size_t>(n));

  if (const char* path = getenv("FAKE_PPPD_ARGV")) {
    const std::string tmp = std::string(path) + ".tmp";
    if (FILE* f = fopen(tmp.c_str(), "w")) {
      for (int i = 0; i < argc; ++i) fprintf(f, "%s\n", argv[i]);
      if (fd3_open) fprintf(f, "fd3:%s\n", fd3.c_str());
      fclose(f);
      rename(tmp.c_str(), path);  // the test sees the whole file or none
    }
  }

  if (mode == "exit") {
    const char* st = getenv("FAKE_PPPD_STATUS");
    return st ? atoi(st) : 0;
  }
  if (mode == "close-pty") {
    close(0);
    close(1);
    for (;;) pause();
  }
  if (mode == "no-read") {
    for (;;) pause();
  }

  l2tp::wire::HdlcDecoder decoder(l2tp::wire::AddressControl::kAsIs);
  std::vector<uint8_t> in(8192), out;
  for (;;) {
    const ssize_t n = read(0, in.data(), in.size());
    if (n <= 0) return n == 0 ? 0 : 1;
    out.clear();
    decoder.feed(std::span<const uint8_t>(in.data(), static_cast<size_t>(n)),
                 [&out](std::span<const uint8_t> frame) {
                   l2tp::wire::hdlc_encode(frame, l2tp::wire::kHdlcDefaultAccm,
                                           l2tp::wire::AddressControl::kAsIs, out);
                 });
    if (!out.empty() && !write_all(1, out.data(), out.size())) return 1;
  }
}
