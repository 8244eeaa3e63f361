// Copyright 2026 The allot Authors.
//
// A journal write that fails after the engine changed its state: the call
// returns DataLoss and the engine fails closed, refusing every later change
// until recovered, so it never holds state its journal cannot reproduce.
// The failure is real: the file-size limit (RLIMIT_FSIZE) makes the
// journal's write fail with EFBIG, as a full disk would fail it.

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "allot/engine.h"
#include "allot/journal.h"
#include "allot/report.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scratch_files.h"

namespace allot {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

ExperimentConfig Config() {
  ExperimentConfig c;
  c.id = "exp";
  c.arms = {{"a", 1}, {"b", 1}};
  c.schedule.burn_in = absl::Hours(1);
  c.schedule.interval = absl::Hours(1);
  c.schedule.conversion_window = absl::Minutes(10);
  c.schedule.min_units_per_arm = 5;
  return c;
}

// Caps the size of files this process writes at `bytes` for its scope.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::signal(SIGXFSZ, SIG_IGN);  // the write then fails with EFBIG
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &saved_); }
  bool ok() const { return ok_; }

 private:
  rlimit saved_;
  bool ok_ = false;
};

TEST(JournalFailureTest, AFailedWriteFailsTheEngineClosedUntilRecovered) {
  const test::ScratchDir scratch("journal_failure_test");
  const std::string path = scratch.path() + "/journal";
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(path);
  ASSERT_TRUE(journal.ok()) << journal.status();
  Engine engine({.journal = journal->get()});
  ASSERT_TRUE(engine.CreateExperiment(Config()).ok());
  ASSERT_TRUE(engine.Start("exp", kStart).ok());
  ASSERT_TRUE(engine.Assign("exp", "u1", kStart).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  absl::Status failed;
  {
    FileSizeLimit limit(static_cast<rlim_t>(st.st_size));
    ASSERT_TRUE(limit.ok());
    // The exposure is made, then its record cannot be written.
    failed = engine.Assign("exp", "u2", kStart + absl::Minutes(1)).status();
  }
  EXPECT_EQ(failed.code(), absl::StatusCode::kDataLoss) << failed;
  EXPECT_THAT(failed.message(), HasSubstr("refuses changes until recovered"));

  // Every later change is refused, naming the journal error; nothing moves.
  const int64_t open = *engine.OpenUnits("exp");
  for (const absl::Status& s :
       {engine.Assign("exp", "u3", kStart + absl::Minutes(2)).status(),
        engine.RecordOutcome("exp", "u1", kStart + absl::Minutes(2), 1).status(),
        engine.Advance(kStart + absl::Hours(2)).status(),
        engine.Stop("exp", kStart + absl::Hours(2)), engine.Delete("exp"),
        engine.CreateExperiment([] {
          ExperimentConfig c = Config();
          c.id = "other";
          return c;
        }())}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(s.message(), HasSubstr("journal write failed"));
    EXPECT_THAT(s.message(), HasSubstr(path));
  }
  absl::StatusOr<ExperimentHandle> handle = engine.Handle("exp");
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(handle->Assign("u4", kStart + absl::Minutes(3)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*engine.OpenUnits("exp"), open);
  // Reads still work.
  EXPECT_TRUE(engine.Reports("exp").ok());
  EXPECT_TRUE(engine.History("exp").ok());

  // Recovery gives the state the journal holds: u1 exposed, u2 not.
  journal->reset();
  absl::StatusOr<Recovery> recovered = Recover("", path);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(*recovered->engine->OpenUnits("exp"), 1);
  EXPECT_TRUE(recovered->engine->Assign("exp", "u5", kStart + absl::Minutes(4)).ok());
}

}  // namespace
}  // namespace allot
