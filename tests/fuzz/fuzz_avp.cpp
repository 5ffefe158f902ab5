// libFuzzer target: AVP framing. Invariants: every AVP lies inside the input
// and put_avp rebuilds its exact bytes (when its reserved bits are clear).
#include <cstdint>
#include <cstring>
#include <vector>

#include "shared/avp.hpp"

using namespace l2tp::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  AvpReader reader({data, size});
  std::vector<uint8_t> out;
  while (!reader.at_end()) {
    auto a = reader.next();
    if (!a) {
      if (!reader.at_end()) __builtin_trap();  // an error ends the walk
      break;
    }
    if (a->offset + a->length > size || a->length < 6) __builtin_trap();
    if (a->value.data() != data + a->offset + 6 || a->value.size() != a->length - 6u) __builtin_trap();
    if (a->reserved != 0) continue;
    out.clear();
    put_avp(out, a->vendor_id, a->type, a->mandatory, a->hidden, a->value);
    if (out.size() != a->length || std::memcmp(out.data(), data + a->offset, out.size()) != 0)
      __builtin_trap();
  }
  return 0;
}
