#pragma once
// The tunnel secrets file (xl2tpd's l2tp-secrets, `auth file` in [global]):
// the shared secrets of RFC 2661 tunnel authentication (4.4.3, 5.1.1) and
// hidden AVPs (4.3).
//
// Format, as xl2tpd 1.3.18 reads it (aaa.c get_secret):
//   us  them  secret
// - `us` is OUR host name (the section's `hostname`, or the system's), `them`
//   the PEER's (the Host Name AVP it sent). Either may be `*`, which matches
//   any name. (The column order is "us them", as the l2tp-secrets(5) man
//   page and Debian's sample file say; the names are compared without
//   regard to case.)
// - Fields are separated by blanks. The secret is the REST of the line after
//   the second field, blanks at its ends removed: it may contain blanks.
// - '#' and ';' start a comment anywhere on a line, so a secret cannot
//   contain them. There is no quoting: quotes are part of the secret.
// - The FIRST line that matches wins, in file order. A wildcard line does
//   not yield to a more specific line further down: put specific lines
//   first.
//
// Where we differ from xl2tpd: it re-reads the file at every challenge and
// skips a malformed line with a log message; we read it at start-up and on
// SIGHUP, and a malformed line is an error naming FILE:LINE. xl2tpd reads
// lines into 80 bytes (a longer line is split in two) and ends the `them`
// field at a '!'; we take lines whole and '!' as an ordinary character.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/config.hpp"

namespace l2tp::control {

struct SecretEntry {
  std::string us;      // our host name, or "*"
  std::string them;    // the peer's host name, or "*"
  std::string secret;  // never empty
  unsigned line = 0;   // where it was read
};

class Secrets {
 public:
  static ConfigResult<Secrets> parse(std::string_view text, std::string_view filename);
  // Reads and parses the file; an unreadable file is one error naming it.
  static ConfigResult<Secrets> load(const std::string& path);

  // The secret shared between us (host name `us`) and the peer that calls
  // itself `them`: the first entry, in file order, whose `us` field is `us`
  // or "*" and whose `them` field is `them` or "*", case-insensitively.
  std::optional<std::string> lookup(std::string_view them, std::string_view us) const;
  // The entry lookup() would take, or nullptr.
  const SecretEntry* find(std::string_view them, std::string_view us) const;

  const std::vector<SecretEntry>& entries() const { return entries_; }

 private:
  std::vector<SecretEntry> entries_;
};

}  // namespace l2tp::control
