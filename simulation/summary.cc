// Copyright 2026 The allot Authors.

#include "allot/simulation/summary.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "allot/policy.h"
#include "allot/simulation/world.h"
#include "allot/time_format.h"
#include "allot/weights.h"
#include "boost/math/distributions/binomial.hpp"
#include "boost/math/distributions/students_t.hpp"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace allot::sim {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void Number(Writer& w, double v) {
  if (std::isfinite(v)) {
    w.Double(v);
  } else {
    w.Null();
  }
}

void Key(Writer& w, absl::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

void WriteEstimate(Writer& w, absl::string_view name, const Estimate& e) {
  Key(w, name);
  w.StartObject();
  w.Key("mean");
  Number(w, e.mean);
  w.Key("ci95");
  w.StartArray();
  Number(w, e.low);
  Number(w, e.high);
  w.EndArray();
  w.EndObject();
}

// "median" (Kaplan-Meier, null when not reached), "median_ci95": [lo, hi].
void WriteMedianMembers(Writer& w, const Median& m) {
  w.Key("median");
  Number(w, m.median);
  w.Key("median_ci95");
  w.StartArray();
  Number(w, m.low);
  Number(w, m.high);
  w.EndArray();
}

// "NAME_rate": rate, "NAME_ci95": [lo, hi].
void WriteProportion(Writer& w, absl::string_view name, const Proportion& p) {
  Key(w, absl::StrCat(name, "_rate"));
  Number(w, p.rate);
  Key(w, absl::StrCat(name, "_ci95"));
  w.StartArray();
  Number(w, p.low);
  Number(w, p.high);
  w.EndArray();
}

// Counts and totals: no decimals once large, more below.
std::string Amount(double v) {
  if (!std::isfinite(v)) return "n/a";
  const double a = std::abs(v);
  if (a >= 100) return absl::StrFormat("%.0f", v);
  if (a >= 10) return absl::StrFormat("%.1f", v);
  if (a >= 1) return absl::StrFormat("%.2f", v);
  return absl::StrFormat("%.3g", v);
}

std::string Percent(double v, bool sign = false) {
  if (!std::isfinite(v)) return "n/a";
  return sign ? absl::StrFormat("%+.2f%%", 100 * v) : absl::StrFormat("%.1f%%", 100 * v);
}

// "mean [low, high]" in one of the formats above.
std::string Cell(const Estimate& e, std::string (*format)(double)) {
  if (e.n == 0) return "n/a";
  return absl::StrCat(format(e.mean), " [", format(e.low), ", ", format(e.high), "]");
}

std::string PercentCell(const Estimate& e, bool sign) {
  if (e.n == 0) return "n/a";
  return absl::StrCat(Percent(e.mean, sign), " [", Percent(e.low, sign), ", ",
                      Percent(e.high, sign), "]");
}

// "median [low, high]" in hours; a NaN bound is beyond the horizon (too
// many replicates censored).
std::string MedianCell(const Median& m) {
  if (m.events + m.censored == 0) return "n/a";
  auto hour = [](double h) {
    return std::isnan(h) ? std::string("> horizon") : Amount(h);
  };
  return absl::StrCat(hour(m.median), " [", hour(m.low), ", ", hour(m.high), "]");
}

std::string RateCell(const Proportion& p) {
  if (p.n == 0) return "n/a";
  return absl::StrCat(Percent(p.rate), " [", Percent(p.low), ", ", Percent(p.high), "]");
}

// Quotes a CSV field when it needs it (RFC 4180).
std::string CsvField(absl::string_view s) {
  if (s.find_first_of(",\"\n\r") == absl::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// A policy's name for a table cell: "name (kind)" unless they are the same;
// "|" would end the cell.
std::string PolicyLabel(const PolicySummary& p) {
  std::string label = p.name == p.kind ? p.name : absl::StrCat(p.name, " (", p.kind, ")");
  return absl::StrReplaceAll(label, {{"|", "\\|"}});
}

std::string CsvNumber(double v) {
  return std::isfinite(v) ? absl::StrFormat("%.6g", v) : std::string();
}

}  // namespace

Estimate MeanWithInterval(absl::Span<const double> values) {
  Estimate e;
  double sum = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    sum += v;
    ++e.n;
  }
  if (e.n == 0) return e;
  const double n = static_cast<double>(e.n);
  e.mean = sum / n;
  if (e.n == 1) {
    e.low = e.high = e.mean;
    return e;
  }
  double squares = 0;
  for (double v : values) {
    if (!std::isnan(v)) squares += (v - e.mean) * (v - e.mean);
  }
  const double se = std::sqrt(squares / (n - 1) / n);
  const boost::math::students_t_distribution<double> t(n - 1);
  const double half = boost::math::quantile(t, 0.975) * se;
  e.low = e.mean - half;
  e.high = e.mean + half;
  return e;
}

Proportion WilsonInterval(int64_t count, int64_t n) {
  Proportion p;
  p.count = count;
  p.n = n;
  if (n <= 0) return p;
  const double z = 1.959963984540054;  // the Normal's 0.975 quantile
  const double nn = static_cast<double>(n);
  p.rate = static_cast<double>(count) / nn;
  const double centre = (p.rate + z * z / (2 * nn)) / (1 + z * z / nn);
  const double half = z / (1 + z * z / nn) *
                      std::sqrt(p.rate * (1 - p.rate) / nn + z * z / (4 * nn * nn));
  // Exactly 0 and 1 at the ends (the formula gives them up to rounding).
  p.low = count == 0 ? 0.0 : std::max(0.0, centre - half);
  p.high = count == n ? 1.0 : std::min(1.0, centre + half);
  return p;
}

Median KaplanMeierMedian(absl::Span<const double> times) {
  Median m;
  std::vector<double> events;
  for (double t : times) {
    if (std::isnan(t)) {
      ++m.censored;
    } else {
      events.push_back(t);
    }
  }
  m.events = static_cast<int64_t>(events.size());
  const int64_t n = m.events + m.censored;
  if (n == 0) return m;
  std::sort(events.begin(), events.end());
  // Every censoring is at the horizon, after all events: the Kaplan-Meier
  // curve is 1 - j / n after the j-th event, so the median is the first
  // event time t_(j) with j / n >= 1/2, and the order statistics
  // t_(l), t_(u) with l, u from Binomial(n, 1/2) cover the true median
  // with probability >= 95%.
  auto order = [&](int64_t j) {  // 1-based; NaN beyond the events
    return j >= 1 && j <= m.events ? events[j - 1] : std::nan("");
  };
  m.median = order((n + 1) / 2);
  const boost::math::binomial_distribution<double> binomial(static_cast<double>(n), 0.5);
  // l: the largest with P(X < l) <= 2.5%; u = n + 1 - l.
  int64_t l = 0;
  while (l + 1 <= n && boost::math::cdf(binomial, static_cast<double>(l)) <= 0.025) ++l;
  m.low = l >= 1 ? order(l) : 0.0;
  m.high = l >= 1 ? order(n + 1 - l) : std::nan("");
  return m;
}

Summary Summarize(const Scenario& scenario, absl::Span<const ReplicateOutcome> outcomes) {
  Summary summary;
  summary.scenario = scenario.name;
  summary.seed = scenario.seed;
  summary.replicates = static_cast<int>(outcomes.size());
  summary.horizon_hours = absl::ToDoubleHours(scenario.horizon);
  summary.binary = scenario.experiment.metric == MetricKind::kBinary;
  summary.baseline = scenario.policies[scenario.baseline].name;
  summary.guardrails = HasGuardrailHarm(scenario);
  const std::vector<char> harmful = HarmfulArms(scenario);
  for (size_t a = 0; a < harmful.size(); ++a) {
    if (harmful[a]) summary.harmful_arms.push_back(scenario.arms[a].id);
  }
  const size_t n = outcomes.size();
  summary.churn = scenario.churn.replace_probability > 0;
  if (summary.churn) {
    for (const ReplicateOutcome& r : outcomes) {
      if (r.policies.empty()) continue;
      summary.churn_mean_changes +=
          static_cast<double>(r.policies[0].churn_changes) / static_cast<double>(n);
      summary.churn_replicates_at_cap += r.policies[0].churn_at_cap;
    }
  }
  for (size_t p = 0; p < scenario.policies.size(); ++p) {
    PolicySummary s;
    s.name = scenario.policies[p].name;
    s.kind = std::string(PolicyKindName(scenario.policies[p].config.policy.kind));
    std::vector<double> regret, conversions, lift, share_best, moved, tv, ever, hours,
        simpson, pooled, best_after, regret_diff, conversions_diff;
    int64_t correct = 0, wrong = 0, srm = 0, false_stops = 0, correct_stops = 0;
    std::vector<double> stop_hours;
    s.mean_regret_curve.assign(kRegretCurvePoints, 0.0);
    for (const ReplicateOutcome& r : outcomes) {
      const PolicyOutcome& o = r.policies[p];
      const PolicyOutcome& fixed = r.policies[static_cast<size_t>(scenario.baseline)];
      const double base = fixed.conversions;
      regret_diff.push_back(o.regret - fixed.regret);
      conversions_diff.push_back(o.conversions - fixed.conversions);
      regret.push_back(o.regret);
      conversions.push_back(o.conversions);
      lift.push_back(base != 0 ? (o.conversions - base) / std::abs(base) : std::nan(""));
      share_best.push_back(o.share_best);
      best_after.push_back(o.share_best_after_change);
      moved.push_back(o.moved_share);
      tv.push_back(o.tv_bound);
      ever.push_back(o.ever_moved_share);
      hours.push_back(o.time_to_winner_hours);
      simpson.push_back(o.simpson_wrong_share);
      pooled.push_back(o.pooled_wrong_share);
      s.replicates_without_winner += std::isnan(o.time_to_winner_hours);
      correct += o.winner_correct;
      wrong += o.wrong_winner;
      srm += o.srm_alarm;
      if (summary.guardrails) {
        // The last harmful arm's stop; NaN while some harmful arm runs.
        bool false_stop = false;
        double all_stopped = 0;
        for (size_t a = 0; a < harmful.size() && a < o.stop_hours.size(); ++a) {
          const bool stopped = !std::isnan(o.stop_hours[a]);
          if (!harmful[a]) {
            false_stop = false_stop || stopped;
          } else {
            all_stopped = stopped ? std::max(all_stopped, o.stop_hours[a]) : std::nan("");
          }
        }
        false_stops += false_stop;
        correct_stops += !std::isnan(all_stopped);
        stop_hours.push_back(all_stopped);
      }
      s.mean_arrivals += static_cast<double>(o.arrivals) / static_cast<double>(n);
      s.mean_exposures += static_cast<double>(o.exposures) / static_cast<double>(n);
      for (int j = 0; j < kRegretCurvePoints; ++j) {
        s.mean_regret_curve[j] += o.regret_curve[j] / static_cast<double>(n);
      }
    }
    s.regret = MeanWithInterval(regret);
    s.conversions = MeanWithInterval(conversions);
    s.lift_vs_fixed = MeanWithInterval(lift);
    s.regret_vs_fixed = MeanWithInterval(regret_diff);
    s.conversions_vs_fixed = MeanWithInterval(conversions_diff);
    s.hours_to_winner = KaplanMeierMedian(hours);
    s.share_best = MeanWithInterval(share_best);
    s.share_best_after_change = MeanWithInterval(best_after);
    s.moved_share = MeanWithInterval(moved);
    s.tv_bound = MeanWithInterval(tv);
    s.ever_moved_share = MeanWithInterval(ever);
    s.time_to_winner_hours = MeanWithInterval(hours);
    s.simpson_wrong_share = MeanWithInterval(simpson);
    s.pooled_wrong_share = MeanWithInterval(pooled);
    const auto replicates = static_cast<int64_t>(n);
    s.winner_correct = WilsonInterval(correct, replicates);
    s.wrong_winner = WilsonInterval(wrong, replicates);
    s.srm_alarm = WilsonInterval(srm, replicates);
    if (summary.guardrails) {
      s.false_stop = WilsonInterval(false_stops, replicates);
      if (!summary.harmful_arms.empty()) {
        s.correct_stop = WilsonInterval(correct_stops, replicates);
        s.hours_to_stop = KaplanMeierMedian(stop_hours);
      }
    }
    summary.policies.push_back(std::move(s));
  }
  return summary;
}

std::string SummaryJson(const Summary& summary) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("scenario");
  w.String(summary.scenario.c_str());
  w.Key("seed");
  w.Uint64(summary.seed);
  w.Key("replicates");
  w.Int(summary.replicates);
  w.Key("horizon_hours");
  Number(w, summary.horizon_hours);
  w.Key("metric");
  w.String(summary.binary ? "binary" : "continuous");
  w.Key("baseline");
  w.String(summary.baseline.c_str());
  if (summary.guardrails) {
    w.Key("harmful_arms");
    w.StartArray();
    for (const std::string& id : summary.harmful_arms) w.String(id.c_str());
    w.EndArray();
  }
  if (summary.churn) {
    w.Key("churn");
    w.StartObject();
    w.Key("mean_changes");
    Number(w, summary.churn_mean_changes);
    w.Key("replicates_at_cap");
    w.Int64(summary.churn_replicates_at_cap);
    w.EndObject();
  }
  w.Key("policies");
  w.StartObject();
  for (const PolicySummary& p : summary.policies) {
    Key(w, p.name);
    w.StartObject();
    w.Key("kind");
    w.String(p.kind.c_str());
    w.Key("units");
    Number(w, p.mean_arrivals);
    w.Key("exposures");
    Number(w, p.mean_exposures);
    WriteEstimate(w, "regret", p.regret);
    WriteEstimate(w, "conversions", p.conversions);
    WriteEstimate(w, "lift_vs_fixed", p.lift_vs_fixed);
    WriteEstimate(w, "share_best", p.share_best);
    if (p.share_best_after_change.n > 0) {
      WriteEstimate(w, "share_best_after_change", p.share_best_after_change);
    }
    WriteEstimate(w, "moved_share", p.moved_share);
    WriteEstimate(w, "tv_bound", p.tv_bound);
    WriteEstimate(w, "ever_moved_share", p.ever_moved_share);
    WriteEstimate(w, "regret_vs_fixed", p.regret_vs_fixed);
    WriteEstimate(w, "conversions_vs_fixed", p.conversions_vs_fixed);
    w.Key("time_to_winner_hours");
    w.StartObject();
    w.Key("mean");
    Number(w, p.time_to_winner_hours.mean);
    w.Key("ci95");
    w.StartArray();
    Number(w, p.time_to_winner_hours.low);
    Number(w, p.time_to_winner_hours.high);
    w.EndArray();
    w.Key("replicates_without");
    w.Int64(p.replicates_without_winner);
    WriteMedianMembers(w, p.hours_to_winner);
    w.EndObject();
    WriteProportion(w, "winner_correct", p.winner_correct);
    WriteProportion(w, "wrong_winner", p.wrong_winner);
    WriteProportion(w, "srm_alarm", p.srm_alarm);
    if (summary.guardrails) {
      WriteProportion(w, "false_stop", p.false_stop);
      WriteProportion(w, "correct_stop", p.correct_stop);
      w.Key("hours_to_stop");
      w.StartObject();
      WriteMedianMembers(w, p.hours_to_stop);
      w.Key("replicates_without");
      w.Int64(p.hours_to_stop.censored);
      w.EndObject();
    }
    w.Key("leader_wrong_share");
    w.StartObject();
    WriteEstimate(w, "simpson", p.simpson_wrong_share);
    WriteEstimate(w, "pooled", p.pooled_wrong_share);
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

std::string SummaryMarkdown(const Summary& s) {
  std::string md = absl::StrFormat(
      "## %s\n\n%d replicates, seed %d, horizon %s; means over replicates with "
      "95%% intervals.\n\n",
      s.scenario, s.replicates, s.seed, Amount(s.horizon_hours) + "h");
  absl::StrAppend(&md, "| policy | regret | ", s.binary ? "conversions" : "total value",
                  " | vs fixed | on best arm | moved | TV bound | ever moved | hours to "
                  "correct winner (median) | correct winner | wrong winner | SRM alarms "
                  "|\n",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const PolicySummary& p : s.policies) {
    std::string hours = MedianCell(p.hours_to_winner);
    if (p.replicates_without_winner > 0) {
      absl::StrAppend(&hours, " (", p.replicates_without_winner, " none)");
    }
    absl::StrAppend(
        &md, "| ", PolicyLabel(p), " | ", Cell(p.regret, Amount), " | ",
        Cell(p.conversions, Amount), " | ", PercentCell(p.lift_vs_fixed, true), " | ",
        PercentCell(p.share_best, false), " | ", Amount(p.moved_share.mean), " | ",
        Amount(p.tv_bound.mean), " | ", Percent(p.ever_moved_share.mean), " | ", hours,
        " | ", RateCell(p.winner_correct), " | ", RateCell(p.wrong_winner), " | ",
        RateCell(p.srm_alarm), " |\n");
  }
  absl::StrAppend(&md, "\nregret: expected ", s.binary ? "conversions" : "value",
                  " lost against the best arm of each moment; vs fixed: relative "
                  "difference from the ",
                  s.baseline,
                  " baseline on the same traffic; moved: sum over reallocations of the "
                  "share of returning units whose arm changed; TV bound: sum of the "
                  "total-variation distances between consecutive weights; hours to "
                  "correct winner: Kaplan-Meier median, replicates without one "
                  "censored at the horizon; rates with Wilson 95% intervals.\n\n");
  absl::StrAppend(&md,
                  "Share of reports (past burn-in) whose leading arm is not the "
                  "truly best one, by estimate:\n\n"
                  "| policy | its estimate | pooled |\n|---|---:|---:|\n");
  for (const PolicySummary& p : s.policies) {
    absl::StrAppend(&md, "| ", PolicyLabel(p), " | ",
                    PercentCell(p.simpson_wrong_share, false), " | ",
                    PercentCell(p.pooled_wrong_share, false), " |\n");
  }
  if (s.churn) {
    absl::StrAppend(
        &md, "\nChurn: ", Amount(s.churn_mean_changes),
        " arm replacements per replicate on average; ", s.churn_replicates_at_cap,
        " replicates stopped churning at the engine's cap of ", kMaxArms, " arms.\n");
  }
  if (!s.guardrails) return md;
  absl::StrAppend(
      &md, "\nGuardrail stops; harmful arms by the truths: ",
      s.harmful_arms.empty() ? std::string("none") : absl::StrJoin(s.harmful_arms, ", "),
      ".\n\n| policy | false stop | correct stop | hours to stop (median) |\n"
      "|---|---:|---:|---:|\n");
  for (const PolicySummary& p : s.policies) {
    const Median& m = p.hours_to_stop;
    std::string hours = MedianCell(m);
    if (m.censored > 0) absl::StrAppend(&hours, " (", m.censored, " none)");
    absl::StrAppend(&md, "| ", PolicyLabel(p), " | ", RateCell(p.false_stop), " | ",
                    RateCell(p.correct_stop), " | ", hours, " |\n");
  }
  absl::StrAppend(&md,
                  "\nfalse stop: replicates in which a harmless arm was stopped; "
                  "correct stop: replicates in which every harmful arm was stopped "
                  "by the horizon; hours to stop: until the last harmful arm was "
                  "stopped, Kaplan-Meier median, censored at the horizon.\n");
  return md;
}

std::string EpochsCsv(const Scenario& scenario,
                      absl::Span<const ReplicateOutcome> outcomes) {
  // Columns in the engine's arm order; churned arms have none.
  const std::vector<int> order = EngineArmOrder(scenario);
  const size_t columns = order.size();
  std::string csv = "replicate,policy,epoch,time,hours";
  for (int a : order) {
    absl::StrAppend(&csv, ",", CsvField(absl::StrCat("w:", scenario.arms[a].id)));
  }
  for (int a : order) {
    absl::StrAppend(&csv, ",", CsvField(absl::StrCat("p_best:", scenario.arms[a].id)));
  }
  csv += "\n";
  for (size_t r = 0; r < outcomes.size(); ++r) {
    for (size_t p = 0; p < outcomes[r].policies.size(); ++p) {
      const std::string policy = CsvField(scenario.policies[p].name);
      for (const EpochRecord& e : outcomes[r].policies[p].epochs) {
        absl::StrAppend(&csv, r, ",", policy, ",", e.epoch, ",",
                        FormatRfc3339(SimulationStart() + absl::Microseconds(e.time_us)),
                        ",", CsvNumber(static_cast<double>(e.time_us) / kMicrosPerHour));
        for (size_t a = 0; a < columns; ++a) {
          absl::StrAppend(&csv, ",", a < e.weights.size() ? CsvNumber(e.weights[a]) : "");
        }
        for (size_t a = 0; a < columns; ++a) {
          absl::StrAppend(&csv, ",", a < e.p_best.size() ? CsvNumber(e.p_best[a]) : "");
        }
        csv += "\n";
      }
    }
  }
  return csv;
}

}  // namespace allot::sim
