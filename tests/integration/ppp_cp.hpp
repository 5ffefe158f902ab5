#pragma once
// PPP control protocols for ppp-peer, the pppd stand-in of the integration
// tests: the packet format shared by LCP and the NCPs (RFC 1661 5), and the
// option negotiation automaton (RFC 1661 4). Pure code, no I/O and no clock,
// so tests/integration/ppp_peer_test.cpp drives it packet by packet.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shared/bytes.hpp"

namespace l2tp::peer {

using wire::Bytes;

// RFC 1661 5: codes 1-7 are common to LCP and the NCPs; 8-11 are LCP's.
enum class Code : uint8_t {
  kConfigureRequest = 1,
  kConfigureAck = 2,
  kConfigureNak = 3,
  kConfigureReject = 4,
  kTerminateRequest = 5,
  kTerminateAck = 6,
  kCodeReject = 7,
  kProtocolReject = 8,
  kEchoRequest = 9,
  kEchoReply = 10,
  kDiscardRequest = 11,
};

// RFC 1661 5: Code, Identifier, Length (which covers the 4-octet header).
inline constexpr std::size_t kCpHeaderSize = 4;

struct CpPacket {
  uint8_t code = 0;
  uint8_t id = 0;
  std::span<const uint8_t> data;  // after the header, up to Length
};

// Nullopt when the header does not fit or Length is below 4 or beyond the
// octets present (RFC 1661 5: "Octets outside the range of the Length field
// are treated as padding and are ignored on reception").
std::optional<CpPacket> parse_cp(std::span<const uint8_t> info);

// Code, Identifier, Length, `data`.
Bytes build_cp(uint8_t code, uint8_t id, std::span<const uint8_t> data);

// A PPP frame as we send it: FF 03 (RFC 1662 3.1; we never ask for ACFC or
// PFC, so the peer expects both fields in full), protocol, information.
Bytes build_frame(uint16_t protocol, std::span<const uint8_t> info);

// RFC 1661 5.8: the Echo-Reply to `request` (an Echo-Request): same
// Identifier, our Magic-Number, the request's data after its magic.
// Nullopt when the request is too short to hold a Magic-Number.
std::optional<Bytes> build_echo_reply(const CpPacket& request, uint32_t our_magic);

// RFC 1661 5.7: an LCP Protocol-Reject (information field) of a frame of
// `protocol`, its information truncated so that the whole fits `peer_mru`.
Bytes build_protocol_reject(uint8_t id, uint16_t protocol, std::span<const uint8_t> info, uint16_t peer_mru);

// RFC 1661 6: Type, Length (covering both), Data.
struct CpOption {
  uint8_t type = 0;
  std::span<const uint8_t> value;
  std::span<const uint8_t> whole;  // type, length and value, as received
};

// Nullopt when an option's Length is below 2 or runs past the end: the
// whole packet is then malformed and silently discarded (RFC 1661 5.1).
std::optional<std::vector<CpOption>> parse_options(std::span<const uint8_t> data);

void append_option(Bytes& out, uint8_t type, std::span<const uint8_t> value);
void append_option_u16(Bytes& out, uint8_t type, uint16_t value);
void append_option_u32(Bytes& out, uint8_t type, uint32_t value);
// Network byte order reads of a span the caller has checked for size.
inline uint16_t get_u16(std::span<const uint8_t> p) { return wire::load_be16(p.data()); }
inline uint32_t get_u32(std::span<const uint8_t> p) { return wire::load_be32(p.data()); }

// What one protocol (LCP, IPCP) decides about options; the automaton below
// owns the packets, the identifiers and the states.
class OptionPolicy {
 public:
  virtual ~OptionPolicy() = default;
  // This-Layer-Started/Finished start from the configured wishes again.
  virtual void reset() = 0;
  // The options of our next Configure-Request.
  virtual Bytes build_request() = 0;
  // A Configure-Nak/Reject of our last request (RFC 1661 5.3, 5.4): adjust
  // what build_request() sends next.
  virtual void on_nak(std::span<const CpOption> options) = 0;
  virtual void on_reject(std::span<const CpOption> options) = 0;
  // Our last request was acknowledged as sent: its values are in force.
  virtual void on_ack(std::span<const CpOption> options) = 0;
  // The peer's Configure-Request, per option: what to answer. `suggest`
  // carries the value to put in a Nak.
  enum class Verdict : uint8_t { kAck, kNak, kReject };
  struct OptionVerdict {
    Verdict verdict = Verdict::kAck;
    Bytes suggest;  // for kNak: the value (not the type/length)
  };
  virtual OptionVerdict check_option(const CpOption& option) = 0;
  // Called when the whole request is acknowledged: the options are in force.
  virtual void on_request_acked(std::span<const CpOption> options) = 0;
};

// What the automaton asks of its owner.
class FsmOutput {
 public:
  virtual ~FsmOutput() = default;
  virtual void send(uint16_t protocol, const Bytes& info) = 0;
  virtual void layer_up(uint16_t protocol) = 0;        // tlu
  virtual void layer_down(uint16_t protocol) = 0;      // tld
  virtual void layer_started(uint16_t protocol) = 0;   // tls
  virtual void layer_finished(uint16_t protocol) = 0;  // tlf
  // An LCP-only code in the Opened state (Echo-Request, Protocol-Reject...),
  // or a code this automaton does not know: true when handled, else it
  // answers with Code-Reject (RFC 1661 5.6).
  virtual bool extra_code(uint16_t protocol, const CpPacket& packet) = 0;
};

// RFC 1661 4.2 states, numbered as in the state transition table.
enum class State : uint8_t {
  kInitial = 0,
  kStarting,
  kClosed,
  kStopped,
  kClosing,
  kStopping,
  kReqSent,
  kAckRcvd,
  kAckSent,
  kOpened,
};
const char* state_name(State s);

// The option negotiation automaton of RFC 1661 4, one per protocol. Events
// come in as calls; actions go out through FsmOutput. Time is the caller's:
// timer_generation() changes each time the restart timer is (re)started,
// timer_running() says whether it runs, and the caller calls timeout() when
// restart_seconds have passed since the last (re)start.
class Fsm {
 public:
  // RFC 1661 4.6 defaults.
  static constexpr int kMaxTerminate = 2;
  static constexpr int kMaxConfigure = 10;
  static constexpr int kMaxFailure = 5;

  Fsm(uint16_t protocol, OptionPolicy& policy, FsmOutput& out)
      : protocol_(protocol), policy_(policy), out_(out) {}

  // Administrative and lower-layer events (RFC 1661 4.1).
  void up();
  void down();
  void open();
  void close();
  void timeout();
  // A packet of this protocol (the information field of the PPP frame).
  void receive(std::span<const uint8_t> info);
  // RXJ- from outside: the peer rejected this whole protocol with an LCP
  // Protocol-Reject (RFC 1661 5.7).
  void protocol_rejected();

  State state() const { return state_; }
  uint16_t protocol() const { return protocol_; }
  bool timer_running() const { return timer_running_; }
  uint64_t timer_generation() const { return timer_generation_; }
  uint8_t next_id() { return ++last_id_; }

 private:
  void set_state(State s) { state_ = s; }
  void irc_configure() { restart_count_ = kMaxConfigure; }
  void irc_terminate() { restart_count_ = kMaxTerminate; }
  void zrc();
  void start_timer();
  void stop_timer() { timer_running_ = false; }
  void scr();
  void str();
  void sta(uint8_t id);
  void scj(std::span<const uint8_t> rejected);
  void tlu() { out_.layer_up(protocol_); }
  void tld() { out_.layer_down(protocol_); }
  void tls() { out_.layer_started(protocol_); }
  void tlf() {
    policy_.reset();  // the next negotiation starts from the configuration
    out_.layer_finished(protocol_);
  }

  void rcr(const CpPacket& p);
  void rca(const CpPacket& p);
  void rcn(const CpPacket& p, bool reject);
  void rtr(const CpPacket& p);
  void rta();
  void rxj(bool fatal);
  // Answers the peer's request; true when it was acknowledged (RCR+).
  bool answer_request(const CpPacket& p);

  uint16_t protocol_;
  OptionPolicy& policy_;
  FsmOutput& out_;
  State state_ = State::kInitial;
  int restart_count_ = 0;
  int nak_count_ = 0;  // consecutive Naks we sent (RFC 1661 4.6 Max-Failure)
  bool timer_running_ = false;
  uint64_t timer_generation_ = 0;
  uint8_t last_id_ = 0;
  uint8_t request_id_ = 0;  // Identifier of our outstanding Configure-Request
  Bytes request_;           // its options, to check an Ack against
};

// "1.2.3.4" from a host-order address, and back (nullopt when malformed).
std::string ipv4_to_string(uint32_t addr);
std::optional<uint32_t> parse_ipv4(const std::string& s);

}  // namespace l2tp::peer
