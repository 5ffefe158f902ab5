#include "control/text.hpp"
#include "control/secrets.hpp"

#include <new>

namespace l2tp::control {

namespace {

using text::is_blank;
using text::lower;
using text::trim;

// xl2tpd's fields end at any byte below 33 (space and the controls); we
// take space and tab as separators and refuse the other controls.

// The next blank-separated field of `s`, removed from it.
std::string_view next_field(std::string_view& s) {
  s = trim(s);
  size_t end = 0;
  while (end < s.size() && !is_blank(s[end])) ++end;
  std::string_view field = s.substr(0, end);
  s.remove_prefix(end);
  return field;
}


// xl2tpd compares host names with strcasecmp.
bool matches(std::string_view field, std::string_view name) {
  if (field == "*") return true;
  if (field.size() != name.size()) return false;
  for (size_t i = 0; i < field.size(); ++i) {
    if (lower(field[i]) != lower(name[i])) return false;
  }
  return true;
}

}  // namespace

ConfigResult<Secrets> Secrets::parse(std::string_view text, std::string_view filename) {
  // Allocation is the one way this can fail; a SIGHUP must not take the
  // daemon down for it.
  try {
    Secrets secrets;
    std::vector<ConfigError> errors;
    auto fail = [&](unsigned line, std::string message) {
      errors.push_back(ConfigError{std::string(filename), line, "", "", "", std::move(message)});
    };
    unsigned line_no = 0;
    size_t pos = 0;
    while (pos < text.size() && errors.size() <= kMaxErrors) {
      size_t nl = text.find('\n', pos);
      std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      pos = nl == std::string_view::npos ? text.size() : nl + 1;
      ++line_no;

      std::string_view content = trim(line.substr(0, line.find_first_of("#;")));
      if (content.empty()) continue;
      // The messages never quote the line: it may hold a secret.
      bool control = false;
      for (char c : content) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) control = true;
      }
      if (control) {
        fail(line_no, "control character in line: not a text line");
        continue;
      }
      SecretEntry e;
      e.line = line_no;
      e.us = std::string(next_field(content));
      e.them = std::string(next_field(content));
      e.secret = std::string(trim(content));
      if (e.them.empty()) {
        fail(line_no, "only one field: expected `us them secret`");
        continue;
      }
      if (e.secret.empty()) {
        fail(line_no, "no secret after \"" + e.us + " " + e.them + "\": expected `us them secret`");
        continue;
      }
      secrets.entries_.push_back(std::move(e));
    }
    if (errors.empty()) return secrets;
    if (errors.size() > kMaxErrors) {
      errors.resize(kMaxErrors);
      errors.push_back(ConfigError{std::string(filename), 0, "", "", "",
                                   "too many errors: stopped after " + std::to_string(kMaxErrors)});
    }
    return errors;
  } catch (const std::bad_alloc&) {
    return std::vector<ConfigError>{ConfigError{std::string(filename), 0, "", "", "", "out of memory"}};
  }
}

ConfigResult<Secrets> Secrets::load(const std::string& path) {
  auto text = read_startup_file(path);
  if (!text) return text.errors();
  return parse(*text, path);
}

const SecretEntry* Secrets::find(std::string_view them, std::string_view us) const {
  for (const auto& e : entries_) {
    if (matches(e.us, us) && matches(e.them, them)) return &e;
  }
  return nullptr;
}

std::optional<std::string> Secrets::lookup(std::string_view them, std::string_view us) const {
  if (const SecretEntry* e = find(them, us)) return e->secret;
  return std::nullopt;
}

}  // namespace l2tp::control
