// [dataplane] capture and the EAL arguments that rule dpdk-dumpcap out;
// the capture server as this binary's EAL (--no-huge --no-shconf) runs it.
// That dpdk-dumpcap really captures is tests/integration/dumpcap.sh.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/dp_config.hpp"
#include "dataplane/packet_capture.hpp"

namespace l2tp::dp {
namespace {

std::map<std::string, std::string> section(const std::string& capture, const std::string& eal) {
  std::map<std::string, std::string> s = {{"access address", "192.0.2.2/24"},
                                          {"core address", "198.51.100.1/24"},
                                          {"core next hop", "198.51.100.254"},
                                          {"eal args", eal}};
  if (!capture.empty()) s["capture"] = capture;
  return s;
}

bool has_error(const DataPlaneConfigResult& r, const std::string& what) {
  return std::any_of(r.errors.begin(), r.errors.end(),
                     [&](const std::string& e) { return e.find(what) != std::string::npos; });
}

TEST(CaptureBlocker, NamesEachArgumentThatKeepsSecondaryProcessesOut) {
  auto shconf = capture_blocker({"-l", "0-1", "--no-shconf"});
  ASSERT_TRUE(shconf);
  EXPECT_EQ(shconf->rfind("--no-shconf:", 0), 0u) << *shconf;
  auto in_memory = capture_blocker({"--in-memory"});
  ASSERT_TRUE(in_memory);
  EXPECT_EQ(in_memory->rfind("--in-memory:", 0), 0u) << *in_memory;
  auto no_huge = capture_blocker({"--no-huge", "-m", "512"});
  ASSERT_TRUE(no_huge);
  EXPECT_EQ(no_huge->rfind("--no-huge:", 0), 0u) << *no_huge;
  for (const char* unlink : {"--huge-unlink", "--huge-unlink=always"}) {
    auto u = capture_blocker({unlink});
    ASSERT_TRUE(u) << unlink;
    EXPECT_EQ(u->rfind("--huge-unlink:", 0), 0u) << *u;
  }
}

TEST(CaptureBlocker, NamesAllTheBlockersAtOnceInArgumentOrder) {
  // As the tests and fastpath_ping.sh run: both have to go.
  auto why = capture_blocker({"-l", "0-1", "--no-huge", "-m", "512", "--no-shconf"});
  ASSERT_TRUE(why);
  const auto huge = why->find("--no-huge:"), shconf = why->find("; --no-shconf:");
  EXPECT_EQ(huge, 0u) << *why;
  EXPECT_NE(shconf, std::string::npos) << *why;
}

TEST(CaptureBlocker, HugepagesWithTheSharedConfigurationAllowCapture) {
  EXPECT_FALSE(capture_blocker({}));
  EXPECT_FALSE(capture_blocker({"-l", "0-1", "--file-prefix=l2tpd", "--vdev=net_af_packet0,iface=eth1",
                                "--huge-dir=/dev/hugepages", "-m", "512", "--huge-unlink=existing"}));
}

TEST(CaptureConfig, DefaultsToAutoWhateverTheEalArguments) {
  auto r = parse_dataplane_config(section("", "--no-huge -m 512 --no-shconf"), {}, 1701);
  ASSERT_TRUE(r.config) << r.errors.at(0);
  EXPECT_EQ(r.config->capture, CaptureMode::kAuto);
}

TEST(CaptureConfig, ReadsAutoYesAndNo) {
  for (const auto& [text, mode] : std::vector<std::pair<std::string, CaptureMode>>{
           {"auto", CaptureMode::kAuto}, {"yes", CaptureMode::kYes}, {"no", CaptureMode::kNo},
           {"true", CaptureMode::kYes}, {"n", CaptureMode::kNo}}) {
    auto r = parse_dataplane_config(section(text, "-l 0-1"), {}, 1701);
    ASSERT_TRUE(r.config) << text << ": " << r.errors.at(0);
    EXPECT_EQ(r.config->capture, mode) << text;
  }
  auto r = parse_dataplane_config(section("sometimes", "-l 0-1"), {}, 1701);
  EXPECT_FALSE(r.config);
  EXPECT_TRUE(has_error(r, "\"capture\": \"sometimes\": auto, yes or no"));
}

TEST(CaptureConfig, YesRefusesNoShconfInTheConfigOrOnTheCommandLine) {
  auto in_config = parse_dataplane_config(section("yes", "-l 0-1 --no-shconf"), {}, 1701);
  EXPECT_FALSE(in_config.config);
  EXPECT_TRUE(has_error(in_config, "\"capture\": \"yes\": the eal args rule dpdk-dumpcap out: --no-shconf:"));
  auto on_command_line = parse_dataplane_config(section("yes", "-l 0-1"), {"--in-memory"}, 1701);
  EXPECT_FALSE(on_command_line.config);
  EXPECT_TRUE(has_error(on_command_line, "the eal args rule dpdk-dumpcap out: --in-memory:"));
  auto no_huge = parse_dataplane_config(section("yes", "-l 0-1 --no-huge -m 512"), {}, 1701);
  EXPECT_FALSE(no_huge.config);
  EXPECT_TRUE(has_error(no_huge, "--no-huge:"));
}

TEST(CaptureConfig, AutoAndNoAcceptNoShconf) {
  EXPECT_TRUE(parse_dataplane_config(section("auto", "--no-shconf"), {}, 1701).config);
  EXPECT_TRUE(parse_dataplane_config(section("no", "--no-shconf"), {}, 1701).config);
}

// This binary's EAL runs --no-huge --no-shconf (eal_environment.cpp).
TEST(CaptureServer, AutoSaysWhyCaptureIsUnavailableAndWhatStillWorks) {
  CaptureServer s(CaptureMode::kAuto, {"--no-huge", "-m", "256", "--no-shconf"});
  EXPECT_FALSE(s.serving());
  EXPECT_EQ(s.status().rfind("capture: not available: --no-huge:", 0), 0u) << s.status();
  EXPECT_NE(s.status().find("; --no-shconf:"), std::string::npos) << s.status();
  EXPECT_NE(s.status().find("telemetry"), std::string::npos) << s.status();
}

TEST(CaptureServer, AutoAsksTheEalWhenTheArgumentsDoNotSay) {
  // An abbreviation getopt accepts, or arguments the check does not see:
  // what the EAL runs with decides.
  CaptureServer s(CaptureMode::kAuto, {"--no-hu", "--no-shc"});
  EXPECT_FALSE(s.serving());
  EXPECT_NE(s.status().find("without hugepages"), std::string::npos) << s.status();
}

TEST(CaptureServer, YesThrowsWhenTheEalCannotServeCapture) {
  try {
    CaptureServer s(CaptureMode::kYes, {});
    FAIL() << "no exception: " << s.status();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[dataplane] capture = yes, but ", 0), 0u) << e.what();
  }
}

TEST(CaptureServer, NoNeverServes) {
  CaptureServer s(CaptureMode::kNo, {});
  EXPECT_FALSE(s.serving());
  EXPECT_NE(s.status().find("capture = no"), std::string::npos) << s.status();
}

}  // namespace
}  // namespace l2tp::dp
