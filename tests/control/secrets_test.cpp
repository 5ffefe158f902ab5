// The tunnel secrets file as xl2tpd's get_secret() reads it: `us them
// secret`, '*' wildcards, case-insensitive names, the first matching line
// wins, '#' and ';' comments anywhere; errors name FILE:LINE.

#include "control/secrets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

using namespace l2tp::control;

namespace {

const std::string kData = std::string(L2TP_TEST_DATA) + "/control/data/";

std::string joined(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

Secrets parse_ok(std::string_view text) {
  auto r = Secrets::parse(text, "secrets");
  EXPECT_TRUE(r.ok()) << joined(r.errors());
  return r.ok() ? std::move(r).value() : Secrets{};
}

}  // namespace

TEST(Secrets, FirstColumnIsUsSecondIsThem) {
  Secrets s = parse_ok("lns lac s3cr3t\n");
  EXPECT_EQ(s.lookup(/*them=*/"lac", /*us=*/"lns"), "s3cr3t");
  EXPECT_EQ(s.lookup(/*them=*/"lns", /*us=*/"lac"), std::nullopt);
}

TEST(Secrets, WildcardMatchesAnyName) {
  Secrets s = parse_ok(
      "*    lac1  for-lac1\n"
      "lns  *     for-lns\n");
  EXPECT_EQ(s.lookup("lac1", "anyone"), "for-lac1");
  EXPECT_EQ(s.lookup("lac2", "lns"), "for-lns");
  EXPECT_EQ(s.lookup("lac2", "other"), std::nullopt);
  Secrets any = parse_ok("* * interop\n");
  EXPECT_EQ(any.lookup("", ""), "interop");
  EXPECT_EQ(any.lookup("x", "y"), "interop");
}

TEST(Secrets, FirstMatchingLineWinsEvenOverAMoreSpecificLaterLine) {
  // xl2tpd scans in file order and stops at the first match: the wildcard
  // line shadows the exact one below it.
  Secrets s = parse_ok(
      "*    *     catch-all\n"
      "lns  lac1  exact\n");
  EXPECT_EQ(s.lookup("lac1", "lns"), "catch-all");
  EXPECT_EQ(s.find("lac1", "lns")->line, 1u);
}

TEST(Secrets, SpecificLinesFirstThenWildcards) {
  Secrets s = parse_ok(
      "lns  lac1  exact\n"
      "*    lac1  any-us\n"
      "lns  *     any-them\n"
      "*    *     catch-all\n");
  EXPECT_EQ(s.lookup("lac1", "lns"), "exact");
  EXPECT_EQ(s.lookup("lac1", "other"), "any-us");
  EXPECT_EQ(s.lookup("lac2", "lns"), "any-them");
  EXPECT_EQ(s.lookup("lac2", "other"), "catch-all");
}

TEST(Secrets, NamesCompareWithoutCaseSecretsWithCase) {
  Secrets s = parse_ok("LNS.Example.NET  Lac1  MiXeD\n");
  EXPECT_EQ(s.lookup("LAC1", "lns.example.net"), "MiXeD");
}

TEST(Secrets, StarOnlyAsAWholeFieldIsAWildcard) {
  Secrets s = parse_ok("lns*  lac  x\n");
  EXPECT_EQ(s.lookup("lac", "lns-a"), std::nullopt);
  EXPECT_EQ(s.lookup("lac", "lns*"), "x");
}

TEST(Secrets, SecretIsTheRestOfTheLineWithInnerBlanks) {
  Secrets s = parse_ok("  us \t them \t  a secret\twith  blanks \t \r\n");
  EXPECT_EQ(s.lookup("them", "us"), "a secret\twith  blanks");
}

TEST(Secrets, HashAndSemicolonStartCommentsAnywhere) {
  Secrets s = parse_ok(
      "# us them secret\n"
      "; another comment\n"
      "us them abc#def\n"
      "us2 them2 abc;def\n"
      "   \t\n"
      "\n");
  EXPECT_EQ(s.lookup("them", "us"), "abc");
  EXPECT_EQ(s.lookup("them2", "us2"), "abc");
  EXPECT_EQ(s.entries().size(), 2u);
}

TEST(Secrets, QuotesArePartOfTheSecret) {
  Secrets s = parse_ok("us them \"quoted secret\"\n");
  EXPECT_EQ(s.lookup("them", "us"), "\"quoted secret\"");
}

TEST(Secrets, EmptyFileHasNoSecrets) {
  Secrets s = parse_ok("");
  EXPECT_TRUE(s.entries().empty());
  EXPECT_EQ(s.lookup("a", "b"), std::nullopt);
}

TEST(Secrets, DebianSampleFileLoadsEmpty) {
  // Debian's /etc/xl2tpd/l2tp-secrets: every line a comment.
  auto r = Secrets::load(kData + "l2tp-secrets-debian");
  ASSERT_TRUE(r.ok()) << joined(r.errors());
  EXPECT_TRUE(r->entries().empty());
}

TEST(Secrets, FixtureLookups) {
  auto r = Secrets::load(kData + "l2tp-secrets");
  ASSERT_TRUE(r.ok()) << joined(r.errors());
  const Secrets& s = *r;
  ASSERT_EQ(s.entries().size(), 4u);
  EXPECT_EQ(s.lookup("lac1.example.net", "lns.example.net"), "s3cr3t-one");
  EXPECT_EQ(s.lookup("lac2.example.net", "lns.example.net"), "two words");
  EXPECT_EQ(s.lookup("lac3.example.net", "lns.example.net"), "lns-default");
  EXPECT_EQ(s.lookup("lac3.example.net", "other.example.net"), "interop");
  EXPECT_EQ(s.entries()[0].line, 3u);
}

TEST(Secrets, OneFieldIsAnErrorNamingFileAndLine) {
  auto r = Secrets::parse("# header\nlonely\n", "/etc/xl2tpd/l2tp-secrets");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors().size(), 1u);
  EXPECT_EQ(r.errors()[0].to_string(),
            "/etc/xl2tpd/l2tp-secrets:2: only one field: expected `us them secret`");
}

TEST(Secrets, TwoFieldsIsAnErrorNamingFileAndLine) {
  auto r = Secrets::parse("us them\nus them ; the comment is not the secret\n", "s");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors().size(), 2u);
  EXPECT_EQ(r.errors()[0].to_string(), "s:1: no secret after \"us them\": expected `us them secret`");
  EXPECT_EQ(r.errors()[1].line, 2u);
}

TEST(Secrets, ControlCharacterIsAnErrorThatDoesNotQuoteTheSecret) {
  std::string text = "us them top";
  text += '\0';
  text += "secret\n";
  auto r = Secrets::parse(text, "s");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors().size(), 1u);
  std::string msg = r.errors()[0].to_string();
  EXPECT_EQ(msg, "s:1: control character in line: not a text line");
  EXPECT_EQ(msg.find("secret\""), std::string::npos);
}

TEST(Secrets, EveryBadLineIsReported) {
  auto r = Secrets::parse("a\nok ok ok\nb c\nd\n", "s");
  ASSERT_FALSE(r.ok());
  std::vector<unsigned> lines;
  for (const auto& e : r.errors()) lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<unsigned>{1, 3, 4}));
}

TEST(Secrets, MissingFileIsOneErrorNamingIt) {
  auto r = Secrets::load(kData + "no-such-secrets");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors().size(), 1u);
  EXPECT_EQ(r.errors()[0].to_string(), kData + "no-such-secrets: cannot open: No such file or directory");
}

TEST(Secrets, BinaryGarbageNeverCrashesAndErrorsStayBounded) {
  std::mt19937 rng(1701);
  for (int round = 0; round < 200; ++round) {
    std::string text(static_cast<size_t>(rng() % 8192), '\0');
    for (auto& ch : text) ch = static_cast<char>(rng());
    auto r = Secrets::parse(text, "garbage");
    EXPECT_LE(r.errors().size(), kMaxErrors + 1);
    for (const auto& e : r.errors()) {
      std::string s = e.to_string();
      EXPECT_TRUE(std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) << s;
    }
    if (r.ok()) (void)r->lookup("a", "b");
  }
}
