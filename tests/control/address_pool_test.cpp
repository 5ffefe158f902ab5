#include "control/address_pool.hpp"
#include "control/net.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace l2tp::control {
namespace {

Ipv4Range range(uint32_t first, uint32_t last, bool exclude = false) { return {first, last, exclude}; }

TEST(AddressPool, HandsOutTheFirstFreeAddressOfTheListInFileOrder) {
  AddressPool pool;
  const std::vector<Ipv4Range> list{range(ipv4(10, 9, 0, 10), ipv4(10, 9, 0, 11)),
                                    range(ipv4(10, 8, 0, 1), ipv4(10, 8, 0, 1))};
  EXPECT_EQ(pool.allocate(list), ipv4(10, 9, 0, 10));
  EXPECT_EQ(pool.allocate(list), ipv4(10, 9, 0, 11));
  EXPECT_EQ(pool.allocate(list), ipv4(10, 8, 0, 1));
  EXPECT_EQ(pool.allocate(list), std::nullopt);  // exhausted: refused, never shared
  EXPECT_EQ(pool.used(), 3u);
}

TEST(AddressPool, ReleasedAddressIsHandedOutAgain) {
  AddressPool pool;
  const std::vector<Ipv4Range> list{range(ipv4(10, 9, 0, 10), ipv4(10, 9, 0, 12))};
  ASSERT_EQ(pool.allocate(list), ipv4(10, 9, 0, 10));
  ASSERT_EQ(pool.allocate(list), ipv4(10, 9, 0, 11));
  EXPECT_TRUE(pool.release(ipv4(10, 9, 0, 10)));
  EXPECT_FALSE(pool.release(ipv4(10, 9, 0, 10)));  // not in use any more
  EXPECT_EQ(pool.allocate(list), ipv4(10, 9, 0, 10));
}

TEST(AddressPool, NoIpRangeCarvesAHoleAsTheLastMatchingEntryDecides) {
  AddressPool pool;
  // xl2tpd: "ip range = .10-.13" then "no ip range = .11-.12".
  const std::vector<Ipv4Range> list{range(ipv4(10, 9, 0, 10), ipv4(10, 9, 0, 13)),
                                    range(ipv4(10, 9, 0, 11), ipv4(10, 9, 0, 12), true)};
  EXPECT_EQ(pool.allocate(list), ipv4(10, 9, 0, 10));
  EXPECT_EQ(pool.allocate(list), ipv4(10, 9, 0, 13));
  EXPECT_EQ(pool.allocate(list), std::nullopt);
}

TEST(AddressPool, AddressInUseByAnyEntryIsSkippedBoxWide) {
  AddressPool pool;
  const std::vector<Ipv4Range> a{range(ipv4(10, 9, 0, 1), ipv4(10, 9, 0, 2))};
  const std::vector<Ipv4Range> b{range(ipv4(10, 9, 0, 2), ipv4(10, 9, 0, 3))};
  EXPECT_TRUE(pool.reserve(ipv4(10, 9, 0, 1)));  // an entry's "local ip"
  EXPECT_FALSE(pool.reserve(ipv4(10, 9, 0, 1)));
  EXPECT_EQ(pool.allocate(a), ipv4(10, 9, 0, 2));
  EXPECT_EQ(pool.allocate(b), ipv4(10, 9, 0, 3));
  EXPECT_TRUE(pool.in_use(ipv4(10, 9, 0, 2)));
}

TEST(AddressPool, NeverHandsOutTheAllZeroOrAllOnesAddress) {
  AddressPool pool;
  const std::vector<Ipv4Range> low{range(0, 1)};
  EXPECT_EQ(pool.allocate(low), 1u);
  const std::vector<Ipv4Range> high{range(0xFFFFFFFE, 0xFFFFFFFF)};
  EXPECT_EQ(pool.allocate(high), 0xFFFFFFFEu);
  EXPECT_EQ(pool.allocate(high), std::nullopt);  // and the loop ends at the top
}

TEST(AddressPool, EmptyOrExcludeOnlyListHasNothing) {
  AddressPool pool;
  EXPECT_EQ(pool.allocate({}), std::nullopt);
  const std::vector<Ipv4Range> no{range(ipv4(10, 0, 0, 1), ipv4(10, 0, 0, 9), true)};
  EXPECT_EQ(pool.allocate(no), std::nullopt);
}

}  // namespace
}  // namespace l2tp::control
