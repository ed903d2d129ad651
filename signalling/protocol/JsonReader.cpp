// JsonReader.cpp — see JsonReader.hpp.
#include "signalling/protocol/JsonReader.hpp"

#include <cmath>
#include <cstring>

#include "signalling/protocol/JsonDocument.hpp"

namespace manifold::protocol::json {
namespace {

bool isRoomChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '~' || c == '-';
}

std::string describeInteger(std::int64_t min, std::int64_t max) {
    return "an integer " + std::to_string(min) + ".." + std::to_string(max);
}

} // namespace

std::string describe(StringRule rule) {
    std::string range;
    if (rule.minChars == 0)
        range = "at most " + std::to_string(rule.maxChars);
    else if (rule.minChars == rule.maxChars)
        range = "exactly " + std::to_string(rule.maxChars);
    else
        range = std::to_string(rule.minChars) + ".." + std::to_string(rule.maxChars);
    switch (rule.charset) {
    case Charset::RoomName: return range + " characters of [A-Za-z0-9._~-]";
    case Charset::Any: break;
    }
    return "a string of " + range + " characters";
}

bool integerValue(JsonNode* node, std::int64_t min, std::int64_t max, std::int64_t& out) {
    if (node == nullptr || !JSON_NODE_HOLDS_VALUE(node))
        return false;
    const GType type = json_node_get_value_type(node);
    std::int64_t value = 0;
    if (type == G_TYPE_INT64) {
        value = json_node_get_int(node);
    } else if (type == G_TYPE_DOUBLE) {
        // 7.0 and 7e0 are the integer 7; anything with a fraction or beyond ±2^53 is not
        // (every JSON integer we accept is at most 2^53-1, exact in a double).
        const double d = json_node_get_double(node);
        if (!std::isfinite(d) || std::trunc(d) != d || d < -9007199254740991.0 ||
            d > 9007199254740991.0)
            return false;
        value = static_cast<std::int64_t>(d);
    } else {
        return false;
    }
    if (value < min || value > max)
        return false;
    out = value;
    return true;
}

bool stringValue(JsonNode* node, StringRule rule, std::string& out) {
    if (node == nullptr || !JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) != G_TYPE_STRING)
        return false;
    const char* text = json_node_get_string(node);
    if (text == nullptr)
        return false;
    const std::size_t bytes = std::strlen(text);
    // A code point takes at most 4 bytes: cheap rejection before counting.
    if (bytes > 4 * rule.maxChars || !g_utf8_validate_len(text, bytes, nullptr))
        return false;
    const std::size_t chars = static_cast<std::size_t>(g_utf8_strlen(text, static_cast<gssize>(bytes)));
    if (chars < rule.minChars || chars > rule.maxChars)
        return false;
    if (rule.charset == Charset::RoomName) {
        for (std::size_t i = 0; i < bytes; ++i)
            if (!isRoomChar(text[i]))
                return false;
    }
    out.assign(text, bytes);
    return true;
}

JsonReader::JsonReader(JsonObject* object, std::string path)
    : object_(object), path_(std::move(path)) {}

void JsonReader::fail(std::string message) {
    if (error_.empty())
        error_ = std::move(message);
}

JsonNode* JsonReader::member(const char* key, bool required) {
    if (!ok())
        return nullptr;
    JsonNode* node = json_object_get_member(object_, key);
    if (node == nullptr && required)
        fail(field(key) + " is required");
    return node;
}

bool JsonReader::readString(const char* key, std::string& out, StringRule rule, bool required) {
    JsonNode* node = member(key, required);
    if (node == nullptr)
        return false;
    if (!stringValue(node, rule, out)) {
        fail(field(key) + " must be " + describe(rule));
        return false;
    }
    return true;
}

void JsonReader::string(const char* key, std::string& out, StringRule rule) {
    readString(key, out, rule, true);
}

void JsonReader::optionalString(const char* key, std::string& out, StringRule rule) {
    readString(key, out, rule, false);
}

void JsonReader::boolean(const char* key, bool& out) {
    JsonNode* node = member(key, true);
    if (node == nullptr)
        return;
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN)
        return fail(field(key) + " must be true or false");
    out = json_node_get_boolean(node) != FALSE;
}

void JsonReader::optionalBoolean(const char* key, bool& out) {
    if (ok() && json_object_has_member(object_, key))
        boolean(key, out);
}

bool JsonReader::readInteger(const char* key, std::int64_t& out, std::int64_t min,
                             std::int64_t max, bool required) {
    JsonNode* node = member(key, required);
    if (node == nullptr)
        return false;
    if (!integerValue(node, min, max, out)) {
        fail(field(key) + " must be " + describeInteger(min, max));
        return false;
    }
    return true;
}

void JsonReader::integer(const char* key, std::int64_t& out, std::int64_t min, std::int64_t max) {
    readInteger(key, out, min, max, true);
}

void JsonReader::optionalInteger(const char* key, std::int64_t& out, std::int64_t min,
                                 std::int64_t max) {
    readInteger(key, out, min, max, false);
}

void JsonReader::integer(const char* key, std::uint64_t& out, std::int64_t min, std::int64_t max) {
    std::int64_t value = 0;
    if (readInteger(key, value, min < 0 ? 0 : min, max, true))
        out = static_cast<std::uint64_t>(value);
}

void JsonReader::optionalInteger(const char* key, std::uint64_t& out, std::int64_t min,
                                 std::int64_t max) {
    std::int64_t value = 0;
    if (readInteger(key, value, min < 0 ? 0 : min, max, false))
        out = static_cast<std::uint64_t>(value);
}

void JsonReader::integer(const char* key, int& out, int min, int max) {
    std::int64_t value = 0;
    if (readInteger(key, value, min, max, true))
        out = static_cast<int>(value);
}

void JsonReader::optionalInteger(const char* key, int& out, int min, int max) {
    std::int64_t value = 0;
    if (readInteger(key, value, min, max, false))
        out = static_cast<int>(value);
}

JsonArray* JsonReader::arrayMember(const char* key, std::size_t minItems, std::size_t maxItems,
                                   const char* what, bool required) {
    JsonNode* node = member(key, required);
    if (node == nullptr)
        return nullptr;
    JsonArray* array = JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : nullptr;
    const std::size_t length = array ? json_array_get_length(array) : 0;
    if (array == nullptr || length < minItems || length > maxItems) {
        const std::string range = minItems == 0 ? "at most " + std::to_string(maxItems)
                                                : std::to_string(minItems) + ".." +
                                                      std::to_string(maxItems);
        fail(field(key) + " must be an array of " + range + " " + what);
        return nullptr;
    }
    return array;
}

void JsonReader::stringArray(const char* key, std::vector<std::string>& out,
                             std::size_t minItems, std::size_t maxItems, StringRule rule,
                             bool required) {
    JsonArray* array = arrayMember(key, minItems, maxItems, "strings", required);
    if (array == nullptr)
        return;
    const guint length = json_array_get_length(array);
    std::vector<std::string> items(length);
    for (guint i = 0; i < length; ++i) {
        if (!stringValue(json_array_get_element(array, i), rule, items[i]))
            return fail(field(key) + "[" + std::to_string(i) + "] must be " + describe(rule));
    }
    out = std::move(items);
}

void JsonReader::integerArray(const char* key, std::vector<int>& out, std::size_t minItems,
                              std::size_t maxItems, int min, int max) {
    JsonArray* array = arrayMember(key, minItems, maxItems, "integers", true);
    if (array == nullptr)
        return;
    const guint length = json_array_get_length(array);
    std::vector<int> items(length);
    for (guint i = 0; i < length; ++i) {
        std::int64_t value = 0;
        if (!integerValue(json_array_get_element(array, i), min, max, value))
            return fail(field(key) + "[" + std::to_string(i) + "] must be " +
                        describeInteger(min, max));
        items[i] = static_cast<int>(value);
    }
    out = std::move(items);
}

void JsonReader::optionalObjectText(const char* key, std::string& out, std::size_t maxBytes) {
    JsonNode* node = member(key, false);
    if (node == nullptr)
        return;
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return fail(field(key) + " must be a JSON object");
    if (!numbersFinite(node))
        return fail(field(key) + " must not hold numbers beyond the range of a double (about 1.8e308)");
    std::string text = toJsonText(node);
    if (text.size() > maxBytes)
        return fail(field(key) + " must be at most " + std::to_string(maxBytes) +
                    " bytes as compact JSON");
    out = std::move(text);
}

} // namespace manifold::protocol::json
