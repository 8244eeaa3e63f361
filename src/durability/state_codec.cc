// Copyright 2026 The allot Authors.

#include "durability/state_codec.h"

#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cereal/archives/portable_binary.hpp"

namespace allot::internal {
namespace {

// How many bytes are left to decode; every sequence length is checked
// against it before anything is allocated.
struct DecodeBudget {
  std::istringstream* in = nullptr;
  size_t size = 0;
  size_t Remaining() const {
    const auto pos = in->tellg();
    return pos < 0 ? 0 : size - static_cast<size_t>(pos);
  }
};

using OutArchive = cereal::PortableBinaryOutputArchive;

// The input archive, carrying the decode budget.
class InArchive : public cereal::PortableBinaryInputArchive {
 public:
  InArchive(std::istream& in, const DecodeBudget& budget)
      : cereal::PortableBinaryInputArchive(in), budget_(budget) {}
  const DecodeBudget& budget() const { return budget_; }

 private:
  DecodeBudget budget_;
};

// Thrown inside decoding only, caught by Decode*.
struct CorruptInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

uint64_t LoadLength(InArchive& ar, size_t min_element_bytes) {
  uint64_t n = 0;
  ar(n);
  const size_t remaining = ar.budget().Remaining();
  if (n > remaining / std::max<size_t>(min_element_bytes, 1)) {
    throw CorruptInput(
        absl::StrCat("a length of ", n, " exceeds the ", remaining, " bytes left"));
  }
  return n;
}

// A bool is one byte on the wire; any value but 0 or 1 is corrupt (loading
// it straight into a bool would be undefined behaviour).
bool LoadBool(InArchive& ar) {
  uint8_t v = 0;
  ar(v);
  if (v > 1) throw CorruptInput(absl::StrCat("bad boolean ", int{v}));
  return v == 1;
}

void Save(OutArchive& ar, const Aggregate& g) { ar(g.n, g.sum, g.sum_sq); }
void Load(InArchive& ar, Aggregate& g) { ar(g.n, g.sum, g.sum_sq); }

void Save(OutArchive& ar, const OpenUnit& u) {
  ar(u.key.hi, u.key.lo, u.outcome, u.exposure_s, uint32_t{u.epoch}, uint8_t(u.arm),
     uint8_t(u.flags));
}
void Load(InArchive& ar, OpenUnit& u) {
  uint32_t epoch = 0;
  uint8_t arm = 0, flags = 0;
  ar(u.key.hi, u.key.lo, u.outcome, u.exposure_s, epoch, arm, flags);
  if (epoch >= (1u << 22) || flags > 3) throw CorruptInput("bad open unit");
  u.epoch = epoch;
  u.arm = arm;
  u.flags = flags;
}

// Declared up front so the sequence templates below find every overload.
void Save(OutArchive& ar, const Epoch& e);
void Load(InArchive& ar, Epoch& e);
void Save(OutArchive& ar, const HistoryArm& a);
void Load(InArchive& ar, HistoryArm& a);
void Save(OutArchive& ar, const ArmReport& a);
void Load(InArchive& ar, ArmReport& a);
void Save(OutArchive& ar, const GuardrailConfig& g);
void Load(InArchive& ar, GuardrailConfig& g);
void Save(OutArchive& ar, const CompositeTerm& t);
void Load(InArchive& ar, CompositeTerm& t);
void Save(OutArchive& ar, const GuardrailReport& g);
void Load(InArchive& ar, GuardrailReport& g);
void Save(OutArchive& ar, const ReallocationReport& r);
void Load(InArchive& ar, ReallocationReport& r);
void Save(OutArchive& ar, const ExperimentRuntimeState& s);
void Load(InArchive& ar, ExperimentRuntimeState& s);

// Each Save(ar, x) has a Load(ar, x) that reads the same bytes back.
void Save(OutArchive& ar, const std::string& s) {
  ar(static_cast<uint64_t>(s.size()));
  ar(cereal::binary_data(s.data(), s.size()));
}
void Load(InArchive& ar, std::string& s) {
  s.resize(LoadLength(ar, 1));
  ar(cereal::binary_data(s.data(), s.size()));
}

template <typename T>
void Save(OutArchive& ar, const T& v) requires std::is_arithmetic_v<T> {
  ar(v);
}
template <typename T>
void Load(InArchive& ar, T& v) requires std::is_arithmetic_v<T> {
  ar(v);
}

void Save(OutArchive& ar, absl::Time t) {
  // 0: finite (seconds, nanoseconds); 1: infinite past; 2: infinite future.
  if (t == absl::InfinitePast()) {
    ar(uint8_t{1});
  } else if (t == absl::InfiniteFuture()) {
    ar(uint8_t{2});
  } else {
    const int64_t seconds = absl::ToUnixSeconds(t);
    const int64_t nanos = absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds));
    ar(uint8_t{0}, seconds, nanos);
  }
}
void Load(InArchive& ar, absl::Time& t) {
  uint8_t kind = 0;
  ar(kind);
  if (kind == 1) {
    t = absl::InfinitePast();
  } else if (kind == 2) {
    t = absl::InfiniteFuture();
  } else if (kind == 0) {
    int64_t seconds = 0, nanos = 0;
    ar(seconds, nanos);
    if (nanos < 0 || nanos >= 1000000000) throw CorruptInput("bad nanoseconds");
    t = absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
  } else {
    throw CorruptInput(absl::StrCat("bad time kind ", int{kind}));
  }
}

void Save(OutArchive& ar, absl::Duration d) { ar(absl::ToInt64Nanoseconds(d)); }
void Load(InArchive& ar, absl::Duration& d) {
  int64_t nanos = 0;
  ar(nanos);
  d = absl::Nanoseconds(nanos);
}

template <typename T>
void Save(OutArchive& ar, const std::vector<T>& v) {
  ar(static_cast<uint64_t>(v.size()));
  for (const T& x : v) Save(ar, x);
}
// The fewest bytes one encoded T takes: every type here starts with a
// fixed-size field or a 64-bit length.
template <typename T>
constexpr size_t MinEncodedBytes() {
  if constexpr (std::is_arithmetic_v<T>) return sizeof(T);
  if constexpr (std::is_same_v<T, OpenUnit>) return 34;
  if constexpr (std::is_same_v<T, Aggregate>) return 24;
  return 8;
}

template <typename T>
void Load(InArchive& ar, std::vector<T>& v) {
  v.resize(LoadLength(ar, MinEncodedBytes<T>()));
  for (T& x : v) Load(ar, x);
}

void Save(OutArchive& ar, const Epoch& e) {
  ar(e.number);
  Save(ar, e.start);
  Save(ar, e.weights);
}
void Load(InArchive& ar, Epoch& e) {
  ar(e.number);
  Load(ar, e.start);
  Load(ar, e.weights);
}

void Save(OutArchive& ar, const ExperimentConfig& c) {
  Save(ar, c.id);
  Save(ar, c.salt);
  Save(ar, c.unit);
  ar(static_cast<uint64_t>(c.arms.size()));
  for (const ArmConfig& arm : c.arms) {
    Save(ar, arm.id);
    ar(arm.weight);
  }
  ar(c.holdout);
  Save(ar, c.baseline);
  Save(ar, c.fallback);
  ar(static_cast<uint8_t>(c.metric), static_cast<uint8_t>(c.direction),
     static_cast<uint8_t>(c.policy.kind), c.policy.epsilon, c.policy.top_two_beta,
     c.floor, c.max_shift, c.seed, c.prior_alpha, c.prior_beta);
  Save(ar, c.schedule.burn_in);
  ar(c.schedule.min_units_per_arm);
  Save(ar, c.schedule.interval);
  Save(ar, c.schedule.conversion_window);
}
void Load(InArchive& ar, ExperimentConfig& c) {
  Load(ar, c.id);
  Load(ar, c.salt);
  Load(ar, c.unit);
  c.arms.resize(LoadLength(ar, 9));
  for (ArmConfig& arm : c.arms) {
    Load(ar, arm.id);
    ar(arm.weight);
  }
  ar(c.holdout);
  Load(ar, c.baseline);
  Load(ar, c.fallback);
  uint8_t metric = 0, direction = 0, kind = 0;
  ar(metric, direction, kind, c.policy.epsilon, c.policy.top_two_beta, c.floor,
     c.max_shift, c.seed, c.prior_alpha, c.prior_beta);
  if (metric > 1 || direction > 1 || kind > 3) throw CorruptInput("bad enum");
  c.metric = static_cast<MetricKind>(metric);
  c.direction = static_cast<Direction>(direction);
  c.policy.kind = static_cast<PolicyKind>(kind);
  Load(ar, c.schedule.burn_in);
  ar(c.schedule.min_units_per_arm);
  Load(ar, c.schedule.interval);
  Load(ar, c.schedule.conversion_window);
}

// Config fields added after the format was fixed, encoded after everything
// else (a record's or a snapshot's end) so that older bytes, which end
// before them, still decode to the defaults.
void SaveConfigExtension(OutArchive& ar, const ExperimentConfig& c) {
  ar(c.schedule.retention.has_value());
  if (c.schedule.retention.has_value()) Save(ar, *c.schedule.retention);
  Save(ar, c.estimate.half_life);
}
void LoadConfigExtension(InArchive& ar, ExperimentConfig& c) {
  if (LoadBool(ar)) {
    absl::Duration retention;
    Load(ar, retention);
    c.schedule.retention = retention;
  }
  Load(ar, c.estimate.half_life);
}

// The estimate method, added after the extension above; absent bytes mean
// the default (an older snapshot resumes on the default estimate).
void SaveEstimateMethod(OutArchive& ar, const ExperimentConfig& c) {
  ar(static_cast<uint8_t>(c.estimate.method));
}
void LoadEstimateMethod(InArchive& ar, ExperimentConfig& c) {
  uint8_t method = 0;
  ar(method);
  if (method > 2) throw CorruptInput("bad estimate method");
  c.estimate.method = static_cast<EstimateMethod>(method);
}

// The decision rule and the reports' anytime-valid bounds, added after the
// estimate method; absent bytes mean the default rule and bounds not
// computed (NaN), as a report of an older release had none.
void SaveDecision(OutArchive& ar, const ExperimentConfig& c) {
  ar(static_cast<uint8_t>(c.decision.rule), c.decision.alpha, c.decision.min_effect,
     c.decision.horizon_units);
}
void LoadDecision(InArchive& ar, ExperimentConfig& c) {
  uint8_t rule = 0;
  ar(rule, c.decision.alpha, c.decision.min_effect, c.decision.horizon_units);
  if (rule > 1) throw CorruptInput("bad decision rule");
  c.decision.rule = static_cast<DecisionRule>(rule);
}
void SaveReportBounds(OutArchive& ar, const std::vector<ReallocationReport>& reports) {
  for (const ReallocationReport& r : reports) {
    for (const ArmReport& a : r.arms) ar(a.advantage_low, a.advantage_high, a.eliminated);
  }
}
void LoadReportBounds(InArchive& ar, std::vector<ReallocationReport>& reports) {
  for (ReallocationReport& r : reports) {
    for (ArmReport& a : r.arms) {
      ar(a.advantage_low, a.advantage_high);
      a.eliminated = LoadBool(ar);
    }
  }
}

// Metrics beyond the primary (guardrails, composite), added after the
// decision; absent bytes mean none: an older snapshot has one metric.
void Save(OutArchive& ar, const GuardrailConfig& g) {
  Save(ar, g.id);
  ar(static_cast<uint8_t>(g.kind), static_cast<uint8_t>(g.direction),
     static_cast<uint8_t>(g.harm), g.max_harm);
}
void Load(InArchive& ar, GuardrailConfig& g) {
  Load(ar, g.id);
  uint8_t kind = 0, direction = 0, harm = 0;
  ar(kind, direction, harm, g.max_harm);
  if (kind > 1 || direction > 1 || harm > 2) throw CorruptInput("bad guardrail");
  g.kind = static_cast<MetricKind>(kind);
  g.direction = static_cast<Direction>(direction);
  g.harm = static_cast<HarmKind>(harm);
}
void Save(OutArchive& ar, const CompositeTerm& t) {
  Save(ar, t.metric);
  ar(t.weight);
}
void Load(InArchive& ar, CompositeTerm& t) {
  Load(ar, t.metric);
  ar(t.weight);
}
void SaveMetrics(OutArchive& ar, const ExperimentConfig& c) {
  Save(ar, c.metric_id);
  Save(ar, c.composite);
  Save(ar, c.guardrails);
}
void LoadMetrics(InArchive& ar, ExperimentConfig& c) {
  Load(ar, c.metric_id);
  Load(ar, c.composite);
  Load(ar, c.guardrails);
}
void Save(OutArchive& ar, const GuardrailReport& g) {
  Save(ar, g.id);
  Save(ar, g.mean);
  ar(g.best);
  Save(ar, g.excess_low);
  Save(ar, g.excess_high);
}
void Load(InArchive& ar, GuardrailReport& g) {
  Load(ar, g.id);
  Load(ar, g.mean);
  ar(g.best);
  Load(ar, g.excess_low);
  Load(ar, g.excess_high);
}
void SaveReportGuardrails(OutArchive& ar,
                          const std::vector<ReallocationReport>& reports) {
  for (const ReallocationReport& r : reports) {
    for (const ArmReport& a : r.arms) Save(ar, a.stopped_by);
    Save(ar, r.guardrails);
  }
}
void LoadReportGuardrails(InArchive& ar, std::vector<ReallocationReport>& reports) {
  for (ReallocationReport& r : reports) {
    for (ArmReport& a : r.arms) Load(ar, a.stopped_by);
    Load(ar, r.guardrails);
  }
}

// The surface and the arms' payloads (and initial shares), added after the
// metrics; absent bytes mean none, as an experiment of an older release
// had. Self-contained: the arm count is repeated and must match the
// config's, so a block added after it never depends on its insides.
// The arms of an experiment whose arms changed (empty otherwise), and which
// arms of each report were retired (their indices).
void Save(OutArchive& ar, const HistoryArm& a) {
  Save(ar, a.id);
  Save(ar, a.payload);
  ar(a.added_epoch, a.retired_epoch, static_cast<uint8_t>(a.retire_mode));
}
void Load(InArchive& ar, HistoryArm& a) {
  Load(ar, a.id);
  Load(ar, a.payload);
  uint8_t mode = 0;
  ar(a.added_epoch, a.retired_epoch, mode);
  if (mode > static_cast<uint8_t>(RetireMode::kNow)) {
    throw CorruptInput(absl::StrCat("unknown retire mode ", int{mode}));
  }
  a.retire_mode = static_cast<RetireMode>(mode);
}
void SaveReportRetired(OutArchive& ar, const std::vector<ReallocationReport>& reports) {
  for (const ReallocationReport& r : reports) {
    std::vector<uint32_t> retired;
    for (size_t a = 0; a < r.arms.size(); ++a) {
      if (r.arms[a].retired) retired.push_back(static_cast<uint32_t>(a));
    }
    Save(ar, retired);
  }
}
void LoadReportRetired(InArchive& ar, std::vector<ReallocationReport>& reports) {
  for (ReallocationReport& r : reports) {
    std::vector<uint32_t> retired;
    Load(ar, retired);
    for (uint32_t a : retired) {
      if (a >= r.arms.size()) {
        throw CorruptInput(absl::StrCat("retired arm ", a, " of a report with ",
                                        r.arms.size(), " arms"));
      }
      r.arms[a].retired = true;
    }
  }
}

void SaveSurfaceAndPayloads(OutArchive& ar, const ExperimentConfig& c) {
  Save(ar, c.surface);
  ar(static_cast<uint64_t>(c.arms.size()));
  for (const ArmConfig& arm : c.arms) {
    Save(ar, arm.payload);
    ar(arm.initial_share.has_value());
    if (arm.initial_share.has_value()) ar(*arm.initial_share);
  }
}
void LoadSurfaceAndPayloads(InArchive& ar, ExperimentConfig& c) {
  Load(ar, c.surface);
  const uint64_t arms = LoadLength(ar, 9);
  if (arms != c.arms.size()) {
    throw CorruptInput(
        absl::StrCat("payloads for ", arms, " arms, but the config has ", c.arms.size()));
  }
  for (ArmConfig& arm : c.arms) {
    Load(ar, arm.payload);
    if (LoadBool(ar)) {
      double share = 0;
      ar(share);
      arm.initial_share = share;
    }
  }
}

void Save(OutArchive& ar, const ArmReport& a) {
  Save(ar, a.id);
  ar(a.units, a.outcomes, a.mean, a.ci95_low, a.ci95_high, a.pooled_mean, a.p_best,
     a.expected_loss, a.exposures);
}
void Load(InArchive& ar, ArmReport& a) {
  Load(ar, a.id);
  ar(a.units, a.outcomes, a.mean, a.ci95_low, a.ci95_high, a.pooled_mean, a.p_best,
     a.expected_loss, a.exposures);
}

void Save(OutArchive& ar, const ReallocationReport& r) {
  Save(ar, r.experiment);
  ar(r.epoch);
  Save(ar, r.time);
  ar(r.reallocated);
  Save(ar, r.reason);
  Save(ar, r.weights_before);
  Save(ar, r.weights_after);
  Save(ar, r.arms);
  ar(r.srm_p, r.late_outcomes, r.unknown_outcomes, r.duplicate_outcomes, r.holdout_units,
     r.holdout_outcomes, r.winner);
}
void Load(InArchive& ar, ReallocationReport& r) {
  Load(ar, r.experiment);
  ar(r.epoch);
  Load(ar, r.time);
  r.reallocated = LoadBool(ar);
  Load(ar, r.reason);
  Load(ar, r.weights_before);
  Load(ar, r.weights_after);
  Load(ar, r.arms);
  ar(r.srm_p, r.late_outcomes, r.unknown_outcomes, r.duplicate_outcomes, r.holdout_units,
     r.holdout_outcomes, r.winner);
}

void Save(OutArchive& ar, const LedgerState& l) {
  Save(ar, l.open);
  Save(ar, l.matured);
  Save(ar, l.matured_before);
  Save(ar, l.exposures);
  ar(l.generation_start_us);
}
void Load(InArchive& ar, LedgerState& l) {
  Load(ar, l.open);
  Load(ar, l.matured);
  Load(ar, l.matured_before);
  Load(ar, l.exposures);
  ar(l.generation_start_us);
}

void Save(OutArchive& ar, const ExperimentRuntimeState& s) {
  Save(ar, s.config);
  ar(s.lifecycle);
  Save(ar, s.start);
  ar(s.stop_us, s.clock_us);
  Save(ar, s.epochs);
  Save(ar, s.ledger);
  ar(s.late, s.unknown, s.duplicate);
  Save(ar, s.aggregates);
  Save(ar, s.holdout);
  Save(ar, s.next_due);
  Save(ar, s.reports);
}
void Load(InArchive& ar, ExperimentRuntimeState& s) {
  Load(ar, s.config);
  ar(s.lifecycle);
  Load(ar, s.start);
  ar(s.stop_us, s.clock_us);
  Load(ar, s.epochs);
  Load(ar, s.ledger);
  ar(s.late, s.unknown, s.duplicate);
  Load(ar, s.aggregates);
  Load(ar, s.holdout);
  Load(ar, s.next_due);
  Load(ar, s.reports);
}

template <typename T, typename Fn>
absl::StatusOr<T> Decode(absl::string_view bytes, absl::string_view what, Fn load) {
  std::istringstream in(std::string(bytes), std::ios::binary);
  DecodeBudget budget{&in, bytes.size()};
  T value;
  try {
    InArchive ar(in, budget);
    load(ar, value);
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat(what, " is corrupt: ", e.what()));
  }
  if (budget.Remaining() != 0) {
    return absl::DataLossError(
        absl::StrCat(what, " has ", budget.Remaining(), " unexpected trailing bytes"));
  }
  return value;
}

}  // namespace

std::string EncodeEngineState(const EngineState& state) {
  std::ostringstream out(std::ios::binary);
  {
    OutArchive ar(out);
    Save(ar, state.clock);
    Save(ar, state.experiments);
    Save(ar, state.final_reports);
    ar(state.journal_sequence);
    Save(ar, state.application_data);
    for (const ExperimentRuntimeState& e : state.experiments) {
      SaveConfigExtension(ar, e.config);
    }
    for (const ExperimentRuntimeState& e : state.experiments) {
      SaveEstimateMethod(ar, e.config);
    }
    for (const ExperimentRuntimeState& e : state.experiments) {
      SaveDecision(ar, e.config);
      SaveReportBounds(ar, e.reports);
    }
    SaveReportBounds(ar, state.final_reports);
    for (const ExperimentRuntimeState& e : state.experiments) {
      SaveMetrics(ar, e.config);
      Save(ar, e.ledger.open_values);
      Save(ar, e.guardrail_aggregates);
      SaveReportGuardrails(ar, e.reports);
    }
    SaveReportGuardrails(ar, state.final_reports);
    for (const ExperimentRuntimeState& e : state.experiments) {
      SaveSurfaceAndPayloads(ar, e.config);
    }
    // Arm changes, after the surfaces and payloads.
    for (const ExperimentRuntimeState& e : state.experiments) {
      Save(ar, e.arms);
      SaveReportRetired(ar, e.reports);
      ar(e.reports_made);
    }
    SaveReportRetired(ar, state.final_reports);
  }
  return std::move(out).str();
}

absl::StatusOr<EngineState> DecodeEngineState(absl::string_view bytes) {
  absl::StatusOr<EngineState> state = Decode<EngineState>(
      bytes, "snapshot payload", [](InArchive& ar, EngineState& state) {
        Load(ar, state.clock);
        Load(ar, state.experiments);
        Load(ar, state.final_reports);
        ar(state.journal_sequence);
        Load(ar, state.application_data);
        // Absent in snapshots written before it.
        if (ar.budget().Remaining() == 0) return;
        for (ExperimentRuntimeState& e : state.experiments) {
          LoadConfigExtension(ar, e.config);
        }
        if (ar.budget().Remaining() == 0) return;
        for (ExperimentRuntimeState& e : state.experiments) {
          LoadEstimateMethod(ar, e.config);
        }
        if (ar.budget().Remaining() == 0) return;
        for (ExperimentRuntimeState& e : state.experiments) {
          LoadDecision(ar, e.config);
          LoadReportBounds(ar, e.reports);
        }
        LoadReportBounds(ar, state.final_reports);
        if (ar.budget().Remaining() == 0) return;
        for (ExperimentRuntimeState& e : state.experiments) {
          LoadMetrics(ar, e.config);
          Load(ar, e.ledger.open_values);
          Load(ar, e.guardrail_aggregates);
          LoadReportGuardrails(ar, e.reports);
        }
        LoadReportGuardrails(ar, state.final_reports);
        if (ar.budget().Remaining() == 0) return;
        for (ExperimentRuntimeState& e : state.experiments) {
          LoadSurfaceAndPayloads(ar, e.config);
        }
        if (ar.budget().Remaining() == 0) return;
        for (ExperimentRuntimeState& e : state.experiments) {
          Load(ar, e.arms);
          LoadReportRetired(ar, e.reports);
          ar(e.reports_made);
        }
        LoadReportRetired(ar, state.final_reports);
      });
  if (!state.ok()) return state;
  // Decoded bytes of the right length may still mean nothing (a negative
  // count, a NaN sum): checked here, so inspection refuses what restore would.
  for (const ExperimentRuntimeState& e : state->experiments) {
    if (absl::Status s = ValidateExperimentState(e); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("snapshot payload is corrupt: experiment \"", e.config.id,
                       "\": ", s.message()));
    }
  }
  if (absl::Status s = ValidateSurfaces(*state); !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("snapshot payload is corrupt: ", s.message()));
  }
  for (const ReallocationReport& r : state->final_reports) {
    if (absl::Status s = ValidateReport(r); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("snapshot payload is corrupt: final report of \"", r.experiment,
                       "\": ", s.message()));
    }
  }
  return state;
}

std::string EncodeJournalRecord(const JournalRecord& r) {
  // One stream per thread, emptied for each record: constructing a stream
  // (its locale) cost more than encoding an exposure.
  thread_local std::ostringstream out(std::ios::binary);
  out.str(std::string());
  out.clear();
  {
    OutArchive ar(out);
    ar(r.sequence, static_cast<uint8_t>(r.kind));
    Save(ar, r.experiment);
    Save(ar, r.unit);
    Save(ar, r.time);
    ar(r.unit_start.has_value());
    if (r.unit_start.has_value()) Save(ar, *r.unit_start);
    ar(r.value);
    if (r.kind == JournalRecord::Kind::kCreate) {
      Save(ar, r.config);
      SaveConfigExtension(ar, r.config);
      SaveEstimateMethod(ar, r.config);
      SaveDecision(ar, r.config);
      SaveMetrics(ar, r.config);
      SaveSurfaceAndPayloads(ar, r.config);
    }
    // An outcome of another metric than the primary names it, last (older
    // records, and the primary's, end before it).
    if (r.kind == JournalRecord::Kind::kOutcome && !r.metric.empty()) Save(ar, r.metric);
    if (r.kind == JournalRecord::Kind::kAddArm) Save(ar, r.payload);
  }
  return out.str();
}

absl::StatusOr<JournalRecord> DecodeJournalRecord(absl::string_view bytes) {
  return Decode<JournalRecord>(
      bytes, "journal record", [](InArchive& ar, JournalRecord& r) {
        uint8_t kind = 0;
        ar(r.sequence, kind);
        if (kind < 1 || kind > 9) {
          throw CorruptInput(absl::StrCat("unknown record kind ", int{kind}));
        }
        r.kind = static_cast<JournalRecord::Kind>(kind);
        Load(ar, r.experiment);
        Load(ar, r.unit);
        Load(ar, r.time);
        if (LoadBool(ar)) {
          absl::Time t;
          Load(ar, t);
          r.unit_start = t;
        }
        ar(r.value);
        if (r.kind == JournalRecord::Kind::kCreate) {
          Load(ar, r.config);
          // Absent in records written before it.
          if (ar.budget().Remaining() > 0) LoadConfigExtension(ar, r.config);
          if (ar.budget().Remaining() > 0) LoadEstimateMethod(ar, r.config);
          if (ar.budget().Remaining() > 0) LoadDecision(ar, r.config);
          if (ar.budget().Remaining() > 0) LoadMetrics(ar, r.config);
          if (ar.budget().Remaining() > 0) LoadSurfaceAndPayloads(ar, r.config);
        }
        if (r.kind == JournalRecord::Kind::kOutcome && ar.budget().Remaining() > 0) {
          Load(ar, r.metric);
        }
        if (r.kind == JournalRecord::Kind::kAddArm) Load(ar, r.payload);
      });
}

absl::string_view JournalKindName(JournalRecord::Kind kind) {
  switch (kind) {
    case JournalRecord::Kind::kCreate:
      return "create";
    case JournalRecord::Kind::kStart:
      return "start";
    case JournalRecord::Kind::kStop:
      return "stop";
    case JournalRecord::Kind::kDelete:
      return "delete";
    case JournalRecord::Kind::kExposure:
      return "exposure";
    case JournalRecord::Kind::kOutcome:
      return "outcome";
    case JournalRecord::Kind::kAdvance:
      return "advance";
    case JournalRecord::Kind::kAddArm:
      return "add_arm";
    case JournalRecord::Kind::kRetireArm:
      return "retire_arm";
  }
  return "unknown";
}

}  // namespace allot::internal
