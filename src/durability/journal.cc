// Copyright 2026 The allot Authors.

#include "allot/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/status_macros.h"
#include "durability/file_io.h"
#include "durability/journal_file.h"
#include "durability/journal_writer.h"
#include "durability/state_codec.h"

namespace allot {
namespace {

// "ALLOTJNL", the format and 4 reserved bytes; then records.
constexpr internal::FileHeaderSpec kJournalHeader = {
    .what = "journal", .magic = "ALLOTJNL", .format = kJournalFormat, .header_bytes = 16};
constexpr size_t kHeaderBytes = kJournalHeader.header_bytes;
constexpr size_t kRecordHeaderBytes = 12;  // u32 length + u64 checksum
constexpr uint64_t kMaxJournalFileBytes = uint64_t{64} << 30;

}  // namespace

namespace internal {

absl::StatusOr<JournalFile> ReadJournalFile(absl::string_view path) {
  ALLOT_ASSIGN_OR_RETURN(std::string data,
                         internal::ReadWholeFile(path, kMaxJournalFileBytes));
  JournalFile file;
  JournalContents& c = file.contents;
  ALLOT_RETURN_IF_ERROR(CheckFileHeader(data, kJournalHeader, path, &c.format));
  std::map<int, int64_t> by_kind;
  size_t pos = kHeaderBytes;
  while (pos < data.size()) {
    const size_t left = data.size() - pos;
    std::string problem;
    absl::StatusOr<internal::JournalRecord> record;
    size_t size = 0;
    if (left < kRecordHeaderBytes) {
      problem = absl::StrCat("torn record header (", left, " bytes)");
    } else {
      size = internal::GetU32(data.data() + pos);
      const uint64_t checksum = internal::GetU64(data.data() + pos + 4);
      const absl::string_view body(data.data() + pos + kRecordHeaderBytes,
                                   std::min(left - kRecordHeaderBytes, size_t{size}));
      if (size > kMaxJournalRecordBytes) {
        problem = absl::StrCat("record length ", size, " is over the limit");
      } else if (body.size() < size) {
        problem = absl::StrCat("torn record: ", body.size(), " of ", size, " bytes");
      } else if (internal::Checksum(body) != checksum) {
        problem = "record checksum mismatch";
      } else {
        record = internal::DecodeJournalRecord(body);
        if (!record.ok()) {
          problem = std::string(record.status().message());
        } else if (!file.records.empty() &&
                   record->sequence != file.records.back().sequence + 1) {
          problem = absl::StrCat("sequence ", record->sequence, " follows ",
                                 file.records.back().sequence);
        }
      }
    }
    if (!problem.empty()) {
      c.dropped_records = 1;
      c.dropped_bytes = static_cast<int64_t>(left);
      c.dropped_reason = absl::StrCat(problem, " at offset ", pos);
      break;
    }
    ++by_kind[static_cast<int>(record->kind)];
    file.records.push_back(*std::move(record));
    pos += kRecordHeaderBytes + size;
  }
  c.good_bytes = static_cast<int64_t>(pos);
  c.records = static_cast<int64_t>(file.records.size());
  for (const auto& [kind, n] : by_kind) {
    c.records_by_kind.emplace_back(
        internal::JournalKindName(static_cast<internal::JournalRecord::Kind>(kind)), n);
  }
  if (!file.records.empty()) {
    c.first_sequence = file.records.front().sequence;
    c.last_sequence = file.records.back().sequence;
  }
  return file;
}

absl::StatusOr<std::unique_ptr<JournalWriter>> JournalWriter::Open(
    absl::string_view path, const JournalOptions& options) {
  if (options.batch_interval <= absl::ZeroDuration() ||
      options.batch_interval > absl::Minutes(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_interval must be in (0, 1m], got ",
                     absl::FormatDuration(options.batch_interval)));
  }
  uint64_t last_sequence = 0;
  if (FileExists(path)) {
    ALLOT_ASSIGN_OR_RETURN(JournalFile file, ReadJournalFile(path));
    if (file.contents.dropped_records > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "journal ", path, " has a bad tail (", file.contents.dropped_reason,
          "); run recovery first, which cuts it off"));
    }
    last_sequence = file.contents.last_sequence;
  }
  const std::string p(path);
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  if (::lseek(fd, 0, SEEK_END) == 0) {
    absl::Status s = WriteAll(fd, FileHeader(kJournalHeader), path);
    if (s.ok() && ::fdatasync(fd) != 0) s = ErrnoStatus("cannot sync", path);
    if (!s.ok()) {
      ::close(fd);
      return s;
    }
  }
  return std::unique_ptr<JournalWriter>(new JournalWriter(p, fd, options, last_sequence));
}

JournalWriter::JournalWriter(std::string path, int fd, const JournalOptions& options,
                             uint64_t last_sequence)
    : path_(std::move(path)), fd_(fd), options_(options) {
  {
    MutexLock lock(&mu_);
    last_sequence_ = last_sequence;
    durable_sequence_ = last_sequence;
  }
  if (options_.flush == FlushPolicy::kBatched) {
    flusher_ = std::thread([this] { FlusherLoop(); });
  }
}

JournalWriter::~JournalWriter() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  {
    MutexLock write(&write_mu_);
    (void)WriteBuffered();
  }
  ::close(fd_);
}

void JournalWriter::FlusherLoop() {
  const auto interval =
      std::chrono::microseconds(absl::ToInt64Microseconds(options_.batch_interval));
  std::unique_lock<std::mutex> stop_lock(stop_mu_);
  while (true) {
    // Every interval, or at once when an append finds the batch due.
    stop_cv_.wait_for(stop_lock, interval, [this] { return stop_ || wake_; });
    if (stop_) return;  // the destructor writes what is left
    wake_ = false;
    stop_lock.unlock();
    {
      MutexLock write(&write_mu_);
      // A failure is kept and returned by the next Append or Flush.
      (void)WriteBuffered();
    }
    stop_lock.lock();
  }
}

absl::Status JournalWriter::WriteBuffered() {
  while (true) {
    {
      MutexLock lock(&mu_);
      if (buffer_.empty()) return absl::OkStatus();
      writing_.swap(buffer_);
      writing_last_ = last_sequence_;
      wake_requested_.store(false, std::memory_order_relaxed);
      oldest_buffered_ = absl::InfiniteFuture();
    }
    absl::Status s = WriteAll(fd_, writing_, path_);
    if (s.ok() && ::fdatasync(fd_) != 0) s = ErrnoStatus("cannot sync", path_);
    MutexLock lock(&mu_);
    write_error_ = s;
    if (!s.ok()) {
      // The batch goes back in front of what came meanwhile, for the next
      // attempt; the caller reports the failure.
      writing_ += buffer_;
      buffer_.swap(writing_);
      writing_.clear();
      oldest_buffered_ = absl::Now() - options_.batch_interval;
      return s;
    }
    writing_.clear();
    durable_sequence_ = writing_last_;
    if (oldest_buffered_ > absl::Now() - options_.batch_interval) {
      return absl::OkStatus();
    }
  }
}

absl::Status JournalWriter::Append(const JournalRecord& record) {
  return AppendBody(record.sequence, EncodeJournalRecord(record));
}

absl::Status JournalWriter::AppendBody(uint64_t sequence, absl::string_view body) {
  if (body.size() > kMaxJournalRecordBytes) {
    return absl::InvalidArgumentError(absl::StrCat("journal record of ", body.size(),
                                                   " bytes is over the limit of ",
                                                   kMaxJournalRecordBytes));
  }
  std::string framed;
  framed.reserve(kRecordHeaderBytes + body.size());
  PutU32(framed, static_cast<uint32_t>(body.size()));
  PutU64(framed, Checksum(body));
  framed.append(body.data(), body.size());
  if (options_.flush == FlushPolicy::kEveryRecord) {
    MutexLock write(&write_mu_);
    ALLOT_RETURN_IF_ERROR(WriteAll(fd_, framed, path_));
    if (::fdatasync(fd_) != 0) return ErrnoStatus("cannot sync", path_);
    MutexLock lock(&mu_);
    last_sequence_ = sequence;
    durable_sequence_ = sequence;
    return absl::OkStatus();
  }
  bool due = false;
  {
    // The batch timer is real time: it bounds how much acknowledged work a
    // crash can lose, which has nothing to do with the engine's event times.
    const absl::Time now = absl::Now();
    MutexLock lock(&mu_);
    // The flusher's failure is this append's: the caller learns of it now.
    if (!write_error_.ok()) return write_error_;
    if (buffer_.empty()) oldest_buffered_ = now;
    buffer_ += framed;
    last_sequence_ = sequence;
    due = now - oldest_buffered_ >= options_.batch_interval;
  }
  // A due batch is the flusher's to write, woken now: the appending thread
  // (a request's) never waits for a write or a sync. A write under way
  // writes it next (WriteBuffered goes on while the buffer is due).
  if (due && !wake_requested_.exchange(true, std::memory_order_relaxed)) {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      wake_ = true;
    }
    stop_cv_.notify_one();
  }
  return absl::OkStatus();
}

absl::Status JournalWriter::Flush() {
  MutexLock write(&write_mu_);
  return WriteBuffered();
}

uint64_t JournalWriter::durable_sequence() const {
  MutexLock lock(&mu_);
  return durable_sequence_;
}

uint64_t JournalWriter::next_sequence() const {
  MutexLock lock(&mu_);
  return last_sequence_ + 1;
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(absl::string_view path,
                                                       const JournalOptions& options) {
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<internal::JournalWriter> writer,
                         internal::JournalWriter::Open(path, options));
  return std::unique_ptr<Journal>(new Journal(std::move(writer)));
}

Journal::Journal(std::unique_ptr<internal::JournalWriter> writer)
    : writer_(std::move(writer)) {}
Journal::~Journal() = default;
absl::Status Journal::Flush() { return writer_->Flush(); }
uint64_t Journal::next_sequence() const { return writer_->next_sequence(); }
uint64_t Journal::durable_sequence() const { return writer_->durable_sequence(); }
const std::string& Journal::path() const { return writer_->path(); }
internal::JournalSink* Journal::sink() const { return writer_.get(); }

absl::StatusOr<JournalContents> InspectJournal(absl::string_view path) {
  ALLOT_ASSIGN_OR_RETURN(internal::JournalFile file, internal::ReadJournalFile(path));
  return file.contents;
}

}  // namespace allot
