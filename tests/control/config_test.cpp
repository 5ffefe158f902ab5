// The config file: xl2tpd.conf as xl2tpd 1.3.18 reads it (keys, sections,
// defaults, [lac default], ranges), our extensions and [dataplane], and an
// error value naming FILE:LINE, section, key and value for every kind of bad
// input, never an exception or a crash.

#include "control/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "control/net.hpp"

using namespace l2tp::control;
using namespace std::chrono_literals;

namespace {

const std::string kData = std::string(L2TP_TEST_DATA) + "/control/data/";

std::string joined(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

Config parse_ok(std::string_view text) {
  auto r = parse_config(text, "t.conf");
  EXPECT_TRUE(r.ok()) << joined(r.errors());
  return r.ok() ? std::move(r).value() : Config{};
}

// The errors of a file that must not load.
std::vector<ConfigError> parse_bad(std::string_view text) {
  auto r = parse_config(text, "t.conf");
  EXPECT_FALSE(r.ok()) << "loaded, but should not have:\n" << text;
  return r.errors();
}

// The one error of a file with one bad line, as text.
std::string one_error(std::string_view text) {
  auto errors = parse_bad(text);
  EXPECT_EQ(errors.size(), 1u) << joined(errors);
  return errors.empty() ? "" : errors.front().to_string();
}

bool has_warning(const Config& c, std::string_view part) {
  return std::any_of(c.warnings.begin(), c.warnings.end(),
                     [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

std::string all_warnings(const Config& c) {
  std::string out;
  for (const auto& w : c.warnings) out += w + "\n";
  return out;
}

}  // namespace

// ------------------------------------------------------------ fixtures --

TEST(ConfigFile, DebianExampleLoadsWithoutErrors) {
  auto r = load_config(kData + "xl2tpd-debian-example.conf");
  ASSERT_TRUE(r.ok()) << joined(r.errors());
  const Config& c = *r;
  ASSERT_EQ(c.lns.size(), 1u);
  const LnsConfig& lns = c.lns[0];
  EXPECT_TRUE(lns.is_default);
  EXPECT_EQ(lns.name, "default");
  ASSERT_EQ(lns.ip_ranges.size(), 1u);
  EXPECT_EQ(lns.ip_ranges[0], (Ipv4Range{ipv4(192, 168, 1, 128), ipv4(192, 168, 1, 254), false}));
  EXPECT_EQ(lns.local_ip, ipv4(192, 168, 1, 99));
  EXPECT_TRUE(lns.require_chap);
  EXPECT_TRUE(lns.refuse_pap);
  EXPECT_TRUE(lns.require_authentication);
  EXPECT_EQ(lns.auth_name, "LinuxVPNserver");
  EXPECT_TRUE(lns.ppp_debug);
  EXPECT_EQ(lns.pppoptfile, "/etc/ppp/options.xl2tpd");
  EXPECT_TRUE(lns.length_bit);
  EXPECT_TRUE(c.lac.empty());
  // "length bit" is xl2tpd's and not ours to act on yet: a warning, at its line.
  EXPECT_TRUE(has_warning(c, "xl2tpd-debian-example.conf:40: [lns default] \"length bit\": \"yes\": accepted, not yet acted on"))
      << all_warnings(c);
  EXPECT_EQ(c.warnings.size(), 1u) << all_warnings(c);
}

TEST(ConfigFile, DebianDefaultConfigLoadsAsXl2tpdDefaults) {
  // Debian's /etc/xl2tpd/xl2tpd.conf: every line a comment.
  auto r = load_config(kData + "xl2tpd-debian-default.conf");
  ASSERT_TRUE(r.ok()) << joined(r.errors());
  EXPECT_TRUE(r->lns.empty());
  EXPECT_TRUE(r->lac.empty());
  EXPECT_TRUE(r->warnings.empty()) << all_warnings(*r);
  EXPECT_EQ(r->global.port, 1701);
}

TEST(ConfigFile, NothingConfiguredMeansTheBuiltInLnsServes) {
  auto debian = load_config(kData + "xl2tpd-debian-default.conf");
  ASSERT_TRUE(debian.ok());
  EXPECT_TRUE(configures_nothing(*debian));
  // Any [lns] or [lac] section, [lac default] alone included, is a setup.
  EXPECT_FALSE(configures_nothing(*parse_config("[lac default]\nlns = 192.0.2.1\n", "t")));
  EXPECT_FALSE(configures_nothing(*parse_config("[lns x]\n", "t")));
  EXPECT_TRUE(configures_nothing(*parse_config("[global]\nport = 1702\n", "t")));

  auto builtin = parse_config(kBuiltinLnsSection, kBuiltinLnsName);
  ASSERT_TRUE(builtin.ok()) << joined(builtin.errors());
  EXPECT_TRUE(builtin->warnings.empty()) << all_warnings(*builtin);
  ASSERT_EQ(builtin->lns.size(), 1u);
  const LnsConfig& lns = builtin->lns[0];
  EXPECT_TRUE(lns.is_default);
  EXPECT_EQ(lns.local_ip, ipv4(10, 9, 0, 1));
  ASSERT_EQ(lns.ip_ranges.size(), 1u);
  EXPECT_EQ(lns.ip_ranges[0], (Ipv4Range{ipv4(10, 9, 0, 10), ipv4(10, 9, 0, 254), false}));
  EXPECT_FALSE(lns.require_authentication);
  EXPECT_FALSE(lns.challenge);
  EXPECT_EQ(builtin->lns_for_peer(ipv4(198, 51, 100, 7)), &lns);  // every peer
}

TEST(ConfigFile, EveryKeyFixtureSetsEveryGlobalField) {
  auto r = load_config(kData + "every-key.conf");
  ASSERT_TRUE(r.ok()) << joined(r.errors());
  const GlobalConfig& g = r->global;
  EXPECT_EQ(g.listen_addr, ipv4(192, 0, 2, 1));
  EXPECT_EQ(g.port, 1702);
  EXPECT_EQ(g.auth_file, "/etc/l2tpd/l2tp-secrets");
  EXPECT_TRUE(g.access_control);
  EXPECT_EQ(g.rand_source, RandSource::kSys);
  EXPECT_TRUE(g.ipsec_saref);
  EXPECT_EQ(g.saref_refinfo, 22);
  EXPECT_TRUE(g.force_userspace);
  EXPECT_TRUE(g.debug_avp);
  EXPECT_TRUE(g.debug_network);
  EXPECT_TRUE(g.debug_packet);
  EXPECT_TRUE(g.debug_state);
  EXPECT_TRUE(g.debug_tunnel);
  EXPECT_EQ(g.max_retries, 7u);
  EXPECT_EQ(g.cap_backoff, Duration(16s));
  EXPECT_EQ(g.hello_interval, Duration(30s));
  EXPECT_EQ(g.hold_time, Duration(40s));
  EXPECT_EQ(g.max_tunnels, 1000u);
  EXPECT_EQ(g.max_sessions, 20000u);
  EXPECT_EQ(g.max_sessions_per_tunnel, 512u);
}

TEST(ConfigFile, EveryKeyFixtureSetsEveryLnsField) {
  auto r = load_config(kData + "every-key.conf");
  ASSERT_TRUE(r.ok()) << joined(r.errors());
  ASSERT_EQ(r->lns.size(), 2u);
  const LnsConfig& d = r->lns[0];
  EXPECT_TRUE(d.is_default);
  EXPECT_TRUE(d.exclusive);
  EXPECT_EQ(d.ip_ranges, (std::vector<Ipv4Range>{{ipv4(10, 1, 0, 10), ipv4(10, 1, 0, 200), false},
                                                 {ipv4(10, 1, 0, 50), ipv4(10, 1, 0, 59), true},
                                                 {ipv4(10, 1, 0, 55), ipv4(10, 1, 0, 55), false}}));
  EXPECT_EQ(d.lacs, (std::vector<Ipv4Range>{{ipv4(198, 51, 100, 0), ipv4(198, 51, 100, 255), false},
                                            {ipv4(198, 51, 100, 7), ipv4(198, 51, 100, 7), true}}));
  EXPECT_TRUE(d.assign_ip);
  EXPECT_EQ(d.local_ip, ipv4(10, 1, 0, 1));
  EXPECT_TRUE(d.hidden_bit);
  EXPECT_TRUE(d.length_bit);
  EXPECT_TRUE(d.require_chap);
  EXPECT_FALSE(d.require_pap);
  EXPECT_TRUE(d.require_authentication);
  EXPECT_FALSE(d.refuse_chap);
  EXPECT_TRUE(d.refuse_pap);
  EXPECT_FALSE(d.refuse_authentication);
  EXPECT_FALSE(d.unix_authentication);
  EXPECT_EQ(d.hostname, "lns.example.net");
  EXPECT_EQ(d.auth_name, "l2tpd-lns");
  EXPECT_TRUE(d.ppp_debug);
  EXPECT_TRUE(d.pass_peer);
  EXPECT_EQ(d.pppoptfile, "/etc/ppp/options.l2tpd.lns");
  EXPECT_EQ(d.call_rws, 10);  // "flow bit = yes" leaves a positive window
  EXPECT_EQ(d.tunnel_rws, 8);
  EXPECT_TRUE(d.challenge);
  EXPECT_EQ(d.tx_bps, 20000000u);
  EXPECT_EQ(d.rx_bps, 30000000u);

  const LnsConfig& o = r->lns[1];
  EXPECT_EQ(o.name, "office");
  EXPECT_FALSE(o.is_default);
  EXPECT_EQ(o.lacs, (std::vector<Ipv4Range>{{ipv4(203, 0, 113, 1), ipv4(203, 0, 113, 5), false}}));
  EXPECT_EQ(o.local_ip_ranges, (std::vector<Ipv4Range>{{ipv4(10, 2, 0, 1), ipv4(10, 2, 0, 99), false}}));
  EXPECT_FALSE(o.local_ip.has_value());
  EXPECT_FALSE(o.assign_ip);
  EXPECT_FALSE(o.require_authentication);  // "require auth", the short form
  EXPECT_TRUE(o.refuse_authentication);
  EXPECT_TRUE(o.unix_authentication);      // "unix auth"
  EXPECT_EQ(o.tx_bps, 5000000u);           // "bps" sets both
  EXPECT_EQ(o.rx_bps, 5000000u);
  EXPECT_EQ(o.call_rws, -1);               // "flow bit = no"
}

TEST(ConfigFile, EveryKeyFixtureSetsEveryLacField) {
  auto r = load_config(kData + "every-key.conf");
  ASSERT_TRUE(r.ok()) << joined(r.errors());
  ASSERT_EQ(r->lac.size(), 2u);
  const LacConfig& m = r->lac[0];
  EXPECT_EQ(m.name, "marko");
  EXPECT_EQ(m.lns, (std::vector<LnsPeer>{{"192.0.2.10", 1701}, {"lns2.example.net", 1799}}));
  EXPECT_TRUE(m.autodial);
  EXPECT_TRUE(m.defaultroute);
  EXPECT_EQ(m.local_ip, ipv4(10, 9, 0, 1));
  EXPECT_EQ(m.remote_ip, ipv4(10, 9, 0, 2));
  EXPECT_TRUE(m.hidden_bit);
  EXPECT_FALSE(m.length_bit);
  EXPECT_FALSE(m.require_pap);
  EXPECT_TRUE(m.require_chap);
  EXPECT_TRUE(m.require_authentication);
  EXPECT_TRUE(m.refuse_pap);
  EXPECT_FALSE(m.refuse_chap);
  EXPECT_FALSE(m.refuse_authentication);
  EXPECT_EQ(m.hostname, "lac.example.net");
  EXPECT_EQ(m.auth_name, "marko");
  EXPECT_FALSE(m.ppp_debug);
  EXPECT_FALSE(m.pass_peer);
  EXPECT_EQ(m.pppoptfile, "/etc/ppp/options.l2tpd.marko");
  EXPECT_EQ(m.call_rws, 0);  // -1, then "flow bit = yes" raises it to 0 (xl2tpd's set_flow)
  EXPECT_EQ(m.tunnel_rws, 4);
  EXPECT_TRUE(m.challenge);
  EXPECT_EQ(m.tx_bps, 1000000u);
  EXPECT_EQ(m.rx_bps, 2000000u);
  // From [lac default], which comes before it here.
  EXPECT_TRUE(m.redial);
  EXPECT_EQ(m.redial_timeout, Duration(15s));
  EXPECT_EQ(m.max_redials, 5u);

  const LacConfig& c = r->lac[1];
  EXPECT_EQ(c.name, "cisco");
  EXPECT_EQ(c.lns, (std::vector<LnsPeer>{{"192.0.2.200", 1701}}));  // the default's
  EXPECT_TRUE(c.require_authentication);
  EXPECT_FALSE(c.refuse_authentication);
  EXPECT_EQ(c.tx_bps, 64000u);
  EXPECT_EQ(c.rx_bps, 64000u);
  EXPECT_TRUE(c.redial);

  EXPECT_TRUE(r->lac_default.is_default);
  EXPECT_EQ(r->lac_default.redial_timeout, Duration(15s));
}

TEST(ConfigFile, EveryKeyFixtureKeepsDataplaneSection) {
  auto r = load_config(kData + "every-key.conf");
  ASSERT_TRUE(r.ok()) << joined(r.errors());
  EXPECT_EQ(r->dataplane, (std::map<std::string, std::string>{
                              {"access port", "0000:03:00.0"}, {"core port", "0000:03:00.1"}, {"lcores", "1-2"}}));
}

TEST(ConfigFile, EveryKeyFixtureWarnsOnceForEachUseOfAKeyNotActedOn) {
  auto r = load_config(kData + "every-key.conf");
  ASSERT_TRUE(r.ok()) << joined(r.errors());
  const Config& c = *r;
  for (const char* key : {"\"rand source\"", "\"ipsec saref\"", "\"saref refinfo\"", "\"force userspace\"",
                          "\"debug packet\"", "\"exclusive\"", "\"length bit\"", "\"call rws\"", "\"flow bit\"",
                          "\"tx bps\"", "\"rx bps\"", "\"bps\""}) {
    EXPECT_TRUE(has_warning(c, std::string(key) + ": ")) << key << "\n" << all_warnings(c);
  }
  for (const auto& w : c.warnings) {
    EXPECT_NE(w.find("accepted, not yet acted on"), std::string::npos) << w;
    EXPECT_EQ(w.rfind(kData + "every-key.conf:", 0), 0u) << w;
  }
  // [global] 5, [lns default] 6, [lns office] 2, [lac marko] 5, [lac
  // cisco] 1; the [lac default] keys replayed into each [lac] are not
  // warned about again.
  EXPECT_EQ(c.warnings.size(), 19u) << all_warnings(c);
}

// --------------------------------------------------------------- syntax --

TEST(ConfigParse, EmptyFileGivesXl2tpdDefaults) {
  Config c = parse_ok("");
  EXPECT_EQ(c.global.listen_addr, 0u);
  EXPECT_EQ(c.global.port, 1701);
  EXPECT_EQ(c.global.auth_file, "/etc/xl2tpd/l2tp-secrets");
  EXPECT_FALSE(c.global.access_control);
  EXPECT_EQ(c.global.max_retries, 5u);
  EXPECT_FALSE(c.global.cap_backoff.has_value());
  EXPECT_EQ(c.global.saref_refinfo, 30);
  EXPECT_EQ(c.global.rand_source, RandSource::kDev);
  EXPECT_EQ(c.global.hello_interval, Duration(60s));
  EXPECT_EQ(c.global.hold_time, Duration(31s));
  EXPECT_TRUE(c.lns.empty());
  EXPECT_TRUE(c.lac.empty());
  EXPECT_TRUE(c.dataplane.empty());
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.lac_default.redial_timeout, Duration(30s));
  EXPECT_EQ(c.lac_default.tunnel_rws, 4);
  EXPECT_EQ(c.lac_default.tx_bps, 0u);  // xl2tpd's new_lac()
}

TEST(ConfigParse, SectionDefaultsAreXl2tpds) {
  Config c = parse_ok("[lns x]\nip range = 10.0.0.1\n[lac y]\nlns = 192.0.2.1\n");
  const LnsConfig& lns = c.lns.at(0);
  EXPECT_EQ(lns.tunnel_rws, 4);
  EXPECT_EQ(lns.call_rws, 4);
  EXPECT_EQ(lns.tx_bps, 10000000u);
  EXPECT_EQ(lns.rx_bps, 10000000u);
  EXPECT_TRUE(lns.assign_ip);
  EXPECT_FALSE(lns.pass_peer);
  EXPECT_FALSE(lns.hidden_bit);
  const LacConfig& lac = c.lac.at(0);
  EXPECT_EQ(lac.redial_timeout, Duration(30s));
  EXPECT_EQ(lac.max_redials, 0u);
  EXPECT_FALSE(lac.redial);
  EXPECT_FALSE(lac.autodial);
  EXPECT_EQ(lac.lns.at(0).port, 1701);
}

TEST(ConfigParse, KeysAndSectionTypesAreCaseInsensitiveAndBlanksCollapse) {
  Config c = parse_ok("[GLOBAL]\nMax   Retries = 9\n[LNS Default]\nIP\tRange=10.0.0.1-10.0.0.2\n[ lac  Up ]\nLNS = h\n");
  EXPECT_EQ(c.global.max_retries, 9u);
  ASSERT_EQ(c.lns.size(), 1u);
  EXPECT_TRUE(c.lns[0].is_default);
  EXPECT_EQ(c.lns[0].ip_ranges.size(), 1u);
  ASSERT_EQ(c.lac.size(), 1u);
  EXPECT_EQ(c.lac[0].name, "Up");
  EXPECT_NE(c.find_lac("up"), nullptr);
  EXPECT_NE(c.find_lns("DEFAULT"), nullptr);
}

TEST(ConfigParse, SemicolonStartsACommentAnywhereHashOnlyAtLineStart) {
  Config c = parse_ok(
      "# a comment of ours\n"
      "   # indented too\n"
      "[lns default] ; comment\n"
      "name = a#b ; the '#' belongs to the value, as in xl2tpd\n"
      "hostname = h;no blank before the comment\n"
      "ip range = 10.0.0.1\n");
  EXPECT_EQ(c.lns.at(0).auth_name, "a#b");
  EXPECT_EQ(c.lns.at(0).hostname, "h");
}

TEST(ConfigParse, CrLfLineEndingsAndTabs) {
  Config c = parse_ok("[global]\r\n\tport\t=\t1800\t\r\n[lns default]\r\nip range = 10.0.0.1\r\n");
  EXPECT_EQ(c.global.port, 1800);
}

TEST(ConfigParse, ByteOrderMarkIsIgnored) {
  Config c = parse_ok("\xEF\xBB\xBF[global]\nport = 1800\n");
  EXPECT_EQ(c.global.port, 1800);
}

TEST(ConfigParse, ValuesKeepInnerBlanksAndMayBeEmpty) {
  Config c = parse_ok("[lns default]\nip range = 10.0.0.1\nname =   my  name  \nhostname =\n");
  EXPECT_EQ(c.lns.at(0).auth_name, "my  name");
  EXPECT_EQ(c.lns.at(0).hostname, "");
}

TEST(ConfigParse, BooleansTakeXl2tpdsSpellings) {
  const std::pair<const char*, bool> cases[] = {{"yes", true}, {"YES", true}, {"y", true},   {"Y", true},
                                                {"true", true}, {"True", true}, {"no", false}, {"N", false},
                                                {"n", false},  {"FALSE", false}};
  for (auto [text, want] : cases) {
    Config c = parse_ok(std::string("[global]\naccess control = ") + text + "\n");
    EXPECT_EQ(c.global.access_control, want) << text;
  }
}

TEST(ConfigParse, LaterValueReplacesEarlierOneListsAccumulate) {
  Config c = parse_ok(
      "[global]\nport = 1\nport = 2\n"
      "[lns default]\nip range = 10.0.0.1\nip range = 10.0.0.2\nname = a\nname = b\n");
  EXPECT_EQ(c.global.port, 2);
  EXPECT_EQ(c.lns.at(0).ip_ranges.size(), 2u);
  EXPECT_EQ(c.lns.at(0).auth_name, "b");
}

TEST(ConfigParse, RangesTakeXl2tpdsShortEndForms) {
  Config c = parse_ok(
      "[lns default]\n"
      "ip range = 10.0.0.1-9\n"          // last octet only
      "ip range = 10.0.0.1-1.9\n"        // last two
      "ip range = 10.0.0.1-0.1.9\n"      // last three
      "ip range = 10.0.0.1 - 10.0.3.4\n" // blanks around '-'
      "ip range = 10.0.0.7\n"            // one address
      "ip range = 10.0.0.7-10.0.0.7\n");
  EXPECT_EQ(c.lns.at(0).ip_ranges, (std::vector<Ipv4Range>{{ipv4(10, 0, 0, 1), ipv4(10, 0, 0, 9), false},
                                                            {ipv4(10, 0, 0, 1), ipv4(10, 0, 1, 9), false},
                                                            {ipv4(10, 0, 0, 1), ipv4(10, 0, 1, 9), false},
                                                            {ipv4(10, 0, 0, 1), ipv4(10, 0, 3, 4), false},
                                                            {ipv4(10, 0, 0, 7), ipv4(10, 0, 0, 7), false},
                                                            {ipv4(10, 0, 0, 7), ipv4(10, 0, 0, 7), false}}));
}

TEST(ConfigParse, DurationsTakeSecondsOrUnits) {
  Config c = parse_ok("[global]\nhello interval = 500ms\nhold time = 45s\ncap backoff = 20\n");
  EXPECT_EQ(c.global.hello_interval, Duration(500ms));
  EXPECT_EQ(c.global.hold_time, Duration(45s));
  EXPECT_EQ(c.global.cap_backoff, Duration(20s));
  Config off = parse_ok("[global]\nhello interval = 0\n");
  EXPECT_EQ(off.global.hello_interval, Duration(0s));
}

TEST(ConfigParse, CapBackoffBelowEightSecondsWarns) {
  Config c = parse_ok("[global]\ncap backoff = 4\n");
  EXPECT_EQ(c.global.cap_backoff, Duration(4s));
  EXPECT_TRUE(has_warning(c, "RFC 2661 5.8")) << all_warnings(c);
}

TEST(ConfigParse, FlowBitMovesCallRwsAsXl2tpd) {
  Config c = parse_ok(
      "[lns a]\nlac = 1.1.1.1\nassign ip = no\nflow bit = no\n"
      "[lns b]\nlac = 1.1.1.2\nassign ip = no\ncall rws = -1\nflow bit = yes\n"
      "[lns c]\nlac = 1.1.1.3\nassign ip = no\ncall rws = 7\nflow bit = yes\n");
  EXPECT_EQ(c.lns.at(0).call_rws, -1);
  EXPECT_EQ(c.lns.at(1).call_rws, 0);
  EXPECT_EQ(c.lns.at(2).call_rws, 7);
}

TEST(ConfigParse, BpsSetsBothSpeedsAndLaterKeysWin) {
  Config c = parse_ok("[lns default]\nip range = 10.0.0.1\nbps = 100\ntx bps = 200\n");
  EXPECT_EQ(c.lns.at(0).tx_bps, 200u);
  EXPECT_EQ(c.lns.at(0).rx_bps, 100u);
}

TEST(ConfigParse, LacDefaultAppliesToEveryLacWhereverItStands) {
  Config c = parse_ok(
      "[lac first]\nlns = 192.0.2.1\nredial timeout = 5\n"
      "[lac default]\nredial = yes\nredial timeout = 60\nlns = 192.0.2.99\nhostname = from-default\n"
      "[lac second]\nhostname = own\n");
  const LacConfig* first = c.find_lac("first");
  const LacConfig* second = c.find_lac("second");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(first->redial);                                  // default, though defined later
  EXPECT_EQ(first->redial_timeout, Duration(5s));              // its own wins
  EXPECT_EQ(first->lns, (std::vector<LnsPeer>{{"192.0.2.1", 1701}}));  // own list replaces
  EXPECT_EQ(first->hostname, "from-default");
  EXPECT_EQ(second->lns, (std::vector<LnsPeer>{{"192.0.2.99", 1701}}));
  EXPECT_EQ(second->hostname, "own");
  EXPECT_EQ(second->redial_timeout, Duration(60s));
  // [lac default] is a template, not an entry that dials.
  EXPECT_EQ(c.lac.size(), 2u);
  EXPECT_EQ(c.find_lac("default"), nullptr);
  EXPECT_EQ(c.lac_default.hostname, "from-default");
}

TEST(ConfigParse, LnsDefaultIsAnEntryNotATemplate) {
  Config c = parse_ok("[lns default]\nip range = 10.0.0.1\nhidden bit = yes\n[lns other]\nlac = 1.2.3.4\nassign ip = no\n");
  ASSERT_EQ(c.lns.size(), 2u);
  EXPECT_TRUE(c.lns[0].hidden_bit);
  EXPECT_FALSE(c.lns[1].hidden_bit);
  EXPECT_TRUE(c.lns[1].ip_ranges.empty());
}

TEST(ConfigParse, UnnamedSectionsAreDistinctEntries) {
  Config c = parse_ok("[lns]\nassign ip = no\n[lns]\nassign ip = no\n[lac]\nlns = a\n");
  EXPECT_EQ(c.lns.size(), 2u);
  EXPECT_EQ(c.lns[0].name, "");
  EXPECT_EQ(c.lac.size(), 1u);
}

TEST(ConfigParse, SectionNamesMayHoldBlanks) {
  Config c = parse_ok("[lac my office]\nlns = a\n");
  EXPECT_NE(c.find_lac("my office"), nullptr);
}

TEST(ConfigParse, TextAfterHeaderIsIgnoredWithAWarning) {
  Config c = parse_ok("[global] junk\nport = 5\n");
  EXPECT_EQ(c.global.port, 5);
  EXPECT_TRUE(has_warning(c, "t.conf:1: [global] text after ']' ignored: junk")) << all_warnings(c);
}

TEST(ConfigParse, GlobalNameIsIgnoredWithAWarning) {
  Config c = parse_ok("[global settings]\nport = 5\n");
  EXPECT_EQ(c.global.port, 5);
  EXPECT_TRUE(has_warning(c, "name \"settings\" ignored")) << all_warnings(c);
}

TEST(ConfigParse, LnsWithoutAddressesToGiveWarns) {
  Config c = parse_ok("[lns default]\nno ip range = 10.0.0.1\n");
  EXPECT_TRUE(has_warning(c, "t.conf:1: [lns default] no \"ip range\"")) << all_warnings(c);
  Config quiet = parse_ok("[lns default]\nassign ip = no\n");
  EXPECT_TRUE(quiet.warnings.empty()) << all_warnings(quiet);
}

TEST(ConfigParse, LacWithoutLnsWarns) {
  Config c = parse_ok("[lac lonely]\nautodial = yes\n");
  EXPECT_TRUE(has_warning(c, "t.conf:1: [lac lonely] no \"lns\": this LAC cannot dial")) << all_warnings(c);
}

TEST(ConfigParse, DataplaneKeepsUnknownKeysNormalized) {
  Config c = parse_ok("[dataplane]\nEAL  Args = -l 0-1 --no-huge\nwhatever = x = y\nempty =\n");
  EXPECT_EQ(c.dataplane.at("eal args"), "-l 0-1 --no-huge");
  EXPECT_EQ(c.dataplane.at("whatever"), "x = y");  // the first '=' splits
  EXPECT_EQ(c.dataplane.at("empty"), "");
}

TEST(ConfigParse, DataplaneKeyGivenTwiceWarnsAndLaterWins) {
  Config c = parse_ok("[dataplane]\nlcores = 1\nLcores = 2\n");
  EXPECT_EQ(c.dataplane.at("lcores"), "2");
  EXPECT_TRUE(has_warning(c, "t.conf:3: [dataplane] \"Lcores\": \"2\": given again")) << all_warnings(c);
}

// -------------------------------------------------------------- lookups --

TEST(ConfigLookup, IpListLastMatchingEntryDecides) {
  std::vector<Ipv4Range> list{{ipv4(10, 0, 0, 0), ipv4(10, 0, 0, 255), false},
                              {ipv4(10, 0, 0, 50), ipv4(10, 0, 0, 59), true},
                              {ipv4(10, 0, 0, 55), ipv4(10, 0, 0, 55), false}};
  EXPECT_TRUE(ip_list_permits(list, ipv4(10, 0, 0, 1)));
  EXPECT_FALSE(ip_list_permits(list, ipv4(10, 0, 0, 50)));
  EXPECT_TRUE(ip_list_permits(list, ipv4(10, 0, 0, 55)));
  EXPECT_FALSE(ip_list_permits(list, ipv4(10, 0, 1, 0)));
  EXPECT_EQ(ip_list_decides(list, ipv4(10, 0, 1, 0)), std::nullopt);
  EXPECT_EQ(ip_list_decides(list, ipv4(10, 0, 0, 52)), false);
}

TEST(ConfigLookup, LnsForPeerTriesLaterEntriesFirstThenDefault) {
  Config c = parse_ok(
      "[lns default]\nip range = 10.0.0.1\n"
      "[lns wide]\nlac = 192.0.2.0-192.0.2.255\nassign ip = no\n"
      "[lns narrow]\nlac = 192.0.2.10\nassign ip = no\n"
      "[lns none]\nlac = 192.0.2.0-192.0.2.255\nno lac = 192.0.2.0-192.0.2.255\nassign ip = no\n");
  // Both "wide" and "narrow" admit .10; xl2tpd tries the last defined first.
  EXPECT_EQ(c.lns_for_peer(ipv4(192, 0, 2, 10))->name, "narrow");
  EXPECT_EQ(c.lns_for_peer(ipv4(192, 0, 2, 11))->name, "wide");
  // Nobody's list admits it: [lns default], since access control is off.
  EXPECT_EQ(c.lns_for_peer(ipv4(198, 51, 100, 1))->name, "default");
}

TEST(ConfigLookup, AccessControlRefusesPeersNoListAdmits) {
  Config c = parse_ok(
      "[global]\naccess control = yes\n"
      "[lns default]\nip range = 10.0.0.1\nlac = 192.0.2.1\n"
      "[lns other]\nlac = 192.0.2.2\nassign ip = no\n");
  EXPECT_EQ(c.lns_for_peer(ipv4(192, 0, 2, 1))->name, "default");
  EXPECT_EQ(c.lns_for_peer(ipv4(192, 0, 2, 2))->name, "other");
  EXPECT_EQ(c.lns_for_peer(ipv4(192, 0, 2, 3)), nullptr);
  Config none = parse_ok("[global]\naccess control = yes\n");
  EXPECT_EQ(none.lns_for_peer(ipv4(192, 0, 2, 3)), nullptr);
}

TEST(ConfigLookup, Ipv4ToString) {
  EXPECT_EQ(ipv4_to_string(ipv4(192, 0, 2, 1)), "192.0.2.1");
  EXPECT_EQ(ipv4_to_string(0), "0.0.0.0");
}

// --------------------------------------------------------------- errors --

TEST(ConfigErrors, RangeEndingBeforeItStartsNamesEverything) {
  auto r = parse_config("[global]\n\n\n\n\n\n\n\n\n\n[lns default]\nip range = 10.0.0.9-10.0.0.1\n",
                        "/etc/xl2tpd/xl2tpd.conf");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors().size(), 1u) << joined(r.errors());
  const ConfigError& e = r.errors()[0];
  EXPECT_EQ(e.file, "/etc/xl2tpd/xl2tpd.conf");
  EXPECT_EQ(e.line, 12u);
  EXPECT_EQ(e.section, "lns default");
  EXPECT_EQ(e.key, "ip range");
  EXPECT_EQ(e.value, "10.0.0.9-10.0.0.1");
  EXPECT_EQ(e.to_string(),
            "/etc/xl2tpd/xl2tpd.conf:12: [lns default] \"ip range\": \"10.0.0.9-10.0.0.1\": "
            "the range ends before it starts");
}

TEST(ConfigErrors, BadAddress) {
  for (const char* bad : {"256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.4:80", "-1.2.3.4", "a.b.c.d", ""}) {
    std::string err = one_error(std::string("[global]\nlisten-addr = ") + bad + "\n");
    EXPECT_NE(err.find("t.conf:2: [global] \"listen-addr\": "), std::string::npos) << err;
    EXPECT_NE(err.find("not an IPv4 address"), std::string::npos) << err;
  }
}

TEST(ConfigErrors, HostNamesAreNotResolved) {
  std::string err = one_error("[lns default]\nip range = 10.0.0.1\nlocal ip = localhost\n");
  EXPECT_NE(err.find("host names are not resolved"), std::string::npos) << err;
}

TEST(ConfigErrors, BadRange) {
  const std::pair<const char*, const char*> cases[] = {
      {"10.0.0.1-", "format is"},
      {"-10.0.0.1", "format is"},
      {"10.0.0.1-10.0.0.300", "end: not an IPv4 address"},
      {"10.0.0.1-1.2.3.4.5", "end: not an IPv4 address"},
      {"lac1-lac2", "start: not an IPv4 address"},
      {"10.0.0.1-10.0.0.2-10.0.0.3", "end: not an IPv4 address"},
      {"10.0.0.5-4", "ends before it starts"},
  };
  for (auto [value, why] : cases) {
    for (const char* key : {"ip range", "no ip range", "lac", "no lac", "local ip range"}) {
      std::string err = one_error(std::string("[lns default]\nassign ip = no\n") + key + " = " + value + "\n");
      EXPECT_NE(err.find(std::string("t.conf:3: [lns default] \"") + key + "\": "), std::string::npos) << err;
      EXPECT_NE(err.find(why), std::string::npos) << key << " = " << value << ": " << err;
    }
  }
}

TEST(ConfigErrors, UnknownKey) {
  EXPECT_EQ(one_error("[global]\nfoo = bar\n"), "t.conf:2: [global] \"foo\": \"bar\": unknown key");
  // xl2tpd's LAC has a password field but no key for it.
  EXPECT_EQ(one_error("[lac x]\nlns = a\npassword = s\n"), "t.conf:3: [lac x] \"password\": \"s\": unknown key");
}

TEST(ConfigErrors, KeyInTheWrongSection) {
  EXPECT_EQ(one_error("[lac x]\nlns = a\nexclusive = yes\n"),
            "t.conf:3: [lac x] \"exclusive\": \"yes\": not valid here: only in [lns] sections");
  EXPECT_EQ(one_error("[lac x]\nlns = a\nport = 1701\n"),
            "t.conf:3: [lac x] \"port\": \"1701\": not valid here: only in [global] sections");
  EXPECT_EQ(one_error("[lns x]\nassign ip = no\nlns = a\n"),
            "t.conf:3: [lns x] \"lns\": \"a\": not valid here: only in [lac] sections");
  EXPECT_EQ(one_error("[global]\nhidden bit = yes\n"),
            "t.conf:2: [global] \"hidden bit\": \"yes\": not valid here: only in [lns] and [lac] sections");
  EXPECT_EQ(one_error("[lns x]\nassign ip = no\nhello interval = 5\n"),
            "t.conf:3: [lns x] \"hello interval\": \"5\": not valid here: only in [global] sections");
}

TEST(ConfigErrors, UnknownSectionSkipsItsKeys) {
  EXPECT_EQ(one_error("[foo bar]\nkey = value\nother = 1\n"),
            "t.conf:1: unknown section [foo bar]: expected [global], [lns NAME], [lac NAME] or [dataplane]");
}

TEST(ConfigErrors, KeyOutsideAnySection) {
  std::string err = one_error("port = 1701\n[global]\n");
  EXPECT_EQ(err.rfind("t.conf:1: \"port\": \"1701\": outside any section", 0), 0u) << err;
}

TEST(ConfigErrors, LineWithoutEquals) {
  EXPECT_EQ(one_error("[global]\nport 1701\n"), "t.conf:2: [global] \"port 1701\": no '=': expected key = value");
  EXPECT_EQ(one_error("[global]\n= 1701\n"), "t.conf:2: [global] \"1701\": no key before '='");
}

TEST(ConfigErrors, HeaderWithoutClosingBracket) {
  EXPECT_EQ(one_error("[global\nport = 1\n"), "t.conf:1: no closing ']' in section header [global");
}

TEST(ConfigErrors, BadBoolean) {
  for (const char* bad : {"1", "0", "on", "yess", "", "yes please"}) {
    std::string err = one_error(std::string("[global]\naccess control = ") + bad + "\n");
    EXPECT_NE(err.find("t.conf:2: [global] \"access control\": "), std::string::npos) << err;
    EXPECT_NE(err.find("must be yes or no"), std::string::npos) << err;
  }
}

TEST(ConfigErrors, BadNumber) {
  const std::pair<const char*, const char*> cases[] = {
      {"[global]\nport = abc\n", "from 0 to 65535"},  // xl2tpd's atoi() would make it port 0
      {"[global]\nport = 65536\n", "from 0 to 65535"},
      {"[global]\nport = -1\n", "from 0 to 65535"},
      {"[global]\nport = 12abc\n", "from 0 to 65535"},
      {"[global]\nport = +5\n", "from 0 to 65535"},
      {"[global]\nport = 99999999999999999999999\n", "from 0 to 65535"},
      {"[global]\nmax retries = 0\n", "from 1 to 1000"},
      {"[global]\nsaref refinfo = x\n", "from 0 to 65535"},
      {"[global]\nmax sessions per tunnel = 0\n", "from 1 to 65535"},
      {"[lns x]\nassign ip = no\ntunnel rws = 0\n", "from 1 to 65535"},
      {"[lns x]\nassign ip = no\ncall rws = -2\n", "from -1 to 65535"},
      {"[lns x]\nassign ip = no\nbps = 0\n", "from 1 to 4294967295"},
      {"[lns x]\nassign ip = no\nrx bps = 4294967296\n", "from 1 to 4294967295"},
      {"[lac x]\nlns = a\nmax redials = 0\n", "from 1 to 1000000"},
  };
  for (auto [text, why] : cases) {
    std::string err = one_error(text);
    EXPECT_NE(err.find(why), std::string::npos) << text << err;
  }
}

TEST(ConfigErrors, BadDuration) {
  for (const char* text : {"[global]\nhello interval = 5x\n", "[global]\nhello interval = -5\n",
                           "[global]\nhold time = 0\n", "[global]\ncap backoff = 0\n",
                           "[global]\ncap backoff = 3601\n", "[lac x]\nlns = a\nredial timeout = 0\n",
                           "[lac x]\nlns = a\nredial timeout = abc\n", "[global]\nhello interval = ms\n"}) {
    std::string err = one_error(text);
    EXPECT_NE(err.find("must be a duration"), std::string::npos) << text << err;
  }
}

TEST(ConfigErrors, SectionGivenTwice) {
  EXPECT_EQ(one_error("[lac a]\nlns = x\n[LAC A]\nlns = y\n"), "t.conf:3: [lac A] section given twice (first at line 1)");
  EXPECT_EQ(one_error("[global]\n[global]\n"), "t.conf:2: [global] section given twice (first at line 1)");
  EXPECT_EQ(one_error("[lns default]\nassign ip = no\n[lns Default]\n"),
            "t.conf:3: [lns Default] section given twice (first at line 1)");
  EXPECT_EQ(one_error("[dataplane]\n[dataplane]\n"), "t.conf:2: [dataplane] section given twice (first at line 1)");
  // The same name in [lns] and [lac] is two different entries.
  parse_ok("[lns a]\nassign ip = no\n[lac a]\nlns = x\n");
}

TEST(ConfigErrors, DataplaneTakesNoName) {
  EXPECT_EQ(one_error("[dataplane eth0]\nx = 1\n"), "t.conf:1: [dataplane] takes no name");
}

TEST(ConfigErrors, LocalIpAndLocalIpRangeExcludeEachOther) {
  EXPECT_EQ(one_error("[lns a]\nassign ip = no\nlocal ip = 10.0.0.1\nlocal ip range = 10.0.0.2-10.0.0.9\n"),
            "t.conf:4: [lns a] \"local ip range\": \"10.0.0.2-10.0.0.9\": \"local ip\" and \"local ip range\" "
            "exclude each other");
  EXPECT_EQ(one_error("[lns a]\nassign ip = no\nlocal ip range = 10.0.0.2-10.0.0.9\nlocal ip = 10.0.0.1\n"),
            "t.conf:4: [lns a] \"local ip\": \"10.0.0.1\": \"local ip\" and \"local ip range\" exclude each other");
}

TEST(ConfigErrors, RandSource) {
  EXPECT_NE(one_error("[global]\nrand source = egd\n").find("egd is not implemented"), std::string::npos);
  EXPECT_NE(one_error("[global]\nrand source = urandom\n").find("must be dev or sys"), std::string::npos);
  // xl2tpd compares three letters only.
  EXPECT_EQ(parse_ok("[global]\nrand source = device\n").global.rand_source, RandSource::kDev);
}

TEST(ConfigErrors, EmptyAuthFile) {
  EXPECT_EQ(one_error("[global]\nauth file =\n"), "t.conf:2: [global] \"auth file\": must not be empty");
}

TEST(ConfigErrors, BadLnsPeer) {
  for (const char* bad : {"host:0", "host:65536", "host:abc", "host:", ":1701", "two words", ""}) {
    std::string err = one_error(std::string("[lac x]\nlns = ") + bad + "\n");
    EXPECT_NE(err.find("t.conf:2: [lac x] \"lns\""), std::string::npos) << bad << ": " << err;
  }
}

TEST(ConfigErrors, EveryErrorIsReportedInLineOrder) {
  auto errors = parse_bad(
      "[global]\nport = x\nbogus = 1\n"
      "[lns default]\nip range = 10.0.0.9-10.0.0.1\naccess control = yes\n"
      "[lac default]\nredial = maybe\n"
      "[lac a]\nlns = b\n[lac b]\nlns = c\n");
  std::vector<unsigned> lines;
  for (const auto& e : errors) lines.push_back(e.line);
  // The bad "redial" of [lac default] (line 8) is reported once, not again
  // for each [lac] it is the default of.
  EXPECT_EQ(lines, (std::vector<unsigned>{2, 3, 5, 6, 8})) << joined(errors);
}

TEST(ConfigErrors, HugeLineIsAnErrorHugeCommentIsNot) {
  std::string huge_value(1 << 20, 'x');
  std::string err = one_error("[lns default]\nname = " + huge_value + "\n");
  EXPECT_EQ(err, "t.conf:2: [lns default] line is longer than 1023 characters (comments excepted)");
  Config c = parse_ok("[global] ; " + huge_value + "\nport = 9 ;" + huge_value + "\n");
  EXPECT_EQ(c.global.port, 9);
  // Exactly at the limit is fine.
  std::string at_limit = "name = " + std::string(kMaxLineLength - 7, 'n');
  EXPECT_EQ(parse_ok("[lns default]\nassign ip = no\n" + at_limit + "\n").lns.at(0).auth_name.size(),
            kMaxLineLength - 7);
}

TEST(ConfigErrors, ControlCharactersAreErrorsAndPrintedEscaped) {
  std::string text = "[global]\nport = 17";
  text += '\0';
  text += "01\n";
  std::string err = one_error(text);
  EXPECT_EQ(err, "t.conf:2: [global] control character \\x00 at column 10: not a text line");
  std::string esc = one_error("[global]\nport = \x1b[31m\n");
  EXPECT_NE(esc.find("\\x1b"), std::string::npos) << esc;
}

TEST(ConfigErrors, NonAsciiKeyIsEscapedInTheMessage) {
  std::string err = one_error("[global]\npo\xC3\xA9rt = 1\n");
  EXPECT_EQ(err, "t.conf:2: [global] \"po\\xc3\\xa9rt\": \"1\": unknown key");
}

TEST(ConfigErrors, TooManyErrorsStopsTheParse) {
  std::string text = "[global]\n";
  for (int i = 0; i < 1000; ++i) text += "bogus = " + std::to_string(i) + "\n";
  auto errors = parse_bad(text);
  ASSERT_EQ(errors.size(), kMaxErrors + 1);
  EXPECT_EQ(errors.back().to_string(), "t.conf: too many errors: stopped after " + std::to_string(kMaxErrors));
}

TEST(ConfigErrors, BinaryGarbageGivesBoundedPrintableErrorsAndNeverCrashes) {
  std::mt19937 rng(2661);
  for (int round = 0; round < 200; ++round) {
    std::string text(static_cast<size_t>(rng() % 8192), '\0');
    // Raw bytes, or the characters the syntax gives meaning to, so that
    // short lines, headers and key = value pairs come up too.
    static constexpr std::string_view kSyntax = "[]=;#- \t\r\n\n\n.:0123456789abcdefglnsp\xff";
    for (auto& ch : text) ch = round % 3 == 2 ? kSyntax[rng() % kSyntax.size()] : static_cast<char>(rng());
    if (round % 3 == 1) {
      // Garbage among plausible lines reaches the value parsers too.
      text = "[global]\nport = " + text + "\n[lns default]\nip range = " + text.substr(0, 40) + "\n[lac x]\nlns = " +
             text.substr(40, 30) + "\n";
    }
    auto r = parse_config(text, "garbage.conf");
    for (const auto& e : r.errors()) {
      std::string s = e.to_string();
      EXPECT_TRUE(std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) << s;
    }
    EXPECT_LE(r.errors().size(), kMaxErrors + 1);
  }
}

TEST(ConfigErrors, EveryPrefixOfTheFixtureParsesWithoutCrashing) {
  auto text = read_startup_file(kData + "every-key.conf");
  ASSERT_TRUE(text.ok()) << joined(text.errors());
  for (size_t n = 0; n <= text->size(); ++n) {
    auto r = parse_config(std::string_view(*text).substr(0, n), "prefix.conf");
    (void)r.ok();
  }
}

TEST(ConfigErrors, MissingFileIsOneErrorNamingIt) {
  auto r = load_config(kData + "no-such-file.conf");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors().size(), 1u);
  EXPECT_EQ(r.errors()[0].to_string(), kData + "no-such-file.conf: cannot open: No such file or directory");
}

TEST(ConfigErrors, DirectoryIsNotAConfigFile) {
  auto r = load_config(kData);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors().at(0).to_string().find("is a directory"), std::string::npos);
}
