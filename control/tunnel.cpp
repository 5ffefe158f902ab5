#include "control/tunnel.hpp"

#include "shared/bytes.hpp"
#include "shared/challenge.hpp"

namespace l2tp::control {

using wire::ControlMessage;
using wire::MessageType;
using wire::ResultCode;
namespace result = wire::result;
namespace error_code = wire::error_code;

const char* tunnel_state_name(TunnelState s) {
  switch (s) {
    case TunnelState::kIdle: return "idle";
    case TunnelState::kWaitCtlReply: return "wait-ctl-reply";
    case TunnelState::kWaitCtlConn: return "wait-ctl-conn";
    case TunnelState::kEstablished: return "established";
    case TunnelState::kClosing: return "closing";
    case TunnelState::kDead: return "dead";
  }
  return "?";
}

namespace {

constexpr size_t kChallengeSize = 16;
constexpr size_t kRandomVectorSize = 16;

bool tunnel_scoped(MessageType t) {
  switch (t) {
    case MessageType::kSccrq:
    case MessageType::kSccrp:
    case MessageType::kScccn:
    case MessageType::kStopccn:
    case MessageType::kHello: return true;
    default: return false;
  }
}

// AVPs sent hidden when hiding is on (4.3: those RFC 2661 lets hide and a
// peer has reason to keep from an eavesdropper). Never in SCCRQ or SCCRP.
wire::AvpSet hidden_set() {
  using T = wire::AvpType;
  wire::AvpSet s;
  for (T t : {T::kAssignedSessionId, T::kCalledNumber, T::kCallingNumber, T::kSubAddress,
              T::kTxConnectSpeed, T::kRxConnectSpeed, T::kPhysicalChannelId, T::kPrivateGroupId,
              T::kInitialReceivedLcpConfreq, T::kLastSentLcpConfreq, T::kLastReceivedLcpConfreq,
              T::kProxyAuthenType, T::kProxyAuthenName, T::kProxyAuthenChallenge, T::kProxyAuthenId,
              T::kProxyAuthenResponse, T::kCallErrors, T::kAccm})
    s.set(static_cast<size_t>(t));
  return s;
}

uint16_t error_code_for(const wire::Error& e) {
  switch (e.code) {
    case wire::Errc::kTruncated:
    case wire::Errc::kBadAvpLength:
    case wire::Errc::kBadLength: return error_code::kBadLength;
    default: return error_code::kBadValue;
  }
}

}  // namespace

Tunnel::Tunnel(TunnelContext& ctx, uint16_t local_id, Role role, const TunnelSettings& settings, TimePoint now)
    : ctx_(ctx),
      local_id_(local_id),
      role_(role),
      settings_(settings),
      transport_(
          settings.transport, [this](std::span<const uint8_t> d) { ctx_.send_datagram(*this, d); },
          [this](const wire::Header& h, std::span<const uint8_t> avps) { deliver(h, avps, now_); }),
      now_(now),
      last_hello_(now) {}

Tunnel::~Tunnel() = default;

ControlMessage Tunnel::start_message(MessageType type) {
  ControlMessage m;
  m.message_type = static_cast<uint16_t>(type);
  if (type == MessageType::kSccrq || type == MessageType::kSccrp) {
    // 6.1, 6.2: what both ends say about themselves.
    m.protocol_version = wire::ProtocolVersion{1, 0};
    m.framing_capabilities = settings_.framing_capabilities;
    m.bearer_capabilities = settings_.bearer_capabilities;
    m.firmware_revision = settings_.firmware_revision;
    m.host_name = settings_.host_name;
    m.vendor_name = settings_.vendor_name;
    m.assigned_tunnel_id = local_id_;
    m.receive_window_size = settings_.transport.receive_window;
  }
  return m;
}

bool Tunnel::send_message(ControlMessage&& m, uint16_t peer_session_id, TimePoint now) {
  if (state_ == TunnelState::kDead) return false;
  wire::EncodeOptions opts;
  const MessageType t = m.type();
  if (settings_.hide_avps && peer_proved_secret_ && t != MessageType::kSccrq && t != MessageType::kSccrp) {
    opts.secret = wire::as_bytes(settings_.secret);
    opts.hide = hidden_set();
    wire::Bytes rv(kRandomVectorSize);
    ctx_.random_bytes(rv);
    m.random_vector = std::move(rv);
  }
  std::vector<uint8_t> avps;
  if (auto s = wire::encode_avps(m, opts, avps); !s) return false;  // our own values: cannot happen
  return transport_.send(peer_session_id, avps, now);
}

void Tunnel::open(TimePoint now) {
  now_ = now;
  ControlMessage m = start_message(MessageType::kSccrq);
  if (settings_.tie_breaker) m.tie_breaker = settings_.tie_breaker;
  if (settings_.challenge && !settings_.secret.empty()) {
    our_challenge_.resize(kChallengeSize);
    ctx_.random_bytes(our_challenge_);
    m.challenge = our_challenge_;
  }
  state_ = TunnelState::kWaitCtlReply;
  send_message(std::move(m), 0, now);
}

void Tunnel::receive(const wire::Header& header, std::span<const uint8_t> avps, TimePoint now) {
  now_ = now;
  if (state_ == TunnelState::kDead) return;
  transport_.receive(header, avps, now);
  if (transport_.failed()) die({result::kGeneralErrorSee, error_code::kNoError, "peer not responding"});
}

void Tunnel::deliver(const wire::Header& header, std::span<const uint8_t> avps, TimePoint now) {
  if (state_ == TunnelState::kDead) return;
  wire::DecodeOptions dopt;
  dopt.secret = wire::as_bytes(settings_.secret);
  auto m = wire::decode_message(avps, dopt);
  Session* s = header.session_id ? session(header.session_id) : nullptr;
  auto reject = [&](const ControlMessage* msg, uint16_t error, const std::string& text) {
    ++counters_.malformed;
    // 4.1/4.2: what cannot be understood ends the session it belongs to,
    // or the tunnel when it belongs to the tunnel (or to nothing we can tell).
    const bool call_message = msg && wire::is_known_message_type(msg->message_type) && !tunnel_scoped(msg->type());
    if (s) {
      s->disconnect({result::kCdnGeneralError, error, text}, now);
    } else if (call_message && state_ == TunnelState::kEstablished) {
      if (msg->assigned_session_id) refuse_call(*msg->assigned_session_id, result::kCdnGeneralError, error, text, now);
    } else if (state_ != TunnelState::kClosing) {
      close({result::kGeneralErrorSee, error, text}, now);
    }
  };
  if (!m) return reject(nullptr, error_code_for(m.error()), m.error().to_string());
  ++counters_.messages;
  if (auto v = wire::validate_message(*m); !v) {
    if (v.error().code == wire::Errc::kUnknownMessageType && !m->message_type_mandatory) {
      ++counters_.unknown_ignored;  // 4.4.1: M clear, ignore the message
      return;
    }
    return reject(&*m, error_code::kBadValue, v.error().to_string());
  }
  if (m->unrecognized_mandatory()) return reject(&*m, error_code::kUnknownMandatoryAvp, "unrecognized mandatory AVP");
  if (state_ == TunnelState::kClosing && m->type() != MessageType::kStopccn) return;  // only acknowledged
  if (tunnel_scoped(m->type())) {
    on_tunnel_message(*m, now);
  } else {
    on_session_message(header, *m, now);
  }
}

void Tunnel::on_tunnel_message(const ControlMessage& m, TimePoint now) {
  switch (m.type()) {
    case MessageType::kSccrq:
      if (state_ != TunnelState::kIdle || role_ != Role::kLns) return fail(result::kFsmError, 0, "unexpected SCCRQ", now);
      return on_sccrq(m, now);
    case MessageType::kSccrp:
      if (state_ != TunnelState::kWaitCtlReply) return fail(result::kFsmError, 0, "unexpected SCCRP", now);
      return on_sccrp(m, now);
    case MessageType::kScccn:
      if (state_ != TunnelState::kWaitCtlConn) return fail(result::kFsmError, 0, "unexpected SCCCN", now);
      return on_scccn(m, now);
    case MessageType::kStopccn: return on_stopccn(m, now);
    case MessageType::kHello: return;  // 6.5: the transport acknowledged it; that is all
    default: return;
  }
}

bool Tunnel::accept_peer(const ControlMessage& m, TimePoint now) {
  peer_id_ = *m.assigned_tunnel_id;
  transport_.set_peer_tunnel_id(peer_id_);
  // 5.8: without a Receive Window Size AVP the peer's window is 4.
  transport_.set_peer_window(m.receive_window_size.value_or(4));
  peer_host_name_ = *m.host_name;
  peer_tie_breaker_ = m.tie_breaker;
  if (m.protocol_version != wire::ProtocolVersion{1, 0}) {
    fail(result::kBadProtocolVersion, 0, "protocol version 1.0 only", now);
    return false;
  }
  if (peer_id_ == 0) {
    fail(result::kGeneralErrorSee, error_code::kBadValue, "Assigned Tunnel ID 0", now);
    return false;
  }
  return true;
}

std::optional<wire::Bytes> Tunnel::respond_to(const ControlMessage& m, MessageType in, TimePoint now) {
  if (!m.challenge) return wire::Bytes{};
  if (settings_.secret.empty()) {
    // 5.1.1: we cannot prove ourselves without the secret.
    fail(result::kNotAuthorized, 0, "challenged, but no secret for this peer", now);
    return std::nullopt;
  }
  const auto r = wire::challenge_response(in, wire::as_bytes(settings_.secret), *m.challenge);
  return wire::Bytes(r.begin(), r.end());
}

bool Tunnel::check_response(const ControlMessage& m, MessageType in, TimePoint now) {
  if (our_challenge_.empty()) return true;
  if (m.challenge_response &&
      wire::challenge_response_matches(in, wire::as_bytes(settings_.secret), our_challenge_, *m.challenge_response)) {
    peer_proved_secret_ = true;
    return true;
  }
  fail(result::kNotAuthorized, 0, m.challenge_response ? "challenge response does not match" : "no challenge response",
       now);
  return false;
}

void Tunnel::on_sccrq(const ControlMessage& m, TimePoint now) {
  if (!accept_peer(m, now)) return;
  auto response = respond_to(m, MessageType::kSccrp, now);
  if (!response) return;
  ControlMessage r = start_message(MessageType::kSccrp);
  if (!response->empty()) r.challenge_response = std::move(*response);
  if (settings_.challenge) {
    if (settings_.secret.empty()) return fail(result::kNotAuthorized, 0, "no secret for this peer", now);
    our_challenge_.resize(kChallengeSize);
    ctx_.random_bytes(our_challenge_);
    r.challenge = our_challenge_;
  }
  state_ = TunnelState::kWaitCtlConn;
  send_message(std::move(r), 0, now);
}

void Tunnel::on_sccrp(const ControlMessage& m, TimePoint now) {
  if (!accept_peer(m, now)) return;
  if (!check_response(m, MessageType::kSccrp, now)) return;
  auto response = respond_to(m, MessageType::kScccn, now);
  if (!response) return;
  ControlMessage c = start_message(MessageType::kScccn);
  if (!response->empty()) c.challenge_response = std::move(*response);
  send_message(std::move(c), 0, now);
  establish(now);
}

void Tunnel::on_scccn(const ControlMessage& m, TimePoint now) {
  if (!check_response(m, MessageType::kScccn, now)) return;
  establish(now);
}

void Tunnel::establish(TimePoint now) {
  state_ = TunnelState::kEstablished;
  last_hello_ = now;
  ctx_.observer().tunnel_up(*this);
}

void Tunnel::on_stopccn(const ControlMessage& m, TimePoint now) {
  close_result_ = m.result_code;
  for (auto& [id, s] : sessions_) s->abandon(*m.result_code);
  reap_pending_ = true;
  if (!down_notified_) {
    down_notified_ = true;
    ctx_.observer().tunnel_down(*this, *m.result_code);
  }
  // 5.7: keep the tunnel so the peer's retransmitted StopCCN is still
  // acknowledged; acknowledge this one now.
  transport_.flush_ack(now);
  enter_closing(now);
}

void Tunnel::fail(uint16_t result_code, uint16_t error, const char* message, TimePoint now) {
  close({result_code, error, message}, now);
}

void Tunnel::close(const ResultCode& why, TimePoint now) {
  now_ = now;
  if (state_ == TunnelState::kClosing || state_ == TunnelState::kDead) return;
  close_result_ = why;
  for (auto& [id, s] : sessions_) s->abandon(why);
  reap_pending_ = true;
  if (!down_notified_) {
    down_notified_ = true;
    ctx_.observer().tunnel_down(*this, why);
  }
  if (peer_id_ == 0) {
    // We never learned where to send a StopCCN (our SCCRQ went unanswered).
    state_ = TunnelState::kDead;
    return;
  }
  ControlMessage m = start_message(MessageType::kStopccn);
  m.assigned_tunnel_id = local_id_;
  m.result_code = why;
  send_message(std::move(m), 0, now);
  enter_closing(now);
}

void Tunnel::enter_closing(TimePoint now) {
  state_ = TunnelState::kClosing;
  hold_until_ = now + settings_.hold_time;
}

void Tunnel::die(const ResultCode& why) {
  if (state_ == TunnelState::kDead) return;
  if (!close_result_) close_result_ = why;
  for (auto& [id, s] : sessions_) s->abandon(why);
  reap_pending_ = true;
  state_ = TunnelState::kDead;
  if (!down_notified_) {
    down_notified_ = true;
    ctx_.observer().tunnel_down(*this, why);
  }
}

void Tunnel::on_session_message(const wire::Header& header, const ControlMessage& m, TimePoint now) {
  if (state_ != TunnelState::kEstablished) return fail(result::kFsmError, 0, "call message before the tunnel is up", now);
  const MessageType t = m.type();
  if (t == MessageType::kIcrq || t == MessageType::kOcrq) {
    const bool ours = (t == MessageType::kIcrq) == (role_ == Role::kLns);
    const char* refusal = nullptr;
    uint16_t code = result::kNoFacilitiesTemporary;
    if (!ours) {
      refusal = t == MessageType::kIcrq ? "not an LNS on this tunnel" : "not a LAC on this tunnel";
      code = result::kCdnGeneralError;
    } else if (sessions_.size() >= settings_.max_sessions || !ctx_.session_slot_available()) {
      refusal = "session limit reached";
    }
    std::optional<uint16_t> id;
    if (!refusal && !(id = ctx_.allocate_session_id(now))) refusal = "no free session ID";
    if (refusal) {
      ++counters_.sessions_refused;
      return refuse_call(*m.assigned_session_id, code,
                         code == result::kCdnGeneralError ? error_code::kNoError : error_code::kInsufficientResources,
                         refusal, now);
    }
    auto s = std::make_unique<Session>(*this, *id, role_,
                                       t == MessageType::kIcrq ? CallDirection::kIncoming : CallDirection::kOutgoing, now);
    Session& ref = *s;
    sessions_.emplace(*id, std::move(s));
    ref.on_message(m, now);
    return;
  }
  if (Session* s = session(header.session_id)) {
    s->on_message(m, now);
    return;
  }
  // A message for a session already gone (a CDN crossed ours): acknowledged
  // by the transport, nothing else to do.
  ++counters_.late_session_messages;
}

void Tunnel::refuse_call(uint16_t peer_session_id, uint16_t result_code, uint16_t error, const std::string& why,
                         TimePoint now) {
  // 6.12: a CDN may refuse a call we never made a session for; our
  // Assigned Session ID is then 0.
  ControlMessage cdn = start_message(MessageType::kCdn);
  cdn.result_code = ResultCode{result_code, error, why};
  cdn.assigned_session_id = 0;
  send_message(std::move(cdn), peer_session_id, now);
}

Session* Tunnel::place_call(const std::string& number, TimePoint now) {
  now_ = now;
  if (state_ != TunnelState::kEstablished) return nullptr;
  if (sessions_.size() >= settings_.max_sessions || !ctx_.session_slot_available()) {
    ++counters_.sessions_refused;
    return nullptr;
  }
  auto id = ctx_.allocate_session_id(now);
  if (!id) {
    ++counters_.sessions_refused;
    return nullptr;
  }
  auto s = std::make_unique<Session>(*this, *id, role_,
                                     role_ == Role::kLac ? CallDirection::kIncoming : CallDirection::kOutgoing, now);
  Session& ref = *s;
  sessions_.emplace(*id, std::move(s));
  ref.start(next_call_serial_++, number, now);
  return &ref;
}

void Tunnel::hang_up(uint16_t local_session_id, const ResultCode& why, TimePoint now) {
  now_ = now;
  if (Session* s = session(local_session_id)) s->disconnect(why, now);
}

Session* Tunnel::session(uint16_t local_session_id) {
  auto it = sessions_.find(local_session_id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

void Tunnel::session_closed(Session&) { reap_pending_ = true; }

void Tunnel::reap_sessions(TimePoint now) {
  if (!reap_pending_) return;
  reap_pending_ = false;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second->closed()) {
      ctx_.release_session_id(it->first, now);  // into quarantine
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

void Tunnel::on_timer(TimePoint now) {
  now_ = now;
  reap_sessions(now);
  if (state_ == TunnelState::kDead) return;
  transport_.on_timer(now);
  if (transport_.failed()) {
    // 5.8: the peer stopped acknowledging; nothing more can be said to it.
    die({result::kGeneralErrorSee, error_code::kNoError, "peer not responding"});
    reap_sessions(now);
    return;
  }
  if (state_ == TunnelState::kClosing && hold_until_ && now >= *hold_until_) {
    state_ = TunnelState::kDead;
    reap_sessions(now);
    return;
  }
  // 6.5: Hello when nothing has been heard for a while, so a dead peer is
  // found through the transport's retry limit.
  if (state_ == TunnelState::kEstablished && settings_.hello_interval.count() > 0 && transport_.idle()) {
    const TimePoint quiet_since = std::max(transport_.last_received(), last_hello_);
    if (now >= quiet_since + settings_.hello_interval) {
      last_hello_ = now;
      ++counters_.hellos_sent;
      send_message(start_message(MessageType::kHello), 0, now);
    }
  }
  reap_sessions(now);
}

std::optional<TimePoint> Tunnel::next_deadline() const {
  // A dead tunnel is due at once: its owner frees it on the next pass.
  if (state_ == TunnelState::kDead) return now_;
  std::optional<TimePoint> d = transport_.next_deadline();
  auto consider = [&](TimePoint t) {
    if (!d || t < *d) d = t;
  };
  if (reap_pending_) consider(now_);
  if (state_ == TunnelState::kClosing && hold_until_) consider(*hold_until_);
  if (state_ == TunnelState::kEstablished && settings_.hello_interval.count() > 0 && transport_.idle())
    consider(std::max(transport_.last_received(), last_hello_) + settings_.hello_interval);
  return d;
}

}  // namespace l2tp::control
