// Copyright 2026 The allot Authors.

#include "allot/allocation_history.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "allot/field_error.h"
#include "allot/hash.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "allot/weights.h"
#include "cereal/archives/json.hpp"
#include "config/id_text.h"
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
// The longest shortest round-trip form of a double ("-2.2250738585072014e-308").
constexpr size_t kLongestShortNumber = 24;

// Returns `number` (a JSON number token) as the shortest text of the double
// nearest to it, "0" or "-0" when it underflows, or "" when it overflows (the
// parser then refuses it as too big).
std::string ShortestForm(absl::string_view number) {
  double value = 0;
  const char* const last = number.data() + number.size();
  const auto [end, ec] = std::from_chars(number.data(), last, value);
  if (end != last) return "";
  if (ec == std::errc::result_out_of_range) {
    // Underflow or overflow: the decimal exponent of the first significant
    // digit tells which (saturated; only its sign matters).
    const size_t e = number.find_first_of("eE");
    const absl::string_view mantissa = number.substr(0, e);
    int64_t exponent = 0;
    if (e != absl::string_view::npos) {
      const absl::string_view digits = number.substr(e + 1);
      for (char d : digits) {
        if (absl::ascii_isdigit(static_cast<unsigned char>(d))) {
          exponent = std::min<int64_t>(exponent * 10 + (d - '0'), int64_t{1} << 40);
        }
      }
      if (!digits.empty() && digits[0] == '-') exponent = -exponent;
    }
    const size_t first = mantissa.find_first_of("123456789");
    const size_t point = std::min(mantissa.find('.'), mantissa.size());
    if (first == absl::string_view::npos) return "";
    exponent += first < point ? static_cast<int64_t>(point - first) - 1
                              : -static_cast<int64_t>(first - point);
    if (exponent >= 0) return "";
    return number[0] == '-' ? "-0" : "0";
  }
  if (ec != std::errc()) return "";
  char buffer[32];
  const auto written = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, written.ptr);
}

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
    // The token exactly as RapidJSON reads a number (JSON's grammar:
    // -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?), so that what it
    // reads before a stray character ("0.000...0.3") is rewritten too.
    const auto digit_at = [&json](size_t at) {
      return at < json.size() &&
             absl::ascii_isdigit(static_cast<unsigned char>(json[at]));
    };
    size_t end = i + (c == '-' ? 1 : 0);
    bool zero = true, digits = false;
    if (end < json.size() && json[end] == '0') {
      digits = true;
      ++end;
    } else {
      for (; digit_at(end); ++end) {
        digits = true;
        zero = zero && json[end] == '0';
      }
    }
    if (end < json.size() && json[end] == '.' && digit_at(end + 1)) {
      for (++end; digit_at(end); ++end) zero = zero && json[end] == '0';
    }
    if (end < json.size() && (json[end] == 'e' || json[end] == 'E')) {
      size_t exponent = end + 1;
      if (exponent < json.size() && (json[exponent] == '+' || json[exponent] == '-')) {
        ++exponent;
      }
      if (digit_at(exponent)) {
        end = exponent;
        while (digit_at(end)) ++end;
      }
    }
    if (zero && digits && end - i > 2) {
      if (!out.has_value()) out.emplace(json);
      const size_t sign = c == '-' ? 1 : 0;
      (*out)[i + sign] = '0';
      for (size_t j = i + sign + 1; j < end; ++j) (*out)[j] = ' ';
    } else if (digits && end - i > kLongestShortNumber) {
      // A long number sends RapidJSON 1.1.0 down the same slow path, where
      // hundreds of zeros after the point overflow an int (GetCachedPower10;
      // found by history_fuzzer). Such a number (never one allot writes) is
      // rewritten as its correctly rounded double in shortest form, padded.
      const std::string shorter = ShortestForm(json.substr(i, end - i));
      if (!shorter.empty()) {
        if (!out.has_value()) out.emplace(json);
        out->replace(i, shorter.size(), shorter);
        for (size_t j = i + shorter.size(); j < end; ++j) (*out)[j] = ' ';
      }
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

absl::string_view RetireModeName(RetireMode mode) {
  return mode == RetireMode::kDrain ? "drain" : "now";
}

absl::StatusOr<AllocationHistory> AllocationHistory::Create(
    std::string experiment, std::string salt, std::vector<std::string> arm_ids,
    absl::Time start, absl::Span<const double> weights,
    std::vector<std::string> payloads) {
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
  if (!payloads.empty() && payloads.size() != arm_ids.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("payloads must be empty or have one entry per arm (", arm_ids.size(),
                     "), got ", payloads.size()));
  }
  for (size_t a = 0; a < payloads.size(); ++a) {
    ALLOT_RETURN_IF_ERROR(
        ValidatePayload(absl::StrCat("arms[", a, "].payload"), payloads[a]));
  }
  ALLOT_ASSIGN_OR_RETURN(std::vector<double> normalized,
                         NormalizeWeights(weights, ZeroWeights::kRefuse));
  AllocationHistory history;
  history.experiment_ = std::move(experiment);
  history.salt_ = std::move(salt);
  history.arms_.resize(arm_ids.size());
  for (size_t a = 0; a < arm_ids.size(); ++a) {
    history.arms_[a].id = arm_ids[a];
    if (!payloads.empty()) history.arms_[a].payload = std::move(payloads[a]);
  }
  history.arm_ids_ = std::move(arm_ids);
  history.epochs_.push_back({0, start, std::move(normalized)});
  return history;
}

absl::StatusOr<std::vector<double>> AllocationHistory::NextWeights(
    absl::Time start, absl::Span<const double> weights, size_t known) const {
  const Epoch& last = epochs_.back();
  if (start <= last.start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "epoch ", last.number + 1, " start ", FormatRfc3339(start),
        " must be after epoch ", last.number, " start ", FormatRfc3339(last.start)));
  }
  if (weights.size() != known) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights must have one entry per arm (", known, "), got ", weights.size()));
  }
  for (size_t a = 0; a < arms_.size(); ++a) {
    if (arms_[a].retired_epoch >= 0 && weights[a] != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "arm ", a, " (", QuoteId(arms_[a].id), ") was retired in epoch ",
          arms_[a].retired_epoch, ", so its weight must be 0, got ", weights[a]));
    }
  }
  return NormalizeWeights(weights, ZeroWeights::kAllow);
}

absl::Status AllocationHistory::Append(absl::Time start,
                                       absl::Span<const double> weights) {
  ALLOT_ASSIGN_OR_RETURN(std::vector<double> normalized,
                         NextWeights(start, weights, arms_.size()));
  epochs_.push_back({epochs_.back().number + 1, start, std::move(normalized)});
  return absl::OkStatus();
}

absl::Status AllocationHistory::AddArm(absl::Time start, std::string id,
                                       std::string payload,
                                       absl::Span<const double> weights) {
  const size_t index = arms_.size();
  if (index >= static_cast<size_t>(kMaxArms)) {
    return absl::InvalidArgumentError(absl::StrCat("an experiment has at most ", kMaxArms,
                                                   " arms, counting retired "
                                                   "ones; cannot add arm ",
                                                   QuoteId(id)));
  }
  if (absl::Status s =
          ValidateId(absl::StrCat("arms[", index, "].id"), id, kMaxArmIdBytes);
      !s.ok()) {
    return absl::InvalidArgumentError(s.message());
  }
  if (const int other = FindArm(arm_ids_, id); other >= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "arm ids must be unique, ", QuoteId(id), " is already arm ", other,
        arms_[other].retired_epoch >= 0 ? " (retired; ids are never reused)" : ""));
  }
  ALLOT_RETURN_IF_ERROR(
      ValidatePayload(absl::StrCat("arms[", index, "].payload"), payload));
  ALLOT_ASSIGN_OR_RETURN(std::vector<double> normalized,
                         NextWeights(start, weights, index + 1));
  if (!(normalized[index] > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("the weight of new arm ", QuoteId(id),
                                                   " must be positive, got ",
                                                   weights[index]));
  }
  const int64_t number = epochs_.back().number + 1;
  arms_.push_back({std::move(id), std::move(payload), number, -1, RetireMode::kDrain});
  arm_ids_.push_back(arms_.back().id);
  epochs_.push_back({number, start, std::move(normalized)});
  return absl::OkStatus();
}

absl::Status AllocationHistory::RetireArm(absl::Time start, int arm, RetireMode mode,
                                          absl::Span<const double> weights) {
  if (arm < 0 || static_cast<size_t>(arm) >= arms_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "arm to retire must be an arm index in [0, ", arms_.size(), "), got ", arm));
  }
  if (arms_[arm].retired_epoch >= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("arm ", arm, " (", QuoteId(arms_[arm].id),
                     ") is already retired (in epoch ", arms_[arm].retired_epoch, ")"));
  }
  ALLOT_ASSIGN_OR_RETURN(std::vector<double> normalized,
                         NextWeights(start, weights, arms_.size()));
  if (normalized[arm] != 0) {
    return absl::InvalidArgumentError(absl::StrCat("the weight of retired arm ", arm,
                                                   " (", QuoteId(arms_[arm].id),
                                                   ") must be 0, got ", weights[arm]));
  }
  const int64_t number = epochs_.back().number + 1;
  arms_[arm].retired_epoch = number;
  arms_[arm].retire_mode = mode;
  epochs_.push_back({number, start, std::move(normalized)});
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

bool AllocationHistory::NeedsFormat2() const {
  return std::any_of(arms_.begin(), arms_.end(), [](const HistoryArm& arm) {
    return !arm.payload.empty() || arm.added_epoch != 0 || arm.retired_epoch >= 0;
  });
}

std::string AllocationHistory::ToJson() const {
  const bool format2 = NeedsFormat2();
  std::ostringstream out;
  {
    cereal::JSONOutputArchive ar(
        out,
        cereal::JSONOutputArchive::Options(
            /*precision=*/324, cereal::JSONOutputArchive::Options::IndentChar::space, 2));
    ar(cereal::make_nvp("format", format2 ? 2 : 1),
       cereal::make_nvp("experiment", experiment_), cereal::make_nvp("salt", salt_));
    if (format2) {
      ar.setNextName("arms");
      ar.startNode();
      ar.makeArray();
      for (const HistoryArm& arm : arms_) {
        ar.startNode();
        ar(cereal::make_nvp("id", arm.id), cereal::make_nvp("added", arm.added_epoch));
        if (arm.retired_epoch >= 0) {
          ar(cereal::make_nvp("retired", arm.retired_epoch),
             cereal::make_nvp("retire", std::string(RetireModeName(arm.retire_mode))));
        }
        if (!arm.payload.empty()) ar(cereal::make_nvp("payload", arm.payload));
        ar.finishNode();
      }
      ar.finishNode();
    }
    ar.setNextName("epochs");
    ar.startNode();
    ar.makeArray();
    for (const Epoch& epoch : epochs_) {
      ar.startNode();
      ar(cereal::make_nvp("epoch", epoch.number),
         cereal::make_nvp("start", FormatRfc3339(epoch.start)));
      ar.setNextName("weights");
      ar.startNode();
      for (size_t a = 0; a < epoch.weights.size(); ++a) {
        // Format 2 names the arms active in the epoch; retired ones are 0.
        if (format2 && !arms_[a].active_in(epoch.number)) continue;
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

namespace {

// The arms list of a format-2 history, checked against itself and the number
// of epochs: starting arms first, then the added ones in the order (and so
// the epochs) they joined, each retired after it joined.
absl::StatusOr<std::vector<HistoryArm>> ReadArms(const rj::Value& doc,
                                                 size_t num_epochs) {
  ALLOT_ASSIGN_OR_RETURN(const rj::Value* list, Member(doc, "document", "arms"));
  if (!list->IsArray() || list->Empty()) {
    return HistoryError("arms must be a non-empty array");
  }
  if (list->Size() > static_cast<rj::SizeType>(kMaxArms)) {
    return HistoryError(
        absl::StrCat("arms lists ", list->Size(), " arms, more than ", kMaxArms));
  }
  const int64_t epochs = static_cast<int64_t>(num_epochs);
  std::vector<HistoryArm> arms;
  for (rj::SizeType i = 0; i < list->Size(); ++i) {
    const rj::Value& a = (*list)[i];
    const std::string where = absl::StrCat("arms[", i, "]");
    if (!a.IsObject()) return HistoryError(absl::StrCat(where, " must be an object"));
    ALLOT_RETURN_IF_ERROR(
        CheckKeys(a, where, {"id", "added", "retired", "retire", "payload"}));
    HistoryArm arm;
    ALLOT_ASSIGN_OR_RETURN(arm.id, StringMember(a, where, "id"));
    if (absl::Status s = ValidateId(absl::StrCat(where, ".id"), arm.id, kMaxArmIdBytes);
        !s.ok()) {
      return HistoryError(s.message());
    }
    ALLOT_ASSIGN_OR_RETURN(const rj::Value* added, Member(a, where, "added"));
    if (!added->IsInt64() || added->GetInt64() < 0 || added->GetInt64() >= epochs) {
      return HistoryError(
          absl::StrCat(where, ".added must be an epoch number in [0, ", epochs, ")"));
    }
    arm.added_epoch = added->GetInt64();
    if (i > 0) {
      const int64_t before = arms.back().added_epoch;
      if (arm.added_epoch == 0 && before > 0) {
        return HistoryError(absl::StrCat(where, ".added is 0 but arms[", i - 1,
                                         "] was added in epoch ", before,
                                         "; the starting arms come first"));
      }
      if (arm.added_epoch > 0 && arm.added_epoch <= before) {
        return HistoryError(
            absl::StrCat(where, ".added must be after arms[", i - 1, "].added (", before,
                         "): arms are listed in the order they joined, one per epoch"));
      }
    }
    const bool has_retired = a.HasMember("retired"), has_mode = a.HasMember("retire");
    if (has_retired != has_mode) {
      return HistoryError(
          absl::StrCat(where, " must have both \"retired\" and \"retire\", or neither"));
    }
    if (has_retired) {
      const rj::Value& retired = a["retired"];
      if (!retired.IsInt64() || retired.GetInt64() <= arm.added_epoch ||
          retired.GetInt64() >= epochs) {
        return HistoryError(absl::StrCat(where, ".retired must be an epoch number in [",
                                         arm.added_epoch + 1, ", ", epochs,
                                         ") (after the arm was added)"));
      }
      arm.retired_epoch = retired.GetInt64();
      ALLOT_ASSIGN_OR_RETURN(std::string mode, StringMember(a, where, "retire"));
      if (mode == RetireModeName(RetireMode::kDrain)) {
        arm.retire_mode = RetireMode::kDrain;
      } else if (mode == RetireModeName(RetireMode::kNow)) {
        arm.retire_mode = RetireMode::kNow;
      } else {
        return HistoryError(absl::StrCat(
            where, ".retire must be \"drain\" or \"now\", got ", QuoteId(mode)));
      }
    }
    if (a.HasMember("payload")) {
      ALLOT_ASSIGN_OR_RETURN(arm.payload, StringMember(a, where, "payload"));
      if (arm.payload.empty()) {
        return HistoryError(absl::StrCat(where, ".payload must be omitted when empty"));
      }
    }
    arms.push_back(std::move(arm));
  }
  return arms;
}

// Reads a format-2 epoch's {"arm": weight} object: it names exactly the arms
// active in `epoch`. Returns one weight per arm known in it (0 for retired).
absl::StatusOr<std::vector<double>> ReadActiveWeights(
    const rj::Value& object, absl::string_view where, const std::vector<HistoryArm>& arms,
    const absl::flat_hash_map<absl::string_view, int>& index, int64_t epoch) {
  if (!object.IsObject()) {
    return HistoryError(absl::StrCat(where, " must be an object of arm weights"));
  }
  size_t known = 0;
  while (known < arms.size() && arms[known].added_epoch <= epoch) ++known;
  std::vector<bool> named(known, false);
  std::vector<double> weights(known, 0.0);
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const absl::string_view id(it->name.GetString(), it->name.GetStringLength());
    if (!it->value.IsNumber()) {
      return HistoryError(absl::StrCat(where, ".", QuoteId(id), " must be a number"));
    }
    auto found = index.find(id);
    if (found == index.end()) {
      return HistoryError(absl::StrCat(where, " names unknown arm ", QuoteId(id)));
    }
    const HistoryArm& arm = arms[found->second];
    if (!arm.active_in(epoch)) {
      return HistoryError(absl::StrCat(
          where, " names arm ", QuoteId(id), ", which is not active in epoch ", epoch,
          arm.added_epoch > epoch
              ? absl::StrCat(" (added in epoch ", arm.added_epoch, ")")
              : absl::StrCat(" (retired in epoch ", arm.retired_epoch, ")")));
    }
    if (named[found->second]) {
      return HistoryError(absl::StrCat(where, " names arm ", QuoteId(id), " twice"));
    }
    named[found->second] = true;
    weights[found->second] = it->value.GetDouble();
  }
  for (size_t a = 0; a < known; ++a) {
    if (arms[a].active_in(epoch) && !named[a]) {
      return HistoryError(absl::StrCat(where, " is missing arm ", QuoteId(arms[a].id)));
    }
  }
  return weights;
}

struct EpochFields {
  absl::Time start;
  const rj::Value* weights = nullptr;
};

absl::StatusOr<EpochFields> ReadEpoch(const rj::Value& e, rj::SizeType i,
                                      const std::string& where) {
  if (!e.IsObject()) return HistoryError(absl::StrCat(where, " must be an object"));
  ALLOT_RETURN_IF_ERROR(CheckKeys(e, where, {"epoch", "start", "weights"}));
  ALLOT_ASSIGN_OR_RETURN(const rj::Value* number, Member(e, where, "epoch"));
  if (!number->IsInt64() || number->GetInt64() != static_cast<int64_t>(i)) {
    return HistoryError(
        absl::StrCat(where, ".epoch must be ", i, " (epochs are numbered 0, 1, 2...)"));
  }
  ALLOT_ASSIGN_OR_RETURN(std::string start_text, StringMember(e, where, "start"));
  EpochFields fields;
  ALLOT_ASSIGN_OR_RETURN(
      fields.start,
      ParseTime(absl::StrCat("allocation history: ", where, ".start"), start_text));
  ALLOT_ASSIGN_OR_RETURN(fields.weights, Member(e, where, "weights"));
  return fields;
}

// The parser refuses bytes that are not UTF-8, but decodes an escaped lone
// surrogate ("\udc00") into three such bytes, which would then be written
// as they are and refused when read back.
absl::Status CheckUtf8(absl::string_view field, absl::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = 0;
    const size_t length = internal::DecodeUtf8(text, pos, &cp);
    if (length == 0) {
      return HistoryError(absl::StrCat(field, " is not valid UTF-8 at byte ", pos,
                                       " (a lone surrogate escape?)"));
    }
    pos += length;
  }
  return absl::OkStatus();
}

absl::Status InEpoch(const std::string& where, const absl::Status& status) {
  if (status.ok()) return status;
  return HistoryError(absl::StrCat(where, ": ", status.message()));
}

}  // namespace

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
  ALLOT_RETURN_IF_ERROR(CheckKeys(doc, "document", {}));
  ALLOT_ASSIGN_OR_RETURN(const rj::Value* format, Member(doc, "document", "format"));
  if (!format->IsInt64()) return HistoryError("format must be an integer");
  if (format->GetInt64() > kHistoryFormat || format->GetInt64() < 1) {
    return HistoryError(absl::StrCat("format ", format->GetInt64(),
                                     " is not supported; this allot reads "
                                     "format 1 to ",
                                     kHistoryFormat));
  }
  const bool format2 = format->GetInt64() == 2;
  if (format2) {
    ALLOT_RETURN_IF_ERROR(
        CheckKeys(doc, "document", {"format", "experiment", "salt", "arms", "epochs"}));
  } else {
    ALLOT_RETURN_IF_ERROR(
        CheckKeys(doc, "document", {"format", "experiment", "salt", "epochs"}));
  }
  ALLOT_ASSIGN_OR_RETURN(std::string experiment,
                         StringMember(doc, "document", "experiment"));
  ALLOT_ASSIGN_OR_RETURN(std::string salt, StringMember(doc, "document", "salt"));
  if (experiment.empty()) return HistoryError("experiment must not be empty");
  ALLOT_RETURN_IF_ERROR(ValidateSalt(salt));
  ALLOT_RETURN_IF_ERROR(CheckUtf8("experiment", experiment));
  ALLOT_RETURN_IF_ERROR(CheckUtf8("salt", salt));
  ALLOT_ASSIGN_OR_RETURN(const rj::Value* epochs, Member(doc, "document", "epochs"));
  if (!epochs->IsArray() || epochs->Empty()) {
    return HistoryError("epochs must be a non-empty array");
  }
  // Every epoch goes through Create, Append, AddArm or RetireArm: one set of
  // checks, whoever made the history.
  std::optional<AllocationHistory> history;
  if (!format2) {
    std::vector<std::string> ids;
    for (rj::SizeType i = 0; i < epochs->Size(); ++i) {
      const std::string where = absl::StrCat("epochs[", i, "]");
      ALLOT_ASSIGN_OR_RETURN(EpochFields e, ReadEpoch((*epochs)[i], i, where));
      ALLOT_ASSIGN_OR_RETURN(
          std::vector<double> weights,
          ReadWeights(*e.weights, absl::StrCat(where, ".weights"), ids));
      if (i == 0) {
        ALLOT_RETURN_IF_ERROR(ValidateArmIds(ids));
        ALLOT_RETURN_IF_ERROR(CheckArmOrder(ids, arm_order));
        absl::StatusOr<AllocationHistory> created =
            Create(experiment, salt, ids, e.start, weights);
        ALLOT_RETURN_IF_ERROR(InEpoch(where, created.status()));
        history.emplace(*std::move(created));
      } else {
        ALLOT_RETURN_IF_ERROR(InEpoch(where, history->Append(e.start, weights)));
      }
    }
    return *std::move(history);
  }

  ALLOT_ASSIGN_OR_RETURN(std::vector<HistoryArm> arms, ReadArms(doc, epochs->Size()));
  absl::flat_hash_map<absl::string_view, int> index;
  for (size_t a = 0; a < arms.size(); ++a) {
    if (!index.emplace(arms[a].id, static_cast<int>(a)).second) {
      return HistoryError(absl::StrCat("arms[", a, "].id ", QuoteId(arms[a].id),
                                       " is also arms[", index[arms[a].id], "].id"));
    }
  }
  // The one arm each epoch adds or retires, if any.
  absl::flat_hash_map<int64_t, int> changes;
  for (size_t a = 0; a < arms.size(); ++a) {
    for (int64_t epoch : {arms[a].added_epoch, arms[a].retired_epoch}) {
      if (epoch <= 0) continue;
      if (auto [it, fresh] = changes.emplace(epoch, static_cast<int>(a)); !fresh) {
        return HistoryError(absl::StrCat("arms[", it->second, "] and arms[", a,
                                         "] both change in epoch ", epoch,
                                         "; an epoch adds or retires at most one arm"));
      }
    }
  }
  std::vector<std::string> starting_ids, starting_payloads;
  for (const HistoryArm& arm : arms) {
    if (arm.added_epoch != 0) break;
    starting_ids.push_back(arm.id);
    starting_payloads.push_back(arm.payload);
  }
  ALLOT_RETURN_IF_ERROR(ValidateArmIds(starting_ids));
  ALLOT_RETURN_IF_ERROR(CheckArmOrder(starting_ids, arm_order));
  for (rj::SizeType i = 0; i < epochs->Size(); ++i) {
    const std::string where = absl::StrCat("epochs[", i, "]");
    ALLOT_ASSIGN_OR_RETURN(EpochFields e, ReadEpoch((*epochs)[i], i, where));
    ALLOT_ASSIGN_OR_RETURN(std::vector<double> weights,
                           ReadActiveWeights(*e.weights, absl::StrCat(where, ".weights"),
                                             arms, index, static_cast<int64_t>(i)));
    if (i == 0) {
      absl::StatusOr<AllocationHistory> created =
          Create(experiment, salt, starting_ids, e.start, weights, starting_payloads);
      ALLOT_RETURN_IF_ERROR(InEpoch(where, created.status()));
      history.emplace(*std::move(created));
      continue;
    }
    auto change = changes.find(static_cast<int64_t>(i));
    absl::Status status;
    if (change == changes.end()) {
      status = history->Append(e.start, weights);
    } else if (const HistoryArm& arm = arms[change->second];
               arm.added_epoch == static_cast<int64_t>(i)) {
      status = history->AddArm(e.start, arm.id, arm.payload, weights);
    } else {
      status = history->RetireArm(e.start, change->second, arm.retire_mode, weights);
    }
    ALLOT_RETURN_IF_ERROR(InEpoch(where, status));
  }
  return *std::move(history);
}

}  // namespace allot
