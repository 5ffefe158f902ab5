#include "shared/challenge.hpp"

#include <openssl/crypto.h>

namespace l2tp::wire {

Md5Digest challenge_response(MessageType carried_in, std::span<const uint8_t> secret,
                             std::span<const uint8_t> challenge) {
  const uint8_t id = static_cast<uint8_t>(carried_in);
  return md5({std::span<const uint8_t>(&id, 1), secret, challenge});
}

bool challenge_response_matches(MessageType carried_in, std::span<const uint8_t> secret,
                                std::span<const uint8_t> challenge,
                                std::span<const uint8_t> received) {
  const Md5Digest want = challenge_response(carried_in, secret, challenge);
  return received.size() == want.size() &&
         CRYPTO_memcmp(want.data(), received.data(), want.size()) == 0;
}

}  // namespace l2tp::wire
