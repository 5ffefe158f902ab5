// libFuzzer target: the L2TP header decoder. Invariants: a decoded header
// lies inside the input, and encoding it gives bytes that decode to the same
// header (reserved bits and offset pad content aside).
#include <cstdint>
#include <cstring>
#include <vector>

#include "shared/header.hpp"

using namespace l2tp::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto h = decode_header({data, size});
  if (!h) return 0;
  if (h->header_len > h->message_len || h->message_len > size) __builtin_trap();
  const size_t payload = h->message_len - h->header_len;
  std::vector<uint8_t> out(encoded_header_size(*h) + payload);
  auto n = encode_header(*h, payload, out);
  if (!n || *n != h->header_len) __builtin_trap();
  std::memcpy(out.data() + *n, data + h->header_len, payload);
  auto again = decode_header(out);
  if (!again) __builtin_trap();
  Header a = *h, b = *again;
  // Length is recomputed from the bytes: equal to the original when present.
  if (!(a == b)) __builtin_trap();
  return 0;
}
