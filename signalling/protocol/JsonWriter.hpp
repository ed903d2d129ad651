// JsonWriter.hpp — builds one compact JSON object (codec-private).
//
// What: a thin layer over JsonBuilder. The writer starts inside the top-level object;
// `finish` closes it and returns the text. Strings that are not valid UTF-8 are repaired
// (U+FFFD) so the output is always valid JSON.
// Thread: one writer per thread. Ownership: owns its JsonBuilder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "signalling/protocol/JsonPtr.hpp"

namespace manifold::protocol::json {

class JsonWriter {
public:
    JsonWriter();

    // Members of the current object.
    void string(const char* key, std::string_view value);
    void optionalString(const char* key, std::string_view value); // omitted when empty
    void integer(const char* key, std::int64_t value);
    void boolean(const char* key, bool value);
    /// A JSON object given as text (metadata). Omitted when empty or not a JSON object.
    void objectText(const char* key, std::string_view text);
    void beginObject(const char* key);
    void beginArray(const char* key);

    // Elements of the current array.
    void beginObject();
    void stringElement(std::string_view value);
    void integerElement(std::int64_t value);

    void endObject();
    void endArray();

    /// Closes the top-level object and returns its compact text. Call once.
    std::string finish();

private:
    void addString(std::string_view value);

    BuilderPtr builder_;
};

} // namespace manifold::protocol::json
