// Copyright 2026 The allot Authors.

#include "durability/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"

#include "assignment/hash_internal.h"

namespace allot::internal {

absl::Status ErrnoStatus(absl::string_view what, absl::string_view path) {
  const int err = errno;
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::DataLossError(message);
}

absl::StatusOr<std::string> ReadWholeFile(absl::string_view path, uint64_t max_bytes) {
  const std::string p(path);
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    absl::Status s = ErrnoStatus("cannot stat", path);
    ::close(fd);
    return s;
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is ", st.st_size, " bytes, over the limit of ", max_bytes));
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = ErrnoStatus("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  data.resize(done);
  return data;
}

absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(absl::string_view path, absl::string_view contents) {
  const std::filesystem::path target{std::string(path)};
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::string temp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return ErrnoStatus("cannot create a temporary file beside", path);
  absl::Status s = WriteAll(fd, contents, temp);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("cannot fsync", temp);
  if (::close(fd) != 0 && s.ok()) s = ErrnoStatus("cannot close", temp);
  if (!s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  return RenameDurably(temp, path);
}

absl::Status RenameDurably(absl::string_view from, absl::string_view to) {
  const std::filesystem::path target{std::string(to)};
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  const std::string source(from);
  if (::rename(source.c_str(), target.c_str()) != 0) {
    absl::Status s = ErrnoStatus(absl::StrCat("cannot rename ", from, " over"), to);
    ::unlink(source.c_str());
    return s;
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("cannot open the directory of", to);
  const bool synced = ::fsync(dfd) == 0;
  ::close(dfd);
  if (!synced) return ErrnoStatus("cannot fsync the directory of", to);
  return absl::OkStatus();
}

uint64_t Checksum(absl::string_view data) {
  return XXH3_64bits(data.data(), data.size());
}

std::string FileHeader(const FileHeaderSpec& spec) {
  std::string header(spec.magic, 8);
  PutU32(header, spec.format);
  PutU32(header, 0);
  return header;
}

absl::Status CheckFileHeader(absl::string_view data, const FileHeaderSpec& spec,
                             absl::string_view path, uint32_t* format) {
  const auto corrupt = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(spec.what, " ", path, ": ", what));
  };
  if (data.empty()) return corrupt("the file is empty");
  if (data.size() < spec.header_bytes) {
    return corrupt(absl::StrCat("truncated header: ", data.size(), " of ",
                                spec.header_bytes, " bytes"));
  }
  if (data.substr(0, 8) != absl::string_view(spec.magic, 8)) {
    return corrupt(absl::StrCat("wrong magic: not an allot ", spec.what));
  }
  *format = GetU32(data.data() + 8);
  if (*format == 0 || *format > spec.format) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec.what, " ", path, ": format ", *format,
                     " is not supported; this allot reads format 1 to ", spec.format));
  }
  // Not covered by any checksum: a flipped bit here must not go unnoticed.
  if (const uint32_t reserved = GetU32(data.data() + 12); reserved != 0) {
    return corrupt(absl::StrCat("reserved header field is ", reserved, ", not 0"));
  }
  return absl::OkStatus();
}

bool FileExists(absl::string_view path) {
  return !path.empty() && ::access(std::string(path).c_str(), F_OK) == 0;
}

}  // namespace allot::internal
