// Copyright 2026 The allot Authors.
//
// Helpers every `allot` command shares: errors and exit codes, the unit and
// TSV rules of line-based files, seeds, and outputs written as a set.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "allot/field_error.h"
#include "allot/hash.h"
#include "allot/status_macros.h"
#include "cli/commands.h"
#include "config/id_text.h"

namespace allot::cli {
namespace {

absl::Status SystemError(absl::string_view what, absl::string_view path) {
  return absl::DataLossError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Writes `contents` to a new file at `path` and fsyncs it.
absl::Status WriteNewFile(const std::string& path, absl::string_view contents) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return SystemError("cannot create", path);
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = SystemError("cannot write", path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status s = SystemError("cannot write", path);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return SystemError("cannot write", path);
  return absl::OkStatus();
}

}  // namespace

void ReportError(absl::string_view command, const absl::Status& status, int& exit_code) {
  std::cerr << "allot " << command << ": " << status.message() << "\n";
  exit_code = kExitError;
}

std::string FormatNumber(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

absl::Status CheckLineUnit(absl::string_view unit) {
  for (size_t i = 0; i < unit.size(); ++i) {
    const char c = unit[i];
    if (c == '\t' || c == '\r' || c == '\n' || c == '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("unit ", QuoteId(unit), " holds a ",
                       c == '\t'   ? "tab"
                       : c == '\r' ? "CR"
                       : c == '\n' ? "LF"
                                   : "NUL",
                       " at offset ", i, ", which allot's line-based files cannot hold"));
    }
  }
  return ValidateUnit(unit);
}

std::string EscapeTsv(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = 0;
    const size_t length = internal::DecodeUtf8(text, pos, &cp);
    if (length == 0 || cp < 0x20 || cp == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(text[pos]));
      ++pos;
      continue;
    }
    if (cp == '\\') out.push_back('\\');
    out.append(text.data() + pos, length);
    pos += length;
  }
  return out;
}

std::string ValidUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = 0;
    const size_t length = internal::DecodeUtf8(text, pos, &cp);
    if (length == 0) {
      out.append("\xef\xbf\xbd");
      ++pos;
    } else {
      out.append(text.data() + pos, length);
      pos += length;
    }
  }
  return out;
}

absl::Status CheckReadableFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory, not a file"));
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ParseSeed(absl::string_view flag, absl::string_view text) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t seed = -1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, seed);
  if (text.empty() || text[0] == '-' || ec != std::errc() || ptr != end) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " must be an integer in [0, ",
                                                   kMax, "], got ", QuoteId(text)));
  }
  return static_cast<uint64_t>(seed);
}

absl::Status WriteOutputs(const std::string& dir,
                          const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> temporaries;
  auto remove_temporaries = [&] {
    for (const std::string& t : temporaries) ::unlink(t.c_str());
  };
  for (const auto& [name, contents] : files) {
    const std::string temporary =
        absl::StrCat(dir, "/.", name, ".partial-", static_cast<int64_t>(::getpid()));
    temporaries.push_back(temporary);
    absl::Status written = WriteNewFile(temporary, contents);
    if (!written.ok()) {
      remove_temporaries();
      return absl::Status(written.code(),
                          absl::StrCat(written.message(), " (while writing ", name,
                                       "; no output was written)"));
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string path = absl::StrCat(dir, "/", files[i].first);
    if (::rename(temporaries[i].c_str(), path.c_str()) != 0) {
      absl::Status s = SystemError("cannot rename into", path);
      // Some outputs may be this run's and others the last run's: remove
      // them all rather than leave a mixed set.
      remove_temporaries();
      for (const auto& file : files) ::unlink(absl::StrCat(dir, "/", file.first).c_str());
      return s;
    }
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace allot::cli
