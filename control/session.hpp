#pragma once
// The session (call) state machines of RFC 2661 7.4 and 7.5, for both roles
// and both call directions:
//
//   LNS, incoming call:  ICRQ -> (ICRP) wait-connect -> ICCN -> established
//   LAC, incoming call:  (ICRQ) wait-reply -> ICRP -> (ICCN) established
//   LNS, outgoing call:  (OCRQ) wait-reply -> OCRP -> wait-connect -> OCCN -> established
//   LAC, outgoing call:  OCRQ -> (OCRP, OCCN) established   (a virtual call:
//                        no PSTN to wait for, so it connects at once)
//
// and in every state a CDN from either side ends the call. A Session lives
// inside its Tunnel; the Tunnel routes messages to it and frees it.

#include <cstdint>
#include <optional>
#include <string>

#include "control/tunnel_context.hpp"
#include "shared/message.hpp"

namespace l2tp::control {

enum class Role : uint8_t { kLac, kLns };
enum class CallDirection : uint8_t { kIncoming, kOutgoing };  // ICRQ vs OCRQ

enum class SessionState : uint8_t { kWaitReply, kWaitConnect, kEstablished, kClosed };
const char* session_state_name(SessionState s);

// What the peer told us about the call, kept with the session (7.4, 7.5,
// 4.4.5: proxy LCP and proxy authentication; a built-in PPP handler can act
// on them, pppd cannot and negotiates afresh).
struct CallInfo {
  uint32_t call_serial_number = 0;
  std::optional<uint32_t> bearer_type, framing_type, physical_channel_id;
  std::optional<uint32_t> minimum_bps, maximum_bps;
  std::optional<uint32_t> tx_connect_speed, rx_connect_speed;
  std::optional<std::string> calling_number, called_number, sub_address;
  std::optional<wire::Bytes> private_group_id;
  bool sequencing_required = false;
  // Proxy LCP and authentication (ICCN).
  std::optional<wire::Bytes> initial_received_lcp_confreq, last_sent_lcp_confreq,
      last_received_lcp_confreq;
  std::optional<uint16_t> proxy_authen_type;
  std::optional<std::string> proxy_authen_name;
  std::optional<wire::Bytes> proxy_authen_challenge, proxy_authen_response;
  std::optional<uint8_t> proxy_authen_id;
  // Recorded from WEN (LAC -> LNS) and SLI (LNS -> LAC).
  std::optional<wire::CallErrors> call_errors;
  std::optional<wire::Accm> accm;
  // Why it ended (ours or the peer's CDN).
  std::optional<wire::ResultCode> result;
  std::optional<wire::Q931Cause> q931;
};

class Session {
 public:
  Session(Tunnel& tunnel, uint16_t local_id, Role role, CallDirection direction, TimePoint now);

  // LAC: place an incoming call (ICRQ). LNS: request an outgoing call (OCRQ)
  // to `number`.
  void start(uint32_t call_serial, const std::string& number, TimePoint now);
  // A message for this session: ICRQ/OCRQ (the one that created it), ICRP,
  // ICCN, OCRP, OCCN, CDN, WEN, SLI.
  void on_message(const wire::ControlMessage& m, TimePoint now);
  // Ends the call: CDN to the peer (unless already closed).
  void disconnect(const wire::ResultCode& why, TimePoint now);
  // The tunnel went away: no CDN, just closed.
  void abandon(const wire::ResultCode& why);

  uint16_t local_id() const { return local_id_; }
  uint16_t peer_id() const { return peer_id_; }
  Role role() const { return role_; }
  CallDirection direction() const { return direction_; }
  SessionState state() const { return state_; }
  bool established() const { return state_ == SessionState::kEstablished; }
  bool closed() const { return state_ == SessionState::kClosed; }
  const CallInfo& info() const { return info_; }
  const Tunnel& tunnel() const { return tunnel_; }
  TimePoint created() const { return created_; }

  // Data-message sequencing of what the control thread carries, RFC 2661
  // 5.4 (next_ns only in socket mode: with a data plane the session's owner
  // worker numbers every data message, DatagramIo::sequences_data()): sequenced for the call's whole life when
  // the LAC sent Sequencing Required; otherwise the LNS decides (ours never
  // starts it), a LAC follows the S bit of the LNS's data, and a LAC's S bit
  // never switches an LNS on. Nr in data messages is reserved and ignored.
  struct DataSequence {
    bool peer_sequences = false;  // the peer's last data message carried S
    uint16_t next_ns = 0;         // Ns of our next sequenced data message
    bool have_expected = false;
    uint16_t expected_ns = 0;     // the peer's next Ns
  };
  DataSequence& data_sequence() { return data_seq_; }
  // RFC 2661 5.4: the LAC's Sequencing Required, or (a LAC) the LNS's S.
  bool sends_sequenced_data() const {
    return info_.sequencing_required || (role_ == Role::kLac && data_seq_.peer_sequences);
  }

 private:
  void send(wire::ControlMessage&& m, TimePoint now);
  void record(const wire::ControlMessage& m);
  void establish();
  void fsm_error(const char* what, TimePoint now);

  Tunnel& tunnel_;
  uint16_t local_id_;
  uint16_t peer_id_ = 0;
  Role role_;
  CallDirection direction_;
  SessionState state_ = SessionState::kWaitReply;
  CallInfo info_;
  TimePoint created_;
  DataSequence data_seq_;
};

}  // namespace l2tp::control
