// Copyright 2026 The allot Authors.
//
// Validation errors that carry the path of the field they are about
// ("policy.epsilon", "arms[1].weight") as a Status payload, beside the
// message. A file reader maps the path to the line that set the field; a
// server can name it in a JSON error. The message always starts with the
// path too, for people.
//
//   absl::Status s = allot::FieldError("policy.epsilon", "must be in [0, 1], got 1.5");
//   allot::ErrorField(s);  // "policy.epsilon"

#ifndef ALLOT_FIELD_ERROR_H_
#define ALLOT_FIELD_ERROR_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace allot {

// Returns InvalidArgument "FIELD WHAT" carrying `field` as its field path.
absl::Status FieldError(absl::string_view field, absl::string_view what);

// Returns the field path `status` carries, or "" when it carries none.
std::string ErrorField(const absl::Status& status);

// Returns `status` with its field path's leading `from` replaced by `to`, in
// the path and at the start of the message ("policy.epsilon" becomes
// "policies[2].epsilon"; with `from` empty, `to` is a prefix). A status
// whose path does not start with `from` is returned as it is.
absl::Status RenameField(const absl::Status& status, absl::string_view from,
                         absl::string_view to);

// Ids and other caller text are echoed in messages at most this many bytes.
inline constexpr size_t kMaxQuotedBytes = 64;

// Returns `text` in double quotes for an error message: at most
// kMaxQuotedBytes of it (cut at a character boundary), then `..." (N bytes)`
// when it is longer; quotes, backslashes, control and invisible characters
// (byte-order mark, zero-width and bidirectional ones) and bytes that are not
// UTF-8 are shown as \" \\ \xNN or \u{NNNN}, so a message is one line of
// valid UTF-8 and shows every difference. Use it wherever a message echoes
// an id, a unit, a file's line or any other text a caller sent.
std::string QuoteId(absl::string_view text);

}  // namespace allot

#endif  // ALLOT_FIELD_ERROR_H_
