#pragma once
// The tunnel (control connection) state machine of RFC 2661 7.2:
//
//   initiator: idle -(SCCRQ)-> wait-ctl-reply -SCCRP-> (SCCCN) established
//   responder: SCCRQ -> (SCCRP) wait-ctl-conn -SCCCN-> established
//   any state: StopCCN sent or received -> closing (held for the hold time
//              so retransmissions are still acknowledged, 5.7) -> dead
//   any state: the transport gives up (5.8) -> dead
//
// with tunnel authentication (5.1.1, 4.4.3), Hello on an idle tunnel (6.5),
// and the sessions it carries. The Engine owns tunnels, routes datagrams to
// them and frees them once dead().

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "control/session.hpp"
#include "control/transport.hpp"
#include "control/tunnel_context.hpp"
#include "shared/header.hpp"
#include "shared/message.hpp"

namespace l2tp::control {

struct TunnelSettings {
  std::string host_name = "l2tpd";
  std::string vendor_name = "l2tpd";
  uint16_t firmware_revision = 0x0100;
  uint32_t framing_capabilities = wire::kFramingSync | wire::kFramingAsync;
  uint32_t bearer_capabilities = 0;
  TransportConfig transport;
  Duration hello_interval = 60s;  // 6.5; 0 disables
  Duration hold_time = 31s;       // 5.7: state kept after StopCCN
  // Tunnel authentication: the secret shared with this peer (empty: none
  // known) and whether we demand that the peer prove it knows it.
  std::string secret;
  bool challenge = false;
  // Send hideable AVPs hidden (4.3). Only once the peer has proven it knows
  // the secret by answering our Challenge, and never in SCCRQ/SCCRP: an
  // xl2tpd peer looks up the secret only while answering a Challenge.
  bool hide_avps = false;
  size_t max_sessions = 65535;  // per tunnel
  uint64_t tie_breaker = 0;     // 0: send none
};

enum class TunnelState : uint8_t { kIdle, kWaitCtlReply, kWaitCtlConn, kEstablished, kClosing, kDead };
const char* tunnel_state_name(TunnelState s);

struct TunnelCounters {
  uint64_t messages = 0;           // control messages decoded
  uint64_t malformed = 0;          // did not decode or validate
  uint64_t unknown_ignored = 0;    // unknown message type, M clear (4.4.1)
  uint64_t hellos_sent = 0;
  uint64_t sessions_refused = 0;   // limits
  uint64_t late_session_messages = 0;  // for a session already gone
};

class Tunnel {
 public:
  Tunnel(TunnelContext& ctx, uint16_t local_id, Role role, const TunnelSettings& settings, TimePoint now);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // Initiator: sends the SCCRQ.
  void open(TimePoint now);
  // A control message addressed to this tunnel (its header's Tunnel ID is
  // our local ID, or 0 for an SCCRQ the Engine routed here).
  void receive(const wire::Header& header, std::span<const uint8_t> avps, TimePoint now);
  // StopCCN (5.7) with this result; sessions end without CDN (the StopCCN
  // clears them all).
  void close(const wire::ResultCode& why, TimePoint now);
  // Drops the tunnel without a word to the peer (4.4.3: the loser of a
  // tie-breaker "MUST silently discard" its tunnel).
  void discard(const wire::ResultCode& why) { die(why); }

  void on_timer(TimePoint now);
  // When on_timer() is next due; always due once dead(), until freed.
  std::optional<TimePoint> next_deadline() const;

  // LAC: an incoming call (ICRQ). LNS: an outgoing call (OCRQ) to number.
  // nullptr when the tunnel is not established or a limit refuses it.
  Session* place_call(const std::string& number, TimePoint now);
  void hang_up(uint16_t local_session_id, const wire::ResultCode& why, TimePoint now);
  Session* session(uint16_t local_session_id);
  const std::map<uint16_t, std::unique_ptr<Session>>& sessions() const { return sessions_; }

  uint16_t local_id() const { return local_id_; }
  uint16_t peer_id() const { return peer_id_; }
  Role role() const { return role_; }
  TunnelState state() const { return state_; }
  bool established() const { return state_ == TunnelState::kEstablished; }
  bool dead() const { return state_ == TunnelState::kDead; }
  const std::string& peer_host_name() const { return peer_host_name_; }
  std::optional<uint64_t> peer_tie_breaker() const { return peer_tie_breaker_; }
  bool authenticated() const { return peer_proved_secret_; }
  const TunnelSettings& settings() const { return settings_; }
  const Transport& transport() const { return transport_; }
  const TunnelCounters& counters() const { return counters_; }
  std::optional<wire::ResultCode> close_result() const { return close_result_; }

  // For Session: sends a control message on this tunnel.
  bool send_message(wire::ControlMessage&& m, uint16_t peer_session_id, TimePoint now);
  TunnelContext& context() { return ctx_; }
  // For Session: a session ended and may be freed at the next timer pass.
  void session_closed(Session& s);

 private:
  void deliver(const wire::Header& header, std::span<const uint8_t> avps, TimePoint now);
  void on_tunnel_message(const wire::ControlMessage& m, TimePoint now);
  void on_session_message(const wire::Header& header, const wire::ControlMessage& m, TimePoint now);
  void on_sccrq(const wire::ControlMessage& m, TimePoint now);
  void on_sccrp(const wire::ControlMessage& m, TimePoint now);
  void on_scccn(const wire::ControlMessage& m, TimePoint now);
  void on_stopccn(const wire::ControlMessage& m, TimePoint now);
  bool accept_peer(const wire::ControlMessage& m, TimePoint now);
  std::optional<wire::Bytes> respond_to(const wire::ControlMessage& m, wire::MessageType in, TimePoint now);
  bool check_response(const wire::ControlMessage& m, wire::MessageType in, TimePoint now);
  wire::ControlMessage start_message(wire::MessageType type);
  void establish(TimePoint now);
  void enter_closing(TimePoint now);
  void fail(uint16_t result, uint16_t error, const char* message, TimePoint now);
  void die(const wire::ResultCode& why);
  void refuse_call(uint16_t peer_session_id, uint16_t result_code, uint16_t error, const std::string& why,
                   TimePoint now);
  void reap_sessions(TimePoint now);

  TunnelContext& ctx_;
  uint16_t local_id_;
  uint16_t peer_id_ = 0;
  Role role_;
  TunnelSettings settings_;
  Transport transport_;
  TunnelState state_ = TunnelState::kIdle;
  TunnelCounters counters_;

  std::string peer_host_name_;
  std::optional<uint64_t> peer_tie_breaker_;
  wire::Bytes our_challenge_;  // empty: we did not challenge
  bool peer_proved_secret_ = false;
  std::optional<TimePoint> hold_until_;
  std::optional<wire::ResultCode> close_result_;
  bool down_notified_ = false;
  TimePoint now_;         // the time of the event being handled
  TimePoint last_hello_;  // last Hello sent, or the establishment

  std::map<uint16_t, std::unique_ptr<Session>> sessions_;  // by local ID
  bool reap_pending_ = false;
  uint32_t next_call_serial_ = 1;
};

}  // namespace l2tp::control
