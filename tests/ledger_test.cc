// Copyright 2026 The allot Authors.
//
// The ledger's memory per open unit. (Its behaviour is tested through the
// engine in engine_test.cc.)

#include "ledger.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace allot::internal {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);

// The hash tables grow by doubling, so the bytes per open unit swing between
// resizes (load factor 7/16 to 7/8 of a 33-byte slot: 38 to 75 bytes). Over
// a sweep of sizes the mean stays under 64 and the worst case under 76.
TEST(LedgerTest, BytesPerOpenUnit) {
  double sum = 0, worst = 0;
  int points = 0;
  for (int n = 10000; n <= 1000000; n = n * 5 / 4) {
    Ledger ledger(MetricKind::kBinary, absl::Hours(72), 3);
    ledger.set_origin(kStart);
    for (int i = 0; i < n; ++i) {
      ledger.Expose(FingerprintUnit("exp", absl::StrCat("user-", i)), kStart, true,
                    [] { return Assignment{}; });
    }
    ASSERT_EQ(ledger.open_units(), n);
    const double per_unit = static_cast<double>(ledger.MemoryBytes()) / n;
    sum += per_unit;
    worst = std::max(worst, per_unit);
    ++points;
  }
  std::printf("bytes per open unit over %d sizes from 10^4 to 10^6: mean %.1f, "
              "worst %.1f\n", points, sum / points, worst);
  EXPECT_EQ(sizeof(OpenUnit), 32u);
  EXPECT_LT(sum / points, 64.0);
  EXPECT_LT(worst, 76.0);
}

}  // namespace
}  // namespace allot::internal
