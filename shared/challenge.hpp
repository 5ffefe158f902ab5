#pragma once
// Tunnel authentication (RFC 2661 4.4.3 and 5.1.1): CHAP-like, with the
// Message Type of the message carrying the response as the CHAP ID:
//   response = MD5(message type (1 octet) + shared secret + challenge)
// An SCCRP answers the SCCRQ's Challenge with ID 2, an SCCCN answers the
// SCCRP's Challenge with ID 3.

#include <cstdint>
#include <span>

#include "shared/avp_table.hpp"
#include "shared/md5.hpp"

namespace l2tp::wire {

Md5Digest challenge_response(MessageType carried_in, std::span<const uint8_t> secret,
                             std::span<const uint8_t> challenge);

// Constant-time comparison of a received response with the expected one.
bool challenge_response_matches(MessageType carried_in, std::span<const uint8_t> secret,
                                std::span<const uint8_t> challenge,
                                std::span<const uint8_t> received);

}  // namespace l2tp::wire
