// JsonSyntax.hpp — strict RFC 8259 syntax check run before json-glib sees a frame
// (codec-private).
//
// What: json-glib 1.6 parses with GScanner and is lenient in ways a network codec must not
// be: it accepts comments, single quotes, hex and octal-looking numbers, raw control
// characters in strings, unknown escapes, lone UTF-16 surrogates (producing invalid
// UTF-8), truncates strings at \u0000, wraps integers that do not fit 64 bits and turns
// 1e999 into infinity. This checker accepts exactly RFC 8259 JSON and refuses the
// syntax json-glib would misread: nesting is bounded and lone surrogates are rejected.
// Two things are valid JSON that json-glib cannot represent faithfully, so they are
// reported instead of refused, for the caller to refuse as an invalid *value* (with the
// frame's id): a string holding \u0000 (json-glib would cut it short), located by its
// path, and numbers of any size (integer literals too long for int64 are listed so the
// caller hands them to json-glib as doubles; beyond the range of a double json-glib
// reads infinity, which range checks and metadata checks then refuse).
// Thread: pure function, any thread. Ownership: values in, values out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::protocol::json {

/// The first string of the document that holds \u0000.
struct NulString {
    /// Where it is, as the codec names fields: "name", "metadata.a", "trackIds[2]"; ""
    /// for a member name of the top-level object. Member names in it are written as they
    /// appear in the text (escapes included), each cut to 64 bytes.
    std::string path;
    bool memberName = false; // the \u0000 is in a member name of the object at `path`
};

struct SyntaxCheck {
    bool ok = false;
    std::string problem;                      // when !ok: "unexpected character at byte 17"
    std::vector<std::size_t> longIntegerEnds; // offsets just past integer literals of >= 19 digits
    std::optional<NulString> nul;             // when ok: the first string holding \u0000
};

/// Checks that `text` is one strict JSON value (UTF-8 is checked by the caller) nested at
/// most `maxDepth` arrays/objects deep.
SyntaxCheck checkJsonSyntax(std::string_view text, std::size_t maxDepth);

} // namespace manifold::protocol::json
