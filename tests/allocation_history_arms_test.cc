// Copyright 2026 The allot Authors.
//
// Tests of arms that come and go in an allocation history (AddArm,
// RetireArm, payloads) and of JSON format 2, which carries them; format 1
// stays what it was for histories without them.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "allot/allocation_history.h"
#include "allot/assigner.h"
#include "allot/bucket_table.h"
#include "allot/hash.h"
#include "allot/weights.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01

absl::Time Day(int day) {
  return absl::FromCivil(absl::CivilHour(2026, 1, day, 6), absl::UTCTimeZone());
}

void ExpectInvalid(const absl::Status& status, std::initializer_list<std::string> parts) {
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  for (const std::string& part : parts) {
    EXPECT_THAT(std::string(status.message()), HasSubstr(part));
  }
}

// The format-2 example of allocation_history.h, verbatim.
constexpr char kFormat2Example[] = R"json(
{"format": 2, "experiment": "support-bot-model", "salt": "support-bot-model",
 "arms": [{"id": "small", "added": 0},
          {"id": "large", "added": 0, "retired": 2, "retire": "now",
           "payload": "{\"model\":\"m-2\"}"},
          {"id": "new", "added": 1}],
 "epochs": [
   {"epoch": 0, "start": "2026-01-01T00:00:00Z", "weights": {"small": 0.5, "large":
   0.5}},
   {"epoch": 1, "start": "2026-01-02T06:00:00Z", "weights": {"small": 0.4, "large":
   0.4, "new": 0.2}},
   {"epoch": 2, "start": "2026-01-03T06:00:00Z", "weights": {"small": 0.6, "new":
   0.4}}]}
)json";

std::string Format2With(absl::string_view from, absl::string_view to) {
  std::string json = kFormat2Example;
  EXPECT_NE(json.find(std::string(from)), std::string::npos) << from;
  return absl::StrReplaceAll(json, {{from, to}});
}

AllocationHistory TwoArms() {
  absl::StatusOr<AllocationHistory> h = AllocationHistory::Create(
      "exp", "exp", {"a", "b"}, Day(1), std::vector<double>{1, 1});
  EXPECT_TRUE(h.ok()) << h.status();
  return *std::move(h);
}

// Releases before format 2 wrote exactly this; a history without payloads or
// arm changes still does, byte for byte, so format-1 routers keep reading it.
TEST(HistoryFormatTest, HistoryWithoutArmChangesIsWrittenAsFormat1Unchanged) {
  AllocationHistory h = TwoArms();
  ASSERT_TRUE(h.Append(Day(2), std::vector<double>{0.3, 0.7}).ok());
  EXPECT_EQ(h.ToJson(), R"({
  "format": 1,
  "experiment": "exp",
  "salt": "exp",
  "epochs": [
    {
      "epoch": 0,
      "start": "2026-01-01T06:00:00Z",
      "weights": {
        "a": 0.5,
        "b": 0.5
      }
    },
    {
      "epoch": 1,
      "start": "2026-01-02T06:00:00Z",
      "weights": {
        "a": 0.3,
        "b": 0.7
      }
    }
  ]
}
)");
}

TEST(HistoryArmsTest, AddArmAppendsAnEpochWithTheNewArmLast) {
  AllocationHistory h = TwoArms();
  ASSERT_TRUE(
      h.AddArm(Day(2), "c", R"({"model":"m-3"})", std::vector<double>{0.4, 0.4, 0.2})
          .ok());
  ASSERT_EQ(h.arms().size(), 3u);
  EXPECT_THAT(h.arm_ids(), ElementsAre("a", "b", "c"));
  EXPECT_EQ(h.arms()[2].payload, R"({"model":"m-3"})");
  EXPECT_EQ(h.arms()[2].added_epoch, 1);
  EXPECT_EQ(h.arms()[2].retired_epoch, -1);
  EXPECT_FALSE(h.arms()[2].active_in(0));
  EXPECT_TRUE(h.arms()[2].active_in(1));
  EXPECT_THAT(h.epochs()[0].weights, ElementsAre(0.5, 0.5));
  EXPECT_THAT(h.epochs()[1].weights, ElementsAre(0.4, 0.4, 0.2));
  // The tables replay: the new arm's buckets come from the others.
  std::vector<BucketTable> tables = h.BuildTables();
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[1].num_arms(), 3);
  EXPECT_NEAR(BucketTable::MovedBuckets(tables[0], tables[1]), 0.2 * kNumBuckets, 2);
}

TEST(HistoryArmsTest, RetireArmZeroesItForGood) {
  AllocationHistory h = TwoArms();
  ASSERT_TRUE(h.AddArm(Day(2), "c", "", std::vector<double>{1, 1, 1}).ok());
  ASSERT_TRUE(
      h.RetireArm(Day(3), 0, RetireMode::kNow, std::vector<double>{0, 1, 1}).ok());
  EXPECT_EQ(h.arms()[0].retired_epoch, 2);
  EXPECT_EQ(h.arms()[0].retire_mode, RetireMode::kNow);
  EXPECT_TRUE(h.arms()[0].active_in(1));
  EXPECT_FALSE(h.arms()[0].active_in(2));
  EXPECT_THAT(h.epochs()[2].weights, ElementsAre(0.0, 0.5, 0.5));
  // Later epochs keep it at 0; one active arm may carry everything.
  ExpectInvalid(
      h.Append(Day(4), std::vector<double>{0.1, 1, 1}),
      {"arm 0 (\"a\") was retired in epoch 2, so its weight must be 0, got 0.1"});
  ASSERT_TRUE(
      h.RetireArm(Day(4), 1, RetireMode::kDrain, std::vector<double>{0, 0, 1}).ok());
  EXPECT_EQ(RetireModeName(h.arms()[1].retire_mode), "drain");
  EXPECT_THAT(h.arm_ids(), ElementsAre("a", "b", "c"));
}

TEST(HistoryArmsTest, BadChangesAreRefusedAndChangeNothing) {
  AllocationHistory h = TwoArms();
  ASSERT_TRUE(h.AddArm(Day(2), "c", "", std::vector<double>{1, 1, 1}).ok());
  ASSERT_TRUE(
      h.RetireArm(Day(3), 2, RetireMode::kDrain, std::vector<double>{1, 1, 0}).ok());
  const std::string before = h.ToJson();
  const std::vector<double> ok3 = {1, 1, 0, 1};
  ExpectInvalid(h.AddArm(Day(4), "a", "", ok3), {"\"a\" is already arm 0"});
  ExpectInvalid(h.AddArm(Day(4), "c", "", ok3), {"\"c\" is already arm 2 (retired"});
  ExpectInvalid(h.AddArm(Day(4), "", "", ok3), {"arms[3].id", "must not be empty"});
  ExpectInvalid(h.AddArm(Day(4), "d", "[1]", ok3), {"arms[3].payload"});
  ExpectInvalid(h.AddArm(Day(4), "d", "{", ok3), {"arms[3].payload"});
  ExpectInvalid(h.AddArm(Day(3), "d", "", ok3), {"must be after epoch 2 start"});
  ExpectInvalid(h.AddArm(Day(4), "d", "", std::vector<double>{1, 1, 0}),
                {"one entry per arm (4), got 3"});
  ExpectInvalid(h.AddArm(Day(4), "d", "", std::vector<double>{1, 1, 0, 0}),
                {"weight of new arm \"d\" must be positive, got 0"});
  ExpectInvalid(h.AddArm(Day(4), "d", "", std::vector<double>{1, 1, 1, 1}),
                {"arm 2 (\"c\") was retired in epoch 2"});
  ExpectInvalid(h.AddArm(Day(4), "d", "", std::vector<double>{1, -1, 0, 1}), {"got -1"});
  ExpectInvalid(h.RetireArm(Day(4), 3, RetireMode::kNow, std::vector<double>{1, 1, 0}),
                {"arm index in [0, 3), got 3"});
  ExpectInvalid(h.RetireArm(Day(4), 2, RetireMode::kNow, std::vector<double>{1, 1, 0}),
                {"already retired (in epoch 2)"});
  ExpectInvalid(h.RetireArm(Day(4), 0, RetireMode::kNow, std::vector<double>{1, 1, 0}),
                {"weight of retired arm 0 (\"a\") must be 0, got 1"});
  ExpectInvalid(h.RetireArm(Day(4), 0, RetireMode::kNow, std::vector<double>{0, 0, 0}),
                {"positive finite sum"});
  ExpectInvalid(h.RetireArm(Day(2), 0, RetireMode::kNow, std::vector<double>{0, 1, 0}),
                {"must be after"});
  EXPECT_EQ(h.ToJson(), before);
  EXPECT_EQ(h.arms().size(), 3u);
  EXPECT_EQ(h.arm_ids().size(), 3u);
}

TEST(HistoryArmsTest, AtMostMaxArmsCountingRetiredOnes) {
  std::vector<std::string> ids;
  for (int a = 0; a < kMaxArms; ++a) ids.push_back(absl::StrCat("arm-", a));
  absl::StatusOr<AllocationHistory> h = AllocationHistory::Create(
      "exp", "exp", ids, Day(1), std::vector<double>(kMaxArms, 1.0));
  ASSERT_TRUE(h.ok()) << h.status();
  ExpectInvalid(h->AddArm(Day(2), "one-more", "", std::vector<double>(kMaxArms + 1, 1.0)),
                {"at most 256 arms", "\"one-more\""});
  EXPECT_EQ(h->epochs().size(), 1u);
}

TEST(HistoryArmsTest, CreateChecksPayloads) {
  absl::StatusOr<AllocationHistory> h = AllocationHistory::Create(
      "exp", "exp", {"a", "b"}, Day(1), std::vector<double>{1, 1}, {"", R"({"k": 1})"});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->arms()[1].payload, R"({"k": 1})");
  ExpectInvalid(AllocationHistory::Create("exp", "exp", {"a", "b"}, Day(1),
                                          std::vector<double>{1, 1}, {"", "7"})
                    .status(),
                {"arms[1].payload"});
  ExpectInvalid(AllocationHistory::Create("exp", "exp", {"a", "b"}, Day(1),
                                          std::vector<double>{1, 1}, {""})
                    .status(),
                {"payloads must be empty or have one entry per arm (2), got 1"});
}

TEST(HistoryFormatTest, ReadsTheFormat2Example) {
  absl::StatusOr<AllocationHistory> h = AllocationHistory::FromJson(kFormat2Example);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_THAT(h->arm_ids(), ElementsAre("small", "large", "new"));
  EXPECT_EQ(h->arms()[1].payload, R"({"model":"m-2"})");
  EXPECT_EQ(h->arms()[1].retired_epoch, 2);
  EXPECT_EQ(h->arms()[1].retire_mode, RetireMode::kNow);
  EXPECT_EQ(h->arms()[2].added_epoch, 1);
  EXPECT_THAT(h->epochs()[0].weights, ElementsAre(0.5, 0.5));
  EXPECT_THAT(h->epochs()[1].weights, ElementsAre(0.4, 0.4, 0.2));
  EXPECT_THAT(h->epochs()[2].weights, ElementsAre(0.6, 0.0, 0.4));
  // arm_order is about the starting arms.
  const std::vector<std::string> order = {"small", "large"};
  EXPECT_TRUE(AllocationHistory::FromJson(kFormat2Example, order).ok());
  const std::vector<std::string> reordered = {"large", "small"};
  ExpectInvalid(AllocationHistory::FromJson(kFormat2Example, reordered).status(),
                {"the order decides the bucket layout"});
}

TEST(HistoryFormatTest, Format2RoundTripKeepsPayloadBytes) {
  // Escapes, non-ASCII, whitespace: the payload is text, kept byte for byte.
  const std::string payload =
      "{ \"prompt\": \"say \\\"hi\\\"\\n\", \"emoji\": \"\xf0\x9f\x99\x82\", \"t\": 0.7 "
      "}";
  absl::StatusOr<AllocationHistory> h = AllocationHistory::Create(
      "exp", "exp", {"a", "b"}, Day(1), std::vector<double>{1, 1}, {payload, ""});
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_TRUE(h->AddArm(Day(2), "c", "{}", std::vector<double>{1, 1, 1.0 / 3}).ok());
  ASSERT_TRUE(h->Append(Day(3), std::vector<double>{0.1 + 0.2, 0.1, 0.7}).ok());
  ASSERT_TRUE(
      h->RetireArm(Day(4), 1, RetireMode::kDrain, std::vector<double>{1, 0, 2}).ok());
  const std::string json = h->ToJson();
  EXPECT_THAT(json, HasSubstr("\"format\": 2"));
  absl::StatusOr<AllocationHistory> back = AllocationHistory::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
  EXPECT_EQ(back->ToJson(), json);
  ASSERT_EQ(back->arms().size(), 3u);
  EXPECT_EQ(back->arms()[0].payload, payload);
  EXPECT_EQ(back->arms()[2].payload, "{}");
  EXPECT_EQ(back->arms()[1].retired_epoch, 3);
  EXPECT_EQ(back->arms()[1].retire_mode, RetireMode::kDrain);
  ASSERT_EQ(back->epochs().size(), h->epochs().size());
  for (size_t e = 0; e < h->epochs().size(); ++e) {
    EXPECT_EQ(back->epochs()[e].weights, h->epochs()[e].weights) << "epoch " << e;
  }
  // The retired arm is not named after it left.
  EXPECT_THAT(json, HasSubstr("\"weights\": {\n        \"a\": 0.3333333333333333,\n"
                              "        \"c\": 0.6666666666666666\n"));
}

// An escaped lone surrogate decodes to bytes that are not UTF-8: refused
// when read, since the history could not be written back as JSON (found by
// history_fuzzer).
TEST(HistoryFormatTest, RefusesLoneSurrogatesInTextFields) {
  ExpectInvalid(AllocationHistory::FromJson(Format2With("\"salt\": \"support-bot-model\"",
                                                        "\"salt\": \"s\\ude00\""))
                    .status(),
                {"salt is not valid UTF-8 at byte 1"});
  ExpectInvalid(
      AllocationHistory::FromJson(Format2With("\"experiment\": \"support-bot-model\"",
                                              "\"experiment\": \"\\udc00x\""))
          .status(),
      {"experiment is not valid UTF-8 at byte 0"});
  ExpectInvalid(AllocationHistory::FromJson(
                    Format2With("{\"id\": \"new\"", "{\"id\": \"n\\udfffw\""))
                    .status(),
                {"arms[2].id"});
  ExpectInvalid(AllocationHistory::FromJson(
                    Format2With("\"payload\": \"{\\\"model\\\":\\\"m-2\\\"}\"",
                                "\"payload\": \"{\\\"model\\\":\\\"\\udc00\\\"}\""))
                    .status(),
                {"arms[1].payload"});
}

TEST(HistoryFormatTest, Format2RefusesInconsistentArms) {
  struct Case {
    absl::string_view from, to;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"\"new\": 0.2", "\"other\": 0.2", "epochs[1].weights names unknown arm \"other\""},
      {"\"new\": 0.2", "\"small\": 0.2", "epochs[1].weights names arm \"small\" twice"},
      {"\"small\": 0.6, \"new\":", "\"large\": 0.6, \"new\":",
       "epochs[2].weights names arm \"large\", which is not active in epoch 2 (retired "
       "in "
       "epoch 2)"},
      {"\"small\": 0.5, \"large\":\n   0.5", "\"small\": 0.5, \"new\":\n   0.5",
       "epochs[0].weights names arm \"new\", which is not active in epoch 0 (added in "
       "epoch 1)"},
      {", \"new\": 0.2}", "}", "epochs[1].weights is missing arm \"new\""},
      {"{\"id\": \"new\", \"added\": 1}", "{\"id\": \"new\", \"added\": 3}",
       "arms[2].added must be an epoch number in [0, 3)"},
      {"{\"id\": \"new\", \"added\": 1}", "{\"id\": \"new\", \"added\": 2}",
       "arms[1] and arms[2] both change in epoch 2"},
      {"\"retired\": 2", "\"retired\": 0",
       "arms[1].retired must be an epoch number in [1, 3)"},
      {"\"retire\": \"now\"", "\"retire\": \"later\"",
       "arms[1].retire must be \"drain\" or \"now\", got \"later\""},
      {"\"retire\": \"now\",", "", "arms[1] must have both \"retired\" and \"retire\""},
      {"\"payload\": \"{\\\"model\\\":\\\"m-2\\\"}\"", "\"payload\": \"[1]\"",
       "arms[1].payload"},
      {"\"payload\": \"{\\\"model\\\":\\\"m-2\\\"}\"", "\"payload\": \"\"",
       "arms[1].payload must be omitted when empty"},
      {"\"payload\": \"{\\\"model\\\":\\\"m-2\\\"}\"", "\"payload\": 7",
       "arms[1].payload must be a string"},
      {"{\"id\": \"new\"", "{\"id\": \"small\"",
       "arms[2].id \"small\" is also arms[0].id"},
      {"{\"id\": \"new\"", "{\"id\": \"\"", "arms[2].id"},
      {"{\"id\": \"small\", \"added\": 0}", "{\"id\": \"small\", \"added\": 0, \"x\": 1}",
       "arms[0] has unknown field \"x\""},
      {"\"arms\": [{\"id\": \"small\", \"added\": 0},",
       "\"arms\": [{\"id\": \"small\", \"added\": 1},",
       "arms[1].added is 0 but arms[0] was added in epoch 1"},
      {"\"weights\": {\"small\": 0.6, \"new\":\n   0.4}",
       "\"weights\": {\"small\": 0, \"new\": 0}",
       "epochs[2]: weights must have a positive finite sum"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.to);
    ExpectInvalid(AllocationHistory::FromJson(Format2With(c.from, c.to)).status(),
                  {c.message});
  }
  ExpectInvalid(
      AllocationHistory::FromJson(Format2With("\"format\": 2", "\"format\": 1")).status(),
      {"document has unknown field \"arms\""});
  ExpectInvalid(
      AllocationHistory::FromJson(Format2With("\"format\": 2", "\"format\": 3")).status(),
      {"format 3 is not supported; this allot reads format 1 to 2"});
  ExpectInvalid(
      AllocationHistory::FromJson(
          R"({"format": 2, "experiment": "e", "salt": "e", "epochs": [{"epoch": 0,
              "start": "2026-01-01T00:00:00Z", "weights": {"a": 1, "b": 1}}]})")
          .status(),
      {"document has no \"arms\""});
}

// A long history stays small: 100,000 epochs of three arms load from JSON and
// serve pinned lookups, in well under a second (here rather than in
// assigner_arms_test, which CI runs under ThreadSanitizer).
TEST(HistoryFormatTest, HundredThousandEpochsLoadAndServePinnedLookups) {
  constexpr int kEpochs = 100000;
  // Format 2: the third arm joins in epoch 1, with a payload.
  absl::StatusOr<AllocationHistory> h = AllocationHistory::Create(
      "exp", "exp", {"a", "b"}, kT0, std::vector<double>{1, 1}, {R"({"m":1})", ""});
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(
      h->AddArm(kT0 + absl::Minutes(1), "c", "", std::vector<double>{1, 1, 1}).ok());
  for (int e = 2; e < kEpochs; ++e) {
    const std::vector<double> w = {1.0 + e % 5, 2, 3};
    ASSERT_TRUE(h->Append(kT0 + absl::Minutes(e), w).ok());
  }
  const std::string json = h->ToJson();
  ASSERT_THAT(json, HasSubstr("\"format\": 2"));
  absl::StatusOr<AllocationHistory> back = AllocationHistory::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->epochs().size(), static_cast<size_t>(kEpochs));
  absl::StatusOr<std::unique_ptr<Assigner>> assigner = Assigner::Create(*back);
  ASSERT_TRUE(assigner.ok()) << assigner.status();
  EXPECT_EQ((*assigner)->current_epoch(), kEpochs - 1);
  // Per epoch: its start, entry and runs, its history entry and weights.
  EXPECT_LT((*assigner)->MemoryBytes(), size_t{kEpochs} * 512 + (size_t{1} << 20));
  for (int i = 0; i < 1000; ++i) {
    const int e = (i * 7919) % kEpochs;
    const std::string unit = absl::StrCat("user-", i);
    const Assignment a = *(*assigner)->AssignAt(unit, kT0 + absl::Minutes(e));
    ASSERT_EQ(a.epoch, e);
    const uint32_t bucket = BucketOf(UnitHash(HashPurpose::kArm, "exp", unit));
    ASSERT_EQ(a.arm, (*assigner)->ArmOf(e, bucket));
    ASSERT_EQ(a.arm_info, &(*assigner)->arm(a.arm));
  }
}

}  // namespace
}  // namespace allot
