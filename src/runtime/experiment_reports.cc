// Copyright 2026 The allot Authors.
//
// One experiment's learning at grid points: folding matured units, the
// estimates, posteriors and decision of each report, and the policy's
// reallocation.

#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/field_error.h"
#include "allot/hash.h"
#include "allot/posterior.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "runtime/experiment_runtime.h"
#include "statistics/arm_beliefs.h"
#include "statistics/confidence_sequence.h"
#include "statistics/sample_ratio.h"

namespace allot::internal {
namespace {

// The p_best rule ([decision] rule = "p_best"), kept for comparison with
// the anytime-valid default. A winner needs P(best) >= 0.999
// and an expected loss below the threshold of caring, 1% of its mean; and,
// so that practically equal arms never produce one, every other arm's
// expected loss must be at least that threshold. A P(best) >= 0.95 rule is
// a single-look threshold: over the ~50 reports of a two-week A/A run it
// named a false winner in 56% of replicates (examples/scenarios/aa.toml).
constexpr double kWinnerPBest = 0.999;
constexpr double kThresholdOfCaring = 0.01;

int PBestWinner(const std::vector<double>& p_best, const std::vector<double>& loss,
                const std::vector<ArmEstimate>& estimates) {
  const int leader =
      static_cast<int>(std::max_element(p_best.begin(), p_best.end()) - p_best.begin());
  const double caring = kThresholdOfCaring * std::abs(estimates[leader].mean);
  if (p_best[leader] < kWinnerPBest || !(loss[leader] < caring)) return -1;
  for (size_t j = 0; j < loss.size(); ++j) {
    if (static_cast<int>(j) != leader && loss[j] < caring) return -1;
  }
  return leader;
}

// The anytime-valid bounds of every arm's advantage (confidence_sequence.h)
// from `beliefs`, which must be undiscounted: with a half-life no fixed
// difference is estimated.
ArmContrasts Contrasts(const ArmBeliefs& beliefs, const ExperimentConfig& config) {
  const size_t k = beliefs.estimates.size();
  std::vector<double> means(k), variances(k);
  double units = 0, unit_variance = 0;
  for (size_t a = 0; a < k; ++a) {
    const ArmEstimate& e = beliefs.estimates[a];
    means[a] = e.mean;
    variances[a] = e.variance_of_mean;
    units += static_cast<double>(e.units);
    unit_variance += static_cast<double>(e.units) * e.pooled_variance;
  }
  unit_variance = units > 0 ? unit_variance / units : 0.0;
  ContrastOptions options;
  options.direction = config.direction;
  options.alpha = config.decision.alpha;
  options.min_effect = config.decision.min_effect;
  options.horizon_units = config.decision.horizon_units;
  return ConfidenceSequences(means, variances, beliefs.correlation, unit_variance,
                             options);
}

// The running arm whose advantage over every other running arm surely
// exceeds min_effect, or -1.
int RunningWinner(const ArmContrasts& contrasts, const std::vector<bool>& stopped,
                  double min_effect) {
  const int k = static_cast<int>(stopped.size());
  // One arm left is no contest: nothing was shown about it.
  if (std::count(stopped.begin(), stopped.end(), false) < 2) return -1;
  for (int a = 0; a < k; ++a) {
    if (stopped[a]) continue;
    bool wins = true;
    for (int b = 0; b < k && wins; ++b) {
      wins = b == a || stopped[b] || contrasts.low[a][b] > min_effect;
    }
    if (wins) return a;
  }
  return -1;
}

std::vector<absl::Time> EpochStarts(const AllocationHistory& history) {
  std::vector<absl::Time> starts;
  for (const Epoch& epoch : history.epochs()) starts.push_back(epoch.start);
  return starts;
}

}  // namespace

void ExperimentRuntime::GrowAggregates(size_t epoch) {
  const size_t arms = arm_ids_.size();
  aggregates_.resize(epoch + 1, std::vector<Aggregate>(arms));
  for (auto& by_epoch : guardrail_aggregates_) {
    by_epoch.resize(epoch + 1, std::vector<Aggregate>(arms));
  }
}

void ExperimentRuntime::Fold(const std::vector<OpenUnit>& matured,
                             const std::vector<double>& values) {
  const size_t guards = config_.guardrails.size();
  // A composite primary's terms, as (guardrail index, weight).
  std::vector<std::pair<size_t, double>> terms;
  for (const CompositeTerm& term : config_.composite) {
    for (size_t g = 0; g < guards; ++g) {
      if (config_.guardrails[g].id == term.metric) terms.emplace_back(g, term.weight);
    }
  }
  for (size_t i = 0; i < matured.size(); ++i) {
    const OpenUnit& unit = matured[i];
    const double* unit_values = guards > 0 ? &values[i * guards] : nullptr;
    double outcome = unit.outcome;
    if (!terms.empty()) {
      outcome = 0;
      for (const auto& [g, weight] : terms) outcome += weight * unit_values[g];
    }
    if (unit.flags & OpenUnit::kHoldout) {
      holdout_.Add(outcome);
      continue;
    }
    if (aggregates_.size() <= unit.epoch) GrowAggregates(unit.epoch);
    aggregates_[unit.epoch][unit.arm].Add(outcome);
    for (size_t g = 0; g < guards; ++g) {
      guardrail_aggregates_[g][unit.epoch][unit.arm].Add(unit_values[g]);
    }
  }
}

std::vector<ReallocationReport> ExperimentRuntime::AdvanceTo(absl::Time now) {
  std::vector<ReallocationReport> out;
  if (state() == ExperimentState::kCreated) return out;
  MutexLock lock(&learn_mu_);
  if (now > Clock()) {
    clock_us_.store(absl::ToUnixMicros(now), std::memory_order_release);
  }
  // Matured units are folded at grid points only: the scan is O(open units)
  // and a grid point is where their figures are needed. Between grid points
  // a unit whose window closed waits in the ledger, already treated as
  // matured by Assign and RecordOutcome.
  while (scheduler_->next_due() <= now) {
    const absl::Time due = scheduler_->next_due();
    scheduler_->Step();
    ledger_.TakeMatured(due, matured_, &matured_values_);
    Fold(matured_, matured_values_);
    ReportAt(due, CurrentTallies(), out);
  }
  return out;
}

void ExperimentRuntime::ReportAt(absl::Time due, const GridTallies& tallies,
                                 std::vector<ReallocationReport>& out) {
  const absl::Time stop = absl::FromUnixMicros(stop_us_.load(std::memory_order_acquire));
  if (due >= stop) return;  // stopped: units mature, nothing reallocates
  // A grid point at or before an arm change's epoch (an Advance that comes
  // after the change) reports but cannot begin an epoch before it.
  ReallocationReport report =
      Evaluate(due, /*reallocate=*/due > last_epoch_start_, tallies);
  if (report.reallocated) {
    // The weights came from ShapeWeights and the due time is after the
    // last epoch's start, so Publish cannot fail.
    absl::Status published = assigner_->Publish(due, report.weights_after);
    report.epoch = assigner_->current_epoch();
    if (published.ok()) last_epoch_start_ = due;
    if (!published.ok()) {
      report.reallocated = false;
      report.reason = absl::StrCat("publish failed: ", published.message());
      report.weights_after = report.weights_before;
    }
  }
  for (size_t a = 0; a < report.arms.size(); ++a) {
    if (!report.arms[a].stopped_by.empty()) stopped_by_[a] = report.arms[a].stopped_by;
  }
  KeepReport(report);
  out.push_back(std::move(report));
}

GridTallies ExperimentRuntime::CurrentTallies() const {
  if (fed_tallies_.has_value()) return *fed_tallies_;
  GridTallies tallies;
  tallies.exposures = ledger_.ExposureCounts();
  tallies.late = late_.load(std::memory_order_relaxed);
  tallies.unknown = unknown_.load(std::memory_order_relaxed);
  tallies.duplicate = duplicate_.load(std::memory_order_relaxed);
  return tallies;
}

absl::StatusOr<std::vector<ReallocationReport>> ExperimentRuntime::AdvanceWith(
    absl::Time due, const MaturedAtGridPoint& figures) {
  if (state() == ExperimentState::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment ", QuoteId(config_.id), " is not started"));
  }
  MutexLock lock(&learn_mu_);
  if (due != scheduler_->next_due()) {
    return absl::InvalidArgumentError(
        absl::StrCat("grid point ", FormatRfc3339(due), " is not the next one, ",
                     FormatRfc3339(scheduler_->next_due())));
  }
  const size_t arms = arm_ids_.size();
  const size_t epochs = static_cast<size_t>(assigner_->current_epoch()) + 1;
  auto check = [&](const std::vector<std::vector<Aggregate>>& cells,
                   absl::string_view what) -> absl::Status {
    if (cells.size() > epochs) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " has epoch ", cells.size() - 1, "; the last begun is ", epochs - 1));
    }
    for (const std::vector<Aggregate>& row : cells) {
      if (row.size() > arms) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " has ", row.size(), " arms; the experiment has ", arms));
      }
      for (const Aggregate& cell : row) {
        if (cell.n < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat(what, " has a negative unit count, ", cell.n));
        }
      }
    }
    return absl::OkStatus();
  };
  ALLOT_RETURN_IF_ERROR(check(figures.primary, "matured units"));
  if (!figures.guardrails.empty() &&
      figures.guardrails.size() != config_.guardrails.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("figures have ", figures.guardrails.size(),
                     " guardrails; the experiment has ", config_.guardrails.size()));
  }
  for (const auto& guard : figures.guardrails) {
    ALLOT_RETURN_IF_ERROR(check(guard, "guardrail units"));
  }
  if (figures.tallies.exposures.size() > epochs) {
    return absl::InvalidArgumentError(absl::StrCat("exposures have epoch ",
                                                   figures.tallies.exposures.size() - 1,
                                                   "; the last begun is ", epochs - 1));
  }
  for (const std::vector<int64_t>& row : figures.tallies.exposures) {
    if (row.size() > arms) {
      return absl::InvalidArgumentError(absl::StrCat("exposures have ", row.size(),
                                                     " arms; the experiment has ", arms));
    }
  }
  if (figures.holdout.n < 0 || figures.tallies.late < 0 || figures.tallies.unknown < 0 ||
      figures.tallies.duplicate < 0) {
    return absl::InvalidArgumentError("figures have a negative count");
  }
  if (due > Clock()) clock_us_.store(absl::ToUnixMicros(due), std::memory_order_release);
  scheduler_->Step();
  FoldSums(figures);
  fed_tallies_ = figures.tallies;
  std::vector<ReallocationReport> out;
  ReportAt(due, *fed_tallies_, out);
  return out;
}

void ExperimentRuntime::FoldSums(const MaturedAtGridPoint& figures) {
  const size_t guards = config_.guardrails.size();
  auto add = [](Aggregate& to, const Aggregate& from) {
    to.n += from.n;
    to.sum += from.sum;
    to.sum_sq += from.sum_sq;
  };
  add(holdout_, figures.holdout);
  for (size_t e = 0; e < figures.primary.size(); ++e) {
    const std::vector<Aggregate>& row = figures.primary[e];
    // As Fold: an epoch's cells exist once one of its units matured.
    bool any = false;
    for (const Aggregate& cell : row) any = any || cell.n > 0;
    if (!any) continue;
    if (aggregates_.size() <= e) GrowAggregates(e);
    for (size_t a = 0; a < row.size(); ++a) add(aggregates_[e][a], row[a]);
    for (size_t g = 0; g < guards && g < figures.guardrails.size(); ++g) {
      if (e >= figures.guardrails[g].size()) continue;
      const std::vector<Aggregate>& guard_row = figures.guardrails[g][e];
      for (size_t a = 0; a < guard_row.size(); ++a) {
        add(guardrail_aggregates_[g][e][a], guard_row[a]);
      }
    }
  }
}

void ExperimentRuntime::KeepReport(ReallocationReport report) {
  reports_.push_back(std::move(report));
  ++reports_made_;
  if (reports_kept_ > 0 && static_cast<int64_t>(reports_.size()) > reports_kept_) {
    reports_.pop_front();
  }
}

int64_t ExperimentRuntime::GridPointsDue(absl::Time now) const {
  if (state() == ExperimentState::kCreated) return 0;
  ReaderMutexLock lock(&learn_mu_);
  if (!scheduler_.has_value() || scheduler_->next_due() > now) return 0;
  absl::Duration rem;  // IDivDuration writes it: it may not be null
  const int64_t steps =
      absl::IDivDuration(now - scheduler_->next_due(), config_.schedule.interval, &rem);
  return steps == INT64_MAX ? steps : steps + 1;
}

absl::Time ExperimentRuntime::NextDue() const {
  if (state() == ExperimentState::kCreated) return absl::InfiniteFuture();
  ReaderMutexLock lock(&learn_mu_);
  return scheduler_.has_value() ? scheduler_->next_due() : absl::InfiniteFuture();
}

ReallocationReport ExperimentRuntime::Evaluate(absl::Time time, bool reallocate,
                                               const GridTallies& tallies) const {
  try {
    return EvaluateOrThrow(time, reallocate, tallies);
  } catch (const std::exception& e) {
    ReallocationReport report;
    report.experiment = config_.id;
    report.epoch = assigner_->current_epoch();
    report.time = time;
    const absl::Span<const double> current = assigner_->WeightsOf(report.epoch);
    report.weights_before.assign(current.begin(), current.end());
    report.weights_after = report.weights_before;
    report.reason = absl::StrCat("statistics failed: ", e.what());
    report.srm_p = PreviousSrmP();  // a running minimum never goes back up
    return report;
  }
}

BeliefOptions ExperimentRuntime::BeliefOptionsAt(absl::Time time) const {
  BeliefOptions options;
  options.metric = config_.metric;
  options.direction = config_.direction;
  options.priors = Priors{config_.prior_alpha, config_.prior_beta};
  if (config_.estimate.half_life > absl::ZeroDuration()) {
    options.epoch_weights =
        EpochDiscounts(EpochStarts(assigner_->history()), aggregates_.size(), time,
                       config_.estimate.half_life);
  }
  // Fresh but reproducible draws for each report (for Monte Carlo, if ever
  // needed): the experiment's seed mixed with the report's index.
  options.seed = MixSeed(config_.seed, static_cast<uint64_t>(reports_made_));
  return options;
}

ReallocationReport ExperimentRuntime::EvaluateOrThrow(absl::Time time, bool reallocate,
                                                      const GridTallies& tallies) const {
  const int k = static_cast<int>(arm_ids_.size());
  const Assigner& assigner = *assigner_;
  const int64_t epoch = assigner.current_epoch();
  const absl::Span<const double> current = assigner.WeightsOf(epoch);

  ReallocationReport report;
  report.experiment = config_.id;
  report.epoch = epoch;
  report.time = time;
  report.weights_before.assign(current.begin(), current.end());
  report.weights_after = report.weights_before;
  report.late_outcomes = tallies.late;
  report.unknown_outcomes = tallies.unknown;
  report.duplicate_outcomes = tallies.duplicate;
  report.holdout_units = holdout_.n;
  report.holdout_outcomes = holdout_.sum;

  // The race (P(best), expected loss, decisions and the policy) is among the
  // active arms: arm j of it is arms[active[j]]. Retired arms keep their
  // estimates in the report. With no arm retired the two are the same.
  const std::vector<int> active = ActiveArms();
  const int m = static_cast<int>(active.size());
  const bool all_active = m == k;
  std::vector<std::vector<Aggregate>> active_columns;
  if (!all_active) active_columns = ArmColumns(aggregates_, active);
  const std::vector<std::vector<Aggregate>>& race =
      all_active ? aggregates_ : active_columns;

  // Estimates, posteriors, P(best) and expected loss, once per report: the
  // policy gets the same figures the report shows.
  BeliefOptions options = BeliefOptionsAt(time);
  options.probabilities = m >= 2;
  ArmBeliefs beliefs = EstimateBeliefs(race, m, config_.estimate.method, options);
  ArmBeliefs every_arm;
  if (!all_active) {
    BeliefOptions figures_only = options;
    figures_only.probabilities = false;
    every_arm = EstimateBeliefs(aggregates_, k, config_.estimate.method, figures_only);
  }
  const std::vector<ArmEstimate>& estimates = beliefs.estimates;
  const std::vector<ArmPosterior>& posteriors = beliefs.posteriors;
  const absl::StatusOr<std::vector<double>>& p_best = beliefs.p_best;
  const absl::StatusOr<std::vector<double>>& loss = beliefs.expected_loss;
  // A fallback to another estimate than configured is said in the reason.
  const std::string note = beliefs.note.empty() ? "" : absl::StrCat("; ", beliefs.note);

  // Exposures and the sample-ratio check against each epoch's bucket shares
  // (an epoch before an arm joined has none of it).
  std::vector<std::vector<int64_t>> exposures = tallies.exposures;
  std::vector<std::vector<double>> shares(exposures.size());
  std::vector<int64_t> arm_exposures(k);
  for (size_t e = 0; e < exposures.size(); ++e) {
    const std::vector<uint32_t> counts = assigner.CountsOf(static_cast<int64_t>(e));
    exposures[e].resize(k);
    shares[e].assign(k, 0.0);
    for (size_t a = 0; a < counts.size(); ++a) {
      shares[e][a] = static_cast<double>(counts[a]) / kNumBuckets;
    }
    for (int a = 0; a < k; ++a) arm_exposures[a] += exposures[e][a];
  }
  // The always-valid p-value: the running minimum of 1 / E over this
  // experiment's reports, so reading every report costs no false alarms.
  report.srm_p = SampleRatioPValue(exposures, shares, PreviousSrmP());

  // Per arm: its place in the race, or -1 when retired.
  std::vector<int> place(k, -1);
  for (int j = 0; j < m; ++j) place[active[j]] = j;
  for (int a = 0; a < k; ++a) {
    const int j = place[a];
    const ArmEstimate& estimate = j >= 0 ? estimates[j] : every_arm.estimates[a];
    const ArmPosterior& posterior = j >= 0 ? posteriors[j] : every_arm.posteriors[a];
    ArmReport arm;
    arm.id = arm_ids_[a];
    arm.units = estimate.units;
    arm.outcomes = estimate.outcomes;
    arm.mean = estimate.mean;
    arm.pooled_mean = estimate.pooled_mean;
    arm.ci95_low = posterior.Quantile(0.025);
    arm.ci95_high = posterior.Quantile(0.975);
    arm.p_best = j >= 0 && p_best.ok() ? (*p_best)[j] : 0.0;
    arm.expected_loss = j >= 0 && loss.ok() ? (*loss)[j] : 0.0;
    arm.exposures = arm_exposures[a];
    arm.stopped_by = stopped_by_[a];
    arm.retired = j < 0;
    report.arms.push_back(std::move(arm));
  }
  if (m < 2) {
    report.reason = absl::StrCat("one active arm: nothing to learn", note);
    return report;
  }
  if (!p_best.ok() || !loss.ok()) {
    report.reason =
        absl::StrCat("posteriors unusable: ",
                     (!p_best.ok() ? p_best.status() : loss.status()).message());
    return report;
  }

  // Burn-in: the starting arms (still active) each need their minimum; an
  // arm added later holds its share until it has its own.
  std::vector<int> starting;
  for (int a : active) {
    if (added_epoch_[a] == 0) starting.push_back(a);
  }
  if (starting.empty()) starting = active;
  std::vector<int64_t> starting_units;
  std::vector<std::string> starting_ids;
  for (int a : starting) {
    starting_units.push_back(report.arms[a].units);
    starting_ids.push_back(arm_ids_[a]);
  }
  const std::string blocker =
      BurnInBlocker(starting_units, starting_ids, config_.schedule.min_units_per_arm);
  report.guardrails = GuardrailReports(blocker.empty(), active);
  if (!blocker.empty()) {
    report.reason = absl::StrCat(blocker, note);
    return report;
  }
  // New guardrail stops (the first guardrail that shows an arm harmful).
  std::string stops;
  for (const GuardrailReport& g : report.guardrails) {
    for (int a : active) {
      if (report.arms[a].stopped_by.empty() && g.excess_low[a] > 0) {
        report.arms[a].stopped_by = g.id;
        absl::StrAppend(&stops, "; arm ", QuoteId(arm_ids_[a]), " stopped by guardrail ",
                        QuoteId(g.id));
      }
    }
  }
  std::vector<bool> stopped(m);
  int running = 0;
  for (int j = 0; j < m; ++j) {
    stopped[j] = !report.arms[active[j]].stopped_by.empty();
    running += !stopped[j];
  }
  // Decisions read confidence sequences of the undiscounted estimate.
  ArmBeliefs undiscounted;
  if (!options.epoch_weights.empty()) {
    options.epoch_weights.clear();
    options.probabilities = false;
    undiscounted = EstimateBeliefs(race, m, config_.estimate.method, options);
  }
  const ArmContrasts contrasts =
      Contrasts(options.probabilities ? beliefs : undiscounted, config_);
  for (int j = 0; j < m; ++j) {
    report.arms[active[j]].advantage_low = contrasts.advantage_low[j];
    report.arms[active[j]].advantage_high = contrasts.advantage_high[j];
    report.arms[active[j]].eliminated = contrasts.eliminated[j];
  }
  int winner = config_.decision.rule == DecisionRule::kPBest
                   ? PBestWinner(*p_best, *loss, estimates)
                   : contrasts.winner;
  if (running < m && config_.decision.rule == DecisionRule::kConfidenceSequence) {
    // A stopped arm is out of the race: the winner must surely beat every
    // arm still running (the sequences still hold for all pairs at once).
    winner = RunningWinner(contrasts, stopped, config_.decision.min_effect);
  }
  if (winner >= 0 && stopped[winner]) winner = -1;
  report.winner = winner >= 0 ? active[winner] : -1;
  // A winner must also be cleared by every guardrail with a harm: surely
  // within the allowed harm of the best-guarded arm (or that arm itself).
  for (size_t g = 0; g < report.guardrails.size() && report.winner >= 0; ++g) {
    const GuardrailReport& guard = report.guardrails[g];
    if (config_.guardrails[g].harm == HarmKind::kNone || guard.best == report.winner) {
      continue;
    }
    if (!(guard.excess_high[report.winner] < 0)) report.winner = -1;
  }
  if (!reallocate) {
    report.reason = absl::StrCat("report only", note, stops);
    return report;
  }
  std::vector<double> race_current(m), race_split(m);
  for (int j = 0; j < m; ++j) {
    race_current[j] = current[active[j]];
    race_split[j] = split_[active[j]];
  }
  PolicyInput input;
  input.arms = posteriors;
  input.p_best = *p_best;
  input.current_weights = race_current;
  input.initial_weights = race_split;
  input.direction = config_.direction;
  absl::StatusOr<std::vector<double>> target = policy_->Target(input);
  if (!target.ok()) {
    report.reason = absl::StrCat("policy failed: ", target.status().message());
    return report;
  }
  std::vector<double> next =
      policy_->shaped()
          ? ShapeWeights(*target, race_current, config_.floor, config_.max_shift)
          : *std::move(target);
  if (running == 0) {
    // Every arm harms some guardrail: nothing is left to route to, so the
    // weights stand and the report says so.
    absl::StrAppend(&stops, "; every arm is stopped by a guardrail: weights kept");
  } else if (running < m) {
    // Stopped arms get weight 0 (not the floor), past any max_shift cap;
    // the others keep their proportions.
    double sum = 0;
    for (int j = 0; j < m; ++j) sum += stopped[j] ? 0.0 : next[j];
    for (int j = 0; j < m; ++j) {
      next[j] = stopped[j] ? 0.0 : (sum > 0 ? next[j] / sum : 1.0 / running);
    }
  }
  // An added arm short of its burn-in holds its share; the others share
  // the rest in the policy's proportions.
  std::vector<bool> holds(m, false);
  double held = 0, free = 0;
  for (int j = 0; j < m; ++j) {
    const int a = active[j];
    holds[j] = added_epoch_[a] > 0 && !stopped[j] &&
               report.arms[a].units < config_.schedule.min_units_per_arm;
    if (holds[j]) {
      held += race_current[j];
    } else {
      free += next[j];
    }
  }
  if (held > 0) {
    for (int j = 0; j < m; ++j) {
      if (holds[j]) {
        next[j] = race_current[j];
      } else if (free > 0) {
        next[j] = next[j] * (1 - held) / free;
      }
    }
  }
  std::vector<double> after(k, 0.0);
  for (int j = 0; j < m; ++j) after[active[j]] = next[j];
  if (after == report.weights_before) {
    report.reason =
        absl::StrCat(PolicyKindName(policy_->kind()), ": weights unchanged", note, stops);
    return report;
  }
  report.weights_after = std::move(after);
  report.reallocated = true;
  report.reason = absl::StrCat(PolicyKindName(policy_->kind()), note, stops);
  return report;
}

std::vector<GuardrailReport> ExperimentRuntime::GuardrailReports(
    bool decide, const std::vector<int>& active) const {
  const int k = static_cast<int>(arm_ids_.size());
  const int m = static_cast<int>(active.size());
  const size_t guards = config_.guardrails.size();
  int harms = 0;
  for (const GuardrailConfig& g : config_.guardrails) harms += g.harm != HarmKind::kNone;
  std::vector<GuardrailReport> out;
  for (size_t g = 0; g < guards; ++g) {
    const GuardrailConfig& guard = config_.guardrails[g];
    GuardrailReport report;
    report.id = guard.id;
    report.excess_low.assign(k, std::nan(""));
    report.excess_high.assign(k, std::nan(""));
    BeliefOptions options;
    options.metric = guard.kind;
    options.direction = guard.direction;
    options.probabilities = false;
    // Every arm's mean; the harm contrasts among the active arms only.
    const ArmBeliefs beliefs =
        EstimateBeliefs(guardrail_aggregates_[g], k, config_.estimate.method, options);
    for (int a = 0; a < k; ++a) report.mean.push_back(beliefs.estimates[a].mean);
    ArmBeliefs active_beliefs;
    if (m != k) {
      active_beliefs = EstimateBeliefs(ArmColumns(guardrail_aggregates_[g], active), m,
                                       config_.estimate.method, options);
    }
    const ArmBeliefs& race = m == k ? beliefs : active_beliefs;
    std::vector<double> means(m), variances(m);
    double units = 0, unit_variance = 0;
    for (int j = 0; j < m; ++j) {
      const ArmEstimate& e = race.estimates[j];
      means[j] = e.mean;
      variances[j] = e.variance_of_mean;
      units += static_cast<double>(e.units);
      unit_variance += static_cast<double>(e.units) * e.pooled_variance;
    }
    if (decide && guard.harm != HarmKind::kNone && m >= 2) {
      HarmOptions harm;
      harm.direction = guard.direction;
      harm.relative = guard.harm == HarmKind::kRelative;
      harm.max_harm = guard.max_harm;
      // Every guardrail's M (M - 1) ordered contrasts are read together.
      harm.alpha = config_.decision.alpha / (harms * m * (m - 1));
      harm.horizon_units = config_.decision.horizon_units;
      const GuardrailExcess excess =
          ExcessHarm(means, variances, race.correlation,
                     units > 0 ? unit_variance / units : 0.0, harm);
      report.best = excess.best >= 0 ? active[excess.best] : excess.best;
      for (int j = 0; j < m; ++j) {
        report.excess_low[active[j]] = excess.excess_low[j];
        report.excess_high[active[j]] = excess.excess_high[j];
      }
    }
    out.push_back(std::move(report));
  }
  return out;
}

double ExperimentRuntime::PreviousSrmP() const {
  return reports_.empty() ? 1.0 : reports_.back().srm_p;
}

std::vector<ReallocationReport> ExperimentRuntime::Reports() const {
  ReaderMutexLock lock(&learn_mu_);
  return std::vector<ReallocationReport>(reports_.begin(), reports_.end());
}

ReallocationReport ExperimentRuntime::FinalReport() const {
  ReaderMutexLock lock(&learn_mu_);
  if (state() == ExperimentState::kCreated) {
    ReallocationReport report;
    report.experiment = config_.id;
    report.reason = "never started";
    report.weights_before = report.weights_after = initial_weights_;
    return report;
  }
  ReallocationReport report = Evaluate(Clock(), /*reallocate=*/false, CurrentTallies());
  report.reason = "final report";
  return report;
}

}  // namespace allot::internal
