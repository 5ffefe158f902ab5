#include "shared/avp_table.hpp"

#include <array>

namespace l2tp::wire {

const char* message_type_name(uint16_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::kSccrq: return "SCCRQ";
    case MessageType::kSccrp: return "SCCRP";
    case MessageType::kScccn: return "SCCCN";
    case MessageType::kStopccn: return "StopCCN";
    case MessageType::kHello: return "HELLO";
    case MessageType::kOcrq: return "OCRQ";
    case MessageType::kOcrp: return "OCRP";
    case MessageType::kOccn: return "OCCN";
    case MessageType::kIcrq: return "ICRQ";
    case MessageType::kIcrp: return "ICRP";
    case MessageType::kIccn: return "ICCN";
    case MessageType::kCdn: return "CDN";
    case MessageType::kWen: return "WEN";
    case MessageType::kSli: return "SLI";
  }
  return nullptr;
}

namespace {

using K = AvpKind;
constexpr bool M = true;    // "The M bit for this AVP MUST be set to 1"
constexpr bool NoM = false; // "... MUST be set to 0"
constexpr bool H = true;    // "This AVP may be hidden"
constexpr bool NoH = false; // "This AVP MUST NOT be hidden"

// Value lengths are those of RFC 2661 4.4.x (AVP Length minus 6).
constexpr std::array<AvpSpec, kAvpTypeLimit> kTable = {{
    {"Message Type", "MessageType", K::kU16, 2, 2, M, NoH},                     // 4.4.1
    {"Result Code", "ResultCode", K::kResultCode, 2, kUnbounded, M, NoH},       // 4.4.2
    {"Protocol Version", "ProtocolVersion", K::kU8Pair, 2, 2, M, NoH},          // 4.4.3
    {"Framing Capabilities", "FramingCapabilities", K::kU32, 4, 4, M, H},
    {"Bearer Capabilities", "BearerCapabilities", K::kU32, 4, 4, M, H},
    {"Tie Breaker", "TieBreaker", K::kU64, 8, 8, NoM, NoH},
    {"Firmware Revision", "FirmwareRevision", K::kU16, 2, 2, NoM, H},
    {"Host Name", "HostName", K::kString, 1, kUnbounded, M, NoH},
    {"Vendor Name", "VendorName", K::kString, 0, kUnbounded, NoM, H},
    {"Assigned Tunnel ID", "AssignedTunnelID", K::kU16, 2, 2, M, H},
    {"Receive Window Size", "ReceiveWindowSize", K::kU16, 2, 2, M, NoH},
    {"Challenge", "Challenge", K::kBytes, 1, kUnbounded, M, H},
    {"Q.931 Cause Code", "Q931Cause", K::kQ931, 3, kUnbounded, M, NoH},         // 4.4.4
    {"Challenge Response", "ChallengeResponse", K::kBytes, 16, 16, M, H},       // 4.4.3
    {"Assigned Session ID", "AssignedSessionID", K::kU16, 2, 2, M, H},          // 4.4.4
    {"Call Serial Number", "CallSerialNumber", K::kU32, 4, 4, M, NoH},
    {"Minimum BPS", "MinimumBPS", K::kU32, 4, 4, M, H},
    {"Maximum BPS", "MaximumBPS", K::kU32, 4, 4, M, H},
    {"Bearer Type", "BearerType", K::kU32, 4, 4, M, H},
    {"Framing Type", "FramingType", K::kU32, 4, 4, M, H},
    {nullptr, nullptr, K::kBytes, 0, 0, NoM, NoH},                              // 20: unassigned
    {"Called Number", "CalledNumber", K::kString, 0, kUnbounded, M, H},
    {"Calling Number", "CallingNumber", K::kString, 0, kUnbounded, M, H},
    {"Sub-Address", "SubAddress", K::kString, 0, kUnbounded, M, H},
    {"(Tx) Connect Speed", "TxConnectSpeed", K::kU32, 4, 4, M, H},
    {"Physical Channel ID", "PhysicalChannelID", K::kU32, 4, 4, NoM, H},
    {"Initial Received LCP CONFREQ", "InitialReceivedLcpConfReq", K::kBytes, 0, kUnbounded, NoM, H},  // 4.4.5
    {"Last Sent LCP CONFREQ", "LastSentLcpConfReq", K::kBytes, 0, kUnbounded, NoM, H},
    {"Last Received LCP CONFREQ", "LastReceivedLcpConfReq", K::kBytes, 0, kUnbounded, NoM, H},
    {"Proxy Authen Type", "ProxyAuthenType", K::kU16, 2, 2, NoM, H},
    {"Proxy Authen Name", "ProxyAuthenName", K::kString, 0, kUnbounded, NoM, H},
    {"Proxy Authen Challenge", "ProxyAuthenChallenge", K::kBytes, 1, kUnbounded, NoM, H},
    {"Proxy Authen ID", "ProxyAuthenID", K::kAuthenId, 2, 2, NoM, H},
    {"Proxy Authen Response", "ProxyAuthenResponse", K::kBytes, 0, kUnbounded, NoM, H},
    {"Call Errors", "CallErrors", K::kCallErrors, 26, 26, M, H},                // 4.4.6
    {"ACCM", "ACCM", K::kAccm, 10, 10, M, H},
    {"Random Vector", "RandomVector", K::kBytes, 1, kUnbounded, M, NoH},        // 4.4.7
    {"Private Group ID", "PrivateGroupID", K::kBytes, 0, kUnbounded, NoM, H},
    {"Rx Connect Speed", "RxConnectSpeed", K::kU32, 4, 4, NoM, H},
    {"Sequencing Required", "SequencingRequired", K::kEmpty, 0, 0, M, NoH},
}};

}  // namespace

const AvpSpec* avp_spec(uint16_t type) {
  if (type >= kTable.size() || kTable[type].name == nullptr) return nullptr;
  return &kTable[type];
}

}  // namespace l2tp::wire
