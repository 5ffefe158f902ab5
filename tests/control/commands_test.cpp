// The command FIFO's commands without I/O: the lines xl2tpd-control 1.3.18
// writes (captured from the real client: no newline, "@REPLYFIFO " first),
// the classic l2tpd's lines, the key=value lists of add-lac/add-lns through
// the config parser, and the replies the client reads ("%02d text").

#include "control/commands.hpp"

#include <gtest/gtest.h>

#include <string>

#include "control/command_fifo.hpp"
#include "control/config.hpp"

using namespace l2tp::control;

namespace {

constexpr const char* kReplyPath = "/var/run/xl2tpd/xl2tpd-control-26661.out";

// A command line and what it parses to.
struct LineCase {
  const char* line;
  char letter;
  const char* args;
  const char* name;  // command_name(letter)
};

Command parse_ok(std::string_view line) {
  auto c = parse_command(line);
  EXPECT_TRUE(c.has_value()) << line;
  return c.value_or(Command{});
}

}  // namespace

// --- the lines, as the real client writes them --------------------------------

TEST(Commands, ParsesEveryXl2tpdControlLine) {
  const LineCase cases[] = {
      {"x (null)", 'x', "(null)", "available"},
      {"a foo lns=1.2.3.4;redial timeout =5;ppp debug=yes;", 'a', "foo lns=1.2.3.4;redial timeout =5;ppp debug=yes;",
       "add-lac"},
      {"c foo user pass", 'c', "foo user pass", "connect"},
      {"d foo", 'd', "foo", "disconnect"},
      {"r foo", 'r', "foo", "remove-lac"},
      {"s foo", 's', "foo", "status-lac"},
      {"z bar lac=10.0.0.1;", 'z', "bar lac=10.0.0.1;", "add-lns"},
      {"y default", 'y', "default", "status-lns"},
      {"w bar", 'w', "bar", "remove-lns"},
  };
  for (const LineCase& k : cases) {
    const Command c = parse_ok(std::string("@") + kReplyPath + " " + k.line);
    EXPECT_EQ(c.letter, k.letter) << k.line;
    EXPECT_EQ(c.args, k.args) << k.line;
    EXPECT_EQ(c.reply_fifo, kReplyPath) << k.line;
    ASSERT_NE(command_name(c.letter), nullptr) << k.line;
    EXPECT_STREQ(command_name(c.letter), k.name);
  }
}

TEST(Commands, ParsesEveryClassicLineWithoutReplyFifo) {
  const LineCase cases[] = {
      {"t 192.0.2.1", 't', "192.0.2.1", "tunnel"},
      {"c 4711", 'c', "4711", "connect"},
      {"h 17\r", 'h', "17", "hang-up"},
      {"d  4711 ", 'd', "4711", "disconnect"},
      {"o up 5551234", 'o', "up 5551234", "outgoing-call"},
  };
  for (const LineCase& k : cases) {
    const Command c = parse_ok(k.line);
    EXPECT_EQ(c.letter, k.letter) << k.line;
    EXPECT_EQ(c.args, k.args) << k.line;
    EXPECT_TRUE(c.reply_fifo.empty());
    EXPECT_STREQ(command_name(c.letter), k.name);
  }
}

TEST(Commands, UnknownLetterIsAnsweredAsXl2tpdDoes) {
  const Command c = parse_ok("@/tmp/r q whatever");
  EXPECT_EQ(c.letter, 'q');
  EXPECT_EQ(command_name('q'), nullptr);
  EXPECT_EQ(format_reply(unknown_command_reply('q')), "01 Unknown command q\n");
  EXPECT_EQ(format_reply(unknown_command_reply(0)), "01 Unparsable command line\n");
}

TEST(Commands, UnparsableLinesHaveNoLetter) {
  EXPECT_EQ(parse_ok("connect foo").letter, 0);      // a word, not a letter
  EXPECT_EQ(parse_ok("@/tmp/r").letter, 0);          // a reply FIFO and nothing else
  EXPECT_EQ(parse_ok("@/tmp/r ").letter, 0);
  EXPECT_FALSE(parse_command("   ").has_value());  // blank: nothing at all
}

// --- key=value lists ----------------------------------------------------------

TEST(Commands, ParsesKeyValueListAsXl2tpdControlJoinsIt) {
  // xl2tpd-control add-lac foo lns=1.2.3.4 "redial timeout" = 5 "ppp debug=yes"
  auto r = parse_entry_args("foo lns=1.2.3.4;redial timeout =5;ppp debug=yes;");
  ASSERT_TRUE(r.value) << r.error;
  EXPECT_EQ(r.value->name, "foo");
  const std::vector<KeyValue> want = {{"lns", "1.2.3.4"}, {"redial timeout", "5"}, {"ppp debug", "yes"}};
  EXPECT_EQ(r.value->pairs, want);
}

TEST(Commands, KeyValueListSkipsEmptyItemsAndKeepsEmptyValues) {
  auto r = parse_entry_args("  foo ;; hostname = ;;");
  ASSERT_TRUE(r.value) << r.error;
  ASSERT_EQ(r.value->pairs.size(), 1u);
  EXPECT_EQ(r.value->pairs[0], (KeyValue{"hostname", ""}));
  auto bare = parse_entry_args("foo");
  ASSERT_TRUE(bare.value);
  EXPECT_TRUE(bare.value->pairs.empty());
}

TEST(Commands, KeyValueListRejectsBadInput) {
  EXPECT_FALSE(parse_entry_args("").value);
  EXPECT_FALSE(parse_entry_args("   ").value);
  EXPECT_NE(parse_entry_args("foo lns").error.find("key=value expected"), std::string::npos);
  EXPECT_NE(parse_entry_args("foo =1.2.3.4").error.find("no key"), std::string::npos);
  // Nothing may break out of the "[lac NAME]" line or start one of its own.
  EXPECT_FALSE(parse_entry_args("fo]o lns=1.2.3.4").value);
  EXPECT_FALSE(parse_entry_args("foo [lns evil]=x").value);
  EXPECT_FALSE(parse_entry_args("foo #x=1").value);
  EXPECT_FALSE(parse_entry_args(std::string("foo hostname=a\rb")).value);
  EXPECT_FALSE(parse_entry_args(std::string("foo hostname=a\0b", 16)).value);
}

TEST(Commands, EntryNamesAreBounded) {
  EXPECT_TRUE(valid_entry_name("lac-1_a.b@c+d:e"));
  EXPECT_FALSE(valid_entry_name(""));
  EXPECT_FALSE(valid_entry_name(std::string(64, 'a')));
  EXPECT_TRUE(valid_entry_name(std::string(63, 'a')));
  EXPECT_FALSE(valid_entry_name("a b"));
  EXPECT_FALSE(valid_entry_name("a\nb"));
}

TEST(Commands, LongInputIsRefusedOrParsedWithoutHarm) {
  const std::string many_pairs = "foo " + [] {
    std::string s;
    for (int i = 0; i < 2000; ++i) s += "hostname=h" + std::to_string(i) + ";";
    return s;
  }();
  auto r = parse_entry_args(many_pairs);
  ASSERT_TRUE(r.value);
  EXPECT_EQ(r.value->pairs.size(), 2000u);
  EXPECT_FALSE(parse_entry_args(std::string(100000, 'n')).value);  // a name far too long
  // A long value goes to the config parser, which names the line limit.
  EntryArgs e{"foo", {{"hostname", std::string(5000, 'h')}}};
  auto cfg = parse_config(section_text("lac", e), "add-lac");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.errors().front().line, 2u);
  // parse_command takes a long line whole (the FIFO reader bounds it).
  const Command c = parse_ok("@/tmp/r a " + many_pairs);
  EXPECT_EQ(c.letter, 'a');
  EXPECT_EQ(c.args, many_pairs.substr(0, many_pairs.size()));
}

TEST(Commands, SectionTextParsesWithTheConfigFilesMeaning) {
  auto r = parse_entry_args("dyn lns=127.0.0.2:1702;redial timeout =5;redial=yes;hostname=dyn-lac;");
  ASSERT_TRUE(r.value);
  EXPECT_EQ(section_text("lac", *r.value),
            "[lac dyn]\nlns = 127.0.0.2:1702\nredial timeout = 5\nredial = yes\nhostname = dyn-lac\n");
  auto cfg = parse_config(section_text("lac", *r.value), "add-lac");
  ASSERT_TRUE(cfg.ok()) << cfg.errors().front().to_string();
  const LacConfig* lac = cfg->find_lac("dyn");
  ASSERT_NE(lac, nullptr);
  ASSERT_EQ(lac->lns.size(), 1u);
  EXPECT_EQ(lac->lns[0], (LnsPeer{"127.0.0.2", 1702}));
  EXPECT_EQ(lac->redial_timeout, std::chrono::seconds(5));
  EXPECT_TRUE(lac->redial);
  EXPECT_EQ(lac->hostname, "dyn-lac");
}

TEST(Commands, SectionTextErrorsNameTheKeyAndValue) {
  auto r = parse_entry_args("dyn redial timeout=soon;");
  ASSERT_TRUE(r.value);
  auto cfg = parse_config(section_text("lac", *r.value), "add-lac");
  ASSERT_FALSE(cfg.ok());
  const std::string e = cfg.errors().front().to_string();
  EXPECT_NE(e.find("[lac dyn]"), std::string::npos) << e;
  EXPECT_NE(e.find("\"redial timeout\""), std::string::npos) << e;
  EXPECT_NE(e.find("\"soon\""), std::string::npos) << e;
  // A key of the other kind of section is an error, as in the file.
  auto lns = parse_config(section_text("lns", EntryArgs{"x", {{"lns", "1.2.3.4"}}}), "add-lns");
  EXPECT_FALSE(lns.ok());
}

TEST(Commands, MergedPairsLetLaterKeysWinAndListsGrow) {
  auto merged = merge_pairs({{"ip range", "10.0.0.1-10.0.0.5"}, {"hidden bit", "no"}},
                            {{"ip range", "10.0.1.1-10.0.1.5"}, {"hidden bit", "yes"}});
  auto cfg = parse_config(section_text("lns", EntryArgs{"extra", merged}), "add-lns");
  ASSERT_TRUE(cfg.ok()) << cfg.errors().front().to_string();
  const LnsConfig* lns = cfg->find_lns("extra");
  ASSERT_NE(lns, nullptr);
  EXPECT_EQ(lns->ip_ranges.size(), 2u);
  EXPECT_TRUE(lns->hidden_bit);
}

// --- IDs and words ------------------------------------------------------------

TEST(Commands, ParsesIdsStrictly) {
  EXPECT_EQ(parse_id("1"), 1);
  EXPECT_EQ(parse_id("65535"), 65535);
  EXPECT_FALSE(parse_id("0"));
  EXPECT_FALSE(parse_id("65536"));
  EXPECT_FALSE(parse_id("123456"));
  EXPECT_FALSE(parse_id(""));
  EXPECT_FALSE(parse_id("-1"));
  EXPECT_FALSE(parse_id("+1"));
  EXPECT_FALSE(parse_id("0x10"));
  EXPECT_FALSE(parse_id("12 "));
  EXPECT_FALSE(parse_id("up"));
}

TEST(Commands, SplitsWordsOnBlanks) {
  auto w = split_words("  foo\tuser  pass ");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0], "foo");
  EXPECT_EQ(w[1], "user");
  EXPECT_EQ(w[2], "pass");
  EXPECT_TRUE(split_words("").empty());
  EXPECT_TRUE(split_words(" \t ").empty());
}

// --- replies ------------------------------------------------------------------

TEST(Commands, FormatsRepliesAsXl2tpdWritesThem) {
  EXPECT_EQ(format_reply(ok_reply()), "00 OK\n");
  EXPECT_EQ(format_reply(error_reply("No such tunnel 'foo'")), "01 No such tunnel 'foo'\n");
  EXPECT_EQ(format_reply(error_reply("Configuration parse error", kReplyParseError)), "03 Configuration parse error\n");
  EXPECT_EQ(format_reply(Reply{kReplyOk, {}}), "00 OK\n");
  EXPECT_EQ(format_reply(Reply{kReplyError, {}}), "01 Error\n");
  EXPECT_EQ(format_reply(Reply{kReplyOk, {"OK", "TUNNEL id=5"}}), "00 OK\n00 TUNNEL id=5\n");
  EXPECT_EQ(format_reply(Reply{123, {"x"}}), "99 x\n");
  EXPECT_EQ(format_reply(Reply{-4, {"x"}}), "00 x\n");
}

TEST(Commands, ReplyCodesStayBelowEightForTheClientsOctalRead) {
  // xl2tpd-control reads the code with sscanf("%i"): "08" would read as 0.
  EXPECT_LT(kReplyOk, 8);
  EXPECT_LT(kReplyError, 8);
  EXPECT_LT(kReplyParseError, 8);
}

TEST(Commands, RepliesCannotBeForgedByWhatTheyQuote) {
  // A name from a peer or a user with a newline in it stays on its line.
  EXPECT_EQ(format_reply(error_reply("No such tunnel 'a\n00 OK'")), "01 No such tunnel 'a\\x0a00 OK'\n");
  EXPECT_EQ(format_reply(error_reply(std::string("x\0y\xff", 4))), "01 x\\x00y\\xff\n");
}

TEST(Commands, AvailableListsEntriesTunnelsAndCalls) {
  TunnelStatus t{5, 77, "LNS", "127.0.0.1:1701", "lac1", "established",
                 {{9, 10, "established", "incoming", "", "", 0, 0, 0, 0, 0}}};
  EXPECT_EQ(format_reply(available_reply({"default"}, {"up", "backup"}, {t})),
            "00 OK\n"
            "00 AVAILABLE lns.0.name=default\n"
            "00 AVAILABLE lns.count=1\n"
            "00 AVAILABLE lac.0.name=up\n"
            "00 AVAILABLE lac.1.name=backup\n"
            "00 AVAILABLE lac.count=2\n"
            "00 AVAILABLE tunnel 5, id 77, ourtid 5 has 1 calls\n"
            "00 AVAILABLE tunnels count=1\n"
            "00 AVAILABLE calls count=1\n");
  EXPECT_EQ(format_reply(available_reply({}, {}, {})),
            "00 OK\n00 AVAILABLE lns.count=0\n00 AVAILABLE lac.count=0\n"
            "00 AVAILABLE tunnels count=0\n00 AVAILABLE calls count=0\n");
}

TEST(Commands, LnsStatusListsTunnelsAndCalls) {
  TunnelStatus t{5, 77, "LNS", "127.0.0.1:1701", "lac1", "established",
                 {{9, 10, "established", "incoming", "10.9.0.10", "alice", 12, 700, 11, 650, 4000}}};
  EXPECT_EQ(format_reply(lns_status_reply("default", {t})),
            "00 OK\n"
            "00 STATUS name=default\n"
            "00 STATUS tunnels.0.id=5\n"
            "00 STATUS tunnels.0.peer_id=77\n"
            "00 STATUS tunnels.0.peer=127.0.0.1:1701\n"
            "00 STATUS tunnels.0.peer_host=lac1\n"
            "00 STATUS tunnels.0.role=LNS\n"
            "00 STATUS tunnels.0.state=established\n"
            "00 STATUS tunnels.0.calls.0.id=9\n"
            "00 STATUS tunnels.0.calls.0.peer_id=10\n"
            "00 STATUS tunnels.0.calls.0.state=established\n"
            "00 STATUS tunnels.0.calls.0.direction=incoming\n"
            "00 STATUS tunnels.0.calls.0.subscriber=10.9.0.10\n"
            "00 STATUS tunnels.0.calls.0.user=alice\n"
            "00 STATUS tunnels.0.calls.0.frames_in=12\n"
            "00 STATUS tunnels.0.calls.0.bytes_in=700\n"
            "00 STATUS tunnels.0.calls.0.frames_out=11\n"
            "00 STATUS tunnels.0.calls.0.bytes_out=650\n"
            "00 STATUS tunnels.0.calls.0.fast_path_packets=4000\n"
            "00 STATUS tunnels.0.calls.count=1\n"
            "00 STATUS tunnels.count=1\n");
  EXPECT_EQ(format_reply(lns_status_reply("x", {})), "00 OK\n00 STATUS name=x\n00 STATUS tunnels.count=0\n");
}

TEST(Commands, LacStatusSaysDownWithoutATunnel) {
  EXPECT_EQ(format_reply(lac_status_reply({"up", "192.0.2.2:1701", std::nullopt})),
            "00 OK\n00 STATUS name=up\n00 STATUS lns=192.0.2.2:1701\n00 STATUS state=down\n");
}

TEST(Commands, LacStatusShowsItsTunnel) {
  TunnelStatus t{5, 77, "LAC", "192.0.2.2:1701", "lns1", "wait-ctl-reply", {}};
  const std::string r = format_reply(lac_status_reply({"up", "192.0.2.2:1701", t}));
  EXPECT_NE(r.find("00 STATUS state=wait-ctl-reply\n"), std::string::npos) << r;
  EXPECT_NE(r.find("00 STATUS tunnel.id=5\n"), std::string::npos) << r;
  EXPECT_NE(r.find("00 STATUS tunnel.peer_host=lns1\n"), std::string::npos) << r;
  EXPECT_NE(r.find("00 STATUS tunnel.calls.count=0\n"), std::string::npos) << r;
}
