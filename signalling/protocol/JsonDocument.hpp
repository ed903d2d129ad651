// JsonDocument.hpp — strict parsing and compact serialisation of JSON text (codec-private).
//
// What: parseJson runs the strict syntax check (JsonSyntax.hpp), then json-glib, and hands
// back the root node; toJsonText writes a node as compact JSON.
// Thread: pure functions, any thread. Ownership: the returned NodePtr owns the tree.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "signalling/protocol/JsonPtr.hpp"
#include "signalling/protocol/JsonSyntax.hpp"

namespace manifold::protocol::json {

/// Deepest nesting of arrays/objects accepted anywhere (frames, metadata, webhook replies).
inline constexpr std::size_t kMaxDepth = 32;

/// Parses one strict JSON value. On failure returns nullptr and says why in `problem`;
/// a string holding \u0000 is such a failure.
NodePtr parseJson(std::string_view text, std::string& problem);

/// The same, except that a string holding \u0000 (valid JSON) does not fail: `nul` then
/// says where the first one is, and the tree holds that string cut at the \u0000 (or,
/// for a member name, the member under the cut name). The caller must refuse the
/// document as an invalid value.
NodePtr parseJson(std::string_view text, std::string& problem, std::optional<NulString>& nul);

/// False when a number in the tree is beyond the range of a double (json-glib reads such
/// a literal as +-infinity, which has no JSON form to write back).
bool numbersFinite(JsonNode* node);

/// Compact JSON text of `node` (no whitespace, members in document order). Doubles are
/// written in their shortest exact form and always keep a '.' or an exponent, so text
/// written here parses back to the same tree and writes back to the same text.
/// (json-glib's JsonGenerator is not used: 1.6 writes 1e57 as the invalid "1e+57.0".)
std::string toJsonText(JsonNode* node);

} // namespace manifold::protocol::json
