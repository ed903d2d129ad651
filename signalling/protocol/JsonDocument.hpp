// JsonDocument.hpp — strict parsing and compact serialisation of JSON text (codec-private).
//
// What: parseJson runs the strict syntax check (JsonSyntax.hpp), then json-glib, and hands
// back the root node; toJsonText writes a node as compact JSON.
// Thread: pure functions, any thread. Ownership: the returned NodePtr owns the tree.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "signalling/protocol/JsonPtr.hpp"

namespace manifold::protocol::json {

/// Deepest nesting of arrays/objects accepted anywhere (frames, metadata, webhook replies).
inline constexpr std::size_t kMaxDepth = 32;

/// Parses one strict JSON value. On failure returns nullptr and says why in `problem`.
NodePtr parseJson(std::string_view text, std::string& problem);

/// Compact JSON text of `node` (no whitespace, members in document order). Doubles are
/// written in their shortest exact form and always keep a '.' or an exponent, so text
/// written here parses back to the same tree and writes back to the same text.
/// (json-glib's JsonGenerator is not used: 1.6 writes 1e57 as the invalid "1e+57.0".)
std::string toJsonText(JsonNode* node);

} // namespace manifold::protocol::json
