// Copyright 2026 The allot Authors.
//
// One experiment's whole state as plain values (what snapshots hold), and a
// runtime rebuilt from it, checked for consistency first.

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "allot/field_error.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "runtime/experiment_runtime.h"

namespace allot::internal {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", what));
}

// Counts a snapshot may hold: far above any real experiment (10^12 units
// per epoch and arm), and low enough that sums over 2^22 epochs cannot
// overflow an int64.
constexpr int64_t kMaxCount = int64_t{1} << 40;

absl::Status CheckCount(absl::string_view field, int64_t n) {
  if (n < 0 || n > kMaxCount) {
    return Invalid(field, absl::StrCat("must be in [0, ", kMaxCount, "], got ", n));
  }
  return absl::OkStatus();
}

bool IsFiniteTime(absl::Time t) {
  return t != absl::InfinitePast() && t != absl::InfiniteFuture();
}

// Weights of `k` arms, each in [0, 1], summing to 1 (to rounding).
absl::Status CheckWeights(absl::string_view field, const std::vector<double>& w,
                          size_t k) {
  if (w.size() != k) {
    return Invalid(field, absl::StrCat("has ", w.size(), " weights for ", k, " arms"));
  }
  double total = 0;
  for (double x : w) {
    if (!(x >= 0 && x <= 1)) {
      return Invalid(field, absl::StrCat("must be in [0, 1], got ", x));
    }
    total += x;
  }
  if (!(std::abs(total - 1) <= 1e-6)) {
    return Invalid(field, absl::StrCat("must sum to 1, got ", total));
  }
  return absl::OkStatus();
}

// n >= 0, finite sums, nothing without units, and sum^2 <= n sum_sq
// (Cauchy-Schwarz, with room for rounding).
absl::Status CheckAggregate(absl::string_view field, const Aggregate& g) {
  ALLOT_RETURN_IF_ERROR(CheckCount(absl::StrCat(field, ".n"), g.n));
  if (!std::isfinite(g.sum) || !std::isfinite(g.sum_sq) || !(g.sum_sq >= 0)) {
    return Invalid(field, absl::StrCat("must have a finite sum and a finite sum of "
                                       "squares >= 0, got ",
                                       g.sum, " and ", g.sum_sq));
  }
  const double n = static_cast<double>(g.n);
  if ((g.n == 0 && (g.sum != 0 || g.sum_sq != 0)) ||
      !(g.sum * g.sum <= n * g.sum_sq * (1 + 1e-9) + 1e-9)) {
    return Invalid(field, absl::StrCat("sum ", g.sum, " and sum of squares ", g.sum_sq,
                                       " are inconsistent with ", g.n, " units"));
  }
  return absl::OkStatus();
}

absl::Status CheckProbability(absl::string_view field, double p) {
  // Quadrature may overshoot 1 by a rounding error.
  if (!(p >= 0 && p <= 1 + 1e-9)) {
    return Invalid(field, absl::StrCat("must be in [0, 1], got ", p));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateReport(const ReallocationReport& r) {
  const size_t k = r.arms.size();
  ALLOT_RETURN_IF_ERROR(CheckCount("report epoch", r.epoch));
  if (r.winner < -1 || r.winner >= static_cast<int>(k)) {
    return Invalid("report winner",
                   absl::StrCat("must be -1 or an arm below ", k, ", got ", r.winner));
  }
  if (k > 0) {
    ALLOT_RETURN_IF_ERROR(CheckWeights("report weights_before", r.weights_before, k));
    ALLOT_RETURN_IF_ERROR(CheckWeights("report weights_after", r.weights_after, k));
  }
  if (!std::isnan(r.srm_p))
    ALLOT_RETURN_IF_ERROR(CheckProbability("report srm_p", r.srm_p));
  ALLOT_RETURN_IF_ERROR(CheckCount("report late_outcomes", r.late_outcomes));
  ALLOT_RETURN_IF_ERROR(CheckCount("report unknown_outcomes", r.unknown_outcomes));
  ALLOT_RETURN_IF_ERROR(CheckCount("report duplicate_outcomes", r.duplicate_outcomes));
  ALLOT_RETURN_IF_ERROR(CheckCount("report holdout_units", r.holdout_units));
  if (!std::isfinite(r.holdout_outcomes)) {
    return Invalid("report holdout_outcomes",
                   absl::StrCat("must be finite, got ", r.holdout_outcomes));
  }
  for (const ArmReport& a : r.arms) {
    const std::string field = absl::StrCat("report arm \"", a.id, "\"");
    ALLOT_RETURN_IF_ERROR(CheckCount(absl::StrCat(field, " units"), a.units));
    ALLOT_RETURN_IF_ERROR(CheckCount(absl::StrCat(field, " exposures"), a.exposures));
    ALLOT_RETURN_IF_ERROR(CheckProbability(absl::StrCat(field, " p_best"), a.p_best));
    if (!std::isfinite(a.outcomes)) {
      return Invalid(absl::StrCat(field, " outcomes"),
                     absl::StrCat("must be finite, got ", a.outcomes));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AllocationHistory> HistoryOf(const ExperimentRuntimeState& st) {
  const size_t starting = st.config.arms.size();
  if (!st.arms.empty() && st.arms.size() < starting) {
    return Invalid("arms", absl::StrCat("number ", st.arms.size(), ", fewer than the ",
                                        starting, " the experiment started with"));
  }
  for (size_t a = 0; a < starting && !st.arms.empty(); ++a) {
    if (st.arms[a].id != st.config.arms[a].id || st.arms[a].added_epoch != 0 ||
        st.arms[a].payload != st.config.arms[a].payload) {
      return Invalid(absl::StrCat("arm ", a),
                     "must be the experiment's starting arm, added in epoch 0");
    }
  }
  std::vector<std::string> payloads;
  for (const ArmConfig& arm : st.config.arms) payloads.push_back(arm.payload);
  ALLOT_ASSIGN_OR_RETURN(
      AllocationHistory history,
      AllocationHistory::Create(st.config.id, st.config.EffectiveSalt(),
                                st.config.ArmIds(), st.epochs[0].start,
                                st.epochs[0].weights, std::move(payloads)));
  // With no arms listed the arms never changed: every epoch has the config's.
  for (size_t e = 1; e < st.epochs.size(); ++e) {
    const Epoch& epoch = st.epochs[e];
    const int64_t number = static_cast<int64_t>(e);
    int added = -1, retired = -1;
    for (size_t a = 0; a < st.arms.size(); ++a) {
      const HistoryArm& arm = st.arms[a];
      if (arm.added_epoch == number && added < 0) {
        added = static_cast<int>(a);
      } else if (arm.retired_epoch == number && retired < 0) {
        retired = static_cast<int>(a);
      } else if (arm.added_epoch == number || arm.retired_epoch == number) {
        return Invalid(absl::StrCat("epoch ", e), "has more than one arm change");
      }
    }
    if (added >= 0 && retired >= 0) {
      return Invalid(absl::StrCat("epoch ", e), "has more than one arm change");
    }
    if (added >= 0) {
      if (static_cast<size_t>(added) != history.arms().size()) {
        return Invalid(absl::StrCat("arm ", added), "joined out of order");
      }
      ALLOT_RETURN_IF_ERROR(history.AddArm(epoch.start, st.arms[added].id,
                                           st.arms[added].payload, epoch.weights));
    } else if (retired >= 0) {
      ALLOT_RETURN_IF_ERROR(history.RetireArm(
          epoch.start, retired, st.arms[retired].retire_mode, epoch.weights));
    } else {
      ALLOT_RETURN_IF_ERROR(history.Append(epoch.start, epoch.weights));
    }
  }
  if (st.arms.empty()) return history;
  if (history.arms().size() != st.arms.size()) {
    return Invalid("arms", "name an arm that joins after the last epoch");
  }
  for (size_t a = 0; a < st.arms.size(); ++a) {
    if (history.arms()[a].retired_epoch != st.arms[a].retired_epoch) {
      return Invalid(absl::StrCat("arm ", a), "retires after the last epoch");
    }
  }
  return history;
}

absl::Status ValidateSurfaces(const EngineState& state) {
  absl::flat_hash_map<absl::string_view, absl::string_view> running;  // surface: id
  for (const ExperimentRuntimeState& e : state.experiments) {
    if (e.config.surface.empty() ||
        e.lifecycle != static_cast<int>(ExperimentState::kRunning)) {
      continue;
    }
    auto [it, inserted] = running.emplace(e.config.surface, e.config.id);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("surface ", QuoteId(e.config.surface),
                       " has two running experiments, ", QuoteId(it->second), " and ",
                       QuoteId(e.config.id), "; an engine runs at most one per surface"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateExperimentState(const ExperimentRuntimeState& st) {
  ALLOT_RETURN_IF_ERROR(ValidateExperimentConfig(st.config));
  const size_t k = st.arms.empty() ? st.config.arms.size() : st.arms.size();
  if (st.lifecycle < 0 || st.lifecycle > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("experiment state ", st.lifecycle, " is not known"));
  }
  const bool created =
      static_cast<ExperimentState>(st.lifecycle) == ExperimentState::kCreated;
  if (created != st.epochs.empty()) {
    return absl::InvalidArgumentError(
        "a started experiment needs epochs and a created one has none");
  }
  // Epoch numbers must fit an open unit's 22 bits.
  if (st.epochs.size() > (size_t{1} << 22)) {
    return Invalid("epochs", absl::StrCat("number ", st.epochs.size(),
                                          ", more than an open unit can name"));
  }
  for (size_t e = 0; e < st.epochs.size(); ++e) {
    const Epoch& epoch = st.epochs[e];
    const std::string field = absl::StrCat("epoch ", e);
    if (epoch.number != static_cast<int64_t>(e)) {
      return Invalid(field, absl::StrCat("is numbered ", epoch.number));
    }
    if (!IsFiniteTime(epoch.start) ||
        (e > 0 && !(epoch.start > st.epochs[e - 1].start))) {
      return Invalid(field, absl::StrCat("must start at a finite time after the "
                                         "previous epoch, got ",
                                         FormatRfc3339(epoch.start)));
    }
    size_t known = k;
    if (!st.arms.empty()) {
      known = std::count_if(st.arms.begin(), st.arms.end(), [&](const HistoryArm& arm) {
        return arm.added_epoch <= static_cast<int64_t>(e);
      });
    }
    ALLOT_RETURN_IF_ERROR(
        CheckWeights(absl::StrCat(field, " weights"), epoch.weights, known));
  }
  if (!created) {
    // The weights of every epoch, and its arms, as AllocationHistory checks
    // them.
    ALLOT_RETURN_IF_ERROR(HistoryOf(st).status());
  } else if (!st.arms.empty()) {
    return Invalid("arms", "change only while the experiment runs");
  }
  const int64_t epochs = static_cast<int64_t>(st.epochs.size());
  if (!created) {
    if (st.start != st.epochs[0].start) {
      return Invalid("start", absl::StrCat(FormatRfc3339(st.start),
                                           " is not the start of epoch 0 at ",
                                           FormatRfc3339(st.epochs[0].start)));
    }
    // The clock is kept in whole microseconds, rounded down (and saturated
    // beyond the range of int64 microseconds), so times are compared with it
    // at that precision.
    const absl::Time clock = absl::FromUnixMicros(st.clock_us);
    if (absl::ToUnixMicros(st.epochs.back().start) > st.clock_us) {
      return Invalid("clock", absl::StrCat(FormatRfc3339(clock),
                                           " is before the last epoch's start"));
    }
    if (st.stop_us != INT64_MAX && st.stop_us < absl::ToUnixMicros(st.start)) {
      return Invalid("stop", "is before the start");
    }
    // The next due time is the first grid point after the clock: one far
    // behind it would make the next Advance replay every grid point missed.
    // Past the end of time (a start near absl's limit) it is infinite: no
    // grid point is due again.
    const absl::Duration interval = st.config.schedule.interval;
    const absl::Time first = st.start + FirstReallocationDelay(st.config.schedule);
    if (st.next_due != absl::InfiniteFuture() &&
        (!IsFiniteTime(st.next_due) || !IsFiniteTime(first) || st.next_due < first ||
         (st.next_due - first) % interval != absl::ZeroDuration() ||
         absl::ToUnixMicros(st.next_due) < st.clock_us ||
         (st.next_due > first &&
          absl::ToUnixMicros(st.next_due - interval) > st.clock_us))) {
      return Invalid("next_due", absl::StrCat(FormatRfc3339(st.next_due),
                                              " is not the first grid point after the "
                                              "clock at ",
                                              FormatRfc3339(clock)));
    }
  }
  for (const OpenUnit& unit : st.ledger.open) {
    if (unit.arm >= k || unit.epoch >= epochs) {
      return absl::InvalidArgumentError(
          absl::StrCat("open unit with arm ", static_cast<int>(unit.arm), " and epoch ",
                       static_cast<int>(unit.epoch), " is outside the experiment's ", k,
                       " arms and ", epochs, " epochs"));
    }
    if (!std::isfinite(unit.outcome)) {
      return Invalid("open unit",
                     absl::StrCat("outcome must be finite, got ", unit.outcome));
    }
  }
  if (static_cast<int64_t>(st.ledger.exposures.size()) > epochs ||
      static_cast<int64_t>(st.aggregates.size()) > epochs) {
    return absl::InvalidArgumentError("figures name epochs that do not exist");
  }
  for (size_t e = 0; e < st.ledger.exposures.size(); ++e) {
    if (st.ledger.exposures[e].size() != k) {
      return absl::InvalidArgumentError("exposure counts do not match the arms");
    }
    for (size_t a = 0; a < k; ++a) {
      ALLOT_RETURN_IF_ERROR(CheckCount(absl::StrCat("exposures[", e, "][", a, "]"),
                                       st.ledger.exposures[e][a]));
    }
  }
  for (size_t e = 0; e < st.aggregates.size(); ++e) {
    if (st.aggregates[e].size() != k) {
      return absl::InvalidArgumentError("aggregates do not match the arms");
    }
    for (size_t a = 0; a < k; ++a) {
      ALLOT_RETURN_IF_ERROR(CheckAggregate(absl::StrCat("aggregates[", e, "][", a, "]"),
                                           st.aggregates[e][a]));
    }
  }
  if (!st.guardrail_aggregates.empty() &&
      st.guardrail_aggregates.size() != st.config.guardrails.size()) {
    return absl::InvalidArgumentError("guardrail aggregates do not match the guardrails");
  }
  for (size_t g = 0; g < st.guardrail_aggregates.size(); ++g) {
    if (st.guardrail_aggregates[g].size() > st.aggregates.size()) {
      return absl::InvalidArgumentError(
          "guardrail figures name epochs that do not exist");
    }
    for (size_t e = 0; e < st.guardrail_aggregates[g].size(); ++e) {
      if (st.guardrail_aggregates[g][e].size() != k) {
        return absl::InvalidArgumentError("guardrail aggregates do not match the arms");
      }
      for (size_t a = 0; a < k; ++a) {
        ALLOT_RETURN_IF_ERROR(CheckAggregate(
            absl::StrCat("guardrail_aggregates[", g, "][", e, "][", a, "]"),
            st.guardrail_aggregates[g][e][a]));
      }
    }
  }
  const size_t values = st.ledger.open.size() * st.config.guardrails.size();
  if (!st.ledger.open_values.empty() && st.ledger.open_values.size() != values) {
    return absl::InvalidArgumentError(absl::StrCat("open units have ",
                                                   st.ledger.open_values.size(),
                                                   " guardrail values, not ", values));
  }
  for (double v : st.ledger.open_values) {
    if (!std::isfinite(v)) {
      return Invalid("open unit",
                     absl::StrCat("guardrail value must be finite, got ", v));
    }
  }
  ALLOT_RETURN_IF_ERROR(CheckAggregate("holdout", st.holdout));
  ALLOT_RETURN_IF_ERROR(CheckCount("late outcomes", st.late));
  ALLOT_RETURN_IF_ERROR(CheckCount("reports made", st.reports_made));
  ALLOT_RETURN_IF_ERROR(CheckCount("unknown outcomes", st.unknown));
  ALLOT_RETURN_IF_ERROR(CheckCount("duplicate outcomes", st.duplicate));
  for (const ReallocationReport& report : st.reports) {
    ALLOT_RETURN_IF_ERROR(ValidateReport(report));
  }
  return absl::OkStatus();
}

ExperimentRuntimeState ExperimentRuntime::Export() const {
  ReaderMutexLock lock(&learn_mu_);
  ExperimentRuntimeState st;
  st.config = config_;
  st.lifecycle = state_.load(std::memory_order_acquire);
  st.stop_us = stop_us_.load(std::memory_order_acquire);
  st.clock_us = clock_us_.load(std::memory_order_acquire);
  if (state() != ExperimentState::kCreated) {
    st.start = start_;
    const AllocationHistory history = assigner_->history();
    st.epochs = history.epochs();
    const bool changed = history.arms().size() != config_.arms.size() ||
                         std::count(retired_.begin(), retired_.end(), true) > 0;
    if (changed) st.arms = history.arms();
    st.next_due = scheduler_->next_due();
  }
  st.ledger = ledger_.Export();
  for (std::vector<int64_t>& row : st.ledger.exposures) row.resize(arm_ids_.size());
  st.late = late_.load();
  st.unknown = unknown_.load();
  st.duplicate = duplicate_.load();
  st.aggregates = aggregates_;
  st.guardrail_aggregates = guardrail_aggregates_;
  st.holdout = holdout_;
  st.reports.assign(reports_.begin(), reports_.end());
  st.reports_made = reports_made_;
  return st;
}

absl::StatusOr<std::unique_ptr<ExperimentRuntime>> ExperimentRuntime::Import(
    const ExperimentRuntimeState& st) {
  ALLOT_RETURN_IF_ERROR(ValidateExperimentState(st));
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<ExperimentRuntime> runtime, Create(st.config));
  const auto lifecycle = static_cast<ExperimentState>(st.lifecycle);
  ExperimentRuntime& r = *runtime;
  if (lifecycle != ExperimentState::kCreated) {
    ALLOT_ASSIGN_OR_RETURN(AllocationHistory history, HistoryOf(st));
    ALLOT_ASSIGN_OR_RETURN(r.assigner_,
                           Assigner::Create(history, {.holdout = st.config.holdout,
                                                      .baseline_arm = r.baseline_arm_}));
    r.start_ = st.start;
    r.ledger_.set_origin(st.start);
  }
  r.ledger_.Import(st.ledger);
  r.late_.store(st.late);
  r.unknown_.store(st.unknown);
  r.duplicate_.store(st.duplicate);
  {
    MutexLock lock(&r.learn_mu_);
    if (lifecycle != ExperimentState::kCreated) {
      // The arm changes, in epoch order, as AddArm and RetireArm made them.
      for (size_t e = 1; e < st.epochs.size(); ++e) {
        for (size_t a = 0; a < st.arms.size(); ++a) {
          const HistoryArm& arm = st.arms[a];
          if (arm.added_epoch == static_cast<int64_t>(e)) {
            r.NoteArmAdded(arm.id, arm.added_epoch, st.epochs[e].weights);
          } else if (arm.retired_epoch == static_cast<int64_t>(e)) {
            r.NoteArmRetired(static_cast<int>(a), st.epochs[e].weights);
          }
        }
      }
      r.last_epoch_start_ = st.epochs.back().start;
    }
    r.aggregates_ = st.aggregates;
    // Each guardrail's rows match the primary's epochs (Fold grows them
    // together); an older state without them starts from zero counts.
    for (size_t g = 0; g < r.guardrail_aggregates_.size(); ++g) {
      if (g < st.guardrail_aggregates.size()) {
        r.guardrail_aggregates_[g] = st.guardrail_aggregates[g];
      }
      r.guardrail_aggregates_[g].resize(st.aggregates.size(),
                                        std::vector<Aggregate>(r.arm_ids_.size()));
    }
    r.holdout_ = st.holdout;
    r.reports_.assign(st.reports.begin(), st.reports.end());
    r.reports_made_ = std::max(st.reports_made, static_cast<int64_t>(st.reports.size()));
    if (!st.reports.empty()) {
      for (size_t a = 0; a < r.stopped_by_.size() && a < st.reports.back().arms.size();
           ++a) {
        r.stopped_by_[a] = st.reports.back().arms[a].stopped_by;
      }
    }
    if (lifecycle != ExperimentState::kCreated) {
      r.scheduler_.emplace(st.next_due, st.config.schedule);
      r.scheduler_->set_next_due(st.next_due);
    }
  }
  r.stop_us_.store(st.stop_us);
  r.clock_us_.store(st.clock_us);
  r.state_.store(st.lifecycle, std::memory_order_release);
  return runtime;
}

}  // namespace allot::internal
