#include "ppp_peer_args.hpp"

#include <algorithm>
#include <iterator>
#include <cctype>
#include <cstdlib>
#include <string_view>

#include "ppp_cp.hpp"

namespace l2tp::peer {

namespace {

// pppd options that take a value and that we do not act on: their value
// must not be mistaken for a device path or an address pair.
constexpr std::string_view kIgnoredWithValue[] = {
    "name",          "user",          "password",        "remotename",     "plugin",
    "mtu",           "lcp-echo-interval", "lcp-echo-failure", "lcp-max-configure",
    "lcp-max-terminate", "lcp-max-failure", "lcp-restart", "ipcp-max-configure",
    "ipcp-max-failure", "ipcp-restart", "connect",       "disconnect",      "init",
    "logfd",         "linkname",      "unit",            "holdoff",        "maxfail",
    "idle",          "connect-delay", "ms-dns",          "ms-wins",        "asyncmap",
    "escape",        "pppol2tp",      "pppol2tp_tunnel_id", "pppol2tp_session_id",
    "remotenumber",  "active-filter", "passwordfd"};

constexpr int kMaxFileDepth = 4;  // "file" inside "file": pppd allows it too

bool parse_address_pair(const std::string& w, PeerArgs& a, std::string& error) {
  const auto colon = w.find(':');
  if (colon == std::string::npos) return false;
  const std::string l = w.substr(0, colon), r = w.substr(colon + 1);
  const auto lv = l.empty() ? std::optional<uint32_t>(0) : parse_ipv4(l);
  const auto rv = r.empty() ? std::optional<uint32_t>(0) : parse_ipv4(r);
  if (!lv || !rv) {
    error = "bad address pair '" + w + "' (want local:remote, either may be empty)";
    return true;
  }
  a.local = *lv;
  a.remote = *rv;
  return true;
}

bool parse_words(const std::vector<std::string>& words, const ReadFile& read_file, int depth,
                 ParseResult& r) {
  PeerArgs& a = r.args;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= words.size()) {
        r.error = "option '" + w + "' needs a value";
        return false;
      }
      into = words[++i];
      return true;
    };
    std::string v;
    if (w == "nodetach") {
      a.nodetach = true;
    } else if (w == "passive") {
      a.passive = true;
    } else if (w == "ipparam") {
      if (!value(a.ipparam)) return false;
    } else if (w == "logfile") {
      if (!value(a.logfile)) return false;
    } else if (w == "ifname") {
      if (!value(a.ifname)) return false;
    } else if (w == "ip-up-script") {
      if (!value(a.ip_up_script)) return false;
    } else if (w == "ip-down-script") {
      if (!value(a.ip_down_script)) return false;
    } else if (w == "mru") {
      if (!value(v)) return false;
      const long m = std::strtol(v.c_str(), nullptr, 10);
      if (m < 128 || m > 1500) {
        r.error = "mru " + v + " out of range 128-1500";
        return false;
      }
      a.mru = static_cast<uint16_t>(m);
    } else if (w == "file") {
      if (!value(v)) return false;
      if (depth >= kMaxFileDepth) {
        r.error = "options files nested too deep at " + v;
        return false;
      }
      const auto text = read_file(v);
      if (!text) {
        r.error = "cannot read options file " + v;
        return false;
      }
      if (!parse_words(split_options_file(*text), read_file, depth + 1, r)) return false;
    } else if (std::ranges::find(kIgnoredWithValue, w) != std::end(kIgnoredWithValue)) {
      if (!value(v)) return false;
      a.ignored.push_back(w + " " + v);
    } else if (!w.empty() && w[0] == '/') {
      a.tty = w;  // pppd: a word naming a device is the serial port
    } else if (parse_address_pair(w, a, r.error)) {
      if (!r.error.empty()) return false;
    } else {
      a.ignored.push_back(w);  // a flag we do not need (noauth, debug...)
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> split_options_file(const std::string& text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"') {
      const auto end = text.find('"', i + 1);
      words.push_back(text.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1));
      i = end == std::string::npos ? text.size() : end + 1;
    } else {
      std::size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      words.push_back(text.substr(i, j - i));
      i = j;
    }
  }
  return words;
}

ParseResult parse_args(const std::vector<std::string>& words, const ReadFile& read_file) {
  ParseResult r;
  parse_words(words, read_file, 0, r);
  return r;
}

}  // namespace l2tp::peer
