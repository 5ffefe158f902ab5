#pragma once
// Result type of every decoder in the wire library: a value or a precise
// error (what was wrong, which field, where). Errors never allocate, so the
// data plane can use the same decoders on its per-packet path.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace l2tp::wire {

enum class Errc : uint8_t {
  kTruncated,          // fewer bytes than the field needs
  kBadVersion,         // RFC 2661 3.1: not version 2; discard silently, count
  kBadFlags,           // a header bit that the message kind forbids or needs
  kBadLength,          // a length field disagrees with the bytes present
  kBadAvpLength,       // AVP length outside the range its type allows
  kBadValue,           // a value outside its defined range
  kMissingMessageType, // 4.4.1: Message Type must be the first AVP
  kMissingAvp,         // section 6: a required AVP is absent
  kDuplicateAvp,       // an AVP that may appear once appears twice
  kHiddenNoSecret,     // 4.3: hidden AVP but no shared secret known
  kHiddenNoVector,     // 4.3: hidden AVP with no Random Vector before it
  kHiddenBadLength,    // 4.3: decrypted original length exceeds the AVP
  kUnknownMandatory,   // 4.2: unrecognized AVP with M set
  kReservedBits,       // 4.1: AVP reserved bits set: treat as unrecognized
  kUnknownMessageType, // 4.4.1: unknown message type (value says M bit)
  kNotAllowed,         // encoder: an AVP that must not be hidden, etc.
  kNoSpace,            // encoder: output buffer too small
};

const char* errc_name(Errc e);

struct Error {
  Errc code;
  const char* field = "";   // static string naming the field or AVP
  uint32_t value = 0;       // the offending value (version, length, type...)
  uint32_t offset = 0;      // byte offset in the decoded buffer
  uint16_t avp_type = 0xFFFF; // AVP attribute type when one is concerned

  // "bad AVP length in Assigned Tunnel ID (type 9) at offset 40: value 7"
  std::string to_string() const;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}              // NOLINT implicit
  Result(Error error) : v_(std::move(error)) {}          // NOLINT implicit

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation that yields nothing but may fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace l2tp::wire
