#include "shared/result.hpp"

#include <cstdio>

namespace l2tp::wire {

const char* errc_name(Errc e) {
  switch (e) {
    case Errc::kTruncated: return "truncated";
    case Errc::kBadVersion: return "unsupported version";
    case Errc::kBadFlags: return "bad header flags";
    case Errc::kBadLength: return "bad length";
    case Errc::kBadAvpLength: return "bad AVP length";
    case Errc::kBadValue: return "bad value";
    case Errc::kMissingMessageType: return "Message Type is not the first AVP";
    case Errc::kMissingAvp: return "missing required AVP";
    case Errc::kDuplicateAvp: return "duplicate AVP";
    case Errc::kHiddenNoSecret: return "hidden AVP without a shared secret";
    case Errc::kHiddenNoVector: return "hidden AVP without a preceding Random Vector";
    case Errc::kHiddenBadLength: return "hidden AVP original length exceeds its value";
    case Errc::kUnknownMandatory: return "unknown AVP with M bit set";
    case Errc::kReservedBits: return "AVP reserved bits set";
    case Errc::kUnknownMessageType: return "unknown message type";
    case Errc::kNotAllowed: return "not allowed";
    case Errc::kNoSpace: return "output buffer too small";
  }
  return "unknown error";
}

std::string Error::to_string() const {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "%s", errc_name(code));
  auto append = [&](const char* fmt, auto... args) {
    if (n >= 0 && static_cast<size_t>(n) < sizeof buf)
      n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), fmt, args...);
  };
  if (field && *field) append(" in %s", field);
  if (avp_type != 0xFFFF) append(" (AVP type %u)", static_cast<unsigned>(avp_type));
  append(" at offset %u", static_cast<unsigned>(offset));
  append(": value %u", static_cast<unsigned>(value));
  return std::string(buf);
}

}  // namespace l2tp::wire
