#pragma once
// The configuration file: a superset of xl2tpd.conf (xl2tpd 1.3.18, file.c),
// read at start-up and again on SIGHUP. A real xl2tpd.conf loads unchanged.
//
// Syntax, as xl2tpd reads it:
//   [global]            one per file
//   [lns NAME]          an LNS entry; [lns default] is the fallback entry
//   [lac NAME]          a LAC entry; [lac default] holds defaults (below)
//   key = value         keys are case-insensitive; a key may be several
//                       words ("ip range"); the value is the rest of the line
//   ; comment           ';' starts a comment anywhere on a line, so no value
//                       can contain ';'. There is no quoting and no include.
//   yes/no              booleans: yes, y, true, no, n, false (any case)
// Our additions, which xl2tpd would reject, so no xl2tpd file changes
// meaning: a line whose first non-blank character is '#' is a comment (a '#'
// later in a line is part of the value, as in xl2tpd); runs of blanks inside
// a key count as one; blanks inside the brackets of a section header are
// ignored; a leading UTF-8 byte order mark is skipped; durations may say
// "500ms" or "30s"; a `[dataplane]` section (key = value, kept as a map for
// the data plane to validate: unknown keys are kept); and the extension keys
// of [global] listed below. Text after a header's ']' is ignored with a
// warning (xl2tpd ignores it silently).
//
// Where we are stricter than xl2tpd (it resolves names with gethostbyname
// and reads numbers with atoi, so "port = abc" is port 0 there):
// - addresses are dotted-quad IPv4 only ("a.b.c.d", no leading zeros):
//   host names are not resolved at parse time, except in `lns =`, which
//   names the peer to dial and is resolved when dialling, as in xl2tpd;
// - numbers are decimal and range-checked;
// - naming a section twice is an error (xl2tpd silently reopens it and
//   merges, which hides copy-and-paste mistakes);
// - an unknown key, a key in the wrong section, an unknown section, a key
//   outside any section, or a line without '=' is an error (as in xl2tpd).
//
// [lns default] is an LNS entry like the others: the fallback for peers that
// no other entry's `lac` list admits (see lns_for_peer). [lac default] is not
// dialled itself: its keys are the defaults of every other [lac] section,
// wherever it stands in the file (a section's own keys win; a section with
// its own `lns` lines replaces the default's list), and it is the template
// for ad-hoc dial-outs ("t <host>" on the command FIFO), as in xl2tpd.
//
// Extension keys ([global] only; not in xl2tpd):
//   hello interval = 60          RFC 2661 6.5: Hello after this long idle;
//                                0 disables. Seconds, or "Nms" / "Ns".
//   hold time = 31               5.7: how long a closed tunnel keeps its
//                                state to acknowledge retransmissions.
//   max tunnels = 0              tunnels at once; 0: no limit but the IDs.
//   max sessions = 0             sessions at once, all tunnels; 0: no limit.
//   max sessions per tunnel = 65535
// xl2tpd's own `cap backoff` (seconds; 1.3.18 stores it but never reads it)
// is our retransmission interval cap (RFC 2661 5.8).
//
// xl2tpd keys we parse and store but do not act on (yet): each use is a
// warning "accepted, not yet acted on", never an error:
//   [global] rand source, ipsec saref, saref refinfo, force userspace,
//            debug packet
//   [lns]/[lac] exclusive (lns), length bit, call rws, flow bit, tx bps,
//            rx bps, bps
// Every other key is meant to be honoured: the tunnel and transport ones by
// the control plane, the PPP ones through the options given to pppd.
//
// Errors are values: parse_config never throws and never crashes, whatever
// the bytes. Every error names FILE:LINE, the section, the key and the value:
//   /etc/xl2tpd/xl2tpd.conf:12: [lns default] "ip range": "10.0.0.9-10.0.0.1":
//   the range ends before it starts
// Invariant: every IPv4 address here is in host byte order.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace l2tp::control {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;
using namespace std::chrono_literals;

// One problem in a start-up file (config or secrets).
struct ConfigError {
  std::string file;
  unsigned line = 0;     // 1-based; 0: the file as a whole
  std::string section;   // "lns default", "global"; empty outside any
  std::string key;       // as written; empty when none is concerned
  std::string value;     // as written; empty when none is concerned
  std::string message;   // what is wrong

  // FILE:LINE: [SECTION] "KEY": "VALUE": MESSAGE, with the parts that are
  // empty left out and bytes outside printable ASCII written as \xNN.
  std::string to_string() const;
};

// The value, or every error found (parsing goes on after an error so that
// one run reports them all, up to kMaxErrors).
template <class T>
class [[nodiscard]] ConfigResult {
 public:
  ConfigResult(T value) : v_(std::move(value)) {}                          // NOLINT implicit
  ConfigResult(std::vector<ConfigError> errors) : v_(std::move(errors)) {}  // NOLINT implicit

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }

  // Empty when ok().
  const std::vector<ConfigError>& errors() const {
    static const std::vector<ConfigError> kNone;
    return ok() ? kNone : std::get<1>(v_);
  }

 private:
  std::variant<T, std::vector<ConfigError>> v_;
};

// Past this many errors a file is garbage: stop reading it.
inline constexpr size_t kMaxErrors = 50;
// xl2tpd reads a line into 1024 bytes; longer content (comments excepted)
// is an error rather than the silent split xl2tpd makes of it.
inline constexpr size_t kMaxLineLength = 1023;
// A start-up file larger than this is refused unread.
inline constexpr size_t kMaxFileSize = 16u << 20;

inline constexpr uint16_t kDefaultPort = 1701;  // RFC 2661 8.1
inline constexpr const char* kDefaultAuthFile = "/etc/xl2tpd/l2tp-secrets";

// "a.b.c.d" from a host-order address.
std::string ipv4_to_string(uint32_t addr);

// An inclusive range of host-order IPv4 addresses; `exclude` for the "no"
// forms ("no ip range", "no lac").
struct Ipv4Range {
  uint32_t first = 0;
  uint32_t last = 0;
  bool exclude = false;

  bool contains(uint32_t addr) const { return addr >= first && addr <= last; }
  bool operator==(const Ipv4Range&) const = default;
};

// xl2tpd's reading of an allow/deny list: the LAST entry that contains the
// address decides (aaa.c get_lns for `lac`, get_addr for `ip range`);
// nullopt when no entry contains it.
std::optional<bool> ip_list_decides(std::span<const Ipv4Range> list, uint32_t addr);
// Whether the list admits the address: its last matching entry allows it.
inline bool ip_list_permits(std::span<const Ipv4Range> list, uint32_t addr) {
  return ip_list_decides(list, addr).value_or(false);
}

// xl2tpd's "rand source": where its random numbers came from. We always use
// the kernel's getrandom(), so this is stored only.
enum class RandSource : uint8_t { kDev, kSys };

struct GlobalConfig {
  uint32_t listen_addr = 0;             // "listen-addr"; 0: every address
  uint16_t port = kDefaultPort;         // "port"; 0: the kernel picks
  std::string auth_file = kDefaultAuthFile;  // "auth file": l2tp-secrets
  bool access_control = false;          // "access control": only peers an
                                        // [lns] `lac` list admits
  unsigned max_retries = 5;             // "max retries" (RFC 2661 5.8)
  std::optional<Duration> cap_backoff;  // "cap backoff": retransmission
                                        // interval cap; unset: the transport's
  bool debug_avp = false;               // "debug avp"
  bool debug_network = false;           // "debug network"
  bool debug_state = false;             // "debug state"
  bool debug_tunnel = false;            // "debug tunnel"
  // Accepted, not acted on.
  bool debug_packet = false;            // "debug packet"
  RandSource rand_source = RandSource::kDev;  // "rand source"
  bool ipsec_saref = false;             // "ipsec saref"
  int saref_refinfo = 30;               // "saref refinfo"
  bool force_userspace = false;         // "force userspace"
  // Extensions.
  Duration hello_interval = 60s;        // "hello interval"; 0 disables
  Duration hold_time = 31s;             // "hold time"
  uint32_t max_tunnels = 0;             // "max tunnels"; 0: no limit
  uint32_t max_sessions = 0;            // "max sessions"; 0: no limit
  uint32_t max_sessions_per_tunnel = 65535;  // "max sessions per tunnel"
};

// What an [lns] and a [lac] section share: tunnel settings, and the PPP
// options handed to pppd.
struct EndpointConfig {
  std::string name;          // the section's name as written ("" if none)
  bool is_default = false;   // [lns default] / [lac default]
  unsigned line = 0;         // the section header's line

  std::string hostname;      // "hostname": our Host Name AVP; empty: the
                             // system's host name
  std::string auth_name;     // "name": pppd's `name` (our PPP identity)
  bool hidden_bit = false;   // "hidden bit": hide AVPs (RFC 2661 4.3)
  bool challenge = false;    // "challenge": tunnel authentication (4.4.3)
  uint16_t tunnel_rws = 4;   // "tunnel rws": our control Receive Window
  std::optional<uint32_t> local_ip;  // "local ip": our PPP address
  bool require_chap = false;         // "require chap"
  bool require_pap = false;          // "require pap"
  bool require_authentication = false;  // "require auth(entication)"
  bool refuse_chap = false;          // "refuse chap"
  bool refuse_pap = false;           // "refuse pap"
  bool refuse_authentication = false;   // "refuse auth(entication)"
  bool ppp_debug = false;            // "ppp debug"
  bool pass_peer = false;            // "pass peer": peer address as ipparam
                                     // (off, as xl2tpd's code has it; its
                                     // man page says on)
  std::string pppoptfile;            // "pppoptfile"
  // Accepted, not acted on.
  bool length_bit = false;           // "length bit": L bit on data messages
  int call_rws = 4;                  // "call rws"; -1: no data sequencing
                                     // ("flow bit = no" sets -1, "yes"
                                     // raises -1 to 0, as xl2tpd)
  uint32_t tx_bps = 10000000;        // "tx bps" / "bps"
  uint32_t rx_bps = 10000000;        // "rx bps" / "bps"
};

struct LnsConfig : EndpointConfig {
  std::vector<Ipv4Range> lacs;       // "lac" / "no lac": peers this entry
                                     // serves, in file order
  std::vector<Ipv4Range> ip_ranges;  // "ip range" / "no ip range": the
                                     // pool for peers' PPP addresses
  bool assign_ip = true;             // "assign ip"
  std::vector<Ipv4Range> local_ip_ranges;  // "local ip range": one local
                                     // address per tunnel (exclusive with
                                     // "local ip")
  bool unix_authentication = false;  // "unix auth(entication)": pppd `login`
  // Accepted, not acted on.
  bool exclusive = false;            // "exclusive": one tunnel per peer
};

// An LNS to dial: "lns = host" or "lns = host:port". The host is a name or
// an address, resolved when dialling.
struct LnsPeer {
  std::string host;
  uint16_t port = kDefaultPort;
  bool operator==(const LnsPeer&) const = default;
};

struct LacConfig : EndpointConfig {
  LacConfig() {
    // xl2tpd's new_lac() leaves the speeds at 0.
    tx_bps = 0;
    rx_bps = 0;
  }
  std::vector<LnsPeer> lns;          // "lns": first, then backups
  bool autodial = false;             // "autodial": dial at start-up
  bool redial = false;               // "redial"
  Duration redial_timeout = 30s;     // "redial timeout"
  unsigned max_redials = 0;          // "max redials"; 0: no limit
  bool defaultroute = false;         // "defaultroute": pppd `defaultroute`
  std::optional<uint32_t> remote_ip; // "remote ip": the peer's PPP address
};

struct Config {
  GlobalConfig global;
  std::vector<LnsConfig> lns;   // file order, [lns default] included
  std::vector<LacConfig> lac;   // file order, named sections only, with
                                // [lac default] applied
  LacConfig lac_default;        // [lac default], or the built-in defaults
  std::map<std::string, std::string> dataplane;  // [dataplane]: keys
                                // lower-cased, blanks collapsed
  std::vector<std::string> warnings;  // formatted like errors

  // By section name, case-insensitively (as xl2tpd compares them).
  const LnsConfig* find_lns(std::string_view name) const;
  const LacConfig* find_lac(std::string_view name) const;
  // The LNS entry that serves a peer (xl2tpd's get_lns): the named entries
  // from the last in the file to the first, then [lns default], each taken
  // when its `lac` list admits the peer; failing all, [lns default] unless
  // `access control` is on; nullptr when none.
  const LnsConfig* lns_for_peer(uint32_t peer_addr) const;
};

ConfigResult<Config> parse_config(std::string_view text, std::string_view filename);

// What l2tpd runs on when its configuration sets up neither an LNS nor a
// LAC (no [lns] section, no [lac] section, [lac default] included): Debian's
// own /etc/xl2tpd/xl2tpd.conf is all comments, and a daemon that refuses
// every peer helps nobody. An LNS for every peer, without tunnel or PPP
// authentication, giving subscribers 10.9.0.10-10.9.0.254 with 10.9.0.1 as
// its own PPP address. The [global] keys of the file still apply.
inline constexpr std::string_view kBuiltinLnsSection =
    "[lns default]\n"
    "ip range = 10.9.0.10-10.9.0.254\n"
    "local ip = 10.9.0.1\n"
    "require authentication = no\n"
    "name = l2tpd\n";
inline constexpr const char* kBuiltinLnsName = "built-in [lns default]";
bool configures_nothing(const Config& c);
// Reads and parses the file; an unreadable file is one error naming it.
ConfigResult<Config> load_config(const std::string& path);

// A start-up file (config, secrets) read whole, at most kMaxFileSize bytes;
// an error names the file and says why it could not be read.
ConfigResult<std::string> read_startup_file(const std::string& path);

}  // namespace l2tp::control
