// Copyright 2026 The allot Authors.
//
// Tests of the arm-id and weight checks every input path shares.

#include "allot/weights.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "allot/allocation_history.h"
#include "allot/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Expects `status` to be InvalidArgument with exactly `message`.
void ExpectInvalid(const absl::Status& status, const std::string& message) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(std::string(status.message()), message);
}

std::vector<std::string> Ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(absl::StrCat("arm-", i));
  return ids;
}

TEST(NormalizeWeightsTest, ScaleDoesNotMatter) {
  absl::StatusOr<std::vector<double>> ones = NormalizeWeights({1, 1});
  absl::StatusOr<std::vector<double>> fifties = NormalizeWeights({50, 50});
  ASSERT_TRUE(ones.ok()) << ones.status();
  ASSERT_TRUE(fifties.ok()) << fifties.status();
  EXPECT_THAT(*ones, ElementsAre(0.5, 0.5));
  EXPECT_EQ(*ones, *fifties);
}

TEST(NormalizeWeightsTest, KeepsProportions) {
  absl::StatusOr<std::vector<double>> w = NormalizeWeights({0.2, 0.3, 0.5});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_THAT(*w, ElementsAre(DoubleEq(0.2), DoubleEq(0.3), DoubleEq(0.5)));
  absl::StatusOr<std::vector<double>> scaled = NormalizeWeights({2, 3, 5});
  ASSERT_TRUE(scaled.ok()) << scaled.status();
  EXPECT_THAT(*scaled, ElementsAre(DoubleEq(0.2), DoubleEq(0.3), DoubleEq(0.5)));
}

TEST(NormalizeWeightsTest, IsIdempotentBitForBit) {
  // Normalized weights rarely sum to exactly 1; normalizing them again must
  // not move them by an ulp (histories and snapshots read weights back).
  uint64_t x = 0x9e3779b97f4a7c15ull;  // xorshift64, fixed seed
  for (int trial = 0; trial < 1000; ++trial) {
    std::vector<double> raw(2 + trial % 40);
    for (double& w : raw) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      w = static_cast<double>(x >> 11) * 0x1.0p-53 + 1e-6;
    }
    absl::StatusOr<std::vector<double>> once = NormalizeWeights(raw);
    ASSERT_TRUE(once.ok()) << once.status();
    absl::StatusOr<std::vector<double>> twice = NormalizeWeights(*once);
    ASSERT_TRUE(twice.ok()) << twice.status();
    ASSERT_EQ(*once, *twice) << "trial " << trial;
    double sum = 0;
    for (double w : *once) sum += w;
    EXPECT_NEAR(sum, 1.0, 1e-14);
  }
}

TEST(NormalizeWeightsTest, AcceptsExactlyMaxArms) {
  std::vector<double> weights(kMaxArms, 3.0);
  absl::StatusOr<std::vector<double>> w = NormalizeWeights(weights);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->size(), static_cast<size_t>(kMaxArms));
  for (double x : *w) EXPECT_DOUBLE_EQ(x, 1.0 / kMaxArms);
}

TEST(NormalizeWeightsTest, RejectsFewerThanTwoWeights) {
  ExpectInvalid(NormalizeWeights({}).status(),
                "an experiment needs at least 2 arms, got 0");
  ExpectInvalid(NormalizeWeights({1}).status(),
                "an experiment needs at least 2 arms, got 1");
}

TEST(NormalizeWeightsTest, RejectsMoreThanMaxArms) {
  std::vector<double> weights(kMaxArms + 1, 1.0);
  ExpectInvalid(NormalizeWeights(weights).status(),
                "an experiment has at most 256 arms, got 257");
}

TEST(NormalizeWeightsTest, ZeroIsRefusedByDefault) {
  ExpectInvalid(NormalizeWeights({1, 0}).status(),
                "weight of arm 1 must be a positive finite number, got 0");
  ExpectInvalid(NormalizeWeights({1, 0}, ZeroWeights::kRefuse).status(),
                "weight of arm 1 must be a positive finite number, got 0");
}

TEST(NormalizeWeightsTest, ZeroIsAllowedUnderAllow) {
  absl::StatusOr<std::vector<double>> w =
      NormalizeWeights({0, 3, 1}, ZeroWeights::kAllow);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_THAT(*w, ElementsAre(0.0, 0.75, 0.25));
}

TEST(NormalizeWeightsTest, RejectsNegative) {
  ExpectInvalid(NormalizeWeights({1, -0.5}).status(),
                "weight of arm 1 must be a positive finite number, got -0.5");
  ExpectInvalid(NormalizeWeights({-1, 2}, ZeroWeights::kAllow).status(),
                "weight of arm 0 must be a non-negative finite number, got -1");
}

TEST(NormalizeWeightsTest, RejectsNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ExpectInvalid(NormalizeWeights({nan, 1}).status(),
                "weight of arm 0 must be a positive finite number, got nan");
  ExpectInvalid(NormalizeWeights({1, nan}, ZeroWeights::kAllow).status(),
                "weight of arm 1 must be a non-negative finite number, got nan");
}

TEST(NormalizeWeightsTest, RejectsInfinity) {
  const double inf = std::numeric_limits<double>::infinity();
  ExpectInvalid(NormalizeWeights({1, 2, inf}).status(),
                "weight of arm 2 must be a positive finite number, got inf");
  ExpectInvalid(NormalizeWeights({-inf, 1}, ZeroWeights::kAllow).status(),
                "weight of arm 0 must be a non-negative finite number, got -inf");
}

// Finite weights whose sum overflows are still a split: scaled by the
// largest before they are summed.
TEST(NormalizeWeightsTest, HugeWeightsWhoseSumOverflows) {
  const double most = std::numeric_limits<double>::max();
  absl::StatusOr<std::vector<double>> w = NormalizeWeights({1e308, 1e308});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_THAT(*w, ElementsAre(0.5, 0.5));
  w = NormalizeWeights({most, most, most, most});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_THAT(*w, ElementsAre(0.25, 0.25, 0.25, 0.25));
  w = NormalizeWeights({most, most / 4, 0}, ZeroWeights::kAllow);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_THAT(*w, ElementsAre(0.8, 0.2, 0));
}

TEST(NormalizeWeightsTest, RejectsAllZeroUnderAllow) {
  ExpectInvalid(NormalizeWeights({0, 0, 0}, ZeroWeights::kAllow).status(),
                "weights must have a positive finite sum, got 0");
}

TEST(ValidateArmIdsTest, AcceptsTwoToMaxArmsUniqueIds) {
  EXPECT_TRUE(ValidateArmIds({"small", "large"}).ok());
  EXPECT_TRUE(ValidateArmIds(Ids(kMaxArms)).ok());
  EXPECT_TRUE(ValidateArmIds({std::string(kMaxArmIdBytes, 'a'), "b"}).ok());
}

TEST(ValidateArmIdsTest, RejectsOneId) {
  ExpectInvalid(ValidateArmIds({"only"}), "an experiment needs at least 2 arms, got 1");
}

TEST(ValidateArmIdsTest, RejectsMoreThanMaxArms) {
  ExpectInvalid(ValidateArmIds(Ids(kMaxArms + 1)),
                "an experiment has at most 256 arms, got 257");
}

TEST(ValidateArmIdsTest, RejectsEmptyId) {
  ExpectInvalid(ValidateArmIds({"a", ""}), "id of arm 1 must not be empty");
}

TEST(ValidateArmIdsTest, RejectsDuplicateNamingIt) {
  ExpectInvalid(ValidateArmIds({"small", "large", "small"}),
                "arm ids must be unique, \"small\" appears twice");
}

TEST(ValidateArmIdsTest, RejectsTooLongId) {
  ExpectInvalid(ValidateArmIds({"a", std::string(kMaxArmIdBytes + 1, 'b')}),
                absl::StrCat("id of arm 1 must be at most 256 bytes, got 257: \"",
                             std::string(kMaxQuotedBytes, 'b'), "...\" (257 bytes)"));
}

TEST(FindArmTest, ReturnsIndexOrMinusOne) {
  const std::vector<std::string> ids = {"small", "large", "xl"};
  EXPECT_EQ(FindArm(ids, "small"), 0);
  EXPECT_EQ(FindArm(ids, "large"), 1);
  EXPECT_EQ(FindArm(ids, "xl"), 2);
  EXPECT_EQ(FindArm(ids, "Small"), -1);
  EXPECT_EQ(FindArm(ids, ""), -1);
  EXPECT_EQ(FindArm({}, "small"), -1);
}

}  // namespace
}  // namespace allot

namespace allot {
namespace {

// Arm ids are TOML and JSON keys; a NUL would cut a JSON key short. The
// library refuses what an experiment file refuses (ValidateId), naming the
// arm's index.
TEST(ValidateArmIdsTest, RefusesControlBytes) {
  ExpectInvalid(ValidateArmIds({"a", std::string("b\0c", 3)}),
                "id of arm 1 must not contain control or bidirectional characters, got "
                "\"b\\x00c\" (one at offset 1)");
  ExpectInvalid(ValidateArmIds({"tab\there", "a"}),
                "id of arm 0 must not contain control or bidirectional characters, got "
                "\"tab\\x09here\" (one at offset 3)");
  EXPECT_TRUE(ValidateArmIds({"a", "caf\xc3\xa9"}).ok());
}

TEST(ValidateArmIdsTest, RefusesInvalidUtf8) {
  ExpectInvalid(
      ValidateArmIds({"a", "b", "caf\xc3"}),
      "id of arm 2 must be valid UTF-8, got \"caf\\xc3\" (bad byte at offset 3)");
  EXPECT_FALSE(ValidateArmIds({"\xed\xa0\x80", "a"}).ok());  // a surrogate
  EXPECT_FALSE(ValidateArmIds({"\xc0\xaf", "a"}).ok());      // overlong "/"
}

// An override or isolate makes one id display as another.
TEST(ValidateArmIdsTest, RefusesBidirectionalCharacters) {
  ExpectInvalid(ValidateArmIds({"a", "b\u202Ec"}),
                "id of arm 1 must not contain control or bidirectional characters, got "
                "\"b\\u{202E}c\" (one at offset 1)");
  ExpectInvalid(ValidateArmIds({"\u2066x", "a"}),
                "id of arm 0 must not contain control or bidirectional characters, got "
                "\"\\u{2066}x\" (one at offset 0)");
  // The errors carry no field path: these ids need not come from a file.
  EXPECT_EQ(ErrorField(ValidateArmIds({"a", "b\u202Ec"})), "");
}

// The library path (a history made in code or read as JSON) applies the rule
// and makes nothing.
TEST(ValidateArmIdsTest, HistoriesRefuseWhatFilesRefuse) {
  const absl::Time start = absl::UnixEpoch();
  absl::StatusOr<AllocationHistory> made =
      AllocationHistory::Create("exp", "exp", {"a", "b\u2066"}, start, {1, 1});
  ExpectInvalid(made.status(),
                "id of arm 1 must not contain control or bidirectional characters, got "
                "\"b\\u{2066}\" (one at offset 1)");
  // JSON escapes decode to the forbidden characters.
  absl::StatusOr<AllocationHistory> read = AllocationHistory::FromJson(
      R"({"format": 1, "experiment": "exp", "salt": "exp", "epochs": [)"
      R"({"epoch": 0, "start": "2026-01-01T00:00:00Z",)"
      R"( "weights": {"a": 0.5, "b\u202e": 0.5}}]})");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("id of arm 1 must not"));
}

TEST(ValidatePayloadTest, AcceptsEmptyAndObjects) {
  EXPECT_TRUE(ValidatePayload("arms[0].config", "").ok());
  EXPECT_TRUE(ValidatePayload("arms[0].config", "{}").ok());
  EXPECT_TRUE(ValidatePayload(
                  "arms[0].config",
                  R"( {"model":"m-2","temperature":0.2,"stop":["\n"],"x":{"y":null}} )")
                  .ok());
}

TEST(ValidatePayloadTest, RefusesWhatIsNotOneObject) {
  for (const char* bad : {"[1,2]", "3", "\"text\"", "{\"a\":1} {}", "{\"a\":", "{'a':1}",
                          "{\"a\":\"\xff\"}"}) {
    const absl::Status s = ValidatePayload("arms[1].config", bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("arms[1].config")) << bad;
  }
}

TEST(ValidatePayloadTest, RefusesOversizedAndDeepInputWithoutCrashing) {
  const std::string big =
      absl::StrCat(R"({"p":")", std::string(kMaxPayloadBytes, 'x'), "\"}");
  EXPECT_THAT(ValidatePayload("config", big).message(), HasSubstr("at most 65536 bytes"));
  // Nesting is parsed iteratively: 30,000 levels do not exhaust the stack.
  const std::string deep =
      "{\"a\":" + std::string(30000, '[') + std::string(30000, ']') + "}";
  EXPECT_TRUE(ValidatePayload("config", deep).ok());
}

}  // namespace
}  // namespace allot
