// Copyright 2026 The allot Authors.
//
// End-to-end tests of `allot weights`: the JSON it prints for good input,
// and the exit code and message for bad input.

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/cli_run.h"
#include "tests/scratch_files.h"

namespace allot::test {
namespace {

using ::testing::HasSubstr;

TEST(CliWeightsTest, BetaArmsGiveProbabilitiesWeightsAndIntervals) {
  const ScratchDir scratch("cli_weights_test");
  const CliResult r =
      RunCli({"weights", "--model", "beta", "--arm", "a:1000:100", "--arm", "b:1000:120"},
             scratch.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.out;
  ASSERT_TRUE(doc.HasMember("arms"));
  const rapidjson::Value& arms = doc["arms"];
  ASSERT_TRUE(arms.HasMember("a"));
  ASSERT_TRUE(arms.HasMember("b"));
  const rapidjson::Value& a = arms["a"];
  const rapidjson::Value& b = arms["b"];
  // P(best) is exact quadrature (accurate to 1e-6), so it sums to 1 within
  // that; b converts more, so it is likelier best and gets more traffic.
  EXPECT_NEAR(a["p_best"].GetDouble() + b["p_best"].GetDouble(), 1.0, 1e-6);
  EXPECT_GT(b["p_best"].GetDouble(), 0.9);  // the README's example: 0.9232
  EXPECT_NEAR(a["weight"].GetDouble() + b["weight"].GetDouble(), 1.0, 1e-9);
  EXPECT_GT(b["weight"].GetDouble(), a["weight"].GetDouble());
  // Thompson with the default floor 0.01: w = f + (1 - 2 f) p.
  EXPECT_NEAR(a["weight"].GetDouble(), 0.01 + 0.98 * a["p_best"].GetDouble(), 1e-9);
  // The posterior Beta(1 + 100, 1 + 900) has mean 101 / 1002, exactly.
  EXPECT_DOUBLE_EQ(a["mean"].GetDouble(), 101.0 / 1002);
  EXPECT_DOUBLE_EQ(b["mean"].GetDouble(), 121.0 / 1002);
  ASSERT_TRUE(a["ci95"].IsArray());
  EXPECT_LT(a["ci95"][0].GetDouble(), a["mean"].GetDouble());
  EXPECT_GT(a["ci95"][1].GetDouble(), a["mean"].GetDouble());
}

TEST(CliWeightsTest, NormalArmsAndLowerIsBetter) {
  const ScratchDir scratch("cli_weights_test");
  const CliResult r = RunCli({"weights", "--model", "normal", "--direction", "lower",
                              "--arm", "fast:400:80:100", "--arm", "slow:400:95:100"},
                             scratch.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.out;
  // 15 apart with standard errors of 0.5: fast is best beyond any doubt.
  EXPECT_GT(doc["arms"]["fast"]["p_best"].GetDouble(), 0.999999);
  // The engine's near-flat Normal(0, 10^6) prior moves the mean by ~1e-12.
  EXPECT_NEAR(doc["arms"]["fast"]["mean"].GetDouble(), 80, 1e-9);
}

// Per-epoch arms go through the engine's estimator; --method chooses it.
// Bug 1's reproducer: b ahead in the only epoch both arms share (0.22 vs
// 0.20), then all traffic on b at half the base rate. Pooled reverses the
// order (a 200 / 1000 = 0.200, b 660 / 5000 = 0.132); the epoch-adjusted and
// period-weighted estimates keep b ahead.
TEST(CliWeightsTest, PerEpochArmsAndMethods) {
  const ScratchDir scratch("cli_weights_test");
  auto run = [&](const std::string& method) {
    const CliResult r = RunCli({"weights", "--model", "beta", "--method", method, "--arm",
                                "a:1000:200,0:0", "--arm", "b:1000:220,4000:440"},
                               scratch.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto doc = std::make_unique<rapidjson::Document>();
    doc->Parse(r.out.c_str());
    EXPECT_FALSE(doc->HasParseError()) << r.out;
    return doc;
  };
  auto pooled = run("pooled");
  EXPECT_STREQ((*pooled)["method"].GetString(), "pooled");
  EXPECT_GT((*pooled)["arms"]["a"]["p_best"].GetDouble(), 0.999);
  auto fit = run("epoch_adjusted");
  EXPECT_STREQ((*fit)["method"].GetString(), "epoch_adjusted");
  EXPECT_GT((*fit)["arms"]["b"]["p_best"].GetDouble(), 0.8);
  // b - a is the within-epoch 0.02 (posterior means: Beta moment matching
  // with a 1/1 prior moves each by < 0.002).
  EXPECT_NEAR(
      (*fit)["arms"]["b"]["mean"].GetDouble() - (*fit)["arms"]["a"]["mean"].GetDouble(),
      0.02, 0.003);
  // Two epochs, a seen in one: the fit's means are correlated, and the
  // output says how (symmetric, unit diagonal); independent estimates
  // print none.
  ASSERT_TRUE(fit->HasMember("correlation"));
  const rapidjson::Value& corr = (*fit)["correlation"];
  ASSERT_EQ(corr.Size(), 2u);
  EXPECT_DOUBLE_EQ(corr[0][0].GetDouble(), 1.0);
  EXPECT_DOUBLE_EQ(corr[0][1].GetDouble(), corr[1][0].GetDouble());
  EXPECT_GT(std::abs(corr[0][1].GetDouble()), 0.01);
  EXPECT_FALSE(pooled->HasMember("correlation"));
  auto period = run("period_weighted");
  EXPECT_STREQ((*period)["method"].GetString(), "period_weighted");
  EXPECT_GT((*period)["arms"]["b"]["p_best"].GetDouble(), 0.8);
}

TEST(CliWeightsTest, BadInputFailsWithAMessage) {
  const ScratchDir scratch("cli_weights_test");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"--model", "beta", "--arm", "a:10:11", "--arm", "b:10:1"},
       "--arm \"a:10:11\": SUCCESSES must be a whole number in [0, N], got \"11\""},
      {{"--model", "beta", "--arm", "a:10:1.5", "--arm", "b:10:1"},
       "--arm \"a:10:1.5\": SUCCESSES must be a whole number in [0, N], got \"1.5\""},
      {{"--model", "beta", "--arm", "a:10:1,20:2", "--arm", "b:10:1"},
       "--arm \"b:10:1\": has 1 epochs, but --arm \"a:10:1,20:2\" has 2"},
      {{"--model", "beta", "--arm", "a:10:1,20", "--arm", "b:10:1,20:2"},
       "expected ID:N:SUCCESSES for --model beta (or one group per epoch"},
      {{"--model", "beta", "--method", "simpson", "--arm", "a:10:1", "--arm", "b:10:1"},
       "--method must be epoch_adjusted, period_weighted or pooled, got \"simpson\""},
      {{"--model", "beta", "--arm", "a:10", "--arm", "b:10:1"},
       "--arm \"a:10\": expected ID:N:SUCCESSES for --model beta"},
      {{"--model", "beta", "--arm", "a:ten:1", "--arm", "b:10:1"},
       "N must be a finite number, got \"ten\""},
      {{"--model", "gamma", "--arm", "a:10:1", "--arm", "b:10:1"},
       "--model must be beta or normal, got \"gamma\""},
      {{"--model", "normal", "--arm", "a:1:5:1", "--arm", "b:10:5:1"},
       "a normal arm needs N >= 2 and VARIANCE > 0"},
      {{"--model", "beta", "--direction", "sideways", "--arm", "a:10:1", "--arm",
        "b:10:1"},
       "--direction must be higher or lower"},
      {{"--model", "beta", "--floor", "0.5", "--arm", "a:10:1", "--arm", "b:10:1"},
       "--floor 0.5 times 2 arms is 1, which must be below 1"},
      // A prior Boost.Math cannot take quantiles of: refused as in experiment
      // files (it used to abort, then to print an invalid ci95).
      {{"--model", "beta", "--prior-beta", "1e17", "--arm", "a:10:1", "--arm", "b:10:1"},
       "--prior-alpha and --prior-beta must be in [0.001, 1e+06], got 1 and 1e+17"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"weights"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const CliResult r = RunCli(args, scratch.path());
    EXPECT_EQ(r.exit_code, 1) << c.message;
    EXPECT_EQ(r.out, "") << c.message;
    EXPECT_THAT(r.err, HasSubstr("allot weights: ")) << c.message;
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
}

TEST(CliWeightsTest, DuplicateArmIdsAreRefused) {
  const ScratchDir scratch("cli_weights_test");
  const CliResult r =
      RunCli({"weights", "--model", "beta", "--arm", "a:10:1", "--arm", "a:10:2"},
             scratch.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("\"a\""));
}

TEST(CliWeightsTest, BadInputTable) {
  const std::vector<std::string> two = {"--arm", "a:10:1", "--arm", "b:10:2"};
  auto weights = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"weights", "--model", "beta"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  auto with_two = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), two.begin(), two.end());
    return weights(extra);
  };
  const std::vector<BadInputCase> cases = {
      {"unknown option", with_two({"--bogus"}), {}, "", 2, "--bogus"},
      {"no --arm", weights({}), {}, "", 2, "--arm"},
      {"--floor not a number", with_two({"--floor", "x"}), {}, "", 2, "--floor"},
      // Before: --seed -1 became 2^64 - 1.
      {"negative seed",
       with_two({"--seed", "-1"}),
       {},
       "",
       1,
       "--seed must be an integer in [0, 9223372036854775807], got \"-1\""},
      {"seed past 2^63 - 1",
       with_two({"--seed", "9223372036854775808"}),
       {},
       "",
       1,
       "--seed must be an integer in [0, 9223372036854775807]"},
      {"seed in hex", with_two({"--seed", "0x10"}), {}, "", 1, "got \"0x10\""},
      {"tab in an arm id",
       weights({"--arm", "a\tb:10:1", "--arm", "b:10:2"}),
       {},
       "",
       1,
       "must not contain control or bidirectional characters"},
      {"right-to-left override in an arm id",
       weights({"--arm", "a\u202e:10:1", "--arm", "b:10:2"}),
       {},
       "",
       1,
       "\\u{202E}"},
      {"invalid UTF-8 in an arm id",
       weights({"--arm", "a\xff:10:1", "--arm", "b:10:2"}),
       {},
       "",
       1,
       "must be valid UTF-8"},
      {"a long arm spec is cut",
       weights({"--arm", std::string(5000, 'x'), "--arm", "b:10:2"}),
       {},
       "",
       1,
       "...\" (5000 bytes)"},
  };
  RunBadInputTable(cases);
}

}  // namespace
}  // namespace allot::test
