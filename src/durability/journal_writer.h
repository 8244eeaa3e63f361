// Copyright 2026 The allot Authors.
//
// The journal file writer behind allot::Journal: encodes the engine's
// records, frames them (u32 length, u64 XXH3-64 checksum, body) and appends
// them, syncing each or in batches (a background flusher bounds the batch's
// age). A batch is written and synced by the flusher (or Flush), outside the
// lock that appends take, so appends never wait for the disk: they go on
// into the next batch while it syncs the last one.
// Not API; the durability benchmark times it directly.

#ifndef ALLOT_SRC_DURABILITY_JOURNAL_WRITER_H_
#define ALLOT_SRC_DURABILITY_JOURNAL_WRITER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/internal/mutex.h"
#include "allot/journal.h"
#include "runtime/journal_record.h"

namespace allot::internal {

// Thread-safe.
class JournalWriter final : public JournalSink {
 public:
  // As Journal::Open.
  static absl::StatusOr<std::unique_ptr<JournalWriter>> Open(
      absl::string_view path, const JournalOptions& options);
  ~JournalWriter() override;  // flushes

  // Encodes and appends `record`. Errors: DataLoss naming the file.
  absl::Status Append(const JournalRecord& record) override;
  // Appends one encoded record body numbered `sequence`. Errors:
  // InvalidArgument over kMaxJournalRecordBytes; DataLoss naming the file.
  absl::Status AppendBody(uint64_t sequence, absl::string_view body);
  absl::Status Flush();
  uint64_t next_sequence() const;
  uint64_t durable_sequence() const;
  const std::string& path() const { return path_; }

 private:
  JournalWriter(std::string path, int fd, const JournalOptions& options,
                uint64_t last_sequence);
  // Writes and syncs what is buffered, then again while the records
  // appended meanwhile are already due (older than the batch interval).
  absl::Status WriteBuffered() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void FlusherLoop();

  const std::string path_;
  const int fd_;
  const JournalOptions options_;
  // Held while a batch is written and synced: writes go one at a time, in
  // the order their records were appended.
  mutable Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // The batch being written, kept so its memory is reused.
  std::string writing_ ABSL_GUARDED_BY(write_mu_);
  // The sequence number of the last record in writing_.
  uint64_t writing_last_ ABSL_GUARDED_BY(write_mu_) = 0;
  mutable Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  absl::Time oldest_buffered_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // The sequence number of the last record in the file or the buffer.
  uint64_t last_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  // The sequence number of the last record written and synced.
  uint64_t durable_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  // The last write's failure (OK after a write that succeeded).
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
  // Wakes the flusher early: when the journal closes, so closing does not
  // wait out a batch interval, and when an append finds the batch due.
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_
  bool wake_ = false;  // guarded by stop_mu_
  // Set by the append that woke the flusher for the buffered batch, so the
  // appends after it do not wake it again.
  std::atomic<bool> wake_requested_{false};
  std::thread flusher_;
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_DURABILITY_JOURNAL_WRITER_H_
