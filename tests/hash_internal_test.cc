// Copyright 2026 The allot Authors.
//
// The hot path's hasher reads the message head and the unit where they lie
// instead of copying them into one buffer; its values must be XXH3's over
// the copied message exactly, for every split of every size.

#include "assignment/hash_internal.h"

#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace allot::internal {
namespace {

// Random bytes without 0x00 for salts (ValidateSalt refuses it), any bytes
// for units.
std::string RandomBytes(std::mt19937_64& rng, size_t n, bool allow_nul) {
  std::uniform_int_distribution<int> byte(allow_nul ? 0 : 1, 255);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(byte(rng));
  return s;
}

// Salts of 0 to 140 bytes against units of 0 to 300 bytes covers every
// branch: messages of 3 to 443 bytes, the direct reads (17 to 128 bytes
// with a unit of 8 or more) and the copying path (the rest, including the
// streamed messages over kStackMessageBytes); each 8-byte read that
// straddles the head and the unit, at every offset.
TEST(MessageHasherTest, EqualsXxh3OfTheWholeMessage) {
  std::mt19937_64 rng(7);
  int direct = 0;
  for (size_t salt_size = 0; salt_size <= 140; ++salt_size) {
    const std::string salt = RandomBytes(rng, salt_size, /*allow_nul=*/false);
    for (char purpose : {'A', 'H', 'L'}) {
      const MessageHasher hasher(purpose, salt);
      const std::string head =
          absl::StrCat(std::string{'\x01', purpose}, salt, std::string(1, '\0'));
      ASSERT_EQ(hasher.head(), head);
      for (size_t unit_size = 0; unit_size <= 300; ++unit_size) {
        const std::string unit = RandomBytes(rng, unit_size, /*allow_nul=*/true);
        const std::string message = head + unit;
        ASSERT_EQ(hasher.Hash64(unit), XXH3_64bits(message.data(), message.size()))
            << "salt " << salt_size << " bytes, unit " << unit_size << " bytes";
        const XXH128_hash_t want = XXH3_128bits(message.data(), message.size());
        const XXH128_hash_t got = hasher.Hash128(unit);
        ASSERT_EQ(got.low64, want.low64)
            << "salt " << salt_size << ", unit " << unit_size;
        ASSERT_EQ(got.high64, want.high64)
            << "salt " << salt_size << ", unit " << unit_size;
        direct += unit_size >= 8 && message.size() > 16 && message.size() <= 128;
      }
    }
  }
  // The direct path was exercised, not just the copying one.
  EXPECT_GT(direct, 10000);
}

// The direct reads stay inside the unit: each unit here is a heap block of
// exactly its size, so under AddressSanitizer (CI) a read past it fails.
TEST(MessageHasherTest, ReadsNoByteBeyondTheUnit) {
  const MessageHasher hasher('A', "support-bot-model");
  for (size_t n = 8; n <= 110; ++n) {
    std::unique_ptr<char[]> unit(new char[n]);
    for (size_t i = 0; i < n; ++i) unit[i] = static_cast<char>('a' + i % 26);
    const absl::string_view view(unit.get(), n);
    const std::string message = absl::StrCat(hasher.head(), view);
    EXPECT_EQ(hasher.Hash64(view), XXH3_64bits(message.data(), message.size()));
  }
}

}  // namespace
}  // namespace allot::internal
