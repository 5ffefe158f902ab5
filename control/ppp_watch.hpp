#pragma once
// What a PPP handler that only forwards frames (pppd on a pty) learns by
// watching them: LCP up and down with each side's MRU, the name the peer
// authenticated with (PAP, CHAP), and the IPCP / IPV6CP results (addresses,
// interface identifiers). The data plane needs these to take a session into
// the fast path when IPCP opens and out of it when anything goes down
// (DESIGN.md "Fast path handoff"); the status report shows them.
//
// It reads frames, it never answers: pppd runs the real state machines
// (RFC 1661 4). A control protocol counts as opened once each side has
// acknowledged the other's Configure-Request: the last Configure-Ack sent
// in each direction carries the options in force (RFC 1661 5.2: an Ack
// repeats the Request's options exactly). A Configure-Request after that
// (renegotiation), a Terminate-Request or Terminate-Ack takes it down, and
// LCP going down takes the network protocols with it (RFC 1661 3.7).
//
// "Peer" is the L2TP peer's PPP side (the subscriber, for an LNS); "local"
// is pppd's. Invariant: IPv4 addresses in host byte order.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

namespace l2tp::control {

enum class PppDirection : uint8_t { kFromPeer, kFromLocal };

struct PppLinkState {
  bool lcp_up = false;
  uint16_t peer_mru = 1500;   // what the peer can receive (RFC 1661 6.1: default 1500)
  uint16_t local_mru = 1500;  // what pppd can receive
  // The identity the peer proved (PAP Authenticate-Ack or CHAP Success sent
  // by pppd); empty until then. A LAC's pppd proving itself to the peer
  // fills local_auth_name instead. LCP down still carries them (who went,
  // for accounting); they are cleared after it.
  std::string peer_auth_name;
  std::string local_auth_name;
  bool ipcp_up = false;
  uint32_t peer_ipv4 = 0;   // the subscriber's address
  uint32_t local_ipv4 = 0;
  bool ipv6cp_up = false;
  uint64_t peer_interface_id = 0;   // RFC 5072 4.1
  uint64_t local_interface_id = 0;
};

enum class PppEvent : uint8_t {
  kLcpUp, kLcpDown, kAuthenticated, kIpcpUp, kIpcpDown, kIpv6cpUp, kIpv6cpDown,
};
const char* ppp_event_name(PppEvent e);

struct PppWatchCounters {
  uint64_t frames = 0;
  uint64_t data_frames = 0;  // network-layer data (IPv4, IPv6...) both ways: what idle time counts
  uint64_t unparsable = 0;  // control packets too short or with bad option lengths: ignored
};

class PppWatch {
 public:
  using EventFn = std::function<void(PppEvent, const PppLinkState&)>;

  explicit PppWatch(EventFn on_event = {}) : on_event_(std::move(on_event)) {}

  // One PPP frame as L2TP carries it (FF 03 present or not, protocol
  // possibly compressed). Never fails: what does not parse is counted.
  void observe(PppDirection from, std::span<const uint8_t> frame);

  const PppLinkState& state() const { return state_; }
  const PppWatchCounters& counters() const { return counters_; }

 private:
  // One control protocol's negotiation seen from outside: which side's
  // Configure-Request the other has acknowledged, with the options acked.
  struct Negotiation {
    bool peer_acked = false;   // the peer's request acknowledged by local
    bool local_acked = false;  // local's request acknowledged by the peer
    bool up = false;
  };
  enum class Cp : uint8_t { kLcp, kIpcp, kIpv6cp };

  void on_control(Cp cp, PppDirection from, std::span<const uint8_t> packet);
  void on_pap(PppDirection from, std::span<const uint8_t> packet);
  void on_chap(PppDirection from, std::span<const uint8_t> packet);
  // A PAP Authenticate-Ack or CHAP Success: the name the other side gave.
  void authenticated(PppDirection verdict_from);
  // Takes one protocol down (and with LCP, the network protocols).
  void down(Cp cp);
  void emit(PppEvent e) {
    if (on_event_) on_event_(e, state_);
  }
  Negotiation& negotiation(Cp cp);

  EventFn on_event_;
  PppLinkState state_;
  PppWatchCounters counters_;
  Negotiation lcp_, ipcp_, ipv6cp_;
  // Who asked to authenticate with which name, by direction, until the
  // other side's verdict: PAP Authenticate-Request peer-id, CHAP Response name.
  std::optional<std::string> pending_name_[2];
};

}  // namespace l2tp::control
