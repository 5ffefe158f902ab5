#pragma once
// Control messages (RFC 2661 3.2 and section 6): the AVPs of one message as
// typed values, decoded from and encoded to the wire, and validated against
// the AVPs each message type must carry.

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shared/avp.hpp"
#include "shared/bytes.hpp"
#include "shared/avp_table.hpp"
#include "shared/header.hpp"
#include "shared/result.hpp"

namespace l2tp::wire {

// 4.4.2 Result Code. The Error Code and message are optional on the wire.
struct ResultCode {
  uint16_t result = 0;
  std::optional<uint16_t> error;
  std::string message;  // only with an error code
  bool operator==(const ResultCode&) const = default;
};

struct ProtocolVersion {
  uint8_t version = 1;  // RFC 2661: version 1, revision 0
  uint8_t revision = 0;
  bool operator==(const ProtocolVersion&) const = default;
};

// 4.4.2 Q.931 Cause Code: cause, the Q.931 message it came in, advisory text.
struct Q931Cause {
  uint16_t cause = 0;
  uint8_t message = 0;
  std::string advisory;
  bool operator==(const Q931Cause&) const = default;
};

// 4.4.6 Call Errors (WEN): counters since the call was established.
struct CallErrors {
  uint32_t crc = 0, framing = 0, hardware_overruns = 0, buffer_overruns = 0, timeouts = 0,
           alignment = 0;
  bool operator==(const CallErrors&) const = default;
};

// 4.4.6 ACCM (SLI).
struct Accm {
  uint32_t send = 0xFFFFFFFF;
  uint32_t receive = 0xFFFFFFFF;
  bool operator==(const Accm&) const = default;
};

// Bits of the Framing/Bearer Capabilities and Type AVPs (4.4.3, 4.4.4).
inline constexpr uint32_t kFramingSync = 0x1;
inline constexpr uint32_t kFramingAsync = 0x2;
inline constexpr uint32_t kBearerDigital = 0x1;
inline constexpr uint32_t kBearerAnalog = 0x2;

// Result codes (4.4.2) and general error codes, named for the control plane.
namespace result {
// StopCCN
inline constexpr uint16_t kGeneralClearControl = 1;
inline constexpr uint16_t kGeneralErrorSee = 2;
inline constexpr uint16_t kControlChannelExists = 3;
inline constexpr uint16_t kNotAuthorized = 4;
inline constexpr uint16_t kBadProtocolVersion = 5;
inline constexpr uint16_t kBeingShutDown = 6;
inline constexpr uint16_t kFsmError = 7;
// CDN
inline constexpr uint16_t kLostCarrier = 1;
inline constexpr uint16_t kCdnGeneralError = 2;
inline constexpr uint16_t kAdministrative = 3;
inline constexpr uint16_t kNoFacilitiesTemporary = 4;
inline constexpr uint16_t kNoFacilitiesPermanent = 5;
inline constexpr uint16_t kInvalidDestination = 6;
inline constexpr uint16_t kNoCarrier = 7;
inline constexpr uint16_t kBusy = 8;
inline constexpr uint16_t kNoDialTone = 9;
inline constexpr uint16_t kTimeout = 10;
inline constexpr uint16_t kNoFraming = 11;
}  // namespace result
namespace error_code {
inline constexpr uint16_t kNoError = 0;
inline constexpr uint16_t kNoControlConnection = 1;
inline constexpr uint16_t kBadLength = 2;
inline constexpr uint16_t kBadValue = 3;
inline constexpr uint16_t kInsufficientResources = 4;
inline constexpr uint16_t kInvalidSessionId = 5;
inline constexpr uint16_t kVendorError = 6;
inline constexpr uint16_t kTryAnother = 7;
inline constexpr uint16_t kUnknownMandatoryAvp = 8;
}  // namespace error_code

// Where decoding put an AVP.
enum class AvpKept : uint8_t {
  kTyped,         // in its ControlMessage field (or the Message Type)
  kVendor,        // in vendor_avps
  kUnrecognized,  // in unrecognized
};

// What the wire said about one AVP, in the order received.
struct AvpMeta {
  uint16_t vendor_id = 0;
  uint16_t type = 0;
  bool mandatory = false;
  bool hidden = false;
  AvpKept kept = AvpKept::kTyped;
  bool operator==(const AvpMeta&) const = default;
};

// An AVP this library does not interpret: vendor-specific (kept for the
// caller) or an IETF type it does not know, or one with reserved bits set.
struct OpaqueAvp {
  uint16_t vendor_id = 0;
  uint16_t type = 0;
  bool mandatory = false;
  bool hidden = false;
  uint8_t reserved = 0;
  Bytes value;  // as on the wire (encrypted if hidden)
  bool operator==(const OpaqueAvp&) const = default;
};

using AvpSet = std::bitset<kAvpTypeLimit>;

struct ControlMessage {
  bool zlb = false;               // no AVPs at all: an acknowledgement (5.8)
  uint16_t message_type = 0;      // raw; see MessageType
  bool message_type_mandatory = true;

  std::optional<ResultCode> result_code;
  std::optional<ProtocolVersion> protocol_version;
  std::optional<uint32_t> framing_capabilities;
  std::optional<uint32_t> bearer_capabilities;
  std::optional<uint64_t> tie_breaker;
  std::optional<uint16_t> firmware_revision;
  std::optional<std::string> host_name;
  std::optional<std::string> vendor_name;
  std::optional<uint16_t> assigned_tunnel_id;
  std::optional<uint16_t> receive_window_size;
  std::optional<Bytes> challenge;
  std::optional<Q931Cause> q931_cause;
  std::optional<Bytes> challenge_response;
  std::optional<uint16_t> assigned_session_id;
  std::optional<uint32_t> call_serial_number;
  std::optional<uint32_t> minimum_bps;
  std::optional<uint32_t> maximum_bps;
  std::optional<uint32_t> bearer_type;
  std::optional<uint32_t> framing_type;
  std::optional<std::string> called_number;
  std::optional<std::string> calling_number;
  std::optional<std::string> sub_address;
  std::optional<uint32_t> tx_connect_speed;
  std::optional<uint32_t> physical_channel_id;
  std::optional<Bytes> initial_received_lcp_confreq;
  std::optional<Bytes> last_sent_lcp_confreq;
  std::optional<Bytes> last_received_lcp_confreq;
  std::optional<uint16_t> proxy_authen_type;
  std::optional<std::string> proxy_authen_name;
  std::optional<Bytes> proxy_authen_challenge;
  std::optional<uint8_t> proxy_authen_id;
  std::optional<Bytes> proxy_authen_response;
  std::optional<CallErrors> call_errors;
  std::optional<Accm> accm;
  std::optional<Bytes> random_vector;  // the last one in the message
  std::optional<Bytes> private_group_id;
  std::optional<uint32_t> rx_connect_speed;
  bool sequencing_required = false;

  std::vector<OpaqueAvp> vendor_avps;   // vendor ID != 0, kept raw
  std::vector<OpaqueAvp> unrecognized;  // IETF types unknown here, or reserved bits set
  std::vector<AvpMeta> wire_order;      // decoded: every AVP as received

  MessageType type() const { return static_cast<MessageType>(message_type); }
  bool has(AvpType t) const;
  // 4.2: the first AVP that is not understood and has M set (reserved bits
  // set count as not understood, 4.1): the tunnel (tunnel-scoped message) or
  // the session (session-scoped message) MUST be torn down.
  const OpaqueAvp* unrecognized_mandatory() const;
  bool operator==(const ControlMessage&) const = default;
};

struct DecodeOptions {
  // The secret shared with this peer; empty when none is known. Needed only
  // to reveal hidden AVPs (4.3).
  std::span<const uint8_t> secret;
  // Added to error offsets, so that they count from the start of the
  // datagram when the caller passes the header length here.
  uint32_t base_offset = 0;
};

// Decodes the AVPs of a control message body (the bytes after the header).
// An empty body is a ZLB. Errors name the AVP: bad lengths (4.4 per-type
// rules), a first AVP other than Message Type (4.4.1), a hidden AVP with no
// secret or no Random Vector before it (4.3). Unknown message types and
// unrecognized AVPs are not decode errors: see validate_message and
// ControlMessage::unrecognized_mandatory.
Result<ControlMessage> decode_message(std::span<const uint8_t> body, const DecodeOptions& opts = {});

// Section 6: the message type is one RFC 2661 defines (kUnknownMessageType
// otherwise, value = type, field says whether M was set: 4.4.1 clears the
// tunnel when it was, ignores the message when not) and every AVP it must
// carry is present (kMissingAvp, avp_type = the first one missing).
Status validate_message(const ControlMessage& msg);

// AVPs a message type must carry (section 6); empty set for unknown types.
AvpSet required_avps(uint16_t message_type);
// AVPs a message type may carry besides those (section 6; Random Vector in any).
AvpSet optional_avps(uint16_t message_type);

struct EncodeOptions {
  std::span<const uint8_t> secret;  // needed when `hide` is not empty
  AvpSet hide;                      // types to send hidden (4.3)
  // Padding octets in each hidden subformat: values are padded up to a
  // multiple of this many octets (0: none), so lengths leak less (4.3).
  size_t hidden_pad_to = 16;
};

// Appends the AVPs of msg: Message Type first, the Random Vector next (so
// that it precedes every hidden AVP), then the others in attribute type
// order, unless msg.wire_order is set, in which case that order is kept
// (re-encoding a decoded message gives back its bytes, but for unrecognized
// AVPs: 4.2 has them ignored, so they are never sent on). M bits are those
// of section 4.4; vendor AVPs keep theirs. Errors: a value too long for an
// AVP, a type in `hide` that must not be hidden (Message Type included),
// hiding with no secret or no Random Vector.
Status encode_avps(const ControlMessage& msg, const EncodeOptions& opts, std::vector<uint8_t>& out);

// The value of a present IETF AVP as text, for logs and l2tpdump: numbers in
// decimal, octet strings in hex, text quoted with non-printables escaped,
// composite values as comma-separated fields (Result Code: `1,0,"Goodbye!"`).
// Empty string when the message does not carry that AVP.
std::string format_avp_value(const ControlMessage& msg, uint16_t type);

// A whole control message: header (T, L, S set; Length computed) and AVPs.
Result<std::vector<uint8_t>> encode_control(const Header& header, const ControlMessage& msg,
                                            const EncodeOptions& opts = {});

}  // namespace l2tp::wire
