// Copyright 2026 The allot Authors.

#include "store/learner_loop.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "allot/field_error.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "store/learner.h"
#include "store/pg.h"

namespace allot::store {

absl::Status RunLearnerLoop(absl::string_view url, const ExperimentConfig& config,
                            const LearnerLoopOptions& options,
                            const LearnerLoopCallbacks& callbacks) {
  if (options.poll <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("poll must be positive, got ", absl::FormatDuration(options.poll)));
  }
  ALLOT_RETURN_IF_ERROR(ValidateStoreUrl(url));
  std::unique_ptr<Learner> learner;
  bool standby = false;
  bool was_leading = false;
  const auto set_leading = [&](bool now_leading) {
    if (now_leading != was_leading) callbacks.leading(now_leading);
    was_leading = now_leading;
  };
  while (true) {
    if (learner == nullptr) {
      absl::StatusOr<std::unique_ptr<Learner>> connected =
          Learner::Connect(url, config, options.learner_id);
      if (!connected.ok()) {
        // An unreachable server is waited for; anything else is an error.
        if (!absl::IsUnavailable(connected.status())) return connected.status();
        set_leading(false);
        callbacks.say(absl::StrCat(connected.status().message(), "; retrying"));
        if (callbacks.wait_or_stop(options.poll)) return absl::OkStatus();
        continue;
      }
      learner = *std::move(connected);
    }
    absl::StatusOr<bool> leading = learner->TryLead();
    if (!leading.ok()) {
      if (!absl::IsUnavailable(leading.status())) return leading.status();
      set_leading(false);
      callbacks.say(absl::StrCat(leading.status().message(), "; reconnecting"));
      learner.reset();
      if (callbacks.wait_or_stop(options.poll)) return absl::OkStatus();
      continue;
    }
    set_leading(*leading);
    if (!*leading) {
      if (!standby) {
        callbacks.say(
            absl::StrCat("standby: another learner leads ", QuoteId(config.id)));
        standby = true;
      }
      if (callbacks.wait_or_stop(options.poll)) return absl::OkStatus();
      continue;
    }
    if (standby) {
      callbacks.say(absl::StrCat("leading ", QuoteId(config.id), " from ",
                                 FormatRfc3339(learner->watermark())));
      standby = false;
    }
    const absl::Time target = options.once_until.value_or(absl::Now() - options.lag);
    absl::Status failed;
    const bool paced = options.pace > absl::ZeroDuration();
    while (failed.ok() && learner->NextDue() <= target) {
      // Paced: one grid point at a time with a pause after each.
      absl::StatusOr<std::vector<ReallocationReport>> reports =
          learner->RunUntil(paced ? learner->NextDue() : target);
      if (!reports.ok()) {
        failed = reports.status();
        break;
      }
      for (const ReallocationReport& r : *reports) callbacks.report(r);
      if (paced && callbacks.wait_or_stop(options.pace)) return absl::OkStatus();
    }
    if (!failed.ok()) {
      if (!absl::IsUnavailable(failed)) return failed;
      set_leading(false);
      callbacks.say(absl::StrCat(failed.message(), "; reconnecting"));
      learner.reset();
      continue;
    }
    if (options.once_until.has_value()) {
      callbacks.say(absl::StrCat("learned ", QuoteId(config.id), " up to ",
                                 FormatRfc3339(learner->watermark())));
      return absl::OkStatus();
    }
    if (callbacks.wait_or_stop(options.poll)) return absl::OkStatus();
  }
}

}  // namespace allot::store
