// Copyright 2026 The allot Authors.
//
// Reading a journal file: its records up to the first torn or corrupt one.
// Shared by InspectJournal, JournalWriter::Open and Recover. Not API.

#ifndef ALLOT_SRC_DURABILITY_JOURNAL_FILE_H_
#define ALLOT_SRC_DURABILITY_JOURNAL_FILE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "allot/journal.h"
#include "runtime/journal_record.h"

namespace allot::internal {

struct JournalFile {
  JournalContents contents;
  std::vector<JournalRecord> records;
};

// Reads every good record; stops at the first torn or corrupt one, which
// and everything after it is reported as dropped. Errors: as InspectJournal.
absl::StatusOr<JournalFile> ReadJournalFile(absl::string_view path);

}  // namespace allot::internal

#endif  // ALLOT_SRC_DURABILITY_JOURNAL_FILE_H_
