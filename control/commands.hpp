#pragma once
// The command FIFO's command set: parsing of arguments and formatting of
// replies, apart from the I/O and the daemon so that they are tested alone.
//
// Two families share the FIFO (command_fifo.hpp reads the lines):
// - the classic l2tpd's: `t <host>` (open a tunnel), `c <tid|entry>` (place
//   a call on a tunnel, or dial a [lac] entry), `h <cid>` (hang up a session
//   by our Session ID), `d <tid|entry>` (close a tunnel, or a [lac] entry's),
//   `o <entry|tid> <number>` (LNS: an outgoing call, OCRQ);
// - what Debian's xl2tpd-control (1.3.18) writes, always behind
//   "@REPLYFIFO ": `a NAME k=v;...` add-lac, `c NAME [user [password]]`
//   connect-lac, `d NAME` disconnect-lac, `r NAME` remove-lac, `s NAME`
//   status-lac, `z NAME k=v;...` add-lns, `y NAME` status-lns, `w NAME`
//   remove-lns, `x (null)` available (the client prints its NULL tunnel name).
//
// A reply is one or more lines "NN text\n", NN the result code in two
// digits, as xl2tpd's write_res() makes them; the client reads until we
// close, prints the text with -d and exits with the number it reads with
// sscanf("%i"). That reads a leading 0 as octal, so "08" and "09" would exit
// 0: codes stay below 8.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace l2tp::control {

// xl2tpd's codes (xl2tpd.c): 0 done, 1 failed (no such entry, not up,
// already up, unknown command), 2 out of memory (unused here), 3 the
// configuration given did not parse.
inline constexpr int kReplyOk = 0;
inline constexpr int kReplyError = 1;
inline constexpr int kReplyParseError = 3;

struct Reply {
  int code = kReplyOk;
  std::vector<std::string> lines;  // each one line of the reply, without code

  bool ok() const { return code == kReplyOk; }
};

// What a letter does ("connect", "add-lac", ...); nullptr for a letter no
// command has. For the log, and to answer an unknown one.
const char* command_name(char letter);
// "01 Unknown command q", as xl2tpd answers.
Reply unknown_command_reply(char letter);

Reply ok_reply();  // "00 OK"
Reply error_reply(std::string text, int code = kReplyError);

// The bytes for the client's FIFO: every line "%02d text\n" (the code
// clamped to 0..99); bytes outside printable ASCII written as \xNN so that
// nothing a peer or a user sent can forge a line. A reply without lines
// says "OK" or "Error".
std::string format_reply(const Reply& r);

// The arguments of add-lac / add-lns: "NAME key=value;key two = value;...".
// xl2tpd-control joins its words that way ("key = value" given as separate
// words become "key =value;"); keys are xl2tpd.conf keys, blanks around
// both sides are trimmed, empty items (";;", a trailing ";") are skipped.
struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};
struct EntryArgs {
  std::string name;
  std::vector<KeyValue> pairs;
};
struct EntryArgsResult {
  std::optional<EntryArgs> value;
  std::string error;  // when no value
};
EntryArgsResult parse_entry_args(std::string_view args);

// Whether a section name is one we accept from the FIFO: 1..63 bytes of
// letters, digits and "-_.@+:", so that it can never break out of the
// "[lac NAME]" line it is put in.
bool valid_entry_name(std::string_view name);

// The config text of one section, "[KIND NAME]\nkey = value\n..." (kind
// "lac" or "lns"), for parse_config: keys and values get exactly the
// meaning and the error messages they have in the file. Line N+1 of the
// text is pair N.
std::string section_text(std::string_view kind, const EntryArgs& e);

// Merges a modification into an entry's pairs: every new pair is
// appended, so later keys win and list keys ("lns", "ip range", "lac")
// accumulate, as they do when a section of the file repeats a key and as
// xl2tpd's add-lns does on an existing entry.
std::vector<KeyValue> merge_pairs(std::vector<KeyValue> old_pairs, const std::vector<KeyValue>& more);

// The blank-separated words of a command's arguments.
std::vector<std::string_view> split_words(std::string_view args);

// A Tunnel or Session ID as the classic commands take it: decimal,
// 1..65535, nothing else (no sign, no blank, no "0x").
std::optional<uint16_t> parse_id(std::string_view s);

// What the status replies show; the daemon fills these from the Engine.
struct CallStatus {
  uint16_t id = 0;       // ours
  uint16_t peer_id = 0;  // the peer's
  std::string state;     // session_state_name
  std::string direction; // "incoming" / "outgoing"
  // What accounting wants (socket mode has no telemetry: the FIFO is its
  // window): set once the call has a PPP side.
  std::string subscriber;  // IPCP's peer address, "" before IPCP
  std::string user;        // the name the peer authenticated with
  uint64_t frames_in = 0, bytes_in = 0;    // PPP from the peer, through the control thread
  uint64_t frames_out = 0, bytes_out = 0;  // PPP to the peer, through the control thread
  uint64_t fast_path_packets = 0;          // IPv4 the data plane moved, both ways
};
struct TunnelStatus {
  uint16_t id = 0;       // ours: what `d <tid>` and `c <tid>` take
  uint16_t peer_id = 0;
  std::string role;      // "LAC" / "LNS"
  std::string peer;      // "a.b.c.d:port"
  std::string peer_host; // the peer's Host Name AVP
  std::string state;     // tunnel_state_name
  std::vector<CallStatus> calls;
};
struct LacStatus {
  std::string name;
  std::string lns;                    // "host:port", empty when none
  std::optional<TunnelStatus> tunnel; // its tunnel, when it has one
};

// available (x): "00 OK", then the entries and the tunnels, in the shape
// xl2tpd gives ("AVAILABLE lns.0.name=default", "AVAILABLE lns.count=1",
// ..., "AVAILABLE tunnels count=N", "AVAILABLE calls count=N"), each
// tunnel as "AVAILABLE tunnel ID, id PEER_ID, ourtid ID has N calls".
Reply available_reply(const std::vector<std::string>& lns_names, const std::vector<std::string>& lac_names,
                      const std::vector<TunnelStatus>& tunnels);

// status-lns (y): "00 OK", "STATUS name=", then per tunnel of that entry
// "STATUS tunnels.N.id=ID", ".peer_id=", ".peer=", ".peer_host=", ".role=",
// ".state=", per call "STATUS tunnels.N.calls.M.id=", ".peer_id=",
// ".state=", ".direction=", ".subscriber=", ".user=", ".frames_in=",
// ".bytes_in=", ".frames_out=", ".bytes_out=", ".fast_path_packets=",
// then "STATUS tunnels.N.calls.count=", and
// "STATUS tunnels.count=". As xl2tpd's (less its byte counters, not kept yet),
// but `id` is our Tunnel ID (xl2tpd shows the peer's), the one the other
// commands take.
Reply lns_status_reply(std::string_view name, const std::vector<TunnelStatus>& tunnels);

// status-lac (s), which xl2tpd 1.3.18 never answers: "00 OK", then
// "STATUS name=", "STATUS lns=", "STATUS state=" (down when it has no
// tunnel, else the tunnel's state), and for its tunnel the lines of
// lns_status_reply under "tunnel." (tunnel.id=, tunnel.calls.0.id=, ...).
Reply lac_status_reply(const LacStatus& s);

}  // namespace l2tp::control
