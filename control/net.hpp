#pragma once
// The network seam of the control plane (DESIGN.md "Dependencies"): the
// control thread sends and receives raw UDP payloads through DatagramIo and
// never learns whether a kernel socket (socket mode, control/udp_socket.hpp)
// or the DPDK rings (dataplane/) are behind it. The same interface carries
// L2TP control messages and PPP data frames alike: it moves UDP payloads,
// the L2TP header included, and reads none of them.
//
// Invariant: every address and port here is in host byte order. Only the
// implementations convert, at the syscall or mbuf boundary.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace l2tp::control {

// a.b.c.d as a host-order IPv4 address.
constexpr uint32_t ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}

struct Endpoint {
  uint32_t addr = 0;  // IPv4, host byte order; 0 is INADDR_ANY
  uint16_t port = 0;  // host byte order

  auto operator<=>(const Endpoint&) const = default;

  // "192.0.2.1:1701".
  std::string to_string() const {
    std::string s;
    s.reserve(21);
    for (int shift = 24; shift >= 0; shift -= 8) {
      s += std::to_string((addr >> shift) & 0xFF);
      s += shift ? '.' : ':';
    }
    s += std::to_string(port);
    return s;
  }
};

// Parses "a.b.c.d" (port = default_port) or "a.b.c.d:port". Strict: four
// decimal octets 0..255 without leading zeros (inet_aton would read "010" as
// octal 8: reject what two parsers could read differently), a port 0..65535,
// nothing else around them. nullopt on anything else.
inline std::optional<Endpoint> parse_endpoint(std::string_view text, uint16_t default_port = 0) {
  // Reads up to max_digits decimal digits at text[pos]; nullopt if none, or
  // a leading zero followed by more digits, or a value above max.
  auto number = [&](size_t& pos, size_t max_digits, uint32_t max) -> std::optional<uint32_t> {
    size_t start = pos;
    uint32_t v = 0;
    while (pos < text.size() && pos - start < max_digits && text[pos] >= '0' && text[pos] <= '9') {
      v = v * 10 + static_cast<uint32_t>(text[pos] - '0');
      ++pos;
    }
    size_t len = pos - start;
    if (len == 0 || (len > 1 && text[start] == '0') || v > max) return std::nullopt;
    if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') return std::nullopt;  // too long
    return v;
  };

  Endpoint ep{0, default_port};
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    auto octet = number(pos, 3, 255);
    if (!octet) return std::nullopt;
    ep.addr = (ep.addr << 8) | *octet;
  }
  if (pos < text.size()) {
    if (text[pos] != ':') return std::nullopt;
    ++pos;
    auto port = number(pos, 5, 65535);
    if (!port || pos != text.size()) return std::nullopt;
    ep.port = static_cast<uint16_t>(*port);
  }
  return ep;
}

// Where a datagram came from and went to. On receive, local is the address
// the peer sent TO (a multi-homed LNS must answer from the address it was
// asked on: a LAC matches the reply against the address it sent its SCCRQ
// to, and a reply from another address looks like a stranger). On send,
// local.addr chooses the source address (0: let the routing table choose)
// and peer is the destination.
struct DatagramMeta {
  Endpoint local;
  Endpoint peer;
  // For the DPDK implementation (later): the access port, the VLAN ID (0 =
  // untagged) and the worker lcore the datagram arrived on, so a reply leaves
  // by the same port and VLAN and a session is owned by the right worker.
  // The kernel socket leaves them 0.
  uint16_t port_id = 0;
  uint16_t vlan = 0;
  uint16_t worker = 0;
  // On send: the local Session ID when the datagram is a data message of
  // that session (a PPP frame from pppd), 0 otherwise. The data plane sends
  // it through the session's owner worker; received datagrams leave it 0.
  uint16_t session = 0;

  bool operator==(const DatagramMeta&) const = default;
};

// One datagram to send. data is borrowed: it must stay valid only for the
// duration of the send_batch() call that carries it.
struct TxDatagram {
  DatagramMeta meta;
  std::span<const uint8_t> data;
};

// Every datagram offered to send_batch ends in exactly one of tx_datagrams,
// tx_dropped (no room: full socket buffer or ring) or tx_errors (refused,
// e.g. a source address not local). Datagrams counted in rx_truncated or
// rx_errors are not in rx_datagrams.
struct IoCounters {
  uint64_t rx_datagrams = 0;
  uint64_t rx_bytes = 0;      // UDP payload bytes
  uint64_t tx_datagrams = 0;
  uint64_t tx_bytes = 0;      // UDP payload bytes
  uint64_t tx_dropped = 0;    // no room now: a counted drop, never a block
  uint64_t rx_errors = 0;     // receive calls that failed
  uint64_t tx_errors = 0;     // datagrams the stack refused
  uint64_t rx_truncated = 0;  // larger than the receive buffer: dropped
};

class DatagramIo {
 public:
  using DatagramFn = std::function<void(const DatagramMeta&, std::span<const uint8_t>)>;

  virtual ~DatagramIo() = default;

  // Sends a batch; returns how many were accepted. The rest are counted
  // drops or errors (IoCounters), never a block: the control thread must not
  // stall behind a full buffer, and the transport retransmits what matters.
  virtual size_t send_batch(std::span<const TxDatagram> batch) = 0;

  // Receives up to max datagrams, calling on_datagram for each (the span is
  // valid only during that call); returns how many. Never blocks.
  virtual size_t receive_batch(size_t max, const DatagramFn& on_datagram) = 0;

  // An fd the event loop can wait on for readability, or -1 if the
  // implementation must be polled (DPDK rings have no fd: see
  // EventLoop::add_poller and EventFdKick).
  virtual int wait_fd() const = 0;

  virtual const IoCounters& counters() const = 0;

  // true when the implementation writes Ns into sequenced data messages
  // itself (RFC 2661 5.4), so that the sender leaves it 0: the data plane,
  // whose owner worker numbers a session's fast-path packets and pppd's
  // frames from one counter. The kernel socket does not: the control
  // thread numbers them (Session::DataSequence).
  virtual bool sequences_data() const { return false; }
};

}  // namespace l2tp::control

template <>
struct std::hash<l2tp::control::Endpoint> {
  size_t operator()(const l2tp::control::Endpoint& e) const noexcept {
    return std::hash<uint64_t>{}((uint64_t{e.addr} << 16) | e.port);
  }
};
