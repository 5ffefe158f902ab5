#pragma once
// ppp-peer's command line: pppd's syntax (pppd(8)), of which it honours a
// few options and ignores the rest, so that xl2tpd and our l2tpd can start
// it exactly as they start pppd.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace l2tp::peer {

struct PeerArgs {
  uint32_t local = 0;   // "A.B.C.D:" our address (host order; 0: ask the peer)
  uint32_t remote = 0;  // ":E.F.G.H" the address we give the peer (0: none)
  std::string tty;      // a device path; empty: stdin/stdout (xl2tpd's way)
  std::string ipparam;
  std::string logfile;  // "logfile F"; else $PPP_PEER_LOG; else stderr
  std::string ifname = "ppp%d";  // "ifname N": the TUN device (%d: kernel picks)
  std::string ip_up_script;      // "ip-up-script F": run as pppd runs ip-up
  std::string ip_down_script;
  uint16_t mru = 1500;
  bool nodetach = false;
  bool passive = false;
  std::vector<std::string> ignored;  // options accepted and not acted on
};

// Reads an options file ("file F"): nullopt when it cannot be read.
using ReadFile = std::function<std::optional<std::string>(const std::string&)>;

struct ParseResult {
  PeerArgs args;
  std::string error;  // empty on success
};

// `words` excludes argv[0]. Options files are read through `read_file` and
// parsed as pppd does: whitespace-separated words, '#' to end of line,
// double quotes around a word with spaces.
ParseResult parse_args(const std::vector<std::string>& words, const ReadFile& read_file);

// Splits an options file's text into words.
std::vector<std::string> split_options_file(const std::string& text);

}  // namespace l2tp::peer
