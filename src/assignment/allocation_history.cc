// Copyright 2026 The allot Authors.

#include "allot/allocation_history.h"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "allot/field_error.h"
#include "allot/hash.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "allot/weights.h"
#include "cereal/archives/json.hpp"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace allot {
namespace {

namespace rj = RAPIDJSON_NAMESPACE;

absl::Status HistoryError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("allocation history: ", what));
}

// Refuses a key given twice in `object` (RapidJSON would keep both and
// FindMember return the first) and, unless `allowed` is empty, a key not in
// it, as an experiment file refuses unknown fields.
absl::Status CheckKeys(const rj::Value& object, absl::string_view where,
                       std::initializer_list<absl::string_view> allowed) {
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const absl::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (allowed.size() > 0 &&
        std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return HistoryError(absl::StrCat(where, " has unknown field ", QuoteId(key)));
    }
    for (auto before = object.MemberBegin(); before != it; ++before) {
      if (absl::string_view(before->name.GetString(), before->name.GetStringLength()) ==
          key) {
        return HistoryError(absl::StrCat(where, " has field ", QuoteId(key), " twice"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<const rj::Value*> Member(const rj::Value& object, absl::string_view where,
                                        const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) {
    return HistoryError(absl::StrCat(where, " has no \"", name, "\""));
  }
  return &it->value;
}

// Debian 12's RapidJSON 1.1.0 with full precision computes clz(0), which
// is undefined, for a number whose digits are all zeros and that has more
// than 22 of them after the point ("0.00000000000000000000000"): its fast
// path declines and the slow one normalises a zero significand (fixed
// upstream after 1.1.0; found by history_fuzzer). Such a number is zero, so
// each number token outside strings whose digits are all zeros is rewritten
// as "0" (or "-0") padded with spaces to the same length: the value and
// every byte offset in an error message stay the same. Returns the rewritten
// text, or nothing when no token needed it (the common case: no copy).
std::optional<std::string> WithZerosShortened(absl::string_view json) {
  std::optional<std::string> out;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && !absl::ascii_isdigit(static_cast<unsigned char>(c))) continue;
    size_t end = i;
    bool zero = true, digits = false, mantissa = true;
    while (end < json.size()) {
      const char d = json[end];
      if (d == 'e' || d == 'E') {
        mantissa = false;
      } else if (absl::ascii_isdigit(static_cast<unsigned char>(d))) {
        if (mantissa) {
          digits = true;
          zero = zero && d == '0';
        }
      } else if (d != '-' && d != '+' && d != '.') {
        break;
      }
      ++end;
    }
    if (zero && digits && end - i > 2) {
      if (!out.has_value()) out.emplace(json);
      const size_t sign = c == '-' ? 1 : 0;
      (*out)[i + sign] = '0';
      for (size_t j = i + sign + 1; j < end; ++j) (*out)[j] = ' ';
    }
    i = end - 1;
  }
  return out;
}

absl::StatusOr<std::string> StringMember(const rj::Value& object, absl::string_view where,
                                         const char* name) {
  ALLOT_ASSIGN_OR_RETURN(const rj::Value* v, Member(object, where, name));
  if (!v->IsString()) {
    return HistoryError(absl::StrCat(where, ".", name, " must be a string"));
  }
  return std::string(v->GetString(), v->GetStringLength());
}

// Reads one epoch's {"arm": weight} object into `arm_order`'s order, or into
// the object's own order when `arm_order` is empty (and fills it).
absl::StatusOr<std::vector<double>> ReadWeights(const rj::Value& object,
                                                absl::string_view where,
                                                std::vector<std::string>& arm_order) {
  if (!object.IsObject()) {
    return HistoryError(absl::StrCat(where, " must be an object of arm weights"));
  }
  const bool fill = arm_order.empty();
  // Which arms were named: any number, -1 included, may be a (bad) weight.
  std::vector<bool> named(arm_order.size(), false);
  std::vector<double> weights(arm_order.size(), 0.0);
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    std::string id(it->name.GetString(), it->name.GetStringLength());
    if (!it->value.IsNumber()) {
      return HistoryError(
          absl::StrCat(where, ".",
                       // A plain id as a path; any other quoted.
                       QuoteId(id) == absl::StrCat("\"", id, "\"") ? id : QuoteId(id),
                       " must be a number"));
    }
    const double w = it->value.GetDouble();
    if (fill) {
      if (FindArm(arm_order, id) >= 0) {
        return HistoryError(absl::StrCat(where, " names arm ", QuoteId(id), " twice"));
      }
      // Stop before the linear searches turn a huge object quadratic.
      if (arm_order.size() == static_cast<size_t>(kMaxArms)) {
        return HistoryError(absl::StrCat(where, " names more than ", kMaxArms, " arms"));
      }
      arm_order.push_back(std::move(id));
      named.push_back(true);
      weights.push_back(w);
      continue;
    }
    const int arm = FindArm(arm_order, id);
    if (arm < 0) {
      return HistoryError(absl::StrCat(where, " names unknown arm ", QuoteId(id)));
    }
    if (named[arm]) {
      return HistoryError(absl::StrCat(where, " names arm ", QuoteId(id), " twice"));
    }
    named[arm] = true;
    weights[arm] = w;
  }
  for (size_t a = 0; a < weights.size(); ++a) {
    if (!named[a]) {
      return HistoryError(absl::StrCat(where, " is missing arm ", QuoteId(arm_order[a])));
    }
  }
  return weights;
}

// The first table lays out arms in order, so a history read for an
// experiment must list epoch 0's arms exactly in the experiment's order:
// reordering them silently would serve different arms than the writer did.
absl::Status CheckArmOrder(const std::vector<std::string>& history_order,
                           absl::Span<const std::string> experiment_order) {
  if (experiment_order.empty()) return absl::OkStatus();
  for (const std::string& id : history_order) {
    if (FindArm(experiment_order, id) < 0) {
      return HistoryError(
          absl::StrCat("epochs[0].weights names unknown arm ", QuoteId(id)));
    }
  }
  for (const std::string& id : experiment_order) {
    if (FindArm(history_order, id) < 0) {
      return HistoryError(absl::StrCat("epochs[0].weights is missing arm ", QuoteId(id)));
    }
  }
  if (!std::equal(history_order.begin(), history_order.end(), experiment_order.begin(),
                  experiment_order.end())) {
    return HistoryError(absl::StrCat(
        "epochs[0].weights lists the arms as ", absl::StrJoin(history_order, ", "),
        " but the experiment as ", absl::StrJoin(experiment_order, ", "),
        "; the order decides the bucket layout, so it must match"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AllocationHistory> AllocationHistory::Create(
    std::string experiment, std::string salt, std::vector<std::string> arm_ids,
    absl::Time start, absl::Span<const double> weights) {
  if (experiment.empty()) {
    return absl::InvalidArgumentError("experiment id must not be empty");
  }
  ALLOT_RETURN_IF_ERROR(ValidateSalt(salt));
  ALLOT_RETURN_IF_ERROR(ValidateArmIds(arm_ids));
  if (weights.size() != arm_ids.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights must have one entry per arm (", arm_ids.size(), "), got ",
                     weights.size()));
  }
  ALLOT_ASSIGN_OR_RETURN(std::vector<double> normalized,
                         NormalizeWeights(weights, ZeroWeights::kRefuse));
  AllocationHistory history;
  history.experiment_ = std::move(experiment);
  history.salt_ = std::move(salt);
  history.arm_ids_ = std::move(arm_ids);
  history.epochs_.push_back({0, start, std::move(normalized)});
  return history;
}

absl::Status AllocationHistory::Append(absl::Time start,
                                       absl::Span<const double> weights) {
  const Epoch& last = epochs_.back();
  if (start <= last.start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "epoch ", last.number + 1, " start ", FormatRfc3339(start),
        " must be after epoch ", last.number, " start ", FormatRfc3339(last.start)));
  }
  if (weights.size() != arm_ids_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights must have one entry per arm (", arm_ids_.size(), "), got ",
                     weights.size()));
  }
  ALLOT_ASSIGN_OR_RETURN(std::vector<double> normalized,
                         NormalizeWeights(weights, ZeroWeights::kAllow));
  epochs_.push_back({last.number + 1, start, std::move(normalized)});
  return absl::OkStatus();
}

int64_t AllocationHistory::EpochAt(absl::Time t) const {
  auto it =
      std::upper_bound(epochs_.begin(), epochs_.end(), t,
                       [](absl::Time time, const Epoch& e) { return time < e.start; });
  if (it == epochs_.begin()) return 0;
  return std::prev(it)->number;
}

std::vector<BucketTable> AllocationHistory::BuildTables() const {
  std::vector<BucketTable> tables;
  tables.reserve(epochs_.size());
  // Weights were validated on the way in, so neither call can fail.
  tables.push_back(*BucketTable::Initial(epochs_[0].weights));
  for (size_t e = 1; e < epochs_.size(); ++e) {
    tables.push_back(*tables.back().Reallocate(epochs_[e].weights));
  }
  return tables;
}

std::string AllocationHistory::ToJson() const {
  std::ostringstream out;
  {
    cereal::JSONOutputArchive ar(
        out,
        cereal::JSONOutputArchive::Options(
            /*precision=*/324, cereal::JSONOutputArchive::Options::IndentChar::space, 2));
    ar(cereal::make_nvp("format", kHistoryFormat),
       cereal::make_nvp("experiment", experiment_), cereal::make_nvp("salt", salt_));
    ar.setNextName("epochs");
    ar.startNode();
    ar.makeArray();
    for (const Epoch& epoch : epochs_) {
      ar.startNode();
      ar(cereal::make_nvp("epoch", epoch.number),
         cereal::make_nvp("start", FormatRfc3339(epoch.start)));
      ar.setNextName("weights");
      ar.startNode();
      for (size_t a = 0; a < arm_ids_.size(); ++a) {
        ar(cereal::make_nvp(arm_ids_[a].c_str(), epoch.weights[a]));
      }
      ar.finishNode();
      ar.finishNode();
    }
    ar.finishNode();
  }
  out << "\n";
  return out.str();
}

absl::StatusOr<AllocationHistory> AllocationHistory::FromJson(
    absl::string_view json, absl::Span<const std::string> arm_order) {
  if (json.size() > kMaxHistoryJsonBytes) {
    return HistoryError(absl::StrCat("document is ", json.size(),
                                     " bytes, more than the limit of ",
                                     kMaxHistoryJsonBytes));
  }
  rj::Document doc;
  // Iterative parsing: the recursive parser's stack depth grows with the
  // nesting, which a caller controls. Strings must be valid UTF-8.
  const std::optional<std::string> zeros = WithZerosShortened(json);
  const absl::string_view text = zeros.has_value() ? *zeros : json;
  doc.Parse<rj::kParseFullPrecisionFlag | rj::kParseIterativeFlag |
            rj::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return HistoryError(absl::StrCat("malformed JSON at offset ", doc.GetErrorOffset(),
                                     ": ", rj::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject()) return HistoryError("the document must be an object");
  ALLOT_RETURN_IF_ERROR(
      CheckKeys(doc, "document", {"format", "experiment", "salt", "epochs"}));
  ALLOT_ASSIGN_OR_RETURN(const rj::Value* format, Member(doc, "document", "format"));
  if (!format->IsInt64()) return HistoryError("format must be an integer");
  if (format->GetInt64() > kHistoryFormat || format->GetInt64() < 1) {
    return HistoryError(absl::StrCat("format ", format->GetInt64(),
                                     " is not supported; this allot reads "
                                     "format 1 to ",
                                     kHistoryFormat));
  }
  AllocationHistory history;
  ALLOT_ASSIGN_OR_RETURN(history.experiment_,
                         StringMember(doc, "document", "experiment"));
  ALLOT_ASSIGN_OR_RETURN(history.salt_, StringMember(doc, "document", "salt"));
  if (history.experiment_.empty()) return HistoryError("experiment must not be empty");
  ALLOT_RETURN_IF_ERROR(ValidateSalt(history.salt_));
  ALLOT_ASSIGN_OR_RETURN(const rj::Value* epochs, Member(doc, "document", "epochs"));
  if (!epochs->IsArray() || epochs->Empty()) {
    return HistoryError("epochs must be a non-empty array");
  }
  for (rj::SizeType i = 0; i < epochs->Size(); ++i) {
    const rj::Value& e = (*epochs)[i];
    const std::string where = absl::StrCat("epochs[", i, "]");
    if (!e.IsObject()) return HistoryError(absl::StrCat(where, " must be an object"));
    ALLOT_RETURN_IF_ERROR(CheckKeys(e, where, {"epoch", "start", "weights"}));
    ALLOT_ASSIGN_OR_RETURN(const rj::Value* number, Member(e, where, "epoch"));
    if (!number->IsInt64() || number->GetInt64() != static_cast<int64_t>(i)) {
      return HistoryError(
          absl::StrCat(where, ".epoch must be ", i, " (epochs are numbered 0, 1, 2...)"));
    }
    ALLOT_ASSIGN_OR_RETURN(std::string start_text, StringMember(e, where, "start"));
    ALLOT_ASSIGN_OR_RETURN(
        absl::Time start,
        ParseTime(absl::StrCat("allocation history: ", where, ".start"), start_text));
    ALLOT_ASSIGN_OR_RETURN(const rj::Value* weights_value, Member(e, where, "weights"));
    ALLOT_ASSIGN_OR_RETURN(
        std::vector<double> weights,
        ReadWeights(*weights_value, absl::StrCat(where, ".weights"), history.arm_ids_));
    absl::Status status;
    if (i == 0) {
      ALLOT_RETURN_IF_ERROR(ValidateArmIds(history.arm_ids_));
      ALLOT_RETURN_IF_ERROR(CheckArmOrder(history.arm_ids_, arm_order));
      absl::StatusOr<std::vector<double>> normalized =
          NormalizeWeights(weights, ZeroWeights::kRefuse);
      if (normalized.ok()) {
        history.epochs_.push_back({0, start, *std::move(normalized)});
      }
      status = normalized.status();
    } else {
      status = history.Append(start, weights);
    }
    if (!status.ok()) {
      return HistoryError(absl::StrCat(where, ": ", status.message()));
    }
  }
  return history;
}

}  // namespace allot
