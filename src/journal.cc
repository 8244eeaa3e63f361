// Copyright 2026 The allot Authors.

#include "allot/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/snapshot.h"
#include "allot/status_macros.h"
#include "engine_access.h"
#include "file_io.h"
#include "state_codec.h"

namespace allot {
namespace {

constexpr char kMagic[8] = {'A', 'L', 'L', 'O', 'T', 'J', 'N', 'L'};
constexpr size_t kHeaderBytes = 16;
constexpr size_t kRecordHeaderBytes = 12;  // u32 length + u64 checksum
constexpr uint64_t kMaxJournalFileBytes = uint64_t{64} << 30;

std::string FileHeader() {
  std::string header(kMagic, 8);
  internal::PutU32(header, kJournalFormat);
  internal::PutU32(header, 0);
  return header;
}

absl::Status CheckHeader(absl::string_view data, absl::string_view path,
                         uint32_t* format) {
  if (data.empty()) {
    return absl::DataLossError(absl::StrCat("journal ", path, ": the file is empty"));
  }
  if (data.size() < kHeaderBytes) {
    return absl::DataLossError(absl::StrCat("journal ", path, ": truncated header: ",
                                            data.size(), " of 16 bytes"));
  }
  if (data.substr(0, 8) != absl::string_view(kMagic, 8)) {
    return absl::DataLossError(
        absl::StrCat("journal ", path, ": wrong magic: not an allot journal"));
  }
  *format = internal::GetU32(data.data() + 8);
  if (*format == 0 || *format > kJournalFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "journal ", path, ": format ", *format,
        " is not supported; this allot reads format 1 to ", kJournalFormat));
  }
  if (const uint32_t reserved = internal::GetU32(data.data() + 12); reserved != 0) {
    return absl::DataLossError(absl::StrCat(
        "journal ", path, ": reserved header field is ", reserved, ", not 0"));
  }
  return absl::OkStatus();
}

struct JournalFile {
  JournalContents contents;
  std::vector<internal::JournalRecord> records;
};

// Reads every good record; stops at the first torn or corrupt one, which
// and everything after it is reported as dropped.
absl::StatusOr<JournalFile> ReadJournalFile(absl::string_view path) {
  ALLOT_ASSIGN_OR_RETURN(std::string data,
                         internal::ReadWholeFile(path, kMaxJournalFileBytes));
  JournalFile file;
  JournalContents& c = file.contents;
  ALLOT_RETURN_IF_ERROR(CheckHeader(data, path, &c.format));
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
        problem = absl::StrCat("torn record: ", body.size(), " of ", size,
                               " bytes");
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
  c.good_bytes = static_cast<int64_t>(pos - (c.dropped_records ? 0 : 0));
  if (c.dropped_records) c.good_bytes = static_cast<int64_t>(data.size()) - c.dropped_bytes;
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

bool FileExists(absl::string_view path) {
  return !path.empty() && ::access(std::string(path).c_str(), F_OK) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(
    absl::string_view path, const JournalOptions& options) {
  if (options.batch_interval <= absl::ZeroDuration() ||
      options.batch_interval > absl::Minutes(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_interval must be in (0, 1m], got ",
                     absl::FormatDuration(options.batch_interval)));
  }
  uint64_t next_sequence = 1;
  if (FileExists(path)) {
    ALLOT_ASSIGN_OR_RETURN(JournalFile file, ReadJournalFile(path));
    if (file.contents.dropped_records > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "journal ", path, " has a bad tail (", file.contents.dropped_reason,
          "); run recovery first, which cuts it off"));
    }
    next_sequence = file.contents.last_sequence + 1;
  }
  const std::string p(path);
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return internal::ErrnoStatus("cannot open", path);
  if (::lseek(fd, 0, SEEK_END) == 0) {
    absl::Status s = internal::WriteAll(fd, FileHeader(), path);
    if (s.ok() && ::fdatasync(fd) != 0) s = internal::ErrnoStatus("cannot sync", path);
    if (!s.ok()) {
      ::close(fd);
      return s;
    }
  }
  std::unique_ptr<Journal> journal(new Journal(p, fd, options));
  journal->set_next_sequence(next_sequence);
  return journal;
}

Journal::Journal(std::string path, int fd, const JournalOptions& options)
    : path_(std::move(path)), fd_(fd), options_(options) {
  if (options_.flush == FlushPolicy::kBatched) {
    flusher_ = std::thread([this] { FlusherLoop(); });
  }
}

Journal::~Journal() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  internal::MutexLock lock(&mu_);
  (void)FlushLocked();
  ::close(fd_);
}

void Journal::FlusherLoop() {
  const auto interval =
      std::chrono::microseconds(absl::ToInt64Microseconds(options_.batch_interval));
  std::unique_lock<std::mutex> stop_lock(stop_mu_);
  while (!stop_cv_.wait_for(stop_lock, interval, [this] { return stop_; })) {
    stop_lock.unlock();
    {
      internal::MutexLock lock(&mu_);
      // A failure here resurfaces on the next Append or Flush.
      (void)FlushLocked();
    }
    stop_lock.lock();
  }
}

absl::Status Journal::FlushLocked() {
  if (buffer_.empty()) return absl::OkStatus();
  ALLOT_RETURN_IF_ERROR(internal::WriteAll(fd_, buffer_, path_));
  if (::fdatasync(fd_) != 0) return internal::ErrnoStatus("cannot sync", path_);
  buffer_.clear();
  oldest_buffered_ = absl::InfiniteFuture();
  return absl::OkStatus();
}

absl::Status Journal::Append(absl::string_view body) {
  if (body.size() > kMaxJournalRecordBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "journal record of ", body.size(), " bytes is over the limit of ",
        kMaxJournalRecordBytes));
  }
  std::string record;
  record.reserve(kRecordHeaderBytes + body.size());
  internal::PutU32(record, static_cast<uint32_t>(body.size()));
  internal::PutU64(record, internal::Checksum(body));
  record.append(body.data(), body.size());
  internal::MutexLock lock(&mu_);
  ++next_sequence_;
  if (options_.flush == FlushPolicy::kEveryRecord) {
    ALLOT_RETURN_IF_ERROR(internal::WriteAll(fd_, record, path_));
    if (::fdatasync(fd_) != 0) return internal::ErrnoStatus("cannot sync", path_);
    return absl::OkStatus();
  }
  // The batch timer is real time: it bounds how much acknowledged work a
  // crash can lose, which has nothing to do with the engine's event times.
  const absl::Time now = absl::Now();
  if (buffer_.empty()) oldest_buffered_ = now;
  buffer_ += record;
  if (now - oldest_buffered_ >= options_.batch_interval) return FlushLocked();
  return absl::OkStatus();
}

absl::Status Journal::Flush() {
  internal::MutexLock lock(&mu_);
  return FlushLocked();
}

uint64_t Journal::next_sequence() const {
  internal::MutexLock lock(&mu_);
  return next_sequence_;
}

void Journal::set_next_sequence(uint64_t sequence) {
  internal::MutexLock lock(&mu_);
  next_sequence_ = sequence;
}

absl::StatusOr<JournalContents> InspectJournal(absl::string_view path) {
  ALLOT_ASSIGN_OR_RETURN(JournalFile file, ReadJournalFile(path));
  return file.contents;
}

absl::StatusOr<Recovery> Recover(absl::string_view snapshot_path,
                                 absl::string_view journal_path) {
  Recovery recovery;
  uint64_t applied = 0;
  if (FileExists(snapshot_path)) {
    ALLOT_ASSIGN_OR_RETURN(recovery.engine,
                           ReadSnapshot(snapshot_path, &recovery.application_data));
    recovery.from_snapshot = true;
    applied = internal::EngineAccess::Export(*recovery.engine).journal_sequence;
  } else {
    recovery.engine = std::make_unique<Engine>();
  }
  if (!FileExists(journal_path)) return recovery;
  ALLOT_ASSIGN_OR_RETURN(JournalFile file, ReadJournalFile(journal_path));
  recovery.records_dropped = file.contents.dropped_records;
  recovery.dropped_reason = file.contents.dropped_reason;
  if (file.contents.dropped_records > 0 &&
      ::truncate(std::string(journal_path).c_str(), file.contents.good_bytes) != 0) {
    return internal::ErrnoStatus("cannot cut the bad tail off", journal_path);
  }
  for (const internal::JournalRecord& record : file.records) {
    if (record.sequence <= applied) continue;
    if (record.sequence != applied + 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "journal ", journal_path, " continues at record ", record.sequence,
          " but the state ends at record ", applied, ": records are missing"));
    }
    absl::Status s = internal::EngineAccess::Apply(*recovery.engine, record);
    if (!s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "journal ", journal_path, " record ", record.sequence, " (",
          internal::JournalKindName(record.kind), ") cannot be applied: ",
          s.message()));
    }
    applied = record.sequence;
    ++recovery.records_replayed;
  }
  return recovery;
}

}  // namespace allot
