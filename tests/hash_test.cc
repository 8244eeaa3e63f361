// Copyright 2026 The allot Authors.
//
// The hash layer's byte layout is a contract: these golden vectors fix it.
// They were computed independently of allot, by the xxHash project's own
// `xxhsum -H3` (xxHash 0.8.1) over the message bytes laid out in hash.h.

#include "allot/hash.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/bucket_table.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

std::string AllBytes(int repeats) {
  std::string s;
  for (int r = 0; r < repeats; ++r) {
    for (int c = 0; c < 256; ++c) s.push_back(static_cast<char>(c));
  }
  return s;
}

struct Golden {
  std::string salt;
  std::string unit;
  uint64_t arm_hash;
  uint64_t holdout_hash;
};

std::vector<Golden> GoldenVectors() {
  return {
      {std::string("support-bot-model", 17), std::string("user-0", 6),
       0x7a57ed06a47ac0b6ull, 0x89112e3845015fddull},
      {std::string("support-bot-model", 17), std::string("user-1", 6),
       0x4b8bfe3c67f2c841ull, 0x4ddedca7c4acdb7full},
      {std::string("support-bot-model", 17), std::string("user-999999", 11),
       0x06298c5166baa484ull, 0x0f822ee5bd337dfaull},
      {std::string("support-bot-model", 17), std::string("conv-7f3a9c", 11),
       0x832d6b75e8601428ull, 0x74e64af77a4ca199ull},
      {std::string("", 0), std::string("user-0", 6), 0xb77a9c975538ad44ull,
       0x7f889914b5d420d1ull},
      {std::string("", 0), std::string("a", 1), 0xbd493cc3a9212649ull,
       0xaa9b81840fdf2c97ull},
      {std::string("exp", 3), std::string("a", 1), 0xff2c5404c72e53ebull,
       0x147d61d50378e7acull},
      {std::string("exp", 3), std::string("b", 1), 0xe741bfc1b2a156c0ull,
       0x321cffd0eb35631full},
      {std::string("exp", 3), std::string("", 0), 0x6bc9c0153ec5c695ull,
       0xa2c9c9ec38fdbc97ull},
      {std::string("exp", 3),
       std::string("\x00"
                   "",
                   1),
       0x3333cc5abf388017ull, 0x1d5a188412cfbb6dull},
      {std::string("exp", 3),
       std::string("\xff"
                   "\xfe"
                   "\x00"
                   "\x01"
                   "",
                   4),
       0xd41c6095a957528full, 0xc9fc727421faeefaull},
      {std::string("prompt-test", 11),
       std::string("\xe7"
                   "\x94"
                   "\xa8"
                   "\xe6"
                   "\x88"
                   "\xb7"
                   "-42",
                   9),
       0x7c44b9536824273eull, 0xbeb0855527ea5a51ull},
      {std::string("prompt-test", 11),
       std::string("caf\xc3"
                   "\xa9"
                   "-\xc3"
                   "\xbc"
                   "-\xf0"
                   "\x9f"
                   "\x9a"
                   "\x80"
                   "",
                   13),
       0x996093405d48fa44ull, 0x680258043a350b37ull},
      {std::string("\xd0"
                   "\xbc"
                   "\xd0"
                   "\xbe"
                   "\xd0"
                   "\xb4"
                   "\xd0"
                   "\xb5"
                   "\xd0"
                   "\xbb"
                   "\xd1"
                   "\x8c"
                   "",
                   12),
       std::string("\xd0"
                   "\xbf"
                   "\xd0"
                   "\xbe"
                   "\xd0"
                   "\xbb"
                   "\xd1"
                   "\x8c"
                   "\xd0"
                   "\xb7"
                   "\xd0"
                   "\xbe"
                   "\xd0"
                   "\xb2"
                   "\xd0"
                   "\xb0"
                   "\xd1"
                   "\x82"
                   "\xd0"
                   "\xb5"
                   "\xd0"
                   "\xbb"
                   "\xd1"
                   "\x8c"
                   "-1",
                   26),
       0x16a51bf50129db44ull, 0xb34677437e93f357ull},
      {std::string("retrieval-k", 11), std::string(1024, 'x'), 0xfd0caa1cbe2f57fdull,
       0x3a310045b4d23c65ull},
      {std::string("retrieval-k", 11), AllBytes(4), 0x4d53b61e5c1f028cull,
       0x8be62da478af6ee5ull},
      {std::string("s", 1), std::string("1234567890123456789012345678901234567890", 40),
       0xd2d8eb72cc085daeull, 0xcf4ef4dd790ee872ull},
      {std::string("a-much-longer-salt-for-an-experiment-with-a-long-name-v2", 56),
       std::string("account:42:workflow:9", 21), 0xcee7fa31f0e16886ull,
       0xfbbc0abe0898c394ull},
      {std::string("exp", 3), std::string(" leading and trailing spaces ", 29),
       0x6616adb588600613ull, 0xd74d61d9f9b39a92ull},
      {std::string("exp", 3),
       std::string("tab\x09"
                   "here",
                   8),
       0x081a73c087535b9aull, 0x3c28c91c1f5e0b66ull},
      {std::string("salt-\xe2"
                   "\x9c"
                   "\x93"
                   "",
                   8),
       std::string("u", 1), 0x5ad9f801e4240727ull, 0x5ed57b3788d2d77cull},
      {std::string("exp", 3), std::string(250, 'x'), 0xcfa981db81337e68ull,
       0x765c5e4e0002968aull},
      {std::string("exp", 3), std::string(251, 'x'), 0xf3bc8e40be3c5d97ull,
       0xca76fe90213dbc46ull},
      {std::string("exp", 3), std::string("user-") + std::string(300, '9'),
       0xc60fcecd3221e103ull, 0xa470bc19974af274ull},
  };
}

TEST(HashTest, MatchesGoldenVectors) {
  const std::vector<Golden> vectors = GoldenVectors();
  ASSERT_GE(vectors.size(), 20u);
  for (const Golden& g : vectors) {
    SCOPED_TRACE(
        absl::StrCat("salt size ", g.salt.size(), ", unit size ", g.unit.size()));
    EXPECT_EQ(UnitHash(HashPurpose::kArm, g.salt, g.unit), g.arm_hash);
    EXPECT_EQ(UnitHash(HashPurpose::kHoldout, g.salt, g.unit), g.holdout_hash);
  }
}

TEST(HashTest, VersionIsOne) { EXPECT_EQ(kHashVersion, 1); }

TEST(HashTest, BucketIsTopSixteenBits) {
  EXPECT_EQ(BucketOf(0x7a57ed06a47ac0b6ull), 0x7a57u);
  EXPECT_EQ(BucketOf(~uint64_t{0}), kNumBuckets - 1);
  EXPECT_EQ(BucketOf(0), 0u);
}

TEST(HashTest, UnitIntervalIsInHalfOpenRange) {
  EXPECT_EQ(UnitInterval(0), 0.0);
  EXPECT_LT(UnitInterval(~uint64_t{0}), 1.0);
  EXPECT_EQ(UnitInterval(uint64_t{1} << 63), 0.5);
}

TEST(HashTest, SaltAndUnitBoundaryIsUnambiguous) {
  // ("ab", "c") and ("a", "bc") are different messages.
  EXPECT_NE(UnitHash(HashPurpose::kArm, "ab", "c"),
            UnitHash(HashPurpose::kArm, "a", "bc"));
}

TEST(HashTest, ValidateSaltRefusesNulAndOversized) {
  EXPECT_TRUE(ValidateSalt("").ok());
  EXPECT_TRUE(ValidateSalt("support-bot-model").ok());
  absl::Status nul = ValidateSalt(std::string("a\0b", 3));
  EXPECT_EQ(nul.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(nul.message(), "salt must not contain a NUL byte, found one at offset 1");
  absl::Status big = ValidateSalt(std::string(kMaxSaltBytes + 1, 's'));
  EXPECT_EQ(big.message(), "salt must be at most 1024 bytes, got 1025");
}

TEST(HashTest, ValidateUnitRefusesEmptyAndOversized) {
  EXPECT_TRUE(ValidateUnit("u").ok());
  EXPECT_TRUE(ValidateUnit(std::string(kMaxUnitBytes, 'u')).ok());
  EXPECT_EQ(ValidateUnit("").message(), "unit must not be empty");
  EXPECT_EQ(ValidateUnit(std::string(kMaxUnitBytes + 1, 'u')).message(),
            "unit must be at most 65536 bytes, got 65537");
}

constexpr int kUniformityUnits = 1000000;

// Pearson's chi-square statistic of observed counts against expected ones.
double ChiSquare(const std::vector<int64_t>& observed,
                 const std::vector<double>& expected) {
  double chi2 = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double d = static_cast<double>(observed[i]) - expected[i];
    chi2 += d * d / expected[i];
  }
  return chi2;
}

// Over the 10^6 sequential ids "user-0".."user-999999" the bucket counts are
// uniform. The statistic is Pearson's chi-square over all 65,536 buckets
// (65,535 degrees of freedom: mean 65,535, sd sqrt(2 * 65,535) = 362). The
// ids are fixed, so the test is deterministic; the cut-offs are 5 sd either
// side (two-sided p about 6e-7 under a uniform hash), wide enough that only a
// real defect, such as a bucket choice that ignores some hash bits, fails.
TEST(HashTest, BucketsOfSequentialIdsAreUniform) {
  std::vector<int64_t> counts(kNumBuckets);
  for (int i = 0; i < kUniformityUnits; ++i) {
    ++counts[BucketOf(
        UnitHash(HashPurpose::kArm, "support-bot-model", absl::StrCat("user-", i)))];
  }
  const double expected = double{kUniformityUnits} / kNumBuckets;
  const double chi2 = ChiSquare(counts, std::vector<double>(kNumBuckets, expected));
  const double df = kNumBuckets - 1;
  const double sd = std::sqrt(2 * df);
  EXPECT_GT(chi2, df - 5 * sd);
  EXPECT_LT(chi2, df + 5 * sd);
}

// Arm counts for weights [0.2, 0.3, 0.5] match the table's bucket shares.
// Chi-square with 2 degrees of freedom; cut-off 28.7, where
// P(chi2_2 > x) = exp(-x / 2) = 5.8e-7.
TEST(HashTest, ArmsOfSequentialIdsFollowWeights) {
  absl::StatusOr<BucketTable> table = BucketTable::Initial({0.2, 0.3, 0.5});
  ASSERT_TRUE(table.ok());
  std::vector<int64_t> counts(3);
  for (int i = 0; i < kUniformityUnits; ++i) {
    ++counts[table->ArmOf(BucketOf(
        UnitHash(HashPurpose::kArm, "support-bot-model", absl::StrCat("user-", i))))];
  }
  std::vector<double> expected(3);
  for (int a = 0; a < 3; ++a) {
    expected[a] = double{kUniformityUnits} * table->counts()[a] / kNumBuckets;
  }
  EXPECT_LT(ChiSquare(counts, expected), 28.7);
}

// Contingency chi-square of (arm under salt A) x (arm under salt B), and of
// (holdout) x (arm), each a 3x3 or 2x3 table. Independence gives 4 (or 2)
// degrees of freedom; cut-offs 34.0 (P(chi2_4 > 34) = e^-17 (1 + 17) = 7e-7)
// and 28.7 (as above).
double ContingencyChiSquare(const std::vector<std::vector<int64_t>>& table) {
  const size_t rows = table.size(), cols = table[0].size();
  std::vector<double> row_sum(rows), col_sum(cols);
  double total = 0;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      row_sum[r] += table[r][c];
      col_sum[c] += table[r][c];
      total += table[r][c];
    }
  }
  double chi2 = 0;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const double e = row_sum[r] * col_sum[c] / total;
      const double d = table[r][c] - e;
      chi2 += d * d / e;
    }
  }
  return chi2;
}

TEST(HashTest, DifferentSaltsAssignIndependently) {
  absl::StatusOr<BucketTable> table = BucketTable::Initial({0.2, 0.3, 0.5});
  ASSERT_TRUE(table.ok());
  std::vector<std::vector<int64_t>> both(3, std::vector<int64_t>(3));
  for (int i = 0; i < kUniformityUnits; ++i) {
    const std::string unit = absl::StrCat("user-", i);
    const int a = table->ArmOf(BucketOf(UnitHash(HashPurpose::kArm, "exp-a", unit)));
    const int b = table->ArmOf(BucketOf(UnitHash(HashPurpose::kArm, "exp-b", unit)));
    ++both[a][b];
  }
  EXPECT_LT(ContingencyChiSquare(both), 34.0);
}

TEST(HashTest, HoldoutIsIndependentOfArm) {
  absl::StatusOr<BucketTable> table = BucketTable::Initial({0.2, 0.3, 0.5});
  ASSERT_TRUE(table.ok());
  std::vector<std::vector<int64_t>> both(2, std::vector<int64_t>(3));
  for (int i = 0; i < kUniformityUnits; ++i) {
    const std::string unit = absl::StrCat("user-", i);
    const int arm = table->ArmOf(BucketOf(UnitHash(HashPurpose::kArm, "exp", unit)));
    const bool held = UnitInterval(UnitHash(HashPurpose::kHoldout, "exp", unit)) < 0.1;
    ++both[held ? 1 : 0][arm];
  }
  EXPECT_LT(ContingencyChiSquare(both), 28.7);
}

}  // namespace
}  // namespace allot
