// Copyright 2026 The allot Authors.

#include "allot/simulation/runner.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "allot/engine.h"
#include "allot/policy.h"
#include "allot/status_macros.h"
#include "allot/weights.h"

namespace allot::sim {
namespace {

// How many arrivals a worker simulates between progress updates.
constexpr int64_t kProgressBatch = 4096;

// How many arrivals go to the engine in one AssignBatch call.
constexpr size_t kBatch = 64;

// An outcome waiting for its time: of the primary metric (metric -1) or of
// guardrail `metric`.
struct Pending {
  int64_t time_us;
  int64_t unit;
  double value;
  int metric;
  friend bool operator>(const Pending& a, const Pending& b) {
    if (a.time_us != b.time_us) return a.time_us > b.time_us;
    return a.unit != b.unit ? a.unit > b.unit : a.metric > b.metric;
  }
};

// A unit's id as the engine sees it: "u" and its number.
class UnitName {
 public:
  absl::string_view Of(int64_t unit) {
    auto [end, ec] = std::to_chars(buffer_ + 1, buffer_ + sizeof(buffer_), unit);
    return absl::string_view(buffer_, static_cast<size_t>(end - buffer_));
  }

 private:
  char buffer_[24] = {'u'};
};

// What the simulator remembers per unit, only when units come back.
struct UnitMemory {
  std::vector<uint8_t> last_arm;
  std::vector<uint8_t> moved;
  std::vector<uint32_t> last_epoch;  // the epoch in force at the last visit
  std::vector<int64_t> first_us;     // only with pin_unit_start
};

// The truth in force, recomputed when time leaves its stretch.
class TruthCache {
 public:
  explicit TruthCache(const World& world) : world_(world) {}
  const Truth& At(int64_t t_us) {
    if (!valid_ || t_us < truth_.from_us || t_us >= truth_.until_us) {
      truth_ = world_.TruthAt(t_us);
      valid_ = true;
    }
    return truth_;
  }

 private:
  const World& world_;
  Truth truth_;
  bool valid_ = false;
};

// The experiment one policy runs as on one replicate: a salt of its own per
// replicate (independent hashing across replicates, the same for every
// policy within one) and a per-replicate Monte Carlo seed.
ExperimentConfig ReplicateConfig(const ExperimentConfig& base, int replicate) {
  ExperimentConfig config = base;
  config.salt = absl::StrCat(base.EffectiveSalt(), "/", replicate);
  config.seed = MixSeed(base.seed, static_cast<uint64_t>(replicate));
  return config;
}

absl::Time At(int64_t t_us) { return SimulationStart() + absl::Microseconds(t_us); }

class PolicyRun {
 public:
  PolicyRun(const World& world, const ExperimentConfig& config)
      : world_(world),
        scenario_(world.scenario()),
        config_(config),
        truth_(world),
        track_units_(scenario_.traffic.returning_share > 0),
        pin_(scenario_.traffic.pin_unit_start),
        guardrails_(static_cast<int>(config.guardrails.size())),
        harmful_(HarmfulArms(scenario_)) {}

  absl::Status Run(std::atomic<int64_t>* units_done);
  PolicyOutcome TakeOutcome() { return std::move(out_); }

 private:
  absl::Status Advance(int64_t t_us);
  // Assigns the batch of arrivals in one engine call, then serves each.
  absl::Status ServeBatch();
  void Serve(const Arrival& arrival, const Assignment& assignment);
  // Queues the unit's guardrail outcomes under `arm` (events and values
  // drawn from its key), due at `outcome_us`.
  void QueueGuardrails(const Arrival& arrival, int arm, int64_t outcome_us);
  void Observe(const ReallocationReport& report);
  // The best arm of the moment among those no guardrail truth harms (the
  // truly best when none is harmful); -1 on a tie.
  int BestHarmless(const Truth& truth) const;

  const World& world_;
  const Scenario& scenario_;
  const ExperimentConfig& config_;
  TruthCache truth_;
  const bool track_units_;
  const bool pin_;
  const int guardrails_;  // how many
  // Per arm, whether its guardrail truths harm a guardrail (HarmfulArms).
  const std::vector<char> harmful_;
  Engine engine_;
  UnitName name_;
  // Arrivals waiting to be served together, with their requests and names.
  std::vector<Arrival> batch_;
  std::vector<AssignRequest> requests_;
  std::vector<absl::StatusOr<Assignment>> results_;
  std::array<UnitName, kBatch> batch_names_;
  UnitMemory units_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  int64_t epoch_ = 0;
  std::vector<int64_t> returning_in_epoch_{0};
  std::vector<int64_t> moved_in_epoch_{0};
  int64_t best_exposures_ = 0;
  // The last change of an arm's truth (INT64_MAX: none), and the exposures
  // after it, all and on a best arm.
  int64_t last_change_us_ = INT64_MAX;
  int64_t after_change_ = 0;
  int64_t best_after_change_ = 0;
  int64_t moved_units_ = 0;
  bool first_winner_seen_ = false;
  int64_t judged_reports_ = 0;
  int64_t simpson_wrong_ = 0;
  int64_t pooled_wrong_ = 0;
  int next_sample_ = 0;
  PolicyOutcome out_;
};

absl::Status PolicyRun::Run(std::atomic<int64_t>* units_done) {
  ALLOT_RETURN_IF_ERROR(engine_.CreateExperiment(config_));
  ALLOT_RETURN_IF_ERROR(engine_.Start(config_.id, SimulationStart()));
  out_.epochs.push_back({0, 0, *NormalizeWeights(config_.InitialWeights()), {}});
  if (guardrails_ > 0) {
    out_.stop_hours.assign(scenario_.arms.size(), std::nan(""));
  }
  out_.regret_curve.reserve(kRegretCurvePoints);
  for (const ArmTruth& arm : scenario_.arms) {
    for (const ArmChange& change : arm.changes) {
      const int64_t at_us = absl::ToInt64Microseconds(change.at);
      last_change_us_ =
          last_change_us_ == INT64_MAX ? at_us : std::max(last_change_us_, at_us);
    }
  }
  const ScheduleConfig& schedule = config_.schedule;
  const int64_t interval_us = absl::ToInt64Microseconds(schedule.interval);
  int64_t next_grid_us = absl::ToInt64Microseconds(FirstReallocationDelay(schedule));
  const int64_t horizon_us = world_.horizon_us();
  constexpr int64_t kNever = INT64_MAX;

  ArrivalStream stream = world_.Arrivals();
  Arrival arrival;
  bool more = stream.Next(arrival);
  int64_t progress = 0;
  while (true) {
    const int64_t arrival_us = more ? arrival.time_us : kNever;
    const int64_t outcome_us = pending_.empty() ? kNever : pending_.top().time_us;
    const int64_t grid_us = next_grid_us <= horizon_us ? next_grid_us : kNever;
    // A reallocation is due before anyone is served at its moment, and at
    // equal times outcomes are delivered before arrivals are served. Between
    // two reallocations, new units' arrivals are served in batches ahead of
    // the outcomes due meanwhile: a new unit has no outcome yet, and the
    // engine's answers for one unit do not depend on another's outcome, so
    // this is what serving them in time order gives. A returning unit waits
    // for the outcomes due before it (one of them may be its own, from an
    // exposure it is about to repeat).
    auto may_batch = [&](const Arrival& a, int64_t first_outcome_us) {
      return a.time_us < grid_us && (!a.returning || a.time_us < first_outcome_us);
    };
    if (grid_us != kNever && grid_us <= outcome_us && grid_us <= arrival_us) {
      ALLOT_RETURN_IF_ERROR(Advance(grid_us));
      next_grid_us += interval_us;
    } else if (more && may_batch(arrival, outcome_us)) {
      batch_.clear();
      while (more && batch_.size() < kBatch && may_batch(arrival, outcome_us)) {
        batch_.push_back(arrival);
        more = stream.Next(arrival);
      }
      ALLOT_RETURN_IF_ERROR(ServeBatch());
      progress += static_cast<int64_t>(batch_.size());
      if (progress >= kProgressBatch && units_done != nullptr) {
        units_done->fetch_add(progress, std::memory_order_relaxed);
        progress = 0;
      }
    } else if (outcome_us != kNever) {
      const Pending p = pending_.top();
      pending_.pop();
      const absl::string_view metric =
          p.metric < 0 ? absl::string_view() : config_.guardrails[p.metric].id;
      ALLOT_RETURN_IF_ERROR(
          engine_
              .RecordOutcome(config_.id, name_.Of(p.unit), At(p.time_us), p.value, metric)
              .status());
    } else {
      break;
    }
  }
  if (units_done != nullptr) units_done->fetch_add(progress, std::memory_order_relaxed);
  ALLOT_RETURN_IF_ERROR(Advance(horizon_us));
  while (static_cast<int>(out_.regret_curve.size()) < kRegretCurvePoints) {
    out_.regret_curve.push_back(out_.regret);
  }

  const double exposures = static_cast<double>(std::max<int64_t>(1, out_.exposures));
  out_.share_best = static_cast<double>(best_exposures_) / exposures;
  if (after_change_ > 0) {
    out_.share_best_after_change =
        static_cast<double>(best_after_change_) / static_cast<double>(after_change_);
  }
  out_.ever_moved_share = static_cast<double>(moved_units_) / exposures;
  if (judged_reports_ > 0) {
    out_.simpson_wrong_share =
        static_cast<double>(simpson_wrong_) / static_cast<double>(judged_reports_);
    out_.pooled_wrong_share =
        static_cast<double>(pooled_wrong_) / static_cast<double>(judged_reports_);
  }
  for (size_t e = 1; e < returning_in_epoch_.size(); ++e) {
    if (returning_in_epoch_[e] > 0) {
      out_.moved_share += static_cast<double>(moved_in_epoch_[e]) /
                          static_cast<double>(returning_in_epoch_[e]);
    }
  }
  return absl::OkStatus();
}

absl::Status PolicyRun::Advance(int64_t t_us) {
  ALLOT_ASSIGN_OR_RETURN(std::vector<ReallocationReport> reports,
                         engine_.Advance(At(t_us)));
  for (const ReallocationReport& report : reports) Observe(report);
  return absl::OkStatus();
}

// Returns the index of the arm leading by `estimate` (the first on ties).
int Leader(const ReallocationReport& report, double ArmReport::*estimate,
           bool higher_is_better) {
  int leader = 0;
  for (size_t a = 1; a < report.arms.size(); ++a) {
    const double v = report.arms[a].*estimate;
    const double best = report.arms[leader].*estimate;
    if (higher_is_better ? v > best : v < best) leader = static_cast<int>(a);
  }
  return leader;
}

int PolicyRun::BestHarmless(const Truth& truth) const {
  if (std::find(harmful_.begin(), harmful_.end(), 1) == harmful_.end()) {
    return truth.best_arm;
  }
  const bool higher = config_.direction == Direction::kHigherIsBetter;
  int best = -1;
  bool tie = false;
  for (size_t a = 0; a < truth.mean.size(); ++a) {
    if (a < harmful_.size() && harmful_[a]) continue;
    if (best < 0 ||
        (higher ? truth.mean[a] > truth.mean[best] : truth.mean[a] < truth.mean[best])) {
      best = static_cast<int>(a);
      tie = false;
    } else if (truth.mean[a] == truth.mean[best]) {
      tie = true;
    }
  }
  return tie ? -1 : best;
}

void PolicyRun::Observe(const ReallocationReport& report) {
  const int64_t t_us = absl::ToInt64Microseconds(report.time - SimulationStart());
  if (report.srm_p < kSrmAlarmP) out_.srm_alarm = true;
  for (size_t a = 0; a < out_.stop_hours.size() && a < report.arms.size(); ++a) {
    if (!report.arms[a].stopped_by.empty() && std::isnan(out_.stop_hours[a])) {
      out_.stop_hours[a] = static_cast<double>(t_us) / kMicrosPerHour;
    }
  }
  out_.counted_trials = 0;
  out_.counted_outcomes = 0;
  for (const ArmReport& arm : report.arms) {
    out_.counted_trials += arm.units;
    out_.counted_outcomes += arm.outcomes;
  }
  const int truly_best = truth_.At(t_us).best_arm;
  bool past_burn_in = !report.arms.empty();
  for (const ArmReport& arm : report.arms) {
    past_burn_in =
        past_burn_in && arm.units > 0 && arm.units >= config_.schedule.min_units_per_arm;
  }
  if (past_burn_in && truly_best >= 0) {
    const bool higher = config_.direction == Direction::kHigherIsBetter;
    ++judged_reports_;
    simpson_wrong_ += Leader(report, &ArmReport::mean, higher) != truly_best;
    pooled_wrong_ += Leader(report, &ArmReport::pooled_mean, higher) != truly_best;
  }
  if (report.winner >= 0) {
    // The right winner is the best arm of the moment that no guardrail
    // rules out: the best harmless one.
    const int best = BestHarmless(truth_.At(t_us));
    if (!first_winner_seen_) {
      first_winner_seen_ = true;
      out_.winner_correct = report.winner == best;
      out_.wrong_winner = report.winner != best;
    }
    if (report.winner == best && std::isnan(out_.time_to_winner_hours)) {
      out_.time_to_winner_hours = static_cast<double>(t_us) / kMicrosPerHour;
    }
  }
  if (!report.reallocated) return;
  out_.tv_bound += TotalVariation(report.weights_before, report.weights_after);
  epoch_ = report.epoch;
  EpochRecord record{report.epoch, t_us, report.weights_after, {}};
  for (const ArmReport& arm : report.arms) record.p_best.push_back(arm.p_best);
  out_.epochs.push_back(std::move(record));
  returning_in_epoch_.resize(epoch_ + 1);
  moved_in_epoch_.resize(epoch_ + 1);
}

absl::Status PolicyRun::ServeBatch() {
  requests_.clear();
  for (size_t i = 0; i < batch_.size(); ++i) {
    const Arrival& a = batch_[i];
    AssignRequest r{batch_names_[i].Of(a.unit), At(a.time_us), std::nullopt};
    if (pin_ && track_units_) {
      // A unit's first arrival is its start; it may come back in this batch.
      if (a.returning) {
        r.unit_start = At(units_.first_us[a.unit]);
      } else {
        units_.first_us.push_back(a.time_us);
      }
    }
    requests_.push_back(r);
  }
  results_.resize(batch_.size());
  ALLOT_RETURN_IF_ERROR(
      engine_.AssignBatch(config_.id, requests_, absl::MakeSpan(results_)));
  for (size_t i = 0; i < batch_.size(); ++i) {
    if (!results_[i].ok()) return results_[i].status();
    Serve(batch_[i], *results_[i]);
  }
  return absl::OkStatus();
}

void PolicyRun::Serve(const Arrival& a, const Assignment& assignment) {
  while (next_sample_ < kRegretCurvePoints &&
         a.time_us * kRegretCurvePoints >= world_.horizon_us() * (next_sample_ + 1)) {
    out_.regret_curve.push_back(out_.regret);
    ++next_sample_;
  }
  ++out_.arrivals;
  const uint8_t arm = static_cast<uint8_t>(assignment.arm);
  if (a.returning) {
    // A reallocation's movement: of the units seen in the epoch before it
    // that come back in the epoch it starts, the share served another arm.
    const bool across = units_.last_epoch[a.unit] + 1 == epoch_;
    units_.last_epoch[a.unit] = static_cast<uint32_t>(epoch_);
    returning_in_epoch_[epoch_] += across;
    if (units_.last_arm[a.unit] != arm) {
      moved_in_epoch_[epoch_] += across;
      units_.last_arm[a.unit] = arm;
      if (!units_.moved[a.unit]) {
        units_.moved[a.unit] = 1;
        ++moved_units_;
      }
    }
    // A unit the engine has forgotten (schedule.retention) is exposed again
    // as a new trial: it is one in the world too, with its own outcome.
    if (!assignment.new_exposure) return;
  } else if (track_units_) {
    units_.last_arm.push_back(arm);
    units_.moved.push_back(0);
    units_.last_epoch.push_back(static_cast<uint32_t>(epoch_));
  }
  ++out_.exposures;
  const Truth& truth = truth_.At(a.time_us);
  out_.regret += world_.RegretOf(truth, arm);
  best_exposures_ += truth.is_best[arm];
  if (a.time_us >= last_change_us_) {
    ++after_change_;
    best_after_change_ += truth.is_best[arm];
  }
  const int64_t outcome_us = a.time_us + a.delay_us;
  if (guardrails_ > 0) QueueGuardrails(a, arm, outcome_us);
  double value = 0;
  if (config_.metric == MetricKind::kBinary) {
    if (a.convert_draw >= truth.mean[arm]) return;
    value = 1;
  } else {
    value = truth.mean[arm] + truth.sd[arm] * a.value_draw;
  }
  out_.conversions += value;
  // Outcomes after the horizon never reach the engine; they still count
  // above, since the unit's conversion does not depend on when it is seen.
  if (outcome_us <= world_.horizon_us()) pending_.push({outcome_us, a.unit, value, -1});
}

void PolicyRun::QueueGuardrails(const Arrival& a, int arm, int64_t outcome_us) {
  // With the primary's outcome: one delay per unit, so a guardrail is seen
  // when the conversion would be.
  if (outcome_us > world_.horizon_us()) return;
  const std::vector<GuardrailTruth>& truths = scenario_.arms[arm].guardrails;
  for (int g = 0; g < guardrails_; ++g) {
    const GuardrailTruth& truth = truths[g];
    if (config_.guardrails[g].kind == MetricKind::kBinary) {
      if (GuardrailUniform(a.guardrail_key, g) < truth.mean) {
        pending_.push({outcome_us, a.unit, 1.0, g});
      }
    } else {
      pending_.push({outcome_us, a.unit,
                     truth.mean + truth.sd * GuardrailNormal(a.guardrail_key, g), g});
    }
  }
}

}  // namespace

absl::StatusOr<PolicyOutcome> RunPolicy(const World& world, int policy, int replicate,
                                        std::atomic<int64_t>* units_done) {
  const Scenario& scenario = world.scenario();
  const PolicySpec& spec = scenario.policies[static_cast<size_t>(policy)];
  const ExperimentConfig config = ReplicateConfig(spec.config, replicate);
  PolicyRun run(world, config);
  absl::Status status = run.Run(units_done);
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("replicate ", replicate, ", policy \"", spec.name,
                                     "\": ", status.message()));
  }
  return run.TakeOutcome();
}

absl::StatusOr<std::vector<ReplicateOutcome>> RunScenario(const Scenario& scenario,
                                                          const RunOptions& options) {
  ALLOT_RETURN_IF_ERROR(ValidateScenario(scenario));
  if (options.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be >= 1, got ", options.threads));
  }
  const int replicates = scenario.replicates;
  std::vector<ReplicateOutcome> outcomes(static_cast<size_t>(replicates));
  std::vector<absl::Status> errors(static_cast<size_t>(replicates));
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (int r = next.fetch_add(1); r < replicates && !failed.load();
         r = next.fetch_add(1)) {
      const World world(scenario, r);
      ReplicateOutcome& outcome = outcomes[static_cast<size_t>(r)];
      for (int p = 0; p < static_cast<int>(scenario.policies.size()); ++p) {
        absl::StatusOr<PolicyOutcome> o = RunPolicy(world, p, r, options.units_done);
        if (!o.ok()) {
          errors[static_cast<size_t>(r)] = o.status();
          failed.store(true);
          return;
        }
        outcome.policies.push_back(*std::move(o));
      }
    }
  };
  const int threads = std::min(options.threads, replicates);
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (std::thread& w : workers) w.join();
  for (const absl::Status& e : errors) {
    if (!e.ok()) return e;
  }
  return outcomes;
}

}  // namespace allot::sim
