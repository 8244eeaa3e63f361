// Copyright 2026 The allot Authors.
//
// ReportsToJson: the output parses as JSON and carries every documented
// field with its value; the winner is the arm id or null; no reports is an
// empty array; non-finite numbers become null rather than invalid JSON.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "allot/report.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace allot {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  EXPECT_FALSE(doc.HasParseError()) << "offset " << doc.GetErrorOffset() << ": " << json;
  return doc;
}

ReallocationReport SampleReport() {
  ReallocationReport r;
  r.experiment = "checkout";
  r.epoch = 3;
  r.time = kStart + absl::Hours(2) + absl::Minutes(30);
  r.reallocated = true;
  r.reason = "thompson \"quoted\"";
  r.weights_before = {0.5, 0.5};
  r.weights_after = {0.25, 0.75};
  ArmReport a;
  a.id = "a";
  a.units = 120;
  a.outcomes = 18;
  a.mean = 0.15;
  a.ci95_low = 0.09;
  a.ci95_high = 0.22;
  a.pooled_mean = 0.16;
  a.p_best = 0.125;
  a.expected_loss = 0.0625;
  a.exposures = 130;
  a.advantage_low = -0.25;
  a.advantage_high = -0.03125;
  a.eliminated = true;
  ArmReport b = a;
  b.id = "b";
  b.units = 140;
  b.outcomes = 35;
  b.mean = 0.25;
  b.ci95_low = 0.18;
  b.ci95_high = 0.33;
  b.pooled_mean = 0.24;
  b.p_best = 0.875;
  b.expected_loss = 0.0078125;
  b.exposures = 151;
  b.advantage_low = 0.03125;
  b.advantage_high = 0.25;
  b.eliminated = false;
  b.stopped_by = "errors";
  r.arms = {a, b};
  GuardrailReport errors;
  errors.id = "errors";
  errors.mean = {0.03125, 0.125};
  errors.best = 0;
  errors.excess_low = {NAN, 0.0625};
  errors.excess_high = {NAN, 0.1875};
  r.guardrails = {errors};
  r.srm_p = 0.5;
  r.late_outcomes = 4;
  r.unknown_outcomes = 5;
  r.duplicate_outcomes = 6;
  r.holdout_units = 13;
  r.holdout_outcomes = 2;
  r.winner = 1;
  return r;
}

TEST(ReportsToJsonTest, EveryDocumentedField) {
  const rapidjson::Document doc = Parse(ReportsToJson({SampleReport()}));
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 1u);
  const rapidjson::Value& r = doc[0];
  ASSERT_TRUE(r.IsObject());
  // Exactly the documented keys, nothing more.
  EXPECT_EQ(r.MemberCount(), 16u);
  EXPECT_STREQ(r["experiment"].GetString(), "checkout");
  EXPECT_EQ(r["epoch"].GetInt64(), 3);
  EXPECT_STREQ(r["time"].GetString(), "2026-01-01T02:30:00Z");
  EXPECT_TRUE(r["reallocated"].GetBool());
  EXPECT_STREQ(r["reason"].GetString(), "thompson \"quoted\"");
  ASSERT_TRUE(r["weights_before"].IsObject());
  EXPECT_EQ(r["weights_before"].MemberCount(), 2u);
  EXPECT_EQ(r["weights_before"]["a"].GetDouble(), 0.5);
  EXPECT_EQ(r["weights_before"]["b"].GetDouble(), 0.5);
  EXPECT_EQ(r["weights_after"]["a"].GetDouble(), 0.25);
  EXPECT_EQ(r["weights_after"]["b"].GetDouble(), 0.75);
  const rapidjson::Value& arms = r["arms"];
  ASSERT_TRUE(arms.IsObject());
  ASSERT_EQ(arms.MemberCount(), 2u);
  // Doubles are written to round trip exactly, so equality is right.
  for (const ArmReport& want : SampleReport().arms) {
    SCOPED_TRACE(want.id);
    ASSERT_TRUE(arms.HasMember(want.id.c_str()));
    const rapidjson::Value& arm = arms[want.id.c_str()];
    EXPECT_EQ(arm.MemberCount(), 11u);
    EXPECT_EQ(arm["units"].GetInt64(), want.units);
    EXPECT_EQ(arm["outcomes"].GetDouble(), want.outcomes);
    EXPECT_EQ(arm["mean"].GetDouble(), want.mean);
    ASSERT_TRUE(arm["ci95"].IsArray());
    ASSERT_EQ(arm["ci95"].Size(), 2u);
    EXPECT_EQ(arm["ci95"][0].GetDouble(), want.ci95_low);
    EXPECT_EQ(arm["ci95"][1].GetDouble(), want.ci95_high);
    EXPECT_EQ(arm["pooled_mean"].GetDouble(), want.pooled_mean);
    EXPECT_EQ(arm["p_best"].GetDouble(), want.p_best);
    EXPECT_EQ(arm["expected_loss"].GetDouble(), want.expected_loss);
    EXPECT_EQ(arm["exposures"].GetInt64(), want.exposures);
    ASSERT_EQ(arm["advantage"].Size(), 2u);
    EXPECT_EQ(arm["advantage"][0].GetDouble(), want.advantage_low);
    EXPECT_EQ(arm["advantage"][1].GetDouble(), want.advantage_high);
    EXPECT_EQ(arm["eliminated"].GetBool(), want.eliminated);
    if (want.stopped_by.empty()) {
      EXPECT_TRUE(arm["stopped_by"].IsNull());
    } else {
      EXPECT_EQ(arm["stopped_by"].GetString(), want.stopped_by);
    }
  }
  const rapidjson::Value& errors = r["guardrails"]["errors"];
  EXPECT_STREQ(errors["best"].GetString(), "a");
  EXPECT_EQ(errors["arms"]["a"]["mean"].GetDouble(), 0.03125);
  EXPECT_TRUE(errors["arms"]["a"]["excess"][0].IsNull());
  EXPECT_EQ(errors["arms"]["b"]["excess"][0].GetDouble(), 0.0625);
  EXPECT_EQ(errors["arms"]["b"]["excess"][1].GetDouble(), 0.1875);
  EXPECT_EQ(r["srm_p"].GetDouble(), 0.5);
  EXPECT_EQ(r["late_outcomes"].GetInt64(), 4);
  EXPECT_EQ(r["unknown_outcomes"].GetInt64(), 5);
  EXPECT_EQ(r["duplicate_outcomes"].GetInt64(), 6);
  EXPECT_EQ(r["holdout_units"].GetInt64(), 13);
  EXPECT_EQ(r["holdout_outcomes"].GetDouble(), 2);
  ASSERT_TRUE(r["winner"].IsString());
  EXPECT_STREQ(r["winner"].GetString(), "b");
}

TEST(ReportsToJsonTest, NoWinnerIsNull) {
  ReallocationReport r = SampleReport();
  r.winner = -1;
  r.reallocated = false;
  const rapidjson::Document doc = Parse(ReportsToJson({r}));
  ASSERT_TRUE(doc.IsArray());
  ASSERT_TRUE(doc[0].HasMember("winner"));
  EXPECT_TRUE(doc[0]["winner"].IsNull());
  EXPECT_FALSE(doc[0]["reallocated"].GetBool());
  // An index beyond the arms is no winner either.
  r.winner = 2;
  EXPECT_TRUE(Parse(ReportsToJson({r}))[0]["winner"].IsNull());
}

TEST(ReportsToJsonTest, NoReportsIsAnEmptyArray) {
  const std::string json = ReportsToJson({});
  const rapidjson::Document doc = Parse(json);
  ASSERT_TRUE(doc.IsArray());
  EXPECT_EQ(doc.Size(), 0u);
}

TEST(ReportsToJsonTest, SeveralReportsInOrder) {
  ReallocationReport first = SampleReport(), second = SampleReport();
  second.epoch = 4;
  second.experiment = "latency";
  second.winner = 0;
  const rapidjson::Document doc = Parse(ReportsToJson({first, second}));
  ASSERT_EQ(doc.Size(), 2u);
  EXPECT_EQ(doc[0]["epoch"].GetInt64(), 3);
  EXPECT_EQ(doc[1]["epoch"].GetInt64(), 4);
  EXPECT_STREQ(doc[1]["experiment"].GetString(), "latency");
  EXPECT_STREQ(doc[1]["winner"].GetString(), "a");
}

TEST(ReportsToJsonTest, NonFiniteNumbersAreNull) {
  ReallocationReport r = SampleReport();
  r.srm_p = std::numeric_limits<double>::quiet_NaN();
  r.arms[0].ci95_high = std::numeric_limits<double>::infinity();
  const rapidjson::Document doc = Parse(ReportsToJson({r}));
  ASSERT_TRUE(doc.IsArray());
  EXPECT_TRUE(doc[0]["srm_p"].IsNull());
  EXPECT_TRUE(doc[0]["arms"]["a"]["ci95"][1].IsNull());
}

}  // namespace
}  // namespace allot
