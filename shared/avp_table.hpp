#pragma once
// The AVP table of RFC 2661 section 4.4 and the message types of 3.2: one
// row per attribute with its name, value length rule, M-bit rule and whether
// it may be hidden. Everything else in the library reads these rules from
// here rather than repeating them.

#include <cstdint>

namespace l2tp::wire {

enum class MessageType : uint16_t {
  kSccrq = 1,    // Start-Control-Connection-Request
  kSccrp = 2,    // Start-Control-Connection-Reply
  kScccn = 3,    // Start-Control-Connection-Connected
  kStopccn = 4,  // Stop-Control-Connection-Notification
  kHello = 6,
  kOcrq = 7,     // Outgoing-Call-Request
  kOcrp = 8,     // Outgoing-Call-Reply
  kOccn = 9,     // Outgoing-Call-Connected
  kIcrq = 10,    // Incoming-Call-Request
  kIcrp = 11,    // Incoming-Call-Reply
  kIccn = 12,    // Incoming-Call-Connected
  kCdn = 14,     // Call-Disconnect-Notify
  kWen = 15,     // WAN-Error-Notify
  kSli = 16,     // Set-Link-Info
};

// "SCCRQ", ..., or nullptr for a value RFC 2661 does not define (0, 5, 13, >16).
const char* message_type_name(uint16_t type);
inline bool is_known_message_type(uint16_t type) { return message_type_name(type) != nullptr; }

enum class AvpType : uint16_t {
  kMessageType = 0,
  kResultCode = 1,
  kProtocolVersion = 2,
  kFramingCapabilities = 3,
  kBearerCapabilities = 4,
  kTieBreaker = 5,
  kFirmwareRevision = 6,
  kHostName = 7,
  kVendorName = 8,
  kAssignedTunnelId = 9,
  kReceiveWindowSize = 10,
  kChallenge = 11,
  kQ931Cause = 12,
  kChallengeResponse = 13,
  kAssignedSessionId = 14,
  kCallSerialNumber = 15,
  kMinimumBps = 16,
  kMaximumBps = 17,
  kBearerType = 18,
  kFramingType = 19,
  // 20 is not assigned by RFC 2661.
  kCalledNumber = 21,
  kCallingNumber = 22,
  kSubAddress = 23,
  kTxConnectSpeed = 24,
  kPhysicalChannelId = 25,
  kInitialReceivedLcpConfreq = 26,
  kLastSentLcpConfreq = 27,
  kLastReceivedLcpConfreq = 28,
  kProxyAuthenType = 29,
  kProxyAuthenName = 30,
  kProxyAuthenChallenge = 31,
  kProxyAuthenId = 32,
  kProxyAuthenResponse = 33,
  kCallErrors = 34,
  kAccm = 35,
  kRandomVector = 36,
  kPrivateGroupId = 37,
  kRxConnectSpeed = 38,
  kSequencingRequired = 39,
};
inline constexpr uint16_t kAvpTypeLimit = 40;  // IETF types 0..39
inline constexpr uint16_t kAvpHeaderSize = 6;  // flags+length, vendor, type
inline constexpr uint16_t kAvpMaxLength = 1023;  // 10-bit length field
inline constexpr uint16_t kUnbounded = 0xFFFF;

// How a value's octets are read.
enum class AvpKind : uint8_t {
  kU8Pair,     // Protocol Version: version, revision
  kU16,
  kU32,
  kU64,
  kString,     // printable text (host and vendor names, numbers...)
  kBytes,      // opaque octets (challenges, LCP CONFREQs...)
  kEmpty,      // Sequencing Required
  kResultCode, // result, optional error, optional message
  kQ931,       // cause, message, optional advisory
  kCallErrors, // reserved 16 + six 32-bit counters
  kAccm,       // reserved 16 + send ACCM 32 + receive ACCM 32
  kAuthenId,   // reserved 8 + ID 8
};

struct AvpSpec {
  const char* name;    // "Assigned Tunnel ID": as RFC 2661 4.4 names it
  const char* key;     // "AssignedTunnelID": one word, used by l2tpdump
  AvpKind kind;
  uint16_t min_len;    // value octets (after the 6-byte AVP header)
  uint16_t max_len;    // kUnbounded when only the 10-bit AVP length limits it
  bool mandatory;      // 4.4: the M bit a sender sets
  bool hideable;       // 4.4: "may be hidden" (false: "MUST NOT be hidden")
};

// nullptr for types RFC 2661 does not define (20, >= 40).
const AvpSpec* avp_spec(uint16_t type);

}  // namespace l2tp::wire
