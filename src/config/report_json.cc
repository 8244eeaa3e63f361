// Copyright 2026 The allot Authors.

#include <cmath>
#include <string>

#include "allot/report.h"
#include "allot/time_format.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace allot {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void Number(Writer& w, double v) {
  if (std::isfinite(v)) {
    w.Double(v);
  } else {
    w.Null();
  }
}

void Key(Writer& w, const std::string& key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

void Weights(Writer& w, const char* name, const ReallocationReport& r,
             const std::vector<double>& weights) {
  w.Key(name);
  w.StartObject();
  for (size_t a = 0; a < weights.size() && a < r.arms.size(); ++a) {
    Key(w, r.arms[a].id);
    Number(w, weights[a]);
  }
  w.EndObject();
}

}  // namespace

std::string ReportsToJson(absl::Span<const ReallocationReport> reports) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.SetIndent(' ', 2);
  w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
  w.StartArray();
  for (const ReallocationReport& r : reports) {
    w.StartObject();
    w.Key("experiment");
    w.String(r.experiment.c_str());
    w.Key("epoch");
    w.Int64(r.epoch);
    w.Key("time");
    w.String(FormatRfc3339(r.time).c_str());
    w.Key("reallocated");
    w.Bool(r.reallocated);
    w.Key("reason");
    w.String(r.reason.c_str());
    Weights(w, "weights_before", r, r.weights_before);
    Weights(w, "weights_after", r, r.weights_after);
    w.Key("arms");
    w.StartObject();
    for (const ArmReport& arm : r.arms) {
      Key(w, arm.id);
      w.StartObject();
      w.Key("units");
      w.Int64(arm.units);
      w.Key("outcomes");
      Number(w, arm.outcomes);
      w.Key("mean");
      Number(w, arm.mean);
      w.Key("ci95");
      w.StartArray();
      Number(w, arm.ci95_low);
      Number(w, arm.ci95_high);
      w.EndArray();
      w.Key("pooled_mean");
      Number(w, arm.pooled_mean);
      w.Key("p_best");
      Number(w, arm.p_best);
      w.Key("expected_loss");
      Number(w, arm.expected_loss);
      w.Key("exposures");
      w.Int64(arm.exposures);
      w.Key("advantage");  // null bounds: burn-in, or unbounded
      w.StartArray();
      Number(w, arm.advantage_low);
      Number(w, arm.advantage_high);
      w.EndArray();
      w.Key("eliminated");
      w.Bool(arm.eliminated);
      w.Key("stopped_by");  // the guardrail that stopped it, or null
      if (arm.stopped_by.empty()) {
        w.Null();
      } else {
        w.String(arm.stopped_by.data(),
                 static_cast<rapidjson::SizeType>(arm.stopped_by.size()));
      }
      if (arm.retired) {  // only then: reports without arm changes read as before
        w.Key("retired");
        w.Bool(true);
      }
      w.EndObject();
    }
    w.EndObject();
    w.Key("guardrails");
    w.StartObject();
    for (const GuardrailReport& g : r.guardrails) {
      Key(w, g.id);
      w.StartObject();
      w.Key("best");
      if (g.best >= 0 && g.best < static_cast<int>(r.arms.size())) {
        Key(w, r.arms[g.best].id);
      } else {
        w.Null();
      }
      w.Key("arms");
      w.StartObject();
      for (size_t a = 0; a < r.arms.size() && a < g.mean.size(); ++a) {
        Key(w, r.arms[a].id);
        w.StartObject();
        w.Key("mean");
        Number(w, g.mean[a]);
        w.Key("excess");  // null bounds: burn-in, the best arm, no harm set
        w.StartArray();
        Number(w, a < g.excess_low.size() ? g.excess_low[a] : NAN);
        Number(w, a < g.excess_high.size() ? g.excess_high[a] : NAN);
        w.EndArray();
        w.EndObject();
      }
      w.EndObject();
      w.EndObject();
    }
    w.EndObject();
    w.Key("srm_p");
    Number(w, r.srm_p);
    w.Key("late_outcomes");
    w.Int64(r.late_outcomes);
    w.Key("unknown_outcomes");
    w.Int64(r.unknown_outcomes);
    w.Key("duplicate_outcomes");
    w.Int64(r.duplicate_outcomes);
    w.Key("holdout_units");
    w.Int64(r.holdout_units);
    w.Key("holdout_outcomes");
    Number(w, r.holdout_outcomes);
    w.Key("winner");
    if (r.winner >= 0 && r.winner < static_cast<int>(r.arms.size())) {
      Key(w, r.arms[r.winner].id);
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace allot
