#include "control/commands.hpp"

#include <algorithm>
#include <cstdio>

#include "control/text.hpp"

namespace l2tp::control {

namespace {

using text::is_blank;
using text::trim;

void escape_into(std::string& out, std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(ch);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
}

// One tunnel's lines under `prefix` ("tunnels.0." or "tunnel.").
void tunnel_lines(std::vector<std::string>& out, const std::string& prefix, const TunnelStatus& t) {
  out.push_back("STATUS " + prefix + "id=" + std::to_string(t.id));
  out.push_back("STATUS " + prefix + "peer_id=" + std::to_string(t.peer_id));
  out.push_back("STATUS " + prefix + "peer=" + t.peer);
  out.push_back("STATUS " + prefix + "peer_host=" + t.peer_host);
  out.push_back("STATUS " + prefix + "role=" + t.role);
  out.push_back("STATUS " + prefix + "state=" + t.state);
  for (size_t i = 0; i < t.calls.size(); ++i) {
    const std::string p = prefix + "calls." + std::to_string(i) + ".";
    const CallStatus& c = t.calls[i];
    out.push_back("STATUS " + p + "id=" + std::to_string(c.id));
    out.push_back("STATUS " + p + "peer_id=" + std::to_string(c.peer_id));
    out.push_back("STATUS " + p + "state=" + c.state);
    out.push_back("STATUS " + p + "direction=" + c.direction);
    out.push_back("STATUS " + p + "subscriber=" + c.subscriber);
    out.push_back("STATUS " + p + "user=" + c.user);
    out.push_back("STATUS " + p + "frames_in=" + std::to_string(c.frames_in));
    out.push_back("STATUS " + p + "bytes_in=" + std::to_string(c.bytes_in));
    out.push_back("STATUS " + p + "frames_out=" + std::to_string(c.frames_out));
    out.push_back("STATUS " + p + "bytes_out=" + std::to_string(c.bytes_out));
    out.push_back("STATUS " + p + "fast_path_packets=" + std::to_string(c.fast_path_packets));
  }
  out.push_back("STATUS " + prefix + "calls.count=" + std::to_string(t.calls.size()));
}

}  // namespace

const char* command_name(char letter) {
  switch (letter) {
    case 't': return "tunnel";
    case 'c': return "connect";
    case 'h': return "hang-up";
    case 'd': return "disconnect";
    case 'o': return "outgoing-call";
    case 'a': return "add-lac";
    case 'r': return "remove-lac";
    case 's': return "status-lac";
    case 'z': return "add-lns";
    case 'y': return "status-lns";
    case 'w': return "remove-lns";
    case 'x': return "available";
    default: return nullptr;
  }
}

Reply unknown_command_reply(char letter) {
  if (letter == 0) return error_reply("Unparsable command line");
  return error_reply(std::string("Unknown command ") + letter);
}

Reply ok_reply() { return Reply{kReplyOk, {"OK"}}; }

Reply error_reply(std::string text, int code) { return Reply{code, {std::move(text)}}; }

std::string format_reply(const Reply& r) {
  const int code = std::clamp(r.code, 0, 99);
  char prefix[4];
  std::snprintf(prefix, sizeof prefix, "%02d ", code);
  std::string out;
  if (r.lines.empty()) {
    out = prefix;
    out += code == kReplyOk ? "OK\n" : "Error\n";
    return out;
  }
  for (const std::string& line : r.lines) {
    out += prefix;
    escape_into(out, line);
    out.push_back('\n');
  }
  return out;
}

bool valid_entry_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '@' || c == '+' || c == ':';
  });
}

EntryArgsResult parse_entry_args(std::string_view args) {
  args = trim(args);
  size_t sp = 0;
  while (sp < args.size() && !is_blank(args[sp])) ++sp;
  const std::string_view name = args.substr(0, sp);
  if (name.empty()) return {std::nullopt, "entry name expected"};
  if (!valid_entry_name(name))
    return {std::nullopt, "bad entry name (1 to 63 letters, digits or -_.@+:)"};
  EntryArgs e;
  e.name = std::string(name);
  std::string_view rest = args.substr(sp);
  while (!rest.empty()) {
    const size_t semi = rest.find(';');
    const std::string_view item = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return {std::nullopt, "\"" + std::string(item) + "\": key=value expected"};
    const std::string_view key = trim(item.substr(0, eq));
    const std::string_view value = trim(item.substr(eq + 1));
    if (key.empty()) return {std::nullopt, "\"" + std::string(item) + "\": no key before '='"};
    // The key starts a line of the section text: it must not be read as a
    // section header or a comment, nor hold anything but key words.
    const bool key_ok = std::all_of(key.begin(), key.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
             c == ' ' || c == '\t';
    });
    if (!key_ok) return {std::nullopt, "\"" + std::string(key) + "\": not a configuration key"};
    const bool value_ok =
        std::none_of(value.begin(), value.end(), [](char c) { return c == '\n' || c == '\r' || c == '\0'; });
    if (!value_ok) return {std::nullopt, "\"" + std::string(key) + "\": control character in the value"};
    e.pairs.push_back({std::string(key), std::string(value)});
  }
  return {std::move(e), ""};
}

std::string section_text(std::string_view kind, const EntryArgs& e) {
  std::string out = "[";
  out += kind;
  out += ' ';
  out += e.name;
  out += "]\n";
  for (const KeyValue& kv : e.pairs) out += kv.key + " = " + kv.value + "\n";
  return out;
}

std::vector<KeyValue> merge_pairs(std::vector<KeyValue> old_pairs, const std::vector<KeyValue>& more) {
  old_pairs.insert(old_pairs.end(), more.begin(), more.end());
  return old_pairs;
}

std::vector<std::string_view> split_words(std::string_view args) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < args.size()) {
    while (i < args.size() && is_blank(args[i])) ++i;
    const size_t start = i;
    while (i < args.size() && !is_blank(args[i])) ++i;
    if (i > start) words.push_back(args.substr(start, i - start));
  }
  return words;
}

std::optional<uint16_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  uint32_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) return std::nullopt;  // 0 is no ID (RFC 2661 3.1)
  return static_cast<uint16_t>(v);
}

Reply available_reply(const std::vector<std::string>& lns_names, const std::vector<std::string>& lac_names,
                      const std::vector<TunnelStatus>& tunnels) {
  Reply r = ok_reply();
  for (size_t i = 0; i < lns_names.size(); ++i)
    r.lines.push_back("AVAILABLE lns." + std::to_string(i) + ".name=" + lns_names[i]);
  r.lines.push_back("AVAILABLE lns.count=" + std::to_string(lns_names.size()));
  for (size_t i = 0; i < lac_names.size(); ++i)
    r.lines.push_back("AVAILABLE lac." + std::to_string(i) + ".name=" + lac_names[i]);
  r.lines.push_back("AVAILABLE lac.count=" + std::to_string(lac_names.size()));
  size_t calls = 0;
  for (const TunnelStatus& t : tunnels) {
    r.lines.push_back("AVAILABLE tunnel " + std::to_string(t.id) + ", id " + std::to_string(t.peer_id) + ", ourtid " +
                      std::to_string(t.id) + " has " + std::to_string(t.calls.size()) + " calls");
    calls += t.calls.size();
  }
  r.lines.push_back("AVAILABLE tunnels count=" + std::to_string(tunnels.size()));
  r.lines.push_back("AVAILABLE calls count=" + std::to_string(calls));
  return r;
}

Reply lns_status_reply(std::string_view name, const std::vector<TunnelStatus>& tunnels) {
  Reply r = ok_reply();
  r.lines.push_back("STATUS name=" + std::string(name));
  for (size_t i = 0; i < tunnels.size(); ++i) tunnel_lines(r.lines, "tunnels." + std::to_string(i) + ".", tunnels[i]);
  r.lines.push_back("STATUS tunnels.count=" + std::to_string(tunnels.size()));
  return r;
}

Reply lac_status_reply(const LacStatus& s) {
  Reply r = ok_reply();
  r.lines.push_back("STATUS name=" + s.name);
  r.lines.push_back("STATUS lns=" + s.lns);
  r.lines.push_back("STATUS state=" + (s.tunnel ? s.tunnel->state : std::string("down")));
  if (s.tunnel) tunnel_lines(r.lines, "tunnel.", *s.tunnel);
  return r;
}

}  // namespace l2tp::control
