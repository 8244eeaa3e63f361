// Copyright 2026 The allot Authors.
//
// Tests of the summary (means and intervals, JSON, Markdown, CSV) and of the
// SVG charts, on a tiny run.

#include "allot/simulation/summary.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "allot/simulation/charts.h"
#include "allot/simulation/runner.h"
#include "allot/simulation/scenario.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace allot::sim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(SummaryTest, MeanWithStudentTInterval) {
  const std::vector<double> v = {1, 2, 3, 4, std::nan("")};
  const Estimate e = MeanWithInterval(v);
  EXPECT_EQ(e.n, 4);
  EXPECT_DOUBLE_EQ(e.mean, 2.5);
  // s = 1.29099, se = 0.645497, t(0.975, 3) = 3.182446.
  EXPECT_NEAR(e.high - e.mean, 3.182446 * 0.645497, 1e-5);
  EXPECT_NEAR(e.mean - e.low, e.high - e.mean, 1e-12);
  const Estimate one = MeanWithInterval(std::vector<double>{5});
  EXPECT_EQ(one.low, 5);
  EXPECT_EQ(one.high, 5);
  EXPECT_TRUE(std::isnan(MeanWithInterval(std::vector<double>{}).mean));
}

TEST(SummaryTest, WilsonIntervalMatchesTheClosedForm) {
  // 13 of 500: p = 0.026; Wilson's interval by hand (z = 1.959964):
  // centre (p + z^2/2n) / (1 + z^2/n) = 0.0296139, half-width
  // z / (1 + z^2/n) sqrt(p (1 - p) / n + z^2 / 4n^2) = 0.0143576.
  const Proportion p = WilsonInterval(13, 500);
  EXPECT_EQ(p.count, 13);
  EXPECT_DOUBLE_EQ(p.rate, 0.026);
  EXPECT_NEAR(p.low, 0.0296139 - 0.0143576, 2e-7);
  EXPECT_NEAR(p.high, 0.0296139 + 0.0143576, 2e-7);
  // 0 of n keeps a positive upper bound (z^2 / (n + z^2)), unlike the
  // Normal interval.
  const Proportion zero = WilsonInterval(0, 100);
  EXPECT_EQ(zero.low, 0);
  EXPECT_NEAR(zero.high, 3.841459 / (100 + 3.841459), 1e-7);
  EXPECT_TRUE(std::isnan(WilsonInterval(0, 0).rate));
}

TEST(SummaryTest, KaplanMeierMedianCountsCensoredReplicates) {
  const double none = std::nan("");
  // 10 replicates, 4 without a winner: the median is the 5th time (the
  // curve reaches 1/2 there), not the median of the 6 found (3.5).
  const std::vector<double> times = {1, 2, 3, 4, 5, 6, none, none, none, none};
  const Median m = KaplanMeierMedian(times);
  EXPECT_EQ(m.events, 6);
  EXPECT_EQ(m.censored, 4);
  EXPECT_EQ(m.median, 5);
  // Binomial(10, 1/2): P(X <= 1) = 11/1024 <= 2.5% < P(X <= 2) = 56/1024,
  // so the interval is [t(2), t(9)]; t(9) is censored: beyond the horizon.
  EXPECT_EQ(m.low, 2);
  EXPECT_TRUE(std::isnan(m.high));
  // More than half censored: the median is not reached.
  EXPECT_TRUE(std::isnan(KaplanMeierMedian(std::vector<double>{1, none, none}).median));
  // No censoring: the ordinary lower median.
  EXPECT_EQ(KaplanMeierMedian(std::vector<double>{4, 1, 3, 2}).median, 2);
}

class SummaryOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Scenario> s = ParseScenarioToml(R"toml(name = "tiny"
seed = 3
replicates = 3
horizon = "3d"
traffic = { units_per_hour = 100, returning_share = 0.2 }
[experiment.schedule]
burn_in = "12h"
interval = "12h"
conversion_window = "24h"
min_units_per_arm = 10
[[arms]]
id = "a,1"
rate = 0.05
[[arms]]
id = "b<2>"
rate = 0.2
[[policies]]
name = "thompson"
)toml",
                                                   "tiny.toml");
    ASSERT_TRUE(s.ok()) << s.status();
    scenario_ = *std::move(s);
    absl::StatusOr<std::vector<ReplicateOutcome>> o =
        RunScenario(scenario_, {.threads = 2});
    ASSERT_TRUE(o.ok()) << o.status();
    outcomes_ = *std::move(o);
    summary_ = Summarize(scenario_, outcomes_);
  }

  Scenario scenario_;
  std::vector<ReplicateOutcome> outcomes_;
  Summary summary_;
};

TEST_F(SummaryOutputTest, JsonHasEveryFigure) {
  const std::string json = SummaryJson(summary_);
  rapidjson::Document d;
  d.Parse(json.c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["scenario"].GetString(), "tiny");
  EXPECT_EQ(d["seed"].GetUint64(), 3u);
  EXPECT_EQ(d["replicates"].GetInt(), 3);
  const auto& policies = d["policies"];
  ASSERT_TRUE(policies.HasMember("thompson"));
  ASSERT_TRUE(policies.HasMember("fixed"));
  const auto& t = policies["thompson"];
  for (const char* key :
       {"regret", "conversions", "lift_vs_fixed", "share_best", "moved_share", "tv_bound",
        "ever_moved_share", "regret_vs_fixed", "conversions_vs_fixed",
        "time_to_winner_hours"}) {
    ASSERT_TRUE(t.HasMember(key)) << key;
    EXPECT_TRUE(t[key].HasMember("mean")) << key;
    EXPECT_EQ(t[key]["ci95"].Size(), 2u) << key;
  }
  EXPECT_TRUE(t["time_to_winner_hours"].HasMember("replicates_without"));
  EXPECT_TRUE(t["time_to_winner_hours"].HasMember("median"));
  EXPECT_EQ(t["time_to_winner_hours"]["median_ci95"].Size(), 2u);
  for (const char* key : {"winner_correct", "wrong_winner", "srm_alarm"}) {
    EXPECT_TRUE(t[absl::StrCat(key, "_rate").c_str()].IsNumber()) << key;
    EXPECT_EQ(t[absl::StrCat(key, "_ci95").c_str()].Size(), 2u) << key;
  }
  EXPECT_EQ(policies["fixed"]["regret_vs_fixed"]["mean"].GetDouble(), 0);
  EXPECT_TRUE(t["leader_wrong_share"].HasMember("pooled"));
  EXPECT_EQ(policies["fixed"]["lift_vs_fixed"]["mean"].GetDouble(), 0);
}

TEST_F(SummaryOutputTest, MarkdownHasOneRowPerPolicy) {
  const std::string md = SummaryMarkdown(summary_);
  EXPECT_THAT(md, StartsWith("## tiny\n"));
  EXPECT_THAT(md, HasSubstr("\n| thompson | "));
  EXPECT_THAT(md, HasSubstr("\n| fixed | "));
  EXPECT_THAT(md, HasSubstr("| policy | regret | conversions | vs fixed |"));
}

TEST_F(SummaryOutputTest, EpochsCsvQuotesArmIds) {
  const std::string csv = EpochsCsv(scenario_, outcomes_);
  EXPECT_THAT(csv, StartsWith("replicate,policy,epoch,time,hours,\"w:a,1\",w:b<2>,"
                              "\"p_best:a,1\",p_best:b<2>\n"));
  EXPECT_THAT(csv, HasSubstr("\n0,fixed,0,2026-01-05T00:00:00Z,0,0.5,0.5,,\n"));
  EXPECT_THAT(csv, HasSubstr("\n0,thompson,1,2026-01-06T12:00:00Z,36,"));
}

// Every element opened is closed, attributes are quoted, text is escaped.
void ExpectWellFormedSvg(const std::string& svg) {
  EXPECT_THAT(svg, StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "));
  EXPECT_TRUE(absl::EndsWith(svg, "</svg>\n"));
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, Not(HasSubstr("inf")));
  EXPECT_THAT(svg, Not(HasSubstr("<2>")));  // arm id escaped
}

TEST_F(SummaryOutputTest, ChartsAreStandaloneSvg) {
  const std::string weights = WeightsChartSvg(scenario_, outcomes_[0]);
  ExpectWellFormedSvg(weights);
  EXPECT_THAT(weights, HasSubstr("b&lt;2&gt;"));
  EXPECT_THAT(weights, HasSubstr("<polygon"));
  const std::string regret = RegretChartSvg(scenario_, summary_);
  ExpectWellFormedSvg(regret);
  EXPECT_THAT(regret, HasSubstr("<polyline"));
  EXPECT_THAT(regret, HasSubstr(">thompson</text>"));
}

}  // namespace
}  // namespace allot::sim
