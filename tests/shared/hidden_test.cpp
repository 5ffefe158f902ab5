// Hidden AVPs (RFC 2661 4.3) against vectors from an independent
// implementation (hidden_vectors.py, Python hashlib), and round trips.

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "shared/bytes.hpp"
#include "shared/hidden.hpp"

using namespace l2tp::wire;

namespace {

struct Vector {
  uint16_t type;
  Bytes secret, rv, value, hidden;
  size_t pad;
};

std::vector<Vector> load_vectors() {
  std::ifstream in(L2TP_TEST_DATA "/shared/hidden_vectors.txt");
  std::vector<Vector> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    Vector v;
    std::string secret, rv, value, hidden;
    ls >> v.type >> secret >> rv >> value >> v.pad >> hidden;
    EXPECT_TRUE(from_hex(secret, v.secret) && from_hex(rv, v.rv) && from_hex(hidden, v.hidden)) << line;
    if (value != "-") {
      EXPECT_TRUE(from_hex(value, v.value)) << line;
    }
    out.push_back(std::move(v));
  }
  return out;
}

TEST(Hidden, EncryptionMatchesIndependentPythonVectors) {
  auto vectors = load_vectors();
  ASSERT_GE(vectors.size(), 10u);
  for (const auto& v : vectors) {
    Bytes out;
    hide_value(v.type, v.secret, v.rv, v.value, v.pad, out);
    EXPECT_EQ(to_hex(out), to_hex(v.hidden)) << "type " << v.type;
  }
}

TEST(Hidden, DecryptionOfIndependentPythonVectorsGivesTheValue) {
  for (const auto& v : load_vectors()) {
    auto plain = unhide_value(v.type, v.secret, v.rv, v.hidden);
    ASSERT_TRUE(plain) << plain.error().to_string();
    EXPECT_EQ(to_hex(*plain), to_hex(v.value)) << "type " << v.type;
  }
}

TEST(Hidden, RoundTripsRandomValuesSecretsAndPadding) {
  std::mt19937 rng(2661);
  auto random_bytes = [&](size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
  };
  for (int i = 0; i < 500; ++i) {
    const uint16_t type = static_cast<uint16_t>(rng() % 40);
    Bytes secret = random_bytes(1 + rng() % 40), rv = random_bytes(1 + rng() % 32),
          value = random_bytes(rng() % 200);
    Bytes hidden;
    hide_value(type, secret, rv, value, rng() % 33, hidden);
    auto back = unhide_value(type, secret, rv, hidden);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, value);
  }
}

TEST(Hidden, WrongSecretOrVectorOrTypeDoesNotRevealTheValue) {
  const Bytes secret = {'k', 'e', 'y'}, rv = {1, 2, 3, 4}, value = {0x15, 0x63};
  Bytes hidden;
  hide_value(9, secret, rv, value, 14, hidden);
  struct Case { uint16_t type; Bytes secret, rv; };
  for (const Case& c : {Case{9, {'k', 'e', 'x'}, rv}, Case{9, secret, {1, 2, 3, 5}}, Case{14, secret, rv}}) {
    auto back = unhide_value(c.type, c.secret, c.rv, hidden);
    EXPECT_TRUE(!back || *back != value);
  }
}

TEST(Hidden, OriginalLengthBeyondTheSubformatIsAnError) {
  const Bytes secret = {'s'}, rv = {9};
  Bytes hidden;
  hide_value(9, secret, rv, Bytes{1, 2, 3, 4}, 0, hidden);
  // The key stream is XORed, so flipping ciphertext bits flips the same
  // plaintext bits: make the Original Length read 0x00C8 instead of 4.
  hidden[1] ^= 0x04 ^ 0xC8;
  auto back = unhide_value(9, secret, rv, hidden);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, Errc::kHiddenBadLength);
  EXPECT_EQ(back.error().value, 0xC8u);
  EXPECT_EQ(back.error().avp_type, 9);
}

TEST(Hidden, SubformatShorterThanTheLengthFieldIsTruncated) {
  auto back = unhide_value(9, Bytes{'s'}, Bytes{1}, Bytes{0x42});
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, Errc::kTruncated);
}

}  // namespace
