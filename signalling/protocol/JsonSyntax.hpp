// JsonSyntax.hpp — strict RFC 8259 syntax check run before json-glib sees a frame
// (codec-private).
//
// What: json-glib 1.6 parses with GScanner and is lenient in ways a network codec must not
// be: it accepts comments, single quotes, hex and octal-looking numbers, raw control
// characters in strings, unknown escapes, lone UTF-16 surrogates (producing invalid
// UTF-8), truncates strings at \u0000, wraps integers that do not fit 64 bits and turns
// 1e999 into infinity. This checker accepts exactly RFC 8259 JSON minus those hazards:
// nesting is bounded, \u0000 and lone surrogates are rejected, and numbers must be finite.
// Integer literals too long for int64 are reported so the caller can hand them to
// json-glib as doubles (range checks then reject them instead of reading a wrapped value).
// Thread: pure function, any thread. Ownership: values in, values out.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::protocol::json {

struct SyntaxCheck {
    bool ok = false;
    std::string problem;                      // when !ok: "unexpected character at byte 17"
    std::vector<std::size_t> longIntegerEnds; // offsets just past integer literals of >= 19 digits
};

/// Checks that `text` is one strict JSON value (UTF-8 is checked by the caller) nested at
/// most `maxDepth` arrays/objects deep.
SyntaxCheck checkJsonSyntax(std::string_view text, std::size_t maxDepth);

} // namespace manifold::protocol::json
