// Copyright 2026 The allot Authors.

#include "serve/serve_config.h"

#include <filesystem>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "allot/experiment_config.h"
#include "allot/status_macros.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "config/experiment_toml.h"

namespace allot::serve {
namespace {

using internal::FieldLines;

absl::Status ParseListen(const toml::node& node, const FieldLines& lines,
                         ServeConfig& config) {
  ALLOT_ASSIGN_OR_RETURN(std::string text, internal::ReadString(node, "listen", lines));
  const size_t colon = text.rfind(':');
  const auto bad = [&](absl::string_view why) {
    return lines.Error(
        node, "listen",
        absl::StrCat("must be \"ADDRESS:PORT\" (", why, "), got \"", text, "\""));
  };
  if (colon == std::string::npos) return bad("no port");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port > 65535) {
    return bad("the port must be an integer in [0, 65535]");
  }
  if (host.empty()) return bad("no address");
  if (!ResolveListenAddress(host, static_cast<uint16_t>(port)).ok()) {
    return bad("the address must be an IP address or a host name that resolves");
  }
  config.listen_host = host;
  config.listen_port = static_cast<uint16_t>(port);
  return absl::OkStatus();
}

absl::Status ParseToken(const toml::node& node, const std::string& path,
                        const FieldLines& lines, ServeConfig& config) {
  ALLOT_ASSIGN_OR_RETURN(const toml::table* table,
                         internal::ReadTable(node, path, lines));
  TokenConfig token;
  bool has_digest = false, has_role = false;
  for (const auto& [key, value] : *table) {
    const std::string key_name(key.str());
    const std::string field = absl::StrCat(path, ".", key_name);
    if (key_name == "sha256") {
      ALLOT_ASSIGN_OR_RETURN(std::string hex, internal::ReadString(value, field, lines));
      hex = absl::AsciiStrToLower(hex);
      if (hex.size() != 64 ||
          hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
        return lines.Error(value, field,
                           "must be 64 hexadecimal digits (a SHA-256 digest)");
      }
      for (size_t i = 0; i < 32; ++i) {
        const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
        token.sha256[i] =
            static_cast<unsigned char>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]));
      }
      has_digest = true;
    } else if (key_name == "role") {
      ALLOT_ASSIGN_OR_RETURN(std::string role, internal::ReadString(value, field, lines));
      if (role == "admin") {
        token.role = Role::kAdmin;
      } else if (role == "router") {
        token.role = Role::kRouter;
      } else if (role == "viewer") {
        token.role = Role::kViewer;
      } else {
        return lines.Error(
            value, field,
            absl::StrCat("must be admin, router or viewer, got \"", role, "\""));
      }
      has_role = true;
    } else {
      return lines.Error(value, field, "is not a known field");
    }
  }
  if (!has_digest) return lines.Error(node, path, "needs sha256");
  if (!has_role) return lines.Error(node, path, "needs role");
  config.tokens.push_back(token);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ReadPositive(const toml::node& node, const std::string& path,
                                     const FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(int64_t v, internal::ReadInteger(node, path, lines));
  if (v <= 0) return lines.Error(node, path, absl::StrCat("must be positive, got ", v));
  return v;
}

absl::StatusOr<absl::Duration> ReadPositiveDuration(const toml::node& node,
                                                    const std::string& path,
                                                    const FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(absl::Duration d, internal::ReadDuration(node, path, lines));
  if (d <= absl::ZeroDuration()) {
    return lines.Error(node, path, "must be a positive duration");
  }
  return d;
}

absl::Status ParseStore(const toml::node& node, const FieldLines& lines,
                        StoreConfig& store) {
  ALLOT_ASSIGN_OR_RETURN(const toml::table* table,
                         internal::ReadTable(node, "store", lines));
  for (const auto& [key, value] : *table) {
    const std::string name(key.str());
    const std::string field = absl::StrCat("store.", name);
    if (name == "url") {
      ALLOT_ASSIGN_OR_RETURN(store.url, internal::ReadString(value, field, lines));
    } else if (name == "replica") {
      ALLOT_ASSIGN_OR_RETURN(store.replica, internal::ReadString(value, field, lines));
      if (store.replica.empty() || store.replica.size() > 64) {
        return lines.Error(value, field, "must be 1 to 64 bytes");
      }
    } else if (name == "flush_interval") {
      ALLOT_ASSIGN_OR_RETURN(store.flush_interval,
                             ReadPositiveDuration(value, field, lines));
    } else if (name == "flush_events") {
      ALLOT_ASSIGN_OR_RETURN(store.flush_events, ReadPositive(value, field, lines));
    } else if (name == "poll_interval") {
      ALLOT_ASSIGN_OR_RETURN(store.poll_interval,
                             ReadPositiveDuration(value, field, lines));
    } else if (name == "learner") {
      const std::optional<bool> learner = value.value<bool>();
      if (!learner.has_value()) return lines.Error(value, field, "must be true or false");
      store.learner = *learner;
    } else if (name == "learner_lag") {
      ALLOT_ASSIGN_OR_RETURN(store.learner_lag,
                             internal::ReadDuration(value, field, lines));
      if (store.learner_lag < absl::ZeroDuration()) {
        return lines.Error(value, field, "must not be negative");
      }
    } else {
      return lines.Error(value, field, "is not a known field");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<boost::asio::ip::address> ResolveListenAddress(const std::string& host,
                                                              uint16_t port) {
  boost::system::error_code ec;
  const boost::asio::ip::address literal = boost::asio::ip::make_address(host, ec);
  if (!ec) return literal;
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, std::to_string(port),
                                        boost::asio::ip::resolver_base::passive, ec);
  if (ec || results.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "cannot resolve \"", host, "\": ", ec ? ec.message() : "no addresses"));
  }
  // The first address the resolver prefers (IPv4 before IPv6 for
  // "localhost" on Debian's default gai.conf).
  return results.begin()->endpoint().address();
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kRouter:
      return "router";
    case Role::kViewer:
      return "viewer";
  }
  return "viewer";
}

absl::StatusOr<ServeConfig> ParseServeConfig(absl::string_view text,
                                             absl::string_view source,
                                             absl::string_view base_dir,
                                             absl::string_view store_url) {
  ALLOT_ASSIGN_OR_RETURN(toml::table table, internal::ParseToml(text, source));
  FieldLines lines{std::string(source)};
  ServeConfig config;
  const std::filesystem::path base{std::string(base_dir)};
  for (const auto& [key, value] : table) {
    const std::string name(key.str());
    if (name == "listen") {
      ALLOT_RETURN_IF_ERROR(ParseListen(value, lines, config));
    } else if (name == "data_dir") {
      ALLOT_ASSIGN_OR_RETURN(std::string dir, internal::ReadString(value, name, lines));
      if (dir.empty()) return lines.Error(value, name, "must not be empty");
      config.data_dir = (base / dir).lexically_normal().string();
    } else if (name == "experiments") {
      const toml::array* array = value.as_array();
      if (array == nullptr) {
        return lines.Error(value, name, "must be an array of experiment file paths");
      }
      for (size_t i = 0; i < array->size(); ++i) {
        ALLOT_ASSIGN_OR_RETURN(
            std::string path,
            internal::ReadString((*array)[i], absl::StrCat(name, "[", i, "]"), lines));
        config.experiments.push_back((base / path).lexically_normal().string());
      }
    } else if (name == "snapshot_interval") {
      ALLOT_ASSIGN_OR_RETURN(config.snapshot_interval,
                             ReadPositiveDuration(value, name, lines));
    } else if (name == "advance_interval") {
      ALLOT_ASSIGN_OR_RETURN(config.advance_interval,
                             ReadPositiveDuration(value, name, lines));
    } else if (name == "read_timeout") {
      ALLOT_ASSIGN_OR_RETURN(config.read_timeout,
                             ReadPositiveDuration(value, name, lines));
    } else if (name == "flush") {
      ALLOT_ASSIGN_OR_RETURN(std::string flush, internal::ReadString(value, name, lines));
      if (flush == "sync") {
        config.durability = Durability::kSync;
      } else if (flush == "interval") {
        config.durability = Durability::kInterval;
      } else {
        return lines.Error(
            value, name,
            absl::StrCat("must be \"sync\" or \"interval\", got \"", flush, "\""));
      }
    } else if (name == "flush_interval") {
      ALLOT_ASSIGN_OR_RETURN(config.flush_interval,
                             ReadPositiveDuration(value, name, lines));
      if (config.flush_interval > absl::Minutes(1)) {
        return lines.Error(value, name, "must be at most 1m");
      }
    } else if (name == "max_body_bytes") {
      ALLOT_ASSIGN_OR_RETURN(config.max_body_bytes, ReadPositive(value, name, lines));
    } else if (name == "max_batch") {
      ALLOT_ASSIGN_OR_RETURN(config.max_batch, ReadPositive(value, name, lines));
    } else if (name == "io_threads") {
      ALLOT_ASSIGN_OR_RETURN(config.io_threads, ReadPositive(value, name, lines));
      if (config.io_threads > 64) {
        return lines.Error(value, name,
                           absl::StrCat("must be at most 64, got ", config.io_threads));
      }
    } else if (name == "max_connections") {
      ALLOT_ASSIGN_OR_RETURN(config.max_connections, ReadPositive(value, name, lines));
    } else if (name == "store") {
      ALLOT_RETURN_IF_ERROR(ParseStore(value, lines, config.store));
    } else if (name == "tokens") {
      const toml::array* array = value.as_array();
      if (array == nullptr) {
        return lines.Error(value, name, "must be an array of tables ([[tokens]])");
      }
      for (size_t i = 0; i < array->size(); ++i) {
        ALLOT_RETURN_IF_ERROR(
            ParseToken((*array)[i], absl::StrCat("tokens[", i, "]"), lines, config));
      }
    } else {
      return lines.Error(value, name, "is not a known field");
    }
  }
  if (!store_url.empty()) config.store.url = std::string(store_url);
  if (config.data_dir.empty() && config.store.url.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ":1: data_dir is required (or a [store] url, for a fleet's replica)"));
  }
  if (config.tokens.empty()) {
    const absl::StatusOr<boost::asio::ip::address> address =
        ResolveListenAddress(config.listen_host, config.listen_port);
    if (!address.ok() || !address->is_loopback()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": listen \"", config.listen_host,
          "\" is not a loopback address; without [[tokens]] allot serve listens only on "
          "loopback (127.0.0.1 or ::1)"));
    }
  }
  return config;
}

absl::StatusOr<ServeConfig> LoadServeConfig(absl::string_view path,
                                            absl::string_view store_url) {
  ALLOT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, size_t{1} << 20));
  const std::filesystem::path p{std::string(path)};
  return ParseServeConfig(text, path, p.parent_path().string(), store_url);
}

}  // namespace allot::serve
