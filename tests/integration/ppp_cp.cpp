#include "ppp_cp.hpp"

#include <algorithm>
#include <cstdio>

namespace l2tp::peer {

std::optional<CpPacket> parse_cp(std::span<const uint8_t> info) {
  if (info.size() < kCpHeaderSize) return std::nullopt;
  const std::size_t length = get_u16(info.subspan(2));
  if (length < kCpHeaderSize || length > info.size()) return std::nullopt;
  return CpPacket{info[0], info[1], info.subspan(kCpHeaderSize, length - kCpHeaderSize)};
}

Bytes build_cp(uint8_t code, uint8_t id, std::span<const uint8_t> data) {
  Bytes out;
  wire::ByteWriter w(out);
  w.u8(code);
  w.u8(id);
  w.u16(static_cast<uint16_t>(kCpHeaderSize + data.size()));
  w.bytes(data);
  return out;
}

Bytes build_frame(uint16_t protocol, std::span<const uint8_t> info) {
  Bytes out;
  wire::ByteWriter w(out);
  w.u8(0xFF);
  w.u8(0x03);
  w.u16(protocol);
  w.bytes(info);
  return out;
}

std::optional<Bytes> build_echo_reply(const CpPacket& request, uint32_t our_magic) {
  if (request.data.size() < 4) return std::nullopt;
  Bytes data;
  wire::ByteWriter w(data);
  w.u32(our_magic);
  w.bytes(request.data.subspan(4));
  return build_cp(static_cast<uint8_t>(Code::kEchoReply), request.id, data);
}

Bytes build_protocol_reject(uint8_t id, uint16_t protocol, std::span<const uint8_t> info, uint16_t peer_mru) {
  Bytes data;
  wire::ByteWriter w(data);
  w.u16(protocol);
  const std::size_t room = peer_mru - kCpHeaderSize - 2;
  w.bytes(info.first(std::min(room, info.size())));
  return build_cp(static_cast<uint8_t>(Code::kProtocolReject), id, data);
}

std::optional<std::vector<CpOption>> parse_options(std::span<const uint8_t> data) {
  std::vector<CpOption> options;
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 2) return std::nullopt;
    const std::size_t length = data[pos + 1];
    if (length < 2 || length > data.size() - pos) return std::nullopt;
    options.push_back(CpOption{data[pos], data.subspan(pos + 2, length - 2), data.subspan(pos, length)});
    pos += length;
  }
  return options;
}

void append_option(Bytes& out, uint8_t type, std::span<const uint8_t> value) {
  wire::ByteWriter w(out);
  w.u8(type);
  w.u8(static_cast<uint8_t>(2 + value.size()));
  w.bytes(value);
}

void append_option_u16(Bytes& out, uint8_t type, uint16_t value) {
  uint8_t v[2];
  wire::store_be16(v, value);
  append_option(out, type, v);
}

void append_option_u32(Bytes& out, uint8_t type, uint32_t value) {
  uint8_t v[4];
  wire::store_be32(v, value);
  append_option(out, type, v);
}

const char* state_name(State s) {
  static constexpr const char* kNames[] = {"Initial", "Starting", "Closed",  "Stopped",  "Closing",
                                           "Stopping", "Req-Sent", "Ack-Rcvd", "Ack-Sent", "Opened"};
  return kNames[static_cast<int>(s)];
}

// ---------------------------------------------------------------- actions

void Fsm::zrc() {
  // RFC 1661 4.4 (zrc): wait one restart period for the Terminate-Ack to
  // reach the peer before the lower layer goes.
  restart_count_ = 0;
  start_timer();
}

void Fsm::start_timer() {
  timer_running_ = true;
  ++timer_generation_;
}

void Fsm::scr() {
  // RFC 1661 4.4 (scr): every Configure-Request (retransmissions included)
  // decrements the restart counter; a new Identifier each time, since the
  // contents may have changed after a Nak or Reject (RFC 1661 5.1).
  --restart_count_;
  request_ = policy_.build_request();
  request_id_ = next_id();
  out_.send(protocol_, build_cp(static_cast<uint8_t>(Code::kConfigureRequest), request_id_, request_));
  start_timer();
}

void Fsm::str() {
  --restart_count_;
  out_.send(protocol_, build_cp(static_cast<uint8_t>(Code::kTerminateRequest), next_id(), {}));
  start_timer();
}

void Fsm::sta(uint8_t id) {
  // RFC 1661 5.5: the Terminate-Ack copies the request's Identifier.
  out_.send(protocol_, build_cp(static_cast<uint8_t>(Code::kTerminateAck), id, {}));
}

void Fsm::scj(std::span<const uint8_t> rejected) {
  // RFC 1661 5.6: the rejected packet follows, truncated to stay within the
  // peer's MRU; the default MRU bounds it here.
  constexpr std::size_t kMaxRejected = 1500 - kCpHeaderSize;
  out_.send(protocol_, build_cp(static_cast<uint8_t>(Code::kCodeReject), next_id(),
                                rejected.first(std::min(rejected.size(), kMaxRejected))));
}

// ---------------------------------------------------------------- events

void Fsm::up() {
  switch (state_) {
    case State::kInitial: set_state(State::kClosed); break;
    case State::kStarting:
      irc_configure();
      scr();
      set_state(State::kReqSent);
      break;
    default: break;  // RFC 1661 4.1: cannot happen; ignore
  }
}

void Fsm::down() {
  switch (state_) {
    case State::kClosed: set_state(State::kInitial); break;
    case State::kStopped:
      tls();
      set_state(State::kStarting);
      break;
    case State::kClosing: set_state(State::kInitial); break;
    case State::kStopping:
    case State::kReqSent:
    case State::kAckRcvd:
    case State::kAckSent: set_state(State::kStarting); break;
    case State::kOpened:
      tld();
      set_state(State::kStarting);
      break;
    default: break;
  }
  if (state_ == State::kInitial || state_ == State::kStarting) stop_timer();
}

void Fsm::open() {
  switch (state_) {
    case State::kInitial:
      tls();
      set_state(State::kStarting);
      break;
    case State::kClosed:
      irc_configure();
      scr();
      set_state(State::kReqSent);
      break;
    case State::kClosing: set_state(State::kStopping); break;
    default: break;  // already opening or open (restart option not used)
  }
}

void Fsm::close() {
  switch (state_) {
    case State::kStarting:
      tlf();
      set_state(State::kInitial);
      break;
    case State::kStopped: set_state(State::kClosed); break;
    case State::kStopping: set_state(State::kClosing); break;
    case State::kOpened:
      tld();
      [[fallthrough]];
    case State::kReqSent:
    case State::kAckRcvd:
    case State::kAckSent:
      irc_terminate();
      str();
      set_state(State::kClosing);
      break;
    default: break;
  }
}

void Fsm::timeout() {
  if (!timer_running_) return;
  timer_running_ = false;
  if (restart_count_ > 0) {  // TO+
    switch (state_) {
      case State::kClosing:
      case State::kStopping: str(); break;
      case State::kReqSent:
      case State::kAckRcvd:
        scr();
        set_state(State::kReqSent);
        break;
      case State::kAckSent: scr(); break;
      default: break;
    }
    return;
  }
  switch (state_) {  // TO-: give up (RFC 1661 4.1)
    case State::kClosing:
      set_state(State::kClosed);
      tlf();
      break;
    case State::kStopping:
    case State::kReqSent:
    case State::kAckRcvd:
    case State::kAckSent:
      set_state(State::kStopped);
      tlf();
      break;
    default: break;
  }
}

void Fsm::protocol_rejected() { rxj(true); }

void Fsm::receive(std::span<const uint8_t> info) {
  // RFC 1661 4.2: Initial and Starting have no link to speak on.
  if (state_ == State::kInitial || state_ == State::kStarting) return;
  const auto p = parse_cp(info);
  if (!p) return;  // RFC 1661 5: malformed, silently discarded
  switch (static_cast<Code>(p->code)) {
    case Code::kConfigureRequest: rcr(*p); return;
    case Code::kConfigureAck:
      // RFC 1661 5.2: an Ack whose Identifier or options do not match our
      // last request is invalid and silently discarded.
      if (p->id != request_id_ || !std::ranges::equal(p->data, request_)) return;
      rca(*p);
      return;
    case Code::kConfigureNak:
    case Code::kConfigureReject:
      if (p->id != request_id_) return;
      rcn(*p, p->code == static_cast<uint8_t>(Code::kConfigureReject));
      return;
    case Code::kTerminateRequest: rtr(*p); return;
    case Code::kTerminateAck: rta(); return;
    case Code::kCodeReject:
      // RFC 1661 5.6: a rejected code this protocol needs (1-7) is fatal.
      if (p->data.empty()) return;
      rxj(p->data[0] >= 1 && p->data[0] <= 7);
      return;
    default:
      if (!out_.extra_code(protocol_, *p)) scj(info.first(kCpHeaderSize + p->data.size()));
      return;
  }
}

bool Fsm::answer_request(const CpPacket& p) {
  // parse_options succeeded in rcr() before this is called.
  const auto options = *parse_options(p.data);
  Bytes naks, rejects;
  for (const CpOption& o : options) {
    const auto v = policy_.check_option(o);
    if (v.verdict == OptionPolicy::Verdict::kReject) {
      rejects.insert(rejects.end(), o.whole.begin(), o.whole.end());
    } else if (v.verdict == OptionPolicy::Verdict::kNak) {
      // RFC 1661 4.6 Max-Failure: after that many Naks in a row, a
      // negotiation that does not converge is ended by rejecting instead.
      if (nak_count_ >= kMaxFailure)
        rejects.insert(rejects.end(), o.whole.begin(), o.whole.end());
      else
        append_option(naks, o.type, v.suggest);
    }
  }
  // RFC 1661 5.4: a Reject lists only the rejected options, unmodified,
  // and takes precedence; RFC 1661 5.3: a Nak lists only the Nak'd ones.
  if (!rejects.empty()) {
    out_.send(protocol_, build_cp(static_cast<uint8_t>(Code::kConfigureReject), p.id, rejects));
    return false;
  }
  if (!naks.empty()) {
    ++nak_count_;
    out_.send(protocol_, build_cp(static_cast<uint8_t>(Code::kConfigureNak), p.id, naks));
    return false;
  }
  nak_count_ = 0;
  policy_.on_request_acked(options);
  // RFC 1661 5.2: the Ack repeats the options exactly as received.
  out_.send(protocol_, build_cp(static_cast<uint8_t>(Code::kConfigureAck), p.id, p.data));
  return true;
}

void Fsm::rcr(const CpPacket& p) {
  if (!parse_options(p.data)) return;  // malformed options: discard
  switch (state_) {
    case State::kClosed: sta(p.id); return;
    case State::kClosing:
    case State::kStopping: return;
    case State::kStopped:
      irc_configure();
      scr();
      set_state(answer_request(p) ? State::kAckSent : State::kReqSent);
      return;
    case State::kOpened:
      tld();
      scr();
      set_state(answer_request(p) ? State::kAckSent : State::kReqSent);
      return;
    case State::kReqSent:
    case State::kAckSent: set_state(answer_request(p) ? State::kAckSent : State::kReqSent); return;
    case State::kAckRcvd:
      if (answer_request(p)) {
        stop_timer();
        set_state(State::kOpened);
        tlu();
      }
      return;
    default: return;
  }
}

void Fsm::rca(const CpPacket& p) {
  const auto options = parse_options(p.data);
  switch (state_) {
    case State::kClosed:
    case State::kStopped: sta(p.id); return;
    case State::kReqSent:
      irc_configure();
      if (options) policy_.on_ack(*options);
      set_state(State::kAckRcvd);
      return;
    case State::kAckRcvd:  // crossed connection (RFC 1661 4.1 RCA)
      scr();
      set_state(State::kReqSent);
      return;
    case State::kAckSent:
      irc_configure();
      if (options) policy_.on_ack(*options);
      stop_timer();
      set_state(State::kOpened);
      tlu();
      return;
    case State::kOpened:
      tld();
      scr();
      set_state(State::kReqSent);
      return;
    default: return;
  }
}

void Fsm::rcn(const CpPacket& p, bool reject) {
  const auto options = parse_options(p.data);
  if (!options) return;
  auto apply = [&] { reject ? policy_.on_reject(*options) : policy_.on_nak(*options); };
  switch (state_) {
    case State::kClosed:
    case State::kStopped: sta(p.id); return;
    case State::kReqSent:
    case State::kAckSent:
      irc_configure();
      apply();
      scr();
      return;
    case State::kAckRcvd:
      apply();
      scr();
      set_state(State::kReqSent);
      return;
    case State::kOpened:
      tld();
      apply();
      scr();
      set_state(State::kReqSent);
      return;
    default: return;
  }
}

void Fsm::rtr(const CpPacket& p) {
  switch (state_) {
    case State::kClosed:
    case State::kStopped:
    case State::kClosing:
    case State::kStopping: sta(p.id); return;
    case State::kReqSent:
    case State::kAckRcvd:
    case State::kAckSent:
      sta(p.id);
      set_state(State::kReqSent);
      return;
    case State::kOpened:
      tld();
      zrc();
      sta(p.id);
      set_state(State::kStopping);
      return;
    default: return;
  }
}

void Fsm::rta() {
  switch (state_) {
    case State::kClosing:
      stop_timer();
      set_state(State::kClosed);
      tlf();
      return;
    case State::kStopping:
      stop_timer();
      set_state(State::kStopped);
      tlf();
      return;
    case State::kAckRcvd: set_state(State::kReqSent); return;
    case State::kOpened:
      tld();
      scr();
      set_state(State::kReqSent);
      return;
    default: return;
  }
}

void Fsm::rxj(bool fatal) {
  if (!fatal) {
    if (state_ == State::kAckRcvd) set_state(State::kReqSent);
    return;
  }
  switch (state_) {
    case State::kClosed:
    case State::kStopped: tlf(); return;
    case State::kClosing:
      stop_timer();
      set_state(State::kClosed);
      tlf();
      return;
    case State::kStopping:
    case State::kReqSent:
    case State::kAckRcvd:
    case State::kAckSent:
      stop_timer();
      set_state(State::kStopped);
      tlf();
      return;
    case State::kOpened:
      tld();
      irc_terminate();
      str();
      set_state(State::kStopping);
      return;
    default: return;
  }
}

std::string ipv4_to_string(uint32_t addr) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xFF, (addr >> 8) & 0xFF,
                addr & 0xFF);
  return buf;
}

std::optional<uint32_t> parse_ipv4(const std::string& s) {
  unsigned a, b, c, d;
  char tail;
  if (std::sscanf(s.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4) return std::nullopt;
  if (a > 255 || b > 255 || c > 255 || d > 255) return std::nullopt;
  return (a << 24) | (b << 16) | (c << 8) | d;
}

}  // namespace l2tp::peer
