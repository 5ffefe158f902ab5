#include "control/text.hpp"
#include "control/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/net.hpp"

namespace l2tp::control {

namespace {

using text::iequals;
using text::is_blank;
using text::lower;
using text::trim;

// ---------------------------------------------------------------- text --


// Lower case, blank runs collapsed to one space: "Ip  Range" -> "ip range".
std::string normalize_key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  bool blank = false;
  for (char c : key) {
    if (is_blank(c)) {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += lower(c);
  }
  return out;
}

// Printable ASCII as is, everything else as \xNN, at most `cap` source
// bytes: a message about binary garbage must not itself be garbage. A
// backslash stays as it is, so applying this twice changes nothing.
std::string printable(std::string_view s, size_t cap = 120) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  size_t n = std::min(s.size(), cap);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  if (s.size() > cap) out += "...";
  return out;
}

// The first byte that has no business in a text line (NUL and the other
// C0 controls but tab, DEL), or npos.
size_t find_control(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

// -------------------------------------------------------------- values --

// yes, y, true / no, n, false in any case: xl2tpd's yesno().
std::optional<bool> parse_bool(std::string_view v) {
  if (iequals(v, "yes") || iequals(v, "y") || iequals(v, "true")) return true;
  if (iequals(v, "no") || iequals(v, "n") || iequals(v, "false")) return false;
  return std::nullopt;
}

// A decimal integer in [min, max], optionally negative. Nothing else on the
// line: xl2tpd's atoi() would read "12abc" as 12 and "abc" as 0.
std::optional<int64_t> parse_int(std::string_view v, int64_t min, int64_t max) {
  if (v.empty() || v.size() > 20) return std::nullopt;
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
  if (out < min || out > max) return std::nullopt;
  return out;
}

std::string int_range_text(int64_t min, int64_t max) {
  return "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max);
}

// "30" (seconds, as every xl2tpd duration), "30s" or "500ms", in
// [min, max].
std::optional<Duration> parse_duration(std::string_view v, Duration min, Duration max) {
  std::chrono::milliseconds unit = 1s;
  if (v.size() > 2 && v.substr(v.size() - 2) == "ms") {
    unit = 1ms;
    v.remove_suffix(2);
  } else if (v.size() > 1 && v.back() == 's') {
    v.remove_suffix(1);
  }
  v = trim(v);
  // Bounded so the multiplication cannot overflow: no one means 30 years.
  auto n = parse_int(v, 0, 1'000'000'000);
  if (!n) return std::nullopt;
  Duration d = std::chrono::duration_cast<Duration>(unit * *n);
  if (d < min || d > max) return std::nullopt;
  return d;
}

std::string seconds_text(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

std::string duration_range_text(Duration min, Duration max) {
  return "must be a duration from " + seconds_text(min) + " to " + seconds_text(max) +
         ": seconds (\"30\", \"30s\") or milliseconds (\"500ms\")";
}

constexpr const char* kNotAddress =
    "not an IPv4 address (a.b.c.d, decimal, no leading zeros; host names are not resolved here)";

// Strict dotted quad (control/net.hpp's reading, which refuses what two
// parsers could read differently).
std::optional<uint32_t> parse_addr(std::string_view v) {
  if (v.find(':') != std::string_view::npos) return std::nullopt;
  auto ep = parse_endpoint(v);
  if (!ep) return std::nullopt;
  return ep->addr;
}

// "A", "A-B" or "A - B"; B may give only the trailing octets of the end
// ("10.0.0.1-9" is 10.0.0.1 to 10.0.0.9, "10.0.0.1-1.9" to 10.0.1.9), as
// xl2tpd's set_range() reads it.
std::optional<Ipv4Range> parse_range(std::string_view v, bool exclude, std::string& why) {
  size_t dash = v.find('-');
  std::string_view a = trim(v.substr(0, dash));
  std::string_view b = dash == std::string_view::npos ? std::string_view{} : trim(v.substr(dash + 1));
  if (a.empty() || (dash != std::string_view::npos && b.empty())) {
    why = "format is a.b.c.d or a.b.c.d-e.f.g.h";
    return std::nullopt;
  }
  auto first = parse_addr(a);
  if (!first) {
    why = std::string("start: ") + kNotAddress;
    return std::nullopt;
  }
  uint32_t last = *first;
  if (dash != std::string_view::npos) {
    size_t dots = static_cast<size_t>(std::count(b.begin(), b.end(), '.'));
    std::string end_text;
    if (dots < 3) {
      // Keep the first 3 - dots octets of the start, then B.
      size_t keep = 3 - dots, pos = 0;
      for (size_t i = 0; i < keep; ++i) pos = a.find('.', pos) + 1;
      end_text = std::string(a.substr(0, pos)) + std::string(b);
    } else {
      end_text = std::string(b);
    }
    auto end = parse_addr(end_text);
    if (!end) {
      why = std::string("end: ") + kNotAddress;
      return std::nullopt;
    }
    last = *end;
  }
  if (last < *first) {
    why = "the range ends before it starts";
    return std::nullopt;
  }
  return Ipv4Range{*first, last, exclude};
}

// -------------------------------------------------------------- keys --

enum Scope : uint8_t { kGlobal = 1, kLns = 2, kLac = 4, kPeer = kLns | kLac };

enum class Key : uint8_t {
  // [global]
  kListenAddr, kPort, kAuthFile, kAccessControl, kRandSource, kIpsecSaref, kSarefRefinfo,
  kForceUserspace, kDebugAvp, kDebugNetwork, kDebugPacket, kDebugState, kDebugTunnel,
  kMaxRetries, kCapBackoff,
  kHelloInterval, kHoldTime, kMaxTunnels, kMaxSessions, kMaxSessionsPerTunnel,
  // [lns] and [lac]
  kLocalIp, kHostname, kName, kHiddenBit, kLengthBit, kChallenge, kRequirePap, kRequireChap,
  kRequireAuth, kRefusePap, kRefuseChap, kRefuseAuth, kPppDebug, kPassPeer, kPppoptfile,
  kCallRws, kTunnelRws, kFlowBit, kTxBps, kRxBps, kBps,
  // [lns]
  kExclusive, kIpRange, kNoIpRange, kLac, kNoLac, kAssignIp, kLocalIpRange, kUnixAuth,
  // [lac]
  kLns, kAutodial, kRedial, kRedialTimeout, kMaxRedials, kDefaultroute, kRemoteIp,
};

struct KeySpec {
  std::string_view name;  // normalized: lower case, single spaces
  Key key;
  uint8_t scopes;
  bool acted_on;   // false: stored, and warned about at each use
  bool extension;  // ours, not xl2tpd's
};

// Every key of xl2tpd 1.3.18 (file.c words[]), in its order, then ours.
constexpr KeySpec kKeys[] = {
    {"listen-addr", Key::kListenAddr, kGlobal, true, false},
    {"port", Key::kPort, kGlobal, true, false},
    {"saref refinfo", Key::kSarefRefinfo, kGlobal, false, false},
    {"rand source", Key::kRandSource, kGlobal, false, false},
    {"auth file", Key::kAuthFile, kGlobal, true, false},
    {"exclusive", Key::kExclusive, kLns, false, false},
    {"autodial", Key::kAutodial, kLac, true, false},
    {"redial", Key::kRedial, kLac, true, false},
    {"redial timeout", Key::kRedialTimeout, kLac, true, false},
    {"lns", Key::kLns, kLac, true, false},
    {"max redials", Key::kMaxRedials, kLac, true, false},
    {"access control", Key::kAccessControl, kGlobal, true, false},
    {"force userspace", Key::kForceUserspace, kGlobal, false, false},
    {"ip range", Key::kIpRange, kLns, true, false},
    {"no ip range", Key::kNoIpRange, kLns, true, false},
    {"debug avp", Key::kDebugAvp, kGlobal, true, false},
    {"debug network", Key::kDebugNetwork, kGlobal, true, false},
    {"debug packet", Key::kDebugPacket, kGlobal, false, false},
    {"debug tunnel", Key::kDebugTunnel, kGlobal, true, false},
    {"debug state", Key::kDebugState, kGlobal, true, false},
    {"ipsec saref", Key::kIpsecSaref, kGlobal, false, false},
    {"lac", Key::kLac, kLns, true, false},
    {"no lac", Key::kNoLac, kLns, true, false},
    {"assign ip", Key::kAssignIp, kLns, true, false},
    {"local ip", Key::kLocalIp, kPeer, true, false},
    {"local ip range", Key::kLocalIpRange, kLns, true, false},
    {"remote ip", Key::kRemoteIp, kLac, true, false},
    {"defaultroute", Key::kDefaultroute, kLac, true, false},
    {"length bit", Key::kLengthBit, kPeer, false, false},
    {"hidden bit", Key::kHiddenBit, kPeer, true, false},
    {"require pap", Key::kRequirePap, kPeer, true, false},
    {"require chap", Key::kRequireChap, kPeer, true, false},
    {"require authentication", Key::kRequireAuth, kPeer, true, false},
    {"require auth", Key::kRequireAuth, kPeer, true, false},
    {"refuse pap", Key::kRefusePap, kPeer, true, false},
    {"refuse chap", Key::kRefuseChap, kPeer, true, false},
    {"refuse authentication", Key::kRefuseAuth, kPeer, true, false},
    {"refuse auth", Key::kRefuseAuth, kPeer, true, false},
    {"unix authentication", Key::kUnixAuth, kLns, true, false},
    {"unix auth", Key::kUnixAuth, kLns, true, false},
    {"name", Key::kName, kPeer, true, false},
    {"hostname", Key::kHostname, kPeer, true, false},
    {"ppp debug", Key::kPppDebug, kPeer, true, false},
    {"pass peer", Key::kPassPeer, kPeer, true, false},
    {"pppoptfile", Key::kPppoptfile, kPeer, true, false},
    {"call rws", Key::kCallRws, kPeer, false, false},
    {"tunnel rws", Key::kTunnelRws, kPeer, true, false},
    {"flow bit", Key::kFlowBit, kPeer, false, false},
    {"challenge", Key::kChallenge, kPeer, true, false},
    {"tx bps", Key::kTxBps, kPeer, false, false},
    {"rx bps", Key::kRxBps, kPeer, false, false},
    {"bps", Key::kBps, kPeer, false, false},
    {"max retries", Key::kMaxRetries, kGlobal, true, false},
    {"cap backoff", Key::kCapBackoff, kGlobal, true, false},
    // Extensions.
    {"hello interval", Key::kHelloInterval, kGlobal, true, true},
    {"hold time", Key::kHoldTime, kGlobal, true, true},
    {"max tunnels", Key::kMaxTunnels, kGlobal, true, true},
    {"max sessions", Key::kMaxSessions, kGlobal, true, true},
    {"max sessions per tunnel", Key::kMaxSessionsPerTunnel, kGlobal, true, true},
};

const KeySpec* find_key(std::string_view normalized) {
  for (const auto& k : kKeys) {
    if (k.name == normalized) return &k;
  }
  return nullptr;
}

std::string scopes_text(uint8_t scopes) {
  switch (scopes) {
    case kGlobal: return "[global]";
    case kLns: return "[lns]";
    case kLac: return "[lac]";
    default: return "[lns] and [lac]";
  }
}

// ------------------------------------------------------------- sections --

enum class Kind : uint8_t { kGlobal, kLns, kLac, kDataplane };

struct Entry {
  unsigned line = 0;
  std::string key;         // as written (trimmed)
  std::string value;       // as written (trimmed)
  std::string normalized;  // lower case, single spaces
  const KeySpec* spec = nullptr;  // nullptr in [dataplane]
};

struct Section {
  Kind kind = Kind::kGlobal;
  std::string name;   // as written
  bool is_default = false;
  std::string label;  // "lns default", for messages
  unsigned line = 0;
  std::vector<Entry> entries;
};

class Parser {
 public:
  explicit Parser(std::string_view filename) : file_(filename) {}

  ConfigResult<Config> run(std::string_view text) {
    lex(text);
    Config config;
    if (errors_.size() <= kMaxErrors) build(config);
    return finish(std::move(config));
  }

 private:
  // Where a message goes: an entry, with an option to say nothing (the
  // entries of [lac default] replayed into each [lac], already reported).
  struct At {
    Parser& p;
    const Section& section;
    const Entry& entry;
    bool quiet;

    void fail(std::string message) const {
      if (!quiet) p.error(entry.line, section.label, entry.key, entry.value, std::move(message));
    }
    void note(std::string message) const {
      if (!quiet) p.warn(entry.line, section.label, entry.key, entry.value, std::move(message));
    }
  };

  void error(unsigned line, std::string section, std::string key, std::string value, std::string message) {
    errors_.push_back(ConfigError{file_, line, std::move(section), std::move(key), std::move(value), std::move(message)});
  }
  void warn(unsigned line, std::string section, std::string key, std::string value, std::string message) {
    ConfigError w{file_, line, std::move(section), std::move(key), std::move(value), std::move(message)};
    warnings_.emplace_back(line, w.to_string());
  }

  // ---- pass 1: lines into sections of raw entries

  void lex(std::string_view text) {
    // A UTF-8 byte order mark, as some editors write it, is not content.
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    unsigned line_no = 0;
    Section* current = nullptr;
    bool skipping = false;  // inside a section already reported as bad
    size_t pos = 0;
    while (pos < text.size() && errors_.size() <= kMaxErrors) {
      size_t nl = text.find('\n', pos);
      std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      pos = nl == std::string_view::npos ? text.size() : nl + 1;
      ++line_no;

      // ';' starts a comment anywhere (xl2tpd); '#' only as the first
      // non-blank character (ours: xl2tpd keeps '#' in values).
      std::string_view content = trim(line.substr(0, line.find(';')));
      if (content.empty() || content.front() == '#') continue;
      if (content.size() > kMaxLineLength) {
        error(line_no, current ? current->label : "", "", "",
              "line is longer than " + std::to_string(kMaxLineLength) + " characters (comments excepted)");
        continue;
      }
      if (size_t bad = find_control(content); bad != std::string_view::npos) {
        error(line_no, current ? current->label : "", "", "",
              "control character " + printable(content.substr(bad, 1)) + " at column " +
                  std::to_string(static_cast<size_t>(content.data() - line.data()) + bad + 1) + ": not a text line");
        continue;
      }

      if (content.front() == '[') {
        current = header(content, line_no);
        skipping = current == nullptr;
        continue;
      }

      size_t eq = content.find('=');
      if (eq == std::string_view::npos) {
        error(line_no, current ? current->label : "", std::string(content), "", "no '=': expected key = value");
        continue;
      }
      Entry e;
      e.line = line_no;
      e.key = std::string(trim(content.substr(0, eq)));
      e.value = std::string(trim(content.substr(eq + 1)));
      e.normalized = normalize_key(e.key);
      if (e.key.empty()) {
        error(line_no, current ? current->label : "", "", e.value, "no key before '='");
        continue;
      }
      if (skipping) continue;
      if (!current) {
        error(line_no, "", e.key, e.value, "outside any section: a [global], [lns], [lac] or [dataplane] header must come first");
        continue;
      }
      if (current->kind != Kind::kDataplane) {
        e.spec = find_key(e.normalized);
        if (!e.spec) {
          error(line_no, current->label, e.key, e.value, "unknown key");
          continue;
        }
        uint8_t scope = current->kind == Kind::kGlobal ? kGlobal : current->kind == Kind::kLns ? kLns : kLac;
        if (!(e.spec->scopes & scope)) {
          error(line_no, current->label, e.key, e.value, "not valid here: only in " + scopes_text(e.spec->scopes) + " sections");
          continue;
        }
      }
      current->entries.push_back(std::move(e));
    }
  }

  // A "[type name]" line; nullptr when the section is bad (its keys are
  // then skipped rather than each reported as out of place).
  Section* header(std::string_view content, unsigned line_no) {
    size_t close = content.find(']');
    if (close == std::string_view::npos) {
      error(line_no, "", "", "", "no closing ']' in section header " + std::string(content));
      return nullptr;
    }
    std::string_view inside = trim(content.substr(1, close - 1));
    std::string_view after = trim(content.substr(close + 1));
    size_t space = 0;
    while (space < inside.size() && !is_blank(inside[space])) ++space;
    std::string type = normalize_key(inside.substr(0, space));
    std::string name = std::string(trim(inside.substr(space)));

    Section s;
    s.line = line_no;
    s.name = name;
    if (type == "global") {
      s.kind = Kind::kGlobal;
      s.label = "global";
    } else if (type == "lns" || type == "lac") {
      s.kind = type == "lns" ? Kind::kLns : Kind::kLac;
      s.is_default = iequals(name, "default");
      s.label = name.empty() ? type : type + " " + name;
    } else if (type == "dataplane") {
      s.kind = Kind::kDataplane;
      s.label = "dataplane";
    } else {
      error(line_no, "", "", "",
            "unknown section [" + std::string(inside) + "]: expected [global], [lns NAME], [lac NAME] or [dataplane]");
      return nullptr;
    }
    if (!after.empty()) {
      warn(line_no, s.label, "", "", "text after ']' ignored: " + std::string(after));
    }
    if (s.kind == Kind::kDataplane && !name.empty()) {
      error(line_no, s.label, "", "", "takes no name");
      return nullptr;
    }
    if (s.kind == Kind::kGlobal && !name.empty()) {
      warn(line_no, s.label, "", "", "name \"" + name + "\" ignored");  // xl2tpd ignores it too
    }
    // xl2tpd reopens a section named twice and merges the two; here it is
    // an error, since it is almost always a copy-and-paste mistake. Unnamed
    // [lns] / [lac] sections are distinct entries, as in xl2tpd.
    bool unique_kind = s.kind == Kind::kGlobal || s.kind == Kind::kDataplane;
    if (unique_kind || !name.empty()) {
      for (const auto& other : sections_) {
        if (other.kind == s.kind && (unique_kind || iequals(other.name, name))) {
          error(line_no, s.label, "", "", "section given twice (first at line " + std::to_string(other.line) + ")");
          return nullptr;
        }
      }
    }
    s.entries.reserve(16);
    sections_.push_back(std::move(s));
    return &sections_.back();
  }

  // ---- pass 2: typed values

  void build(Config& config) {
    const Section* lac_default = nullptr;
    for (const auto& s : sections_) {
      if (s.kind == Kind::kLac && s.is_default) lac_default = &s;
    }
    config.lac_default.name = "default";
    config.lac_default.is_default = true;

    for (const auto& s : sections_) {
      switch (s.kind) {
        case Kind::kGlobal:
          for (const auto& e : s.entries) apply_global(At{*this, s, e, false}, config.global);
          break;
        case Kind::kDataplane:
          for (const auto& e : s.entries) {
            auto [it, fresh] = config.dataplane.insert_or_assign(e.normalized, e.value);
            if (!fresh) warn(e.line, s.label, e.key, e.value, "given again: this value replaces the earlier one");
          }
          break;
        case Kind::kLns: {
          LnsConfig lns;
          name_entry(lns, s);
          for (const auto& e : s.entries) apply_lns(At{*this, s, e, false}, lns);
          if (lns.assign_ip && std::none_of(lns.ip_ranges.begin(), lns.ip_ranges.end(),
                                            [](const Ipv4Range& r) { return !r.exclude; })) {
            warn(s.line, s.label, "", "", "no \"ip range\" and \"assign ip\" is yes: no address to give a peer");
          }
          config.lns.push_back(std::move(lns));
          break;
        }
        case Kind::kLac: {
          if (s.is_default) {
            LacConfig& lac = config.lac_default;
            name_entry(lac, s);
            for (const auto& e : s.entries) apply_lac(At{*this, s, e, false}, lac);
            break;
          }
          LacConfig lac;
          if (lac_default) {
            // The defaults first, silently (reported once, at their own
            // lines); the section's own keys then win. Its own "lns" lines
            // replace the default's list rather than adding to it.
            for (const auto& e : lac_default->entries) apply_lac(At{*this, s, e, true}, lac);
            bool own_lns = std::any_of(s.entries.begin(), s.entries.end(),
                                       [](const Entry& e) { return e.spec->key == Key::kLns; });
            if (own_lns) lac.lns.clear();
          }
          name_entry(lac, s);
          for (const auto& e : s.entries) apply_lac(At{*this, s, e, false}, lac);
          if (lac.lns.empty()) warn(s.line, s.label, "", "", "no \"lns\": this LAC cannot dial");
          config.lac.push_back(std::move(lac));
          break;
        }
      }
    }
  }

  static void name_entry(EndpointConfig& c, const Section& s) {
    c.name = s.name;
    c.is_default = s.is_default;
    c.line = s.line;
  }

  // Value readers: each reports what is wrong and says whether it stored.
  static bool set_bool(const At& at, bool& out) {
    auto v = parse_bool(at.entry.value);
    if (!v) {
      at.fail("must be yes or no (also y, n, true, false)");
      return false;
    }
    out = *v;
    return true;
  }

  template <class T>
  static bool set_int(const At& at, T& out, int64_t min, int64_t max) {
    auto v = parse_int(at.entry.value, min, max);
    if (!v) {
      at.fail(int_range_text(min, max));
      return false;
    }
    out = static_cast<T>(*v);
    return true;
  }

  static bool set_duration(const At& at, Duration& out, Duration min, Duration max) {
    auto v = parse_duration(at.entry.value, min, max);
    if (!v) {
      at.fail(duration_range_text(min, max));
      return false;
    }
    out = *v;
    return true;
  }

  static bool set_addr(const At& at, uint32_t& out) {
    auto v = parse_addr(at.entry.value);
    if (!v) {
      at.fail(kNotAddress);
      return false;
    }
    out = *v;
    return true;
  }

  static bool set_string(const At& at, std::string& out, bool may_be_empty) {
    if (!may_be_empty && at.entry.value.empty()) {
      at.fail("must not be empty");
      return false;
    }
    out = at.entry.value;
    return true;
  }

  static void add_range(const At& at, std::vector<Ipv4Range>& list, bool exclude) {
    std::string why;
    if (auto r = parse_range(at.entry.value, exclude, why)) {
      list.push_back(*r);
    } else {
      at.fail(why);
    }
  }

  static constexpr int64_t kU32Max = std::numeric_limits<uint32_t>::max();

  void apply_global(const At& at, GlobalConfig& g) {
    if (!at.entry.spec->acted_on) at.note("accepted, not yet acted on");
    switch (at.entry.spec->key) {
      case Key::kListenAddr: set_addr(at, g.listen_addr); break;
      case Key::kPort: set_int(at, g.port, 0, 65535); break;
      case Key::kAuthFile: set_string(at, g.auth_file, false); break;
      case Key::kAccessControl: set_bool(at, g.access_control); break;
      case Key::kRandSource: {
        // xl2tpd compares the first three letters; "egd" it never
        // implemented and refuses.
        std::string_view v = at.entry.value;
        if (v.size() >= 3 && v.substr(0, 3) == "dev") {
          g.rand_source = RandSource::kDev;
        } else if (v.size() >= 3 && v.substr(0, 3) == "sys") {
          g.rand_source = RandSource::kSys;
        } else if (v.size() >= 3 && v.substr(0, 3) == "egd") {
          at.fail("egd is not implemented (nor is it in xl2tpd): use dev");
        } else {
          at.fail("must be dev or sys");
        }
        break;
      }
      case Key::kIpsecSaref: set_bool(at, g.ipsec_saref); break;
      case Key::kSarefRefinfo: set_int(at, g.saref_refinfo, 0, 65535); break;
      case Key::kForceUserspace: set_bool(at, g.force_userspace); break;
      case Key::kDebugAvp: set_bool(at, g.debug_avp); break;
      case Key::kDebugNetwork: set_bool(at, g.debug_network); break;
      case Key::kDebugPacket: set_bool(at, g.debug_packet); break;
      case Key::kDebugState: set_bool(at, g.debug_state); break;
      case Key::kDebugTunnel: set_bool(at, g.debug_tunnel); break;
      case Key::kMaxRetries: set_int(at, g.max_retries, 1, 1000); break;
      case Key::kCapBackoff: {
        Duration d{};
        if (set_duration(at, d, 1s, 3600s)) {
          g.cap_backoff = d;
          // RFC 2661 5.8: the cap on the retransmission interval must be no
          // less than 8 seconds.
          if (d < 8s) at.note("below the 8 s that RFC 2661 5.8 asks as the least cap");
        }
        break;
      }
      case Key::kHelloInterval: set_duration(at, g.hello_interval, 0s, 86400s); break;
      case Key::kHoldTime: set_duration(at, g.hold_time, 1s, 3600s); break;
      case Key::kMaxTunnels: set_int(at, g.max_tunnels, 0, 65535); break;
      case Key::kMaxSessions: set_int(at, g.max_sessions, 0, kU32Max); break;
      case Key::kMaxSessionsPerTunnel: set_int(at, g.max_sessions_per_tunnel, 1, 65535); break;
      default: at.fail("not valid in [global]"); break;  // the scope check keeps this unreachable
    }
  }

  // The keys [lns] and [lac] share; false when the key is not one of them.
  static bool apply_endpoint(const At& at, EndpointConfig& c) {
    switch (at.entry.spec->key) {
      case Key::kHostname: set_string(at, c.hostname, true); return true;
      case Key::kName: set_string(at, c.auth_name, true); return true;
      case Key::kHiddenBit: set_bool(at, c.hidden_bit); return true;
      case Key::kLengthBit: set_bool(at, c.length_bit); return true;
      case Key::kChallenge: set_bool(at, c.challenge); return true;
      case Key::kRequirePap: set_bool(at, c.require_pap); return true;
      case Key::kRequireChap: set_bool(at, c.require_chap); return true;
      case Key::kRequireAuth: set_bool(at, c.require_authentication); return true;
      case Key::kRefusePap: set_bool(at, c.refuse_pap); return true;
      case Key::kRefuseChap: set_bool(at, c.refuse_chap); return true;
      case Key::kRefuseAuth: set_bool(at, c.refuse_authentication); return true;
      case Key::kPppDebug: set_bool(at, c.ppp_debug); return true;
      case Key::kPassPeer: set_bool(at, c.pass_peer); return true;
      case Key::kPppoptfile: set_string(at, c.pppoptfile, true); return true;
      case Key::kCallRws: set_int(at, c.call_rws, -1, 65535); return true;
      // RFC 2661 4.4.3: Receive Window Size is 16 bits and 0 is invalid.
      case Key::kTunnelRws: set_int(at, c.tunnel_rws, 1, 65535); return true;
      case Key::kFlowBit: {
        bool on = false;
        if (set_bool(at, on)) {
          if (!on) {
            c.call_rws = -1;
          } else if (c.call_rws < 0) {
            c.call_rws = 0;
          }
        }
        return true;
      }
      case Key::kTxBps: set_int(at, c.tx_bps, 1, kU32Max); return true;
      case Key::kRxBps: set_int(at, c.rx_bps, 1, kU32Max); return true;
      case Key::kBps:
        if (set_int(at, c.tx_bps, 1, kU32Max)) c.rx_bps = c.tx_bps;
        return true;
      default: return false;
    }
  }

  void apply_lns(const At& at, LnsConfig& lns) {
    if (!at.entry.spec->acted_on) at.note("accepted, not yet acted on");
    if (apply_endpoint(at, lns)) return;
    switch (at.entry.spec->key) {
      case Key::kLocalIp: {
        if (!lns.local_ip_ranges.empty()) {
          at.fail("\"local ip\" and \"local ip range\" exclude each other");
          break;
        }
        uint32_t a = 0;
        if (set_addr(at, a)) lns.local_ip = a;
        break;
      }
      case Key::kLocalIpRange:
        if (lns.local_ip) {
          at.fail("\"local ip\" and \"local ip range\" exclude each other");
          break;
        }
        add_range(at, lns.local_ip_ranges, false);
        break;
      case Key::kExclusive: set_bool(at, lns.exclusive); break;
      case Key::kIpRange: add_range(at, lns.ip_ranges, false); break;
      case Key::kNoIpRange: add_range(at, lns.ip_ranges, true); break;
      case Key::kLac: add_range(at, lns.lacs, false); break;
      case Key::kNoLac: add_range(at, lns.lacs, true); break;
      case Key::kAssignIp: set_bool(at, lns.assign_ip); break;
      case Key::kUnixAuth: set_bool(at, lns.unix_authentication); break;
      default: at.fail("not valid in [lns]"); break;  // unreachable: scope check
    }
  }

  void apply_lac(const At& at, LacConfig& lac) {
    if (!at.entry.spec->acted_on) at.note("accepted, not yet acted on");
    if (apply_endpoint(at, lac)) return;
    switch (at.entry.spec->key) {
      case Key::kLocalIp: {
        uint32_t a = 0;
        if (set_addr(at, a)) lac.local_ip = a;
        break;
      }
      case Key::kRemoteIp: {
        uint32_t a = 0;
        if (set_addr(at, a)) lac.remote_ip = a;
        break;
      }
      case Key::kLns: {
        // "host" or "host:port". The host is dialled by name, so it is not
        // resolved here; it only has to look like one word.
        std::string_view v = at.entry.value;
        size_t colon = v.find(':');
        LnsPeer peer;
        peer.host = std::string(trim(v.substr(0, colon)));
        if (peer.host.empty() ||
            std::any_of(peer.host.begin(), peer.host.end(), [](char c) { return is_blank(c); })) {
          at.fail("must be a host name or address, optionally :port");
          break;
        }
        if (colon != std::string_view::npos) {
          auto port = parse_int(trim(v.substr(colon + 1)), 1, 65535);
          if (!port) {
            at.fail("the port after ':' " + int_range_text(1, 65535));
            break;
          }
          peer.port = static_cast<uint16_t>(*port);
        }
        lac.lns.push_back(std::move(peer));
        break;
      }
      case Key::kAutodial: set_bool(at, lac.autodial); break;
      case Key::kRedial: set_bool(at, lac.redial); break;
      case Key::kRedialTimeout: set_duration(at, lac.redial_timeout, 1s, 86400s); break;
      case Key::kMaxRedials: set_int(at, lac.max_redials, 1, 1'000'000); break;
      case Key::kDefaultroute: set_bool(at, lac.defaultroute); break;
      default: at.fail("not valid in [lac]"); break;  // unreachable: scope check
    }
  }

  ConfigResult<Config> finish(Config config) {
    if (!errors_.empty()) {
      std::stable_sort(errors_.begin(), errors_.end(),
                       [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
      if (errors_.size() > kMaxErrors) {
        errors_.resize(kMaxErrors);
        errors_.push_back(ConfigError{file_, 0, "", "", "",
                                      "too many errors: stopped after " + std::to_string(kMaxErrors)});
      }
      return std::move(errors_);
    }
    std::stable_sort(warnings_.begin(), warnings_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& w : warnings_) config.warnings.push_back(std::move(w.second));
    return config;
  }

  std::string file_;
  // lex() holds a pointer into this only as header() returned it, and only
  // header() adds to it.
  std::vector<Section> sections_;
  std::vector<ConfigError> errors_;
  std::vector<std::pair<unsigned, std::string>> warnings_;
};

}  // namespace

std::string ConfigError::to_string() const {
  std::string out = printable(file, 4096);
  if (line) out += ":" + std::to_string(line);
  out += ": ";
  if (!section.empty()) out += "[" + printable(section) + "] ";
  if (!key.empty()) out += "\"" + printable(key) + "\": ";
  if (!value.empty()) out += "\"" + printable(value) + "\": ";
  out += printable(message, 4096);
  return out;
}

std::string ipv4_to_string(uint32_t addr) {
  std::string s = Endpoint{addr, 0}.to_string();
  return s.substr(0, s.rfind(':'));
}

std::optional<bool> ip_list_decides(std::span<const Ipv4Range> list, uint32_t addr) {
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    if (it->contains(addr)) return !it->exclude;
  }
  return std::nullopt;
}

const LnsConfig* Config::find_lns(std::string_view name) const {
  for (const auto& l : lns) {
    if (iequals(l.name, name)) return &l;
  }
  return nullptr;
}

const LacConfig* Config::find_lac(std::string_view name) const {
  for (const auto& l : lac) {
    if (iequals(l.name, name)) return &l;
  }
  return nullptr;
}

const LnsConfig* Config::lns_for_peer(uint32_t peer_addr) const {
  // xl2tpd prepends each new entry to its list, so the last one in the file
  // is tried first; [lns default] comes after all of them.
  const LnsConfig* fallback = nullptr;
  for (auto it = lns.rbegin(); it != lns.rend(); ++it) {
    if (it->is_default) {
      fallback = &*it;
      continue;
    }
    if (ip_list_permits(it->lacs, peer_addr)) return &*it;
  }
  if (fallback && ip_list_permits(fallback->lacs, peer_addr)) return fallback;
  return global.access_control ? nullptr : fallback;
}

ConfigResult<Config> parse_config(std::string_view text, std::string_view filename) {
  // The parser allocates; on a machine out of memory that is the one way it
  // can fail, and it must not take the daemon down on a SIGHUP.
  try {
    return Parser(filename).run(text);
  } catch (const std::bad_alloc&) {
    return std::vector<ConfigError>{ConfigError{std::string(filename), 0, "", "", "", "out of memory"}};
  }
}

bool configures_nothing(const Config& c) { return c.lns.empty() && c.lac.empty() && c.lac_default.line == 0; }

ConfigResult<std::string> read_startup_file(const std::string& path) {
  auto fail = [&](std::string message) {
    return std::vector<ConfigError>{ConfigError{path, 0, "", "", "", std::move(message)}};
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::string("cannot open: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) return fail("is a directory");
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::string("read error: ") + std::strerror(errno));
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > kMaxFileSize) {
      return fail("larger than " + std::to_string(kMaxFileSize >> 20) + " MiB: not a start-up file");
    }
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

ConfigResult<Config> load_config(const std::string& path) {
  auto text = read_startup_file(path);
  if (!text) return text.errors();
  return parse_config(*text, path);
}

}  // namespace l2tp::control
