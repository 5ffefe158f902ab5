// Tunnel authentication (RFC 2661 4.4.3, 5.1.1): response = MD5(ID ||
// secret || challenge) with the Message Type of the carrying message as ID.
// Every expected digest below was computed outside this code base, with
// Python's hashlib, e.g.
//   python3 -c "import hashlib; print(hashlib.md5(bytes([2]) + b'secret'
//               + bytes.fromhex('00112233445566778899aabbccddeeff')).hexdigest())"
// and the xl2tpd ones are the Challenge Response AVPs xl2tpd 1.3.18 sent in
// tests/captures/xl2tpd-auth.pcap (secret "s3cr3t-tunnel-key").

#include "shared/challenge.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "shared/bytes.hpp"

namespace l2tp::wire {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes hex(std::string_view s) {
  Bytes out;
  EXPECT_TRUE(from_hex(s, out)) << s;
  return out;
}

std::string digest_hex(const Md5Digest& d) { return to_hex(d); }

const Bytes kChallenge = hex("00112233445566778899aabbccddeeff");

TEST(ChallengeResponse, InSccrpIsMd5OfId2SecretAndChallenge) {
  EXPECT_EQ(digest_hex(challenge_response(MessageType::kSccrp, as_bytes("secret"), kChallenge)),
            "45842102c2f5c31ac7b1610b789b451d");
}

TEST(ChallengeResponse, InScccnIsMd5OfId3SecretAndChallenge) {
  EXPECT_EQ(digest_hex(challenge_response(MessageType::kScccn, as_bytes("secret"), kChallenge)),
            "c30ab3cbccc21f1327a335a27014bc77");
}

TEST(ChallengeResponse, DiffersBetweenSccrpAndScccnForTheSameChallenge) {
  EXPECT_NE(challenge_response(MessageType::kSccrp, as_bytes("secret"), kChallenge),
            challenge_response(MessageType::kScccn, as_bytes("secret"), kChallenge));
}

TEST(ChallengeResponse, MatchesXl2tpdSccrpFromCapture) {
  // SCCRQ Challenge and SCCRP Challenge Response, xl2tpd-auth.pcap frames 1-2.
  EXPECT_EQ(digest_hex(challenge_response(MessageType::kSccrp, as_bytes("s3cr3t-tunnel-key"),
                                          hex("1aaa71b31495f9a92fce755841aeae12"))),
            "02d7092092906f638b6e65e041419b8d");
}

TEST(ChallengeResponse, MatchesXl2tpdScccnFromCapture) {
  // SCCRP Challenge and SCCCN Challenge Response, xl2tpd-auth.pcap frames 2-3.
  EXPECT_EQ(digest_hex(challenge_response(MessageType::kScccn, as_bytes("s3cr3t-tunnel-key"),
                                          hex("79fad141d6f23a6fe002976a3271dc61"))),
            "97cfa5ad4304e8a9cea4555b6e0024b6");
}

TEST(ChallengeResponse, HandlesEmptySecretAndOneOctetChallenge) {
  EXPECT_EQ(digest_hex(challenge_response(MessageType::kSccrp, {}, hex("01"))),
            "050d144172d916d0846f839e0412e929");
}

TEST(ChallengeResponse, HandlesLongSecretAndLongChallenge) {
  Bytes challenge(64);
  for (size_t i = 0; i < challenge.size(); ++i) challenge[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(digest_hex(challenge_response(
                MessageType::kSccrp, as_bytes("tunnel secret with a long passphrase 0123456789"),
                challenge)),
            "0a17422b2696d861f537235000613939");
  EXPECT_EQ(digest_hex(challenge_response(MessageType::kScccn, as_bytes("s"), Bytes(200, 0xff))),
            "1b2543b901765ea47c8c52e63bf8f0f1");
}

TEST(ChallengeResponseMatches, AcceptsTheCorrectResponse) {
  EXPECT_TRUE(challenge_response_matches(MessageType::kSccrp, as_bytes("s3cr3t-tunnel-key"),
                                         hex("1aaa71b31495f9a92fce755841aeae12"),
                                         hex("02d7092092906f638b6e65e041419b8d")));
  EXPECT_TRUE(challenge_response_matches(MessageType::kScccn, as_bytes("secret"), kChallenge,
                                         hex("c30ab3cbccc21f1327a335a27014bc77")));
}

TEST(ChallengeResponseMatches, RejectsAResponseWithOneBitFlipped) {
  const Bytes good = hex("45842102c2f5c31ac7b1610b789b451d");
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    EXPECT_FALSE(challenge_response_matches(MessageType::kSccrp, as_bytes("secret"), kChallenge, bad))
        << "octet " << i;
  }
}

TEST(ChallengeResponseMatches, RejectsTheResponseComputedWithTheOtherMessageType) {
  // The SCCCN answer replayed as an SCCRP answer: the ID binds it to its message.
  EXPECT_FALSE(challenge_response_matches(MessageType::kSccrp, as_bytes("secret"), kChallenge,
                                          hex("c30ab3cbccc21f1327a335a27014bc77")));
}

TEST(ChallengeResponseMatches, RejectsTheWrongSecret) {
  EXPECT_FALSE(challenge_response_matches(MessageType::kSccrp, as_bytes("Secret"), kChallenge,
                                          hex("45842102c2f5c31ac7b1610b789b451d")));
}

TEST(ChallengeResponseMatches, RejectsAResponseOfTheWrongLength) {
  const Bytes good = hex("45842102c2f5c31ac7b1610b789b451d");
  const Bytes shorter(good.begin(), good.end() - 1);
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_FALSE(challenge_response_matches(MessageType::kSccrp, as_bytes("secret"), kChallenge, shorter));
  EXPECT_FALSE(challenge_response_matches(MessageType::kSccrp, as_bytes("secret"), kChallenge, longer));
  EXPECT_FALSE(challenge_response_matches(MessageType::kSccrp, as_bytes("secret"), kChallenge, {}));
}

}  // namespace
}  // namespace l2tp::wire
