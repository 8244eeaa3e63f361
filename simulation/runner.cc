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
        harmful_(HarmfulArms(scenario_)),
        dynamic_(HasArmChanges(scenario_)),
        // The simulator reads reports as Advance returns them; the engine
        // keeps one, so memory does not grow with reallocations.
        engine_(EngineOptions{.reports_kept = 1}) {}

  absl::Status Run(std::atomic<int64_t>* units_done);
  PolicyOutcome TakeOutcome() { return std::move(out_); }

 private:
  // One arm of the experiment, in the engine's order: a scenario arm, or a
  // churned one (scenario_arm -1) with its drawn rate.
  struct RunArm {
    std::string id;
    int scenario_arm = -1;
    double base_mean = 0;
    bool active = true;
  };
  // A scheduled join or retirement of scenario arm `arm`.
  struct ArmEvent {
    int64_t at_us;
    bool join;
    int arm;
  };

  absl::Status Advance(int64_t t_us);
  // The truth of the moment over the engine's arms, judged among the
  // active ones: World::TruthAt itself when no arm comes or goes.
  const Truth& Moment(int64_t t_us);
  // An arm change at `t_us` or just after: strictly after the last epoch's
  // start (AddArm and RetireArm start an epoch) and any earlier change.
  int64_t ChangeTime(int64_t t_us) const {
    return std::max({t_us, last_epoch_us_ + 1, min_time_us_});
  }
  // Delivers the outcomes due at or before `t_us`.
  absl::Status DeliverUntil(int64_t t_us);
  absl::Status ApplyEvent(const ArmEvent& event);
  absl::Status Join(int64_t t_us, const ArmConfig& arm, int scenario_arm,
                    double base_mean);
  absl::Status Retire(int64_t t_us, int engine_arm, RetireMode mode);
  // Churn at an arrival that drew it: a uniformly chosen active arm (not
  // the holdout's baseline) retires and a new arm joins.
  absl::Status Churn(const Arrival& arrival);
  // Bookkeeping after an arm change started an epoch at `at_us`.
  void AfterChange(int64_t at_us);
  // Moves the movement tallies on to `epoch`.
  void EnterEpoch(int64_t epoch);
  void RecordEpoch(EpochRecord record);
  absl::Status DeliverOne();
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
  const bool dynamic_;  // arms come and go (HasArmChanges)
  Engine engine_;
  UnitName name_;
  std::vector<RunArm> arms_;
  std::vector<ArmEvent> events_;  // by time
  size_t next_event_ = 0;
  int64_t last_epoch_us_ = 0;  // the start of the latest epoch
  int64_t min_time_us_ = 0;    // the time of the last arm change
  int churned_ = 0;            // churned arms so far: "churn-1", ...
  Truth moment_;
  bool moment_valid_ = false;
  // Arrivals waiting to be served together, with their requests and names.
  std::vector<Arrival> batch_;
  std::vector<AssignRequest> requests_;
  std::vector<absl::StatusOr<Assignment>> results_;
  std::array<UnitName, kBatch> batch_names_;
  UnitMemory units_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  int64_t epoch_ = 0;
  // Of the current epoch: returning arrivals whose previous visit was in
  // the epoch before, and those of them served another arm.
  int64_t returning_now_ = 0;
  int64_t moved_now_ = 0;
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
  for (size_t a = 0; a < scenario_.arms.size(); ++a) {
    const ArmTruth& arm = scenario_.arms[a];
    if (!arm.joins_at.has_value()) {
      arms_.push_back(
          {arm.id, static_cast<int>(a), world_.BaseMean(static_cast<int>(a))});
    } else {
      events_.push_back(
          {absl::ToInt64Microseconds(*arm.joins_at), true, static_cast<int>(a)});
    }
    if (arm.retires_at.has_value()) {
      events_.push_back(
          {absl::ToInt64Microseconds(*arm.retires_at), false, static_cast<int>(a)});
    }
  }
  // Joins before retirements at the same time (never zero active arms),
  // then file order.
  std::stable_sort(events_.begin(), events_.end(),
                   [](const ArmEvent& a, const ArmEvent& b) {
                     return a.at_us != b.at_us ? a.at_us < b.at_us : a.join > b.join;
                   });
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
  // A scheduled join or retirement changes the truth of the moment too.
  for (const ArmEvent& event : events_) {
    last_change_us_ = last_change_us_ == INT64_MAX
                          ? event.at_us
                          : std::max(last_change_us_, event.at_us);
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
    const int64_t change_us =
        next_event_ < events_.size() ? events_[next_event_].at_us : kNever;
    // A reallocation is due before anyone is served at its moment, and at
    // equal times outcomes are delivered before arrivals are served. Between
    // two reallocations, new units' arrivals are served in batches ahead of
    // the outcomes due meanwhile: a new unit has no outcome yet, and the
    // engine's answers for one unit do not depend on another's outcome, so
    // this is what serving them in time order gives. A returning unit waits
    // for the outcomes due before it (one of them may be its own, from an
    // exposure it is about to repeat).
    // A scheduled arm change waits for the reallocation due at its moment
    // and comes before the outcomes and arrivals of that moment; an arrival
    // that draws churn ends its batch, and the change follows it.
    auto may_batch = [&](const Arrival& a, int64_t first_outcome_us) {
      return a.time_us < grid_us && a.time_us < change_us &&
             (!a.returning || a.time_us < first_outcome_us);
    };
    if (grid_us != kNever && grid_us <= outcome_us && grid_us <= arrival_us &&
        grid_us <= change_us) {
      ALLOT_RETURN_IF_ERROR(Advance(grid_us));
      next_grid_us += interval_us;
    } else if (change_us != kNever && change_us <= outcome_us &&
               change_us <= arrival_us) {
      ALLOT_RETURN_IF_ERROR(ApplyEvent(events_[next_event_++]));
    } else if (more && may_batch(arrival, outcome_us)) {
      batch_.clear();
      bool churn = false;
      while (more && batch_.size() < kBatch && may_batch(arrival, outcome_us)) {
        batch_.push_back(arrival);
        more = stream.Next(arrival);
        if (batch_.back().churn) {
          churn = true;
          break;
        }
      }
      ALLOT_RETURN_IF_ERROR(ServeBatch());
      if (churn) ALLOT_RETURN_IF_ERROR(Churn(batch_.back()));
      progress += static_cast<int64_t>(batch_.size());
      if (progress >= kProgressBatch && units_done != nullptr) {
        units_done->fetch_add(progress, std::memory_order_relaxed);
        progress = 0;
      }
    } else if (outcome_us != kNever) {
      ALLOT_RETURN_IF_ERROR(DeliverOne());
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
  EnterEpoch(epoch_ + 1);  // adds the last epoch's movement
  return absl::OkStatus();
}

absl::Status PolicyRun::DeliverOne() {
  const Pending p = pending_.top();
  pending_.pop();
  const absl::string_view metric =
      p.metric < 0 ? absl::string_view() : config_.guardrails[p.metric].id;
  // Never before an arm change (which may be a microsecond after its
  // arrival's time).
  const int64_t t_us = std::max(p.time_us, min_time_us_);
  return engine_.RecordOutcome(config_.id, name_.Of(p.unit), At(t_us), p.value, metric)
      .status();
}

absl::Status PolicyRun::DeliverUntil(int64_t t_us) {
  while (!pending_.empty() && pending_.top().time_us <= t_us) {
    ALLOT_RETURN_IF_ERROR(DeliverOne());
  }
  return absl::OkStatus();
}

void PolicyRun::EnterEpoch(int64_t epoch) {
  if (epoch_ >= 1 && returning_now_ > 0) {
    out_.moved_share +=
        static_cast<double>(moved_now_) / static_cast<double>(returning_now_);
  }
  returning_now_ = 0;
  moved_now_ = 0;
  epoch_ = epoch;
}

void PolicyRun::RecordEpoch(EpochRecord record) {
  if (static_cast<int64_t>(out_.epochs.size()) >= kMaxEpochRecords) {
    ++out_.epochs_dropped;
    return;
  }
  out_.epochs.push_back(std::move(record));
}

const Truth& PolicyRun::Moment(int64_t t_us) {
  const Truth& truth = truth_.At(t_us);
  if (!dynamic_) return truth;
  if (moment_valid_ && moment_.from_us == truth.from_us &&
      moment_.until_us == truth.until_us) {
    return moment_;
  }
  const double factor = world_.WeeklyFactorAt(t_us);
  const size_t k = arms_.size();
  moment_.from_us = truth.from_us;
  moment_.until_us = truth.until_us;
  moment_.mean.resize(k);
  moment_.sd.resize(k);
  moment_.is_best.assign(k, 0);
  bool any = false;
  for (size_t a = 0; a < k; ++a) {
    const RunArm& arm = arms_[a];
    moment_.mean[a] =
        arm.scenario_arm >= 0 ? truth.mean[arm.scenario_arm] : arm.base_mean * factor;
    moment_.sd[a] = arm.scenario_arm >= 0 ? truth.sd[arm.scenario_arm] : 0.0;
    if (!arm.active) continue;
    const double m = moment_.mean[a];
    if (!any ||
        (world_.higher_is_better() ? m > moment_.best_mean : m < moment_.best_mean)) {
      moment_.best_mean = m;
      any = true;
    }
  }
  int best_count = 0;
  moment_.best_arm = -1;
  for (size_t a = 0; a < k; ++a) {
    if (arms_[a].active && moment_.mean[a] == moment_.best_mean) {
      moment_.is_best[a] = 1;
      moment_.best_arm = static_cast<int>(a);
      ++best_count;
    }
  }
  if (best_count > 1) moment_.best_arm = -1;
  moment_valid_ = true;
  return moment_;
}

absl::Status PolicyRun::ApplyEvent(const ArmEvent& event) {
  const ArmTruth& arm = scenario_.arms[static_cast<size_t>(event.arm)];
  if (event.join) {
    ArmConfig config(arm.id);
    config.payload = arm.payload;
    config.initial_share = arm.initial_share;
    return Join(event.at_us, config, event.arm, world_.BaseMean(event.arm));
  }
  for (size_t a = 0; a < arms_.size(); ++a) {
    if (arms_[a].scenario_arm == event.arm) {
      // Churn may have retired it already.
      if (!arms_[a].active) return absl::OkStatus();
      return Retire(event.at_us, static_cast<int>(a), arm.retire);
    }
  }
  return absl::InternalError(
      absl::StrCat("arm \"", arm.id, "\" retires before it joins"));
}

absl::Status PolicyRun::Join(int64_t t_us, const ArmConfig& arm, int scenario_arm,
                             double base_mean) {
  const int64_t at_us = ChangeTime(t_us);
  ALLOT_RETURN_IF_ERROR(DeliverUntil(at_us));
  ALLOT_RETURN_IF_ERROR(engine_.AddArm(config_.id, arm, At(at_us)));
  arms_.push_back({arm.id, scenario_arm, base_mean, true});
  AfterChange(at_us);
  return absl::OkStatus();
}

absl::Status PolicyRun::Retire(int64_t t_us, int engine_arm, RetireMode mode) {
  const int64_t at_us = ChangeTime(t_us);
  ALLOT_RETURN_IF_ERROR(DeliverUntil(at_us));
  ALLOT_RETURN_IF_ERROR(engine_.RetireArm(
      config_.id, arms_[static_cast<size_t>(engine_arm)].id, At(at_us), mode));
  arms_[static_cast<size_t>(engine_arm)].active = false;
  AfterChange(at_us);
  return absl::OkStatus();
}

void PolicyRun::AfterChange(int64_t at_us) {
  last_epoch_us_ = at_us;
  min_time_us_ = at_us;
  moment_valid_ = false;
  EnterEpoch(epoch_ + 1);
  if (static_cast<int64_t>(out_.epochs.size()) >= kMaxEpochRecords) {
    ++out_.epochs_dropped;
    return;
  }
  // The new epoch's weights, from the history (bounded: only while epochs
  // are recorded).
  absl::StatusOr<AllocationHistory> history = engine_.History(config_.id);
  if (history.ok() && !history->epochs().empty()) {
    RecordEpoch({epoch_, at_us, history->epochs().back().weights, {}});
  }
}

absl::Status PolicyRun::Churn(const Arrival& arrival) {
  if (out_.churn_at_cap) return absl::OkStatus();
  // Room is kept for the scheduled joins still to come.
  int64_t joins_ahead = 0;
  for (size_t e = next_event_; e < events_.size(); ++e) joins_ahead += events_[e].join;
  if (static_cast<int64_t>(arms_.size()) + joins_ahead >= kMaxArms) {
    out_.churn_at_cap = true;  // the engine would refuse another arm
    return absl::OkStatus();
  }
  std::vector<int> candidates;
  for (size_t a = 0; a < arms_.size(); ++a) {
    const bool baseline = config_.holdout > 0 && arms_[a].id == config_.baseline;
    if (arms_[a].active && !baseline) candidates.push_back(static_cast<int>(a));
  }
  if (candidates.empty()) return absl::OkStatus();
  const size_t n = candidates.size();
  const size_t pick =
      std::min(n - 1, static_cast<size_t>(arrival.churn_pick * static_cast<double>(n)));
  ALLOT_RETURN_IF_ERROR(
      Retire(arrival.time_us, candidates[pick], scenario_.churn.retire));
  ArmConfig config(absl::StrCat("churn-", ++churned_));
  config.initial_share = scenario_.churn.initial_share;
  ALLOT_RETURN_IF_ERROR(Join(arrival.time_us, config, -1, arrival.churn_rate));
  ++out_.churn_changes;
  return absl::OkStatus();
}

absl::Status PolicyRun::Advance(int64_t t_us) {
  ALLOT_ASSIGN_OR_RETURN(std::vector<ReallocationReport> reports,
                         engine_.Advance(At(t_us)));
  for (const ReallocationReport& report : reports) Observe(report);
  return absl::OkStatus();
}

// Returns the index of the arm leading by `estimate` (the first on ties)
// among the arms `active` marks (every arm when it is empty).
int Leader(const ReallocationReport& report, double ArmReport::*estimate,
           bool higher_is_better, const std::vector<char>& active) {
  int leader = -1;
  for (size_t a = 0; a < report.arms.size(); ++a) {
    if (!active.empty() && (a >= active.size() || !active[a])) continue;
    if (leader < 0) {
      leader = static_cast<int>(a);
      continue;
    }
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
  const int truly_best = Moment(t_us).best_arm;
  // Judged among the active arms (a retired arm's figures stay in reports).
  std::vector<char> active;
  if (dynamic_) {
    for (const RunArm& arm : arms_) active.push_back(arm.active);
  }
  bool past_burn_in = !report.arms.empty();
  for (size_t a = 0; a < report.arms.size(); ++a) {
    if (!active.empty() && (a >= active.size() || !active[a])) continue;
    const ArmReport& arm = report.arms[a];
    past_burn_in =
        past_burn_in && arm.units > 0 && arm.units >= config_.schedule.min_units_per_arm;
  }
  if (past_burn_in && truly_best >= 0) {
    const bool higher = config_.direction == Direction::kHigherIsBetter;
    ++judged_reports_;
    simpson_wrong_ += Leader(report, &ArmReport::mean, higher, active) != truly_best;
    pooled_wrong_ +=
        Leader(report, &ArmReport::pooled_mean, higher, active) != truly_best;
  }
  if (report.winner >= 0) {
    // The right winner is the best active arm of the moment that no
    // guardrail rules out: the best harmless one.
    const int best = BestHarmless(Moment(t_us));
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
  last_epoch_us_ = t_us;
  EnterEpoch(report.epoch);
  if (static_cast<int64_t>(out_.epochs.size()) >= kMaxEpochRecords) {
    ++out_.epochs_dropped;
    return;
  }
  EpochRecord record{report.epoch, t_us, report.weights_after, {}};
  for (const ArmReport& arm : report.arms) record.p_best.push_back(arm.p_best);
  RecordEpoch(std::move(record));
}

absl::Status PolicyRun::ServeBatch() {
  requests_.clear();
  for (size_t i = 0; i < batch_.size(); ++i) {
    const Arrival& a = batch_[i];
    // Never before an arm change (a microsecond after its arrival's time).
    AssignRequest r{batch_names_[i].Of(a.unit), At(std::max(a.time_us, min_time_us_)),
                    std::nullopt};
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
    returning_now_ += across;
    if (units_.last_arm[a.unit] != arm) {
      moved_now_ += across;
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
  const Truth& truth = Moment(a.time_us);
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
