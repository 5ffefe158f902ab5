#include "control/session.hpp"

#include "control/tunnel.hpp"

namespace l2tp::control {

using wire::ControlMessage;
using wire::MessageType;

const char* session_state_name(SessionState s) {
  switch (s) {
    case SessionState::kWaitReply: return "wait-reply";
    case SessionState::kWaitConnect: return "wait-connect";
    case SessionState::kEstablished: return "established";
    case SessionState::kClosed: return "closed";
  }
  return "?";
}

namespace {
ControlMessage message(MessageType t) {
  ControlMessage m;
  m.message_type = static_cast<uint16_t>(t);
  return m;
}
// A virtual call has no line speed; xl2tpd reports 0 as well.
constexpr uint32_t kVirtualSpeed = 0;
}  // namespace

Session::Session(Tunnel& tunnel, uint16_t local_id, Role role, CallDirection direction, TimePoint now)
    : tunnel_(tunnel), local_id_(local_id), role_(role), direction_(direction), created_(now) {}

void Session::start(uint32_t call_serial, const std::string& number, TimePoint now) {
  info_.call_serial_number = call_serial;
  if (role_ == Role::kLac) {
    // 7.4 LAC incoming: ICRQ, then wait for ICRP.
    ControlMessage m = message(MessageType::kIcrq);
    m.assigned_session_id = local_id_;
    m.call_serial_number = call_serial;
    m.bearer_type = 0;  // a virtual call: neither analog nor digital
    if (!number.empty()) m.called_number = number;
    send(std::move(m), now);
  } else {
    // 7.5 LNS outgoing: OCRQ, then OCRP, then OCCN.
    ControlMessage m = message(MessageType::kOcrq);
    m.assigned_session_id = local_id_;
    m.call_serial_number = call_serial;
    m.minimum_bps = 0;
    m.maximum_bps = 0xFFFFFFFF;
    m.bearer_type = wire::kBearerAnalog | wire::kBearerDigital;
    m.framing_type = wire::kFramingSync | wire::kFramingAsync;
    m.called_number = number;
    info_.called_number = number;
    send(std::move(m), now);
  }
  state_ = SessionState::kWaitReply;
}

void Session::send(ControlMessage&& m, TimePoint now) {
  // Session messages carry the peer's session ID in the header (0 until we
  // know it: ICRQ, OCRQ, 3.1).
  tunnel_.send_message(std::move(m), peer_id_, now);
}

void Session::record(const ControlMessage& m) {
  auto keep = [](auto& into, const auto& from) {
    if (from) into = from;
  };
  if (m.call_serial_number) info_.call_serial_number = *m.call_serial_number;
  keep(info_.bearer_type, m.bearer_type);
  keep(info_.framing_type, m.framing_type);
  keep(info_.physical_channel_id, m.physical_channel_id);
  keep(info_.minimum_bps, m.minimum_bps);
  keep(info_.maximum_bps, m.maximum_bps);
  keep(info_.tx_connect_speed, m.tx_connect_speed);
  keep(info_.rx_connect_speed, m.rx_connect_speed);
  keep(info_.calling_number, m.calling_number);
  keep(info_.called_number, m.called_number);
  keep(info_.sub_address, m.sub_address);
  keep(info_.private_group_id, m.private_group_id);
  if (m.sequencing_required) info_.sequencing_required = true;
  keep(info_.initial_received_lcp_confreq, m.initial_received_lcp_confreq);
  keep(info_.last_sent_lcp_confreq, m.last_sent_lcp_confreq);
  keep(info_.last_received_lcp_confreq, m.last_received_lcp_confreq);
  keep(info_.proxy_authen_type, m.proxy_authen_type);
  keep(info_.proxy_authen_name, m.proxy_authen_name);
  keep(info_.proxy_authen_challenge, m.proxy_authen_challenge);
  keep(info_.proxy_authen_id, m.proxy_authen_id);
  keep(info_.proxy_authen_response, m.proxy_authen_response);
  keep(info_.call_errors, m.call_errors);
  keep(info_.accm, m.accm);
}

void Session::establish() {
  state_ = SessionState::kEstablished;
  tunnel_.context().observer().session_up(*this);
}

void Session::fsm_error(const char* what, TimePoint now) {
  // 7.4/7.5: a message the state does not expect ends the call.
  disconnect({wire::result::kCdnGeneralError, wire::error_code::kNoError, what}, now);
}

void Session::on_message(const ControlMessage& m, TimePoint now) {
  if (state_ == SessionState::kClosed) return;
  const bool lac = role_ == Role::kLac;
  switch (m.type()) {
    case MessageType::kIcrq:  // LNS: the call this session was made for
      if (lac || direction_ != CallDirection::kIncoming || peer_id_ != 0) return fsm_error("unexpected ICRQ", now);
      record(m);
      peer_id_ = *m.assigned_session_id;
      {
        ControlMessage r = message(MessageType::kIcrp);
        r.assigned_session_id = local_id_;
        send(std::move(r), now);
      }
      state_ = SessionState::kWaitConnect;
      return;
    case MessageType::kIcrp:  // LAC: answer to our ICRQ
      if (!lac || direction_ != CallDirection::kIncoming || state_ != SessionState::kWaitReply)
        return fsm_error("unexpected ICRP", now);
      peer_id_ = *m.assigned_session_id;
      {
        ControlMessage c = message(MessageType::kIccn);
        c.tx_connect_speed = kVirtualSpeed;
        c.framing_type = wire::kFramingSync;  // as xl2tpd sends for a virtual call
        c.rx_connect_speed = kVirtualSpeed;
        send(std::move(c), now);
      }
      establish();
      return;
    case MessageType::kIccn:  // LNS: the LAC connected the call
      if (lac || state_ != SessionState::kWaitConnect) return fsm_error("unexpected ICCN", now);
      record(m);
      establish();
      return;
    case MessageType::kOcrq:  // LAC: the LNS asks us to place a call
      if (!lac || direction_ != CallDirection::kOutgoing || peer_id_ != 0) return fsm_error("unexpected OCRQ", now);
      record(m);
      peer_id_ = *m.assigned_session_id;
      {
        ControlMessage r = message(MessageType::kOcrp);
        r.assigned_session_id = local_id_;
        send(std::move(r), now);
        // A virtual call connects at once (no PSTN to dial).
        ControlMessage c = message(MessageType::kOccn);
        c.tx_connect_speed = kVirtualSpeed;
        c.framing_type = wire::kFramingSync;
        send(std::move(c), now);
      }
      establish();
      return;
    case MessageType::kOcrp:  // LNS: the LAC accepted our OCRQ
      if (lac || state_ != SessionState::kWaitReply) return fsm_error("unexpected OCRP", now);
      peer_id_ = *m.assigned_session_id;
      record(m);
      state_ = SessionState::kWaitConnect;
      return;
    case MessageType::kOccn:  // LNS: the outgoing call connected
      if (lac || state_ != SessionState::kWaitConnect) return fsm_error("unexpected OCCN", now);
      record(m);
      establish();
      return;
    case MessageType::kCdn:  // either side, any state
      info_.result = m.result_code;
      info_.q931 = m.q931_cause;
      if (peer_id_ == 0 && m.assigned_session_id) peer_id_ = *m.assigned_session_id;
      state_ = SessionState::kClosed;
      tunnel_.context().observer().session_down(*this, *m.result_code);
      tunnel_.session_closed(*this);
      return;
    case MessageType::kWen:  // 6.13: LAC -> LNS, recorded
      if (lac) return fsm_error("WEN from an LNS", now);
      record(m);
      return;
    case MessageType::kSli:  // 6.14: LNS -> LAC, recorded
      if (!lac) return fsm_error("SLI from a LAC", now);
      record(m);
      return;
    default:
      return fsm_error("not a session message", now);
  }
}

void Session::disconnect(const wire::ResultCode& why, TimePoint now) {
  if (state_ == SessionState::kClosed) return;
  ControlMessage m = message(MessageType::kCdn);
  m.result_code = why;
  m.assigned_session_id = local_id_;
  send(std::move(m), now);
  info_.result = why;
  state_ = SessionState::kClosed;
  tunnel_.context().observer().session_down(*this, why);
  tunnel_.session_closed(*this);
}

void Session::abandon(const wire::ResultCode& why) {
  if (state_ == SessionState::kClosed) return;
  info_.result = why;
  state_ = SessionState::kClosed;
  tunnel_.context().observer().session_down(*this, why);
}

}  // namespace l2tp::control
