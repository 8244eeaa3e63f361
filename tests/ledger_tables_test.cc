// Copyright 2026 The allot Authors.
//
// The ledger's own containers against plain references, under the churn a
// busy shard sees: the index of open units (linear probing, erasing by
// shifting runs back), the matured-fingerprint set (with its Bloom filter,
// cleared generation after generation) and the exposure-order queue.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "ledger/exposure_order.h"
#include "ledger/fingerprint_set.h"
#include "ledger/unit_index.h"

namespace allot::internal {
namespace {

// Finds where `key` is (its only entry, in these tests).
std::optional<uint32_t> FindIn(const UnitIndex& index, const UnitIndex::Key& key) {
  return index.Find(key, [](uint32_t) { return true; });
}

// Inserts, moves and erases at random against a std::map, with fingerprints
// drawn from a small pool of high halves so that runs collide and erasing
// must shift later members of a run back.
TEST(UnitIndexTest, MatchesAMapUnderChurn) {
  std::mt19937_64 rng(7);
  UnitIndex index;
  std::map<std::pair<uint64_t, uint32_t>, uint32_t> reference;
  std::vector<uint64_t> his(5000);
  for (uint64_t& hi : his) hi = rng();
  uint32_t next_position = 0;
  for (int step = 0; step < 200000; ++step) {
    const uint64_t hi = his[rng() % his.size()];
    const UnitIndex::Key key = UnitIndex::KeyOf(hi, rng() % 4);
    const auto ref_key = std::make_pair(key.hi, key.tag);
    auto it = reference.find(ref_key);
    const int op = static_cast<int>(rng() % 3);
    if (it == reference.end()) {
      ASSERT_FALSE(FindIn(index, key).has_value()) << step;
      if (op != 0 || reference.size() < 2000) {
        index.Insert(key, next_position);
        reference[ref_key] = next_position++;
      }
    } else {
      ASSERT_EQ(FindIn(index, key), it->second) << step;
      if (op == 0) {
        index.Erase(key, it->second);
        reference.erase(it);
      } else if (op == 1) {
        index.Move(key, it->second, next_position);
        it->second = next_position++;
      }
    }
    ASSERT_EQ(index.size(), reference.size());
  }
  for (const auto& [k, position] : reference) {
    EXPECT_EQ(FindIn(index, {k.first, k.second}), position);
  }
  // Zero is never a tag: KeyOf sets the lowest bit.
  EXPECT_EQ(UnitIndex::KeyOf(1, 0).tag, 1u);
}

// Two units may share 96 bits of fingerprint: Find asks which is meant.
TEST(UnitIndexTest, FindAsksAmongEqualKeys) {
  UnitIndex index;
  const UnitIndex::Key key = UnitIndex::KeyOf(42, 5);
  index.Insert(key, 10);
  index.Insert(key, 11);
  EXPECT_EQ(index.Find(key, [](uint32_t p) { return p == 11; }), 11u);
  EXPECT_EQ(index.Find(key, [](uint32_t p) { return p == 10; }), 10u);
  EXPECT_FALSE(index.Find(key, [](uint32_t) { return false; }).has_value());
  index.Erase(key, 10);
  EXPECT_EQ(FindIn(index, key), 11u);
}

// Generations of matured fingerprints: members are always found, and
// non-members are never (the filter only lets lookups skip the table).
TEST(FingerprintSetTest, MatchesASetOverGenerations) {
  std::mt19937_64 rng(3);
  FingerprintSet set;
  for (int generation = 0; generation < 6; ++generation) {
    std::set<uint64_t> reference;
    // Sizes that shrink a lot once, so clear() also gives slots back.
    const int n = generation == 4 ? 300 : 20000 + 10000 * generation;
    for (int i = 0; i < n; ++i) {
      const uint64_t fp = i == 0 ? 0 : rng();  // zero is a fingerprint too
      set.insert(fp);
      set.insert(fp);  // twice: still one member
      reference.insert(fp);
    }
    ASSERT_EQ(set.size(), reference.size());
    for (uint64_t fp : reference) ASSERT_TRUE(set.contains(fp));
    int false_members = 0;
    for (int i = 0; i < 100000; ++i) false_members += set.contains(rng());
    EXPECT_EQ(false_members, 0);
    std::set<uint64_t> listed;
    set.ForEach([&](uint64_t fp) { listed.insert(fp); });
    EXPECT_EQ(listed, reference);
    set.clear();
    EXPECT_EQ(set.size(), 0u);
    EXPECT_FALSE(set.contains(*reference.rbegin()));
  }
}

TEST(ExposureOrderTest, QueueWithPositions) {
  ExposureOrder<uint64_t> order;
  std::deque<uint64_t> reference;  // from the front
  uint64_t taken = 0;
  std::mt19937_64 rng(5);
  for (int step = 0; step < 100000; ++step) {
    if (rng() % 3 != 0 || order.empty()) {
      const uint64_t v = rng();
      order.push_back(v);
      reference.push_back(v);
    } else {
      ASSERT_EQ(order.front(), reference.front());
      order.pop_front();
      reference.pop_front();
      ++taken;
    }
    ASSERT_EQ(order.size(), reference.size());
    if (step % 997 == 0 && !reference.empty()) {
      const size_t i = rng() % reference.size();
      ASSERT_EQ(order[i], reference[i]);
      // The i-th entry's position is the count ever taken plus i.
      ASSERT_EQ(order.PositionOf(i), static_cast<uint32_t>(taken + i));
      ASSERT_EQ(order.IndexOf(order.PositionOf(i)), i);
    }
  }
  const std::vector<uint64_t> all(reference.begin(), reference.end());
  EXPECT_EQ(order.ToVector(), all);
  std::vector<uint64_t> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  order.Assign(sorted);
  EXPECT_EQ(order.ToVector(), sorted);
  EXPECT_EQ(order.PositionOf(0), static_cast<uint32_t>(taken));
}

}  // namespace
}  // namespace allot::internal
