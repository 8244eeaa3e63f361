// Copyright 2026 The allot Authors.
//
// UTF-8 decoding for the id rules (experiment_config.cc) and for quoting ids
// in messages (field_error.cc). Private to allot.

#ifndef ALLOT_SRC_CONFIG_ID_TEXT_H_
#define ALLOT_SRC_CONFIG_ID_TEXT_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace allot::internal {

// Decodes the UTF-8 sequence at text[pos]: sets *code_point and returns its
// length (1 to 4), or returns 0 when the bytes there are not valid UTF-8
// (a stray continuation byte, a truncated or overlong sequence, a surrogate
// or a code point above U+10FFFF). REQUIRES: pos < text.size().
inline size_t DecodeUtf8(absl::string_view text, size_t pos, char32_t* code_point) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(pos);
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  }
  size_t length;
  char32_t cp;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    cp = b0 & 0x0f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (text.size() - pos < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    const unsigned char b = byte(pos + i);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if ((length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  *code_point = cp;
  return length;
}

// Whether an id may not hold `cp`: control characters (C0, DEL, C1) and the
// bidirectional embedding, override and isolate characters (U+202A..U+202E,
// U+2066..U+2069), which make an id display as another.
inline bool IsForbiddenInId(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// Whether a message should show `cp` escaped: what ids may not hold, and
// characters that are invisible (zero-width spaces and joiners, marks, the
// byte-order mark) so a message never hides a difference.
inline bool IsInvisible(char32_t cp) {
  return IsForbiddenInId(cp) || (cp >= 0x200b && cp <= 0x200f) || cp == 0x2060 ||
         cp == 0xfeff || cp == 0x00ad;
}

}  // namespace allot::internal

#endif  // ALLOT_SRC_CONFIG_ID_TEXT_H_
