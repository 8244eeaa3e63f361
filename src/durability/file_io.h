// Copyright 2026 The allot Authors.
//
// Small POSIX file helpers with Status errors naming the file: whole-file
// reads, atomic replacement (temp file, fsync, rename, directory fsync) and
// little-endian integers.

#ifndef ALLOT_SRC_DURABILITY_FILE_IO_H_
#define ALLOT_SRC_DURABILITY_FILE_IO_H_

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace allot::internal {

// Returns a Status for the current errno: NotFound, PermissionDenied or
// DataLoss, "WHAT PATH: strerror".
absl::Status ErrnoStatus(absl::string_view what, absl::string_view path);

// Reads a whole file of at most `max_bytes`.
absl::StatusOr<std::string> ReadWholeFile(absl::string_view path, uint64_t max_bytes);

// Replaces `path` with `contents` atomically: writes a temporary file in the
// same directory, fsyncs it, renames it over `path` and fsyncs the
// directory. On error the old file is untouched and the temporary removed.
absl::Status WriteFileAtomically(absl::string_view path, absl::string_view contents);

// Renames `from` over `to` and fsyncs the directory of `to`, so the new
// name survives a crash. On error `from` is removed.
absl::Status RenameDurably(absl::string_view from, absl::string_view to);

// Writes all of `data` to `fd`, retrying short writes.
absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path);

inline void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
inline void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
inline uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
inline uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// The head of allot's file formats (snapshots, journals): 8 magic bytes,
// the format (u32) and 4 reserved bytes that must be 0, within a header of
// `header_bytes` in all.
struct FileHeaderSpec {
  const char* what;   // "snapshot", "journal": names the file in errors
  const char* magic;  // 8 characters
  uint32_t format;    // the newest format this release reads and writes
  size_t header_bytes;
};

// Returns magic, format and the reserved bytes: the first 16 bytes of a
// header of `spec`.
std::string FileHeader(const FileHeaderSpec& spec);

// Checks the head of `data`, a whole file read from `path`, and sets
// *format. Errors: DataLoss "WHAT PATH: ..." for an empty file, a header
// shorter than spec.header_bytes, a wrong magic or a non-zero reserved
// field; FailedPrecondition for a format of 0 or newer than spec.format.
absl::Status CheckFileHeader(absl::string_view data, const FileHeaderSpec& spec,
                             absl::string_view path, uint32_t* format);

// Whether a file exists at `path` (false for an empty path).
bool FileExists(absl::string_view path);

// XXH3-64 of `data`, the checksum of snapshots and journal records.
uint64_t Checksum(absl::string_view data);

}  // namespace allot::internal

#endif  // ALLOT_SRC_DURABILITY_FILE_IO_H_
