// Copyright 2026 The allot Authors.
//
// The ledger's memory per open unit, and maturing in exposure order however
// out of order the exposures came. (Its behaviour is otherwise tested
// through the engine in engine_test.cc.)

#include "ledger/ledger.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace allot::internal {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);

// Each open unit takes its 32-byte record in exposure order and a 16-byte
// index slot; the index grows by doubling, so its share swings between
// resizes (load factor 5/16 to 5/8: 26 to 51 bytes). Over a sweep of sizes
// the mean stays under 88 and the worst case under 100. Each other metric
// (a guardrail) adds exactly one 8-byte value per open unit, in chunks of
// 256 (a partly filled last chunk per shard: under 1 byte per unit here).
// Returns the mean and worst bytes per open unit with `guardrails` other
// metrics.
// Sizes grow by `step` (x 5/4: 21 sizes; x 2: 7).
std::pair<double, double> BytesPerOpenUnit(int guardrails, double step) {
  double sum = 0, worst = 0;
  int points = 0;
  for (int n = 10000; n <= 1000000; n = static_cast<int>(n * step)) {
    Ledger ledger(MetricKind::kBinary, absl::Hours(72), 3, std::nullopt,
                  std::vector<MetricKind>(guardrails, MetricKind::kContinuous));
    ledger.set_origin(kStart);
    const UnitFingerprint fingerprint("exp");
    for (int i = 0; i < n; ++i) {
      ledger.Expose(fingerprint.Of(absl::StrCat("user-", i)), kStart, true,
                    [] { return Assignment{}; });
    }
    EXPECT_EQ(ledger.open_units(), n);
    const double per_unit = static_cast<double>(ledger.MemoryBytes()) / n;
    sum += per_unit;
    worst = std::max(worst, per_unit);
    ++points;
  }
  std::printf(
      "bytes per open unit with %d guardrails over %d sizes from 10^4 to 10^6: "
      "mean %.1f, worst %.1f\n",
      guardrails, points, sum / points, worst);
  return {sum / points, worst};
}

TEST(LedgerTest, BytesPerOpenUnit) {
  const auto [mean, worst] = BytesPerOpenUnit(0, 1.25);
  EXPECT_EQ(sizeof(OpenUnit), 32u);
  EXPECT_LT(mean, 88.0);
  EXPECT_LT(worst, 100.0);
}

TEST(LedgerTest, EachGuardrailAddsOneValuePerOpenUnit) {
  // One and three guardrails: 8 and 24 bytes more per unit than none over
  // the same sizes, within a byte.
  const double none = BytesPerOpenUnit(0, 2).first;
  const auto [mean1, worst1] = BytesPerOpenUnit(1, 2);
  const auto [mean3, worst3] = BytesPerOpenUnit(3, 2);
  EXPECT_NEAR(mean1 - none, 8.0, 1.0);
  EXPECT_NEAR(mean3 - none, 24.0, 1.0);
  EXPECT_LT(worst3, 100.0 + 25.0);
}

TEST(LedgerTest, OtherMetricsKeepTheirValuesThroughReorderingMaturingAndExport) {
  // Exposures far out of order (the shard sorts them), values of two
  // metrics, a binary one converting once; then maturing hands each unit's
  // values in the matured order, and an exported and imported ledger keeps
  // them.
  Ledger ledger(MetricKind::kContinuous, absl::Hours(1), 2, std::nullopt,
                {MetricKind::kBinary, MetricKind::kContinuous});
  ledger.set_origin(kStart);
  const UnitFingerprint fingerprint("exp");
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    const absl::Time t = kStart + absl::Seconds((i * 7919) % n);  // a permutation
    ledger.Expose(fingerprint.Of(absl::StrCat("u", i)), t, true,
                  [] { return Assignment{}; });
  }
  const absl::Time late = kStart + absl::Seconds(n);
  for (int i = 0; i < n; ++i) {
    const UnitKey key = fingerprint.Of(absl::StrCat("u", i));
    ASSERT_TRUE(ledger.Record(key, late, i % 3 == 0 ? 1 : 0, 0).ok());
    if (i % 3 == 0) {
      EXPECT_EQ(*ledger.Record(key, late, 1, 0), OutcomeDisposition::kDuplicate);
    }
    ASSERT_TRUE(ledger.Record(key, late, 0.5 * i, 1).ok());
    ASSERT_TRUE(ledger.Record(key, late, 0.25 * i, 1).ok());
  }
  Ledger copy(MetricKind::kContinuous, absl::Hours(1), 2, std::nullopt,
              {MetricKind::kBinary, MetricKind::kContinuous});
  copy.set_origin(kStart);
  copy.Import(ledger.Export());
  for (Ledger* l : {&ledger, &copy}) {
    std::vector<OpenUnit> matured;
    std::vector<double> values;
    l->TakeMatured(kStart + absl::Hours(3), matured, &values);
    ASSERT_EQ(matured.size(), static_cast<size_t>(n));
    ASSERT_EQ(values.size(), 2 * matured.size());
    std::map<std::pair<uint64_t, uint64_t>, int> index;
    for (int i = 0; i < n; ++i) {
      const UnitKey key = fingerprint.Of(absl::StrCat("u", i));
      index[{key.hi, key.lo}] = i;
    }
    for (size_t j = 0; j < matured.size(); ++j) {
      const int i = index.at({matured[j].key.hi, matured[j].key.lo});
      EXPECT_EQ(values[2 * j], i % 3 == 0 ? 1.0 : 0.0) << i;
      EXPECT_EQ(values[2 * j + 1], 0.75 * i) << i;
      if (j > 0) {
        EXPECT_LE(matured[j - 1].exposure_s, matured[j].exposure_s);
      }
    }
  }
}

// A matured unit's fingerprint takes an 8-byte slot of a set at most half
// full (load factor 1/4 to 1/2 between resizes) and 1/2 byte of Bloom filter:
// 16.5 to 32.5 bytes. Over a sweep of sizes the mean stays under 28 and the
// worst case under 34. (README, "Late returns", quotes the printed figures.)
TEST(LedgerTest, BytesPerRetainedFingerprint) {
  double sum = 0, worst = 0;
  int points = 0;
  for (int n = 10000; n <= 1000000; n = n * 5 / 4) {
    Ledger ledger(MetricKind::kBinary, absl::Hours(1), 3, absl::Hours(72));
    ledger.set_origin(kStart);
    const UnitFingerprint fingerprint("exp");
    for (int i = 0; i < n; ++i) {
      ledger.Expose(fingerprint.Of(absl::StrCat("user-", i)), kStart, true,
                    [] { return Assignment{}; });
    }
    std::vector<OpenUnit> matured;
    ledger.TakeMatured(kStart + absl::Hours(1), matured);
    ASSERT_EQ(ledger.retained_units(), n);
    const double per_unit = static_cast<double>(ledger.RetainedMemoryBytes()) / n;
    sum += per_unit;
    worst = std::max(worst, per_unit);
    ++points;
  }
  std::printf(
      "bytes per retained fingerprint over %d sizes from 10^4 to 10^6: mean %.1f, "
      "worst %.1f\n",
      points, sum / points, worst);
  EXPECT_LT(sum / points, 28.0);
  EXPECT_LT(worst, 34.0);
}

// With a one-hour window and a three-hour retention, maturing every hour: a
// unit that matured is remembered for at least the retention (not exposed
// again) and forgotten by twice the retention plus a maturing step (exposed
// again as new). With zero retention nothing is remembered.
TEST(LedgerTest, RetentionDecidesWhenAReturningUnitIsNewAgain) {
  const UnitFingerprint fingerprint("exp");
  const UnitKey key = fingerprint.Of("u");
  auto visit_at = [&](absl::Duration retention, absl::Duration back) {
    Ledger ledger(MetricKind::kBinary, absl::Hours(1), 2, retention);
    ledger.set_origin(kStart);
    auto assign = [] { return Assignment{}; };
    EXPECT_EQ(ledger.Expose(key, kStart, true, assign).visit, Ledger::Visit::kNew);
    std::vector<OpenUnit> matured;
    for (absl::Duration t = absl::Hours(1); t <= back; t += absl::Hours(1)) {
      ledger.TakeMatured(kStart + t, matured);
    }
    return ledger.Expose(key, kStart + back, true, assign).visit;
  };
  // Matured at 1h: remembered through 1h + 3h.
  EXPECT_EQ(visit_at(absl::Hours(3), absl::Hours(2)), Ledger::Visit::kMatured);
  EXPECT_EQ(visit_at(absl::Hours(3), absl::Hours(4)), Ledger::Visit::kMatured);
  // Forgotten by 1h + 2 x 3h + 1h.
  EXPECT_EQ(visit_at(absl::Hours(3), absl::Hours(8)), Ledger::Visit::kNew);
  // The default, one window: forgotten by 1h + 2h + 1h.
  EXPECT_EQ(visit_at(absl::Hours(1), absl::Hours(4)), Ledger::Visit::kNew);
  EXPECT_EQ(visit_at(absl::ZeroDuration(), absl::Hours(1)), Ledger::Visit::kNew);
}

// Exposes 3,000 units at whole seconds over ten hours in the given order of
// exposure times, then matures them hour by hour: each maturing must take
// exactly the units whose window (one hour) has closed, whatever the order
// they came in.
void ExpectMaturesInTimeOrder(std::vector<int> seconds, MetricKind metric) {
  Ledger ledger(metric, absl::Hours(1), 2);
  ledger.set_origin(kStart);
  const UnitFingerprint fingerprint("exp");
  for (size_t i = 0; i < seconds.size(); ++i) {
    ledger.Expose(fingerprint.Of(absl::StrCat("user-", i)),
                  kStart + absl::Seconds(seconds[i]), true, [] { return Assignment{}; });
  }
  std::sort(seconds.begin(), seconds.end());
  size_t taken = 0;
  // One vector for every maturing: each replaces what the last one took.
  std::vector<OpenUnit> matured;
  for (int hour = 1; hour <= 12; ++hour) {
    ledger.TakeMatured(kStart + absl::Hours(hour), matured);
    // Exposed at s, the window closes at s + 3600 <= 3600 * hour.
    const size_t due = static_cast<size_t>(
        std::upper_bound(seconds.begin(), seconds.end(), 3600 * (hour - 1)) -
        seconds.begin());
    ASSERT_EQ(taken + matured.size(), due) << "hour " << hour;
    for (const OpenUnit& unit : matured) {
      EXPECT_LE(unit.exposure_s, static_cast<uint32_t>(3600 * (hour - 1)));
    }
    if (metric == MetricKind::kContinuous) {
      EXPECT_TRUE(std::is_sorted(
          matured.begin(), matured.end(), [](const OpenUnit& a, const OpenUnit& b) {
            return a.exposure_s != b.exposure_s ? a.exposure_s < b.exposure_s
                                                : a.key < b.key;
          }));
    }
    taken = due;
    EXPECT_EQ(ledger.open_units(), static_cast<int64_t>(seconds.size() - taken));
  }
  EXPECT_EQ(taken, seconds.size());
}

std::vector<int> Seconds(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> second(0, 10 * 3600 - 1);
  std::vector<int> seconds(3000);
  for (int& s : seconds) s = second(rng);
  return seconds;
}

TEST(LedgerTest, MaturesExposuresThatCameInOrder) {
  std::mt19937_64 rng(1);
  std::vector<int> seconds = Seconds(rng);
  std::sort(seconds.begin(), seconds.end());
  ExpectMaturesInTimeOrder(seconds, MetricKind::kBinary);
  ExpectMaturesInTimeOrder(seconds, MetricKind::kContinuous);
}

// Threads racing each other: each exposure at most a few places late.
TEST(LedgerTest, MaturesExposuresSlightlyOutOfOrder) {
  std::mt19937_64 rng(2);
  std::vector<int> seconds = Seconds(rng);
  std::sort(seconds.begin(), seconds.end());
  for (size_t i = 0; i + 8 < seconds.size(); i += 8) {
    std::shuffle(seconds.begin() + i, seconds.begin() + i + 8, rng);
  }
  ExpectMaturesInTimeOrder(seconds, MetricKind::kBinary);
  ExpectMaturesInTimeOrder(seconds, MetricKind::kContinuous);
}

// A caller replaying events in no order at all: the timeline is sorted
// before maturing.
TEST(LedgerTest, MaturesExposuresInAnyOrder) {
  std::mt19937_64 rng(3);
  const std::vector<int> seconds = Seconds(rng);
  ExpectMaturesInTimeOrder(seconds, MetricKind::kBinary);
  ExpectMaturesInTimeOrder(seconds, MetricKind::kContinuous);
}

}  // namespace
}  // namespace allot::internal
