#include "shared/ppp.hpp"

namespace l2tp::wire {

Result<PppFrame> parse_ppp(std::span<const uint8_t> payload) {
  PppFrame f;
  size_t pos = 0;
  if (payload.size() >= 2 && payload[0] == 0xFF && payload[1] == 0x03) {
    f.address_control = true;
    pos = 2;
  }
  if (pos >= payload.size()) return Error{Errc::kTruncated, "PPP protocol", 0, static_cast<uint32_t>(pos)};
  if (payload[pos] & 1) {
    f.protocol = payload[pos];  // compressed to one octet
    pos += 1;
  } else {
    if (payload.size() - pos < 2)
      return Error{Errc::kTruncated, "PPP protocol", payload[pos], static_cast<uint32_t>(pos)};
    f.protocol = static_cast<uint16_t>((payload[pos] << 8) | payload[pos + 1]);
    if ((f.protocol & 1) == 0)
      return Error{Errc::kBadValue, "PPP protocol", f.protocol, static_cast<uint32_t>(pos)};
    pos += 2;
  }
  f.information = payload.subspan(pos);
  return f;
}

const char* ppp_protocol_name(uint16_t protocol) {
  switch (protocol) {
    case ppp::kIpv4: return "IPv4";
    case ppp::kIpv6: return "IPv6";
    case ppp::kIpcp: return "IPCP";
    case ppp::kIpv6cp: return "IPV6CP";
    case ppp::kCcp: return "CCP";
    case ppp::kLcp: return "LCP";
    case ppp::kPap: return "PAP";
    case ppp::kChap: return "CHAP";
    case ppp::kEap: return "EAP";
  }
  return nullptr;
}

}  // namespace l2tp::wire
