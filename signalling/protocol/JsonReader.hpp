// JsonReader.hpp — typed, bounded reads of the members of one JSON object (codec-private).
//
// What: each call reads one member into an out-parameter and checks its JSON type and
// bounds. The first failure is kept as a message naming the field by its path
// ("join.room must be 1..128 characters of [A-Za-z0-9._~-]"); once failed, later calls do
// nothing, so decoders are flat lists of reads followed by one `ok()` check. Integers must
// be JSON numbers with an integral value in range (7, 7.0 and 7e0 are the same number;
// 7.5, 1e300 and "7" are not integers). Strings are counted in Unicode code points.
// Thread: one reader per thread. Ownership: borrows the JsonObject, which must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "signalling/protocol/JsonPtr.hpp"

namespace manifold::protocol::json {

enum class Charset {
    Any,
    RoomName, // [A-Za-z0-9._~-]
};

struct StringRule {
    std::size_t minChars = 0;
    std::size_t maxChars = 0;
    Charset charset = Charset::Any;
};

class JsonReader {
public:
    JsonReader(JsonObject* object, std::string path);

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    const std::string& path() const { return path_; }
    bool has(const char* key) const { return json_object_has_member(object_, key); }

    // Required members: absence is an error. Optional members: absence leaves `out` as is.
    void string(const char* key, std::string& out, StringRule rule);
    void optionalString(const char* key, std::string& out, StringRule rule);
    void boolean(const char* key, bool& out);
    void optionalBoolean(const char* key, bool& out);
    void integer(const char* key, std::int64_t& out, std::int64_t min, std::int64_t max);
    void optionalInteger(const char* key, std::int64_t& out, std::int64_t min, std::int64_t max);
    void integer(const char* key, std::uint64_t& out, std::int64_t min, std::int64_t max);
    void optionalInteger(const char* key, std::uint64_t& out, std::int64_t min, std::int64_t max);
    void integer(const char* key, int& out, int min, int max);
    void optionalInteger(const char* key, int& out, int min, int max);
    void stringArray(const char* key, std::vector<std::string>& out, std::size_t minItems,
                     std::size_t maxItems, StringRule rule, bool required = true);
    void integerArray(const char* key, std::vector<int>& out, std::size_t minItems,
                      std::size_t maxItems, int min, int max);
    /// An optional member that must be a JSON object; kept as compact text of at most
    /// `maxBytes` bytes.
    void optionalObjectText(const char* key, std::string& out, std::size_t maxBytes);

    /// A member that must be an object; `read(JsonReader&)` reads its members.
    template <typename Read>
    void object(const char* key, Read&& read, bool required = true) {
        JsonNode* node = member(key, required);
        if (node == nullptr)
            return;
        if (!JSON_NODE_HOLDS_OBJECT(node))
            return fail(field(key) + " must be an object");
        JsonReader child(json_node_get_object(node), field(key));
        read(child);
        if (!child.ok())
            error_ = child.error();
    }

    /// A member that must be an array of at most `maxItems` objects; `read(JsonReader&, T&)`
    /// reads each element into a default-constructed T appended to `out`.
    template <typename T, typename Read>
    void objectArray(const char* key, std::vector<T>& out, std::size_t maxItems, Read&& read,
                     bool required = true) {
        JsonArray* array = arrayMember(key, 0, maxItems, "objects", required);
        if (array == nullptr)
            return;
        const guint length = json_array_get_length(array);
        std::vector<T> items;
        items.reserve(length);
        for (guint i = 0; i < length; ++i) {
            const std::string elementPath = field(key) + "[" + std::to_string(i) + "]";
            JsonNode* element = json_array_get_element(array, i);
            if (!JSON_NODE_HOLDS_OBJECT(element))
                return fail(elementPath + " must be an object");
            JsonReader child(json_node_get_object(element), elementPath);
            read(child, items.emplace_back());
            if (!child.ok()) {
                error_ = child.error();
                return;
            }
        }
        out = std::move(items);
    }

    /// Records a failure (the first one wins).
    void fail(std::string message);
    /// "path.key"
    std::string field(const char* key) const { return path_ + "." + key; }

private:
    JsonNode* member(const char* key, bool required);
    JsonArray* arrayMember(const char* key, std::size_t minItems, std::size_t maxItems,
                           const char* what, bool required);
    bool readInteger(const char* key, std::int64_t& out, std::int64_t min, std::int64_t max,
                     bool required);
    bool readString(const char* key, std::string& out, StringRule rule, bool required);

    JsonObject* object_;
    std::string path_;
    std::string error_;
};

/// The value of `node` if it is a JSON number with an integral value in [min, max].
bool integerValue(JsonNode* node, std::int64_t min, std::int64_t max, std::int64_t& out);
/// The value of `node` if it is a string that satisfies `rule`.
bool stringValue(JsonNode* node, StringRule rule, std::string& out);
/// "1..128 characters of [A-Za-z0-9._~-]", "a string of at most 64 characters", …
std::string describe(StringRule rule);

} // namespace manifold::protocol::json
