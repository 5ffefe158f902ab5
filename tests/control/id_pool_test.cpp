// The local tunnel and session ID allocator: random draws from the free IDs,
// never 0 (RFC 2661 3.1), quarantine after free, capacity, and the exhaustion
// policy (refuse rather than reuse a quarantined ID early). Simulated time.

#include "control/id_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

using namespace l2tp::control;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kAll = IdPool::kMaxIds;
constexpr Duration kHold = 31s;
const TimePoint kT0 = TimePoint{} + 1000s;
constexpr Duration kTick{1};  // the clock's resolution: the smallest step

std::vector<uint16_t> allocate_n(IdPool& pool, size_t n, TimePoint now) {
  std::vector<uint16_t> ids;
  for (size_t i = 0; i < n; ++i) {
    auto id = pool.allocate(now);
    EXPECT_TRUE(id.has_value()) << "allocation " << i;
    if (!id) break;
    ids.push_back(*id);
  }
  return ids;
}

}  // namespace

TEST(IdPool, NeverHandsOutIdZero) {
  IdPool pool(kHold, kAll, 1);
  for (uint32_t i = 0; i < kAll; ++i) {
    auto id = pool.allocate(kT0);
    ASSERT_TRUE(id);
    ASSERT_NE(*id, 0);
  }
  EXPECT_FALSE(pool.is_live(0));
}

TEST(IdPool, HandsOutEveryIdExactlyOnceBeforeRunningOut) {
  IdPool pool(kHold, kAll, 2);
  std::vector<uint16_t> ids = allocate_n(pool, kAll, kT0);
  ASSERT_EQ(ids.size(), kAll);
  std::sort(ids.begin(), ids.end());
  for (uint32_t i = 0; i < kAll; ++i) ASSERT_EQ(ids[i], i + 1);  // 1..65535, no duplicate
  EXPECT_EQ(pool.live(), kAll);
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_EQ(pool.check_invariants(), nullptr);
}

TEST(IdPool, RefusesWhenEveryIdIsLive) {
  IdPool pool(kHold, kAll, 3);
  allocate_n(pool, kAll, kT0);
  EXPECT_FALSE(pool.allocate(kT0 + 1h));
  EXPECT_EQ(pool.counters().refusals, 1u);
  EXPECT_EQ(pool.counters().refusals_quarantine, 0u);  // a capacity refusal
  EXPECT_EQ(pool.counters().allocations, kAll);
  EXPECT_EQ(pool.check_invariants(), nullptr);
}

TEST(IdPool, FreedIdIsNotReusedBeforeTheHoldPeriod) {
  IdPool pool(kHold, kAll, 4);
  std::vector<uint16_t> ids = allocate_n(pool, kAll, kT0);
  // Set B is freed first and has served its hold when set A is freed; then
  // the only free IDs are B's, and A's must not come back.
  std::vector<uint16_t> a(ids.begin(), ids.begin() + 1000);
  std::vector<uint16_t> b(ids.begin() + 1000, ids.begin() + 2000);
  for (uint16_t id : b) ASSERT_TRUE(pool.free(id, kT0));
  const TimePoint t1 = kT0 + kHold;
  for (uint16_t id : a) ASSERT_TRUE(pool.free(id, t1));

  std::vector<uint16_t> again = allocate_n(pool, b.size(), t1 + 1s);
  std::sort(again.begin(), again.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(again, b);
  for (uint16_t id : a) EXPECT_TRUE(pool.is_quarantined(id)) << id;
  EXPECT_FALSE(pool.allocate(t1 + kHold - kTick));
}

TEST(IdPool, QuarantineEndsExactlyAtTheHoldPeriod) {
  IdPool pool(kHold, kAll, 5);
  std::vector<uint16_t> ids = allocate_n(pool, kAll, kT0);
  const uint16_t freed = ids[123];
  ASSERT_TRUE(pool.free(freed, kT0));
  EXPECT_EQ(pool.next_release(), kT0 + kHold);

  // now < release: still held. now >= release: reusable.
  EXPECT_FALSE(pool.allocate(kT0 + kHold - kTick));
  EXPECT_TRUE(pool.is_quarantined(freed));
  EXPECT_EQ(pool.allocate(kT0 + kHold), freed);
  EXPECT_TRUE(pool.is_live(freed));
}

TEST(IdPool, RefusesRatherThanReuseAQuarantinedId) {
  IdPool pool(kHold, kAll, 6);
  std::vector<uint16_t> ids = allocate_n(pool, kAll, kT0);
  std::vector<uint16_t> freed(ids.begin(), ids.begin() + 10);
  for (uint16_t id : freed) ASSERT_TRUE(pool.free(id, kT0));

  // Below capacity, but every non-live ID is in quarantine: refuse.
  EXPECT_EQ(pool.available(kT0 + 10s), 0u);
  EXPECT_FALSE(pool.allocate(kT0 + 10s));
  EXPECT_FALSE(pool.allocate(kT0 + kHold - kTick));
  EXPECT_EQ(pool.counters().refusals, 2u);
  EXPECT_EQ(pool.counters().refusals_quarantine, 2u);
  EXPECT_EQ(pool.quarantined(), 10u);

  // Once the hold is over the same calls succeed.
  std::vector<uint16_t> again = allocate_n(pool, freed.size(), kT0 + kHold);
  std::sort(again.begin(), again.end());
  std::sort(freed.begin(), freed.end());
  EXPECT_EQ(again, freed);
  EXPECT_EQ(pool.check_invariants(), nullptr);
}

TEST(IdPool, ReleasesQuarantineOldestFirst) {
  IdPool pool(kHold, kAll, 7);
  std::vector<uint16_t> ids = allocate_n(pool, kAll, kT0);
  ASSERT_TRUE(pool.free(ids[0], kT0));
  ASSERT_TRUE(pool.free(ids[1], kT0 + 1s));
  ASSERT_TRUE(pool.free(ids[2], kT0 + 2s));

  EXPECT_EQ(pool.expire(kT0 + kHold + 1s), 2u);
  EXPECT_FALSE(pool.is_quarantined(ids[0]));
  EXPECT_FALSE(pool.is_quarantined(ids[1]));
  EXPECT_TRUE(pool.is_quarantined(ids[2]));
  EXPECT_EQ(pool.next_release(), kT0 + 2s + kHold);
  EXPECT_EQ(pool.expire(kT0 + kHold + 2s), 1u);
  EXPECT_EQ(pool.next_release(), std::nullopt);
  EXPECT_EQ(pool.check_invariants(), nullptr);
}

TEST(IdPool, ReleasesQuarantineOnlyWhenCalled) {
  IdPool pool(kHold, kAll, 8);
  auto id = pool.allocate(kT0);
  ASSERT_TRUE(id);
  ASSERT_TRUE(pool.free(*id, kT0));
  // Lazy: nothing happens by itself however late the observer looks.
  EXPECT_EQ(pool.quarantined(), 1u);
  EXPECT_EQ(pool.free_count(), kAll - 1);
  // Any call that takes the time releases what is due.
  EXPECT_TRUE(pool.allocate(kT0 + kHold));
  EXPECT_EQ(pool.quarantined(), 0u);
  EXPECT_FALSE(pool.is_quarantined(*id));
}

TEST(IdPool, DoubleFreeIsCountedAndHarmless) {
  IdPool pool(kHold, kAll, 9);
  auto id = pool.allocate(kT0);
  ASSERT_TRUE(id);
  EXPECT_TRUE(pool.free(*id, kT0));
  EXPECT_FALSE(pool.free(*id, kT0 + 1s));           // quarantined
  EXPECT_FALSE(pool.free(*id, kT0 + kHold + 1s));   // released: free again
  EXPECT_EQ(pool.counters().frees, 1u);
  EXPECT_EQ(pool.counters().double_frees, 2u);
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_EQ(pool.quarantined(), 0u);
  EXPECT_EQ(pool.check_invariants(), nullptr);

  // The ID is in the pool once: 65535 allocations are still all distinct.
  std::vector<uint16_t> ids = allocate_n(pool, kAll, kT0 + 1h);
  EXPECT_EQ(std::set<uint16_t>(ids.begin(), ids.end()).size(), kAll);
  EXPECT_FALSE(pool.allocate(kT0 + 1h));
}

TEST(IdPool, FreeOfIdZeroOrOfAnIdNeverHandedOutIsCounted) {
  IdPool pool(kHold, kAll, 10);
  EXPECT_FALSE(pool.free(0, kT0));
  // Every ID is free in a new pool; none of them may be freed.
  EXPECT_FALSE(pool.free(1, kT0));
  EXPECT_FALSE(pool.free(65535, kT0));
  EXPECT_EQ(pool.counters().double_frees, 3u);
  EXPECT_EQ(pool.counters().frees, 0u);
  EXPECT_EQ(pool.quarantined(), 0u);
  EXPECT_EQ(pool.free_count(), kAll);
  EXPECT_EQ(pool.check_invariants(), nullptr);
}

TEST(IdPool, IdsAreNotSequential) {
  IdPool pool(kHold, kAll, 11);
  std::vector<uint16_t> ids = allocate_n(pool, 1000, kT0);
  ASSERT_EQ(ids.size(), 1000u);
  // A sequential allocator gives 999 successors; a random one about 0.015.
  int successors = 0;
  for (size_t i = 1; i < ids.size(); ++i) successors += ids[i] == static_cast<uint16_t>(ids[i - 1] + 1);
  EXPECT_LE(successors, 3);
  EXPECT_FALSE(std::is_sorted(ids.begin(), ids.end()));
}

TEST(IdPool, IdsSpreadOverBothHalvesOfTheIdSpace) {
  IdPool pool(kHold, kAll, 12);
  std::vector<uint16_t> ids = allocate_n(pool, 1000, kT0);
  const auto low = std::count_if(ids.begin(), ids.end(), [](uint16_t id) { return id < 0x8000; });
  // Binomial(1000, 1/2): standard deviation about 16; 400..600 is 6 of them.
  EXPECT_GE(low, 400);
  EXPECT_LE(low, 600);
}

TEST(IdPool, SameSeedGivesTheSameIdsAndAnotherSeedDoesNot) {
  IdPool a(kHold, kAll, 42), b(kHold, kAll, 42), c(kHold, kAll, 43);
  std::vector<uint16_t> ia = allocate_n(a, 100, kT0);
  std::vector<uint16_t> ib = allocate_n(b, 100, kT0);
  std::vector<uint16_t> ic = allocate_n(c, 100, kT0);
  EXPECT_EQ(ia, ib);
  EXPECT_NE(ia, ic);
}

TEST(IdPool, CapacityLimitsLiveIds) {
  IdPool pool(kHold, 100, 13);
  std::vector<uint16_t> ids = allocate_n(pool, 100, kT0);
  EXPECT_EQ(pool.available(kT0), 0u);
  EXPECT_FALSE(pool.allocate(kT0));
  EXPECT_EQ(pool.counters().refusals, 1u);
  EXPECT_EQ(pool.counters().refusals_quarantine, 0u);
  EXPECT_EQ(pool.live(), 100u);
  EXPECT_EQ(pool.check_invariants(), nullptr);
}

TEST(IdPool, QuarantinedIdsDoNotCountAgainstCapacity) {
  IdPool pool(kHold, 100, 14);
  std::vector<uint16_t> ids = allocate_n(pool, 100, kT0);
  ASSERT_TRUE(pool.free(ids[0], kT0));
  // The freed ID is held, but another free ID takes the slot at once.
  EXPECT_EQ(pool.available(kT0), 1u);
  auto id = pool.allocate(kT0);
  ASSERT_TRUE(id);
  EXPECT_NE(*id, ids[0]);
  EXPECT_FALSE(pool.allocate(kT0));
}

TEST(IdPool, CapacityIsClampedToTheIdSpace) {
  IdPool pool(kHold, 1'000'000, 15);
  EXPECT_EQ(pool.capacity(), kAll);
  EXPECT_EQ(allocate_n(pool, kAll, kT0).size(), kAll);
  EXPECT_FALSE(pool.allocate(kT0));
}

TEST(IdPool, ZeroHoldTimeMakesAFreedIdReusableAtOnce) {
  IdPool pool(Duration::zero(), kAll, 16);
  std::vector<uint16_t> ids = allocate_n(pool, kAll, kT0);
  ASSERT_TRUE(pool.free(ids[7], kT0));
  EXPECT_EQ(pool.allocate(kT0), ids[7]);
}

TEST(IdPool, AvailableCountsWhatAllocateCanHandOut) {
  IdPool pool(kHold, 1000, 17);
  std::vector<uint16_t> ids = allocate_n(pool, 1000, kT0);
  EXPECT_EQ(pool.available(kT0), 0u);  // capacity
  for (uint16_t id : ids) ASSERT_TRUE(pool.free(id, kT0));
  EXPECT_EQ(pool.available(kT0), 1000u);  // capacity again, not the free IDs
  EXPECT_EQ(allocate_n(pool, 1000, kT0).size(), 1000u);
}

TEST(IdPool, ChurnKeepsTheInvariants) {
  // A million random allocate/free calls on a moving clock, in phases that
  // fill the pool (hitting the capacity) and phases that free faster than
  // quarantine drains (hitting the all-quarantined refusal). A model of the
  // live set checks that no ID is handed out twice or before its hold ends.
  constexpr uint32_t kCapacity = kAll - 4000;
  IdPool pool(kHold, kCapacity, 18);
  std::mt19937_64 rng(99);
  std::vector<uint16_t> live;  // the model
  std::vector<bool> is_live(kAll + 1, false);
  std::vector<TimePoint> reusable_at(kAll + 1, TimePoint::min());
  TimePoint now = kT0;

  for (uint32_t op = 0; op < 1'000'000; ++op) {
    now += std::chrono::microseconds(rng() % 2000);  // 1 ms on average
    // 100k-call phases: mostly allocate, then mostly free.
    const unsigned allocate_percent = (op / 100'000) % 2 == 0 ? 90 : 30;
    if (live.empty() || rng() % 100 < allocate_percent) {
      auto id = pool.allocate(now);
      if (id) {
        ASSERT_NE(*id, 0);
        ASSERT_FALSE(is_live[*id]) << "ID " << *id << " live twice";
        ASSERT_GE(now, reusable_at[*id]) << "ID " << *id << " reused in quarantine";
        is_live[*id] = true;
        live.push_back(*id);
      } else {
        ASSERT_TRUE(live.size() == kCapacity || pool.free_count() == 0);
      }
    } else {
      const size_t i = rng() % live.size();
      const uint16_t id = live[i];
      live[i] = live.back();
      live.pop_back();
      ASSERT_TRUE(pool.free(id, now));
      is_live[id] = false;
      reusable_at[id] = now + kHold;
    }
    ASSERT_EQ(pool.live(), live.size());
    ASSERT_EQ(pool.live() + pool.free_count() + pool.quarantined(), kAll);
    if (op % 8192 == 0) {
      ASSERT_EQ(pool.check_invariants(), nullptr) << "op " << op;
    }
  }
  EXPECT_EQ(pool.check_invariants(), nullptr);
  // Both kinds of exhaustion happened, and no free was refused.
  const IdPoolCounters& c = pool.counters();
  EXPECT_GT(c.refusals - c.refusals_quarantine, 0u);
  EXPECT_GT(c.refusals_quarantine, 0u);
  EXPECT_EQ(c.double_frees, 0u);
  EXPECT_EQ(c.allocations - c.frees, live.size());
}
