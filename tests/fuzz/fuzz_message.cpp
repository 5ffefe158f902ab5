// libFuzzer target: control message decoding, validation and formatting,
// with and without a shared secret (hidden AVPs). Invariant: a decoded
// message re-encodes (in the clear) to bytes that decode to the same values.
#include <cstdint>
#include <string_view>

#include "shared/bytes.hpp"
#include "shared/message.hpp"

using namespace l2tp::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // First octet: bit 0 picks whether a secret is known; the rest is the body.
  const bool with_secret = data[0] & 1;
  DecodeOptions opts;
  if (with_secret) opts.secret = as_bytes("s3cr3t-tunnel-key");
  auto m = decode_message({data + 1, size - 1}, opts);
  if (!m) return 0;
  (void)validate_message(*m);
  (void)m->unrecognized_mandatory();
  for (const AvpMeta& a : m->wire_order) (void)format_avp_value(*m, a.type);
  if (m->zlb) return 0;

  std::vector<uint8_t> out;
  auto s = encode_avps(*m, {}, out);
  if (!s) __builtin_trap();  // every decoded value fits its AVP again
  auto again = decode_message(out, {});
  if (!again) __builtin_trap();
  ControlMessage a = *m, b = *again;
  // Unrecognized AVPs are not re-sent; the wire order's M and H bits are
  // those of the table now, not those received.
  a.unrecognized.clear();
  a.wire_order.clear();
  b.wire_order.clear();
  if (!(a == b)) __builtin_trap();
  return 0;
}
