// JsonWriter.cpp — see JsonWriter.hpp.
#include "signalling/protocol/JsonWriter.hpp"

#include "signalling/protocol/JsonDocument.hpp"

namespace manifold::protocol::json {

JsonWriter::JsonWriter() : builder_(json_builder_new()) {
    json_builder_begin_object(builder_.get());
}

void JsonWriter::addString(std::string_view value) {
    if (g_utf8_validate_len(value.data(), value.size(), nullptr)) {
        const std::string copy(value); // NUL-terminated for json-glib
        json_builder_add_string_value(builder_.get(), copy.c_str());
        return;
    }
    CharPtr repaired(g_utf8_make_valid(value.data(), static_cast<gssize>(value.size())));
    json_builder_add_string_value(builder_.get(), repaired.get());
}

void JsonWriter::string(const char* key, std::string_view value) {
    json_builder_set_member_name(builder_.get(), key);
    addString(value);
}

void JsonWriter::optionalString(const char* key, std::string_view value) {
    if (!value.empty())
        string(key, value);
}

void JsonWriter::integer(const char* key, std::int64_t value) {
    json_builder_set_member_name(builder_.get(), key);
    json_builder_add_int_value(builder_.get(), value);
}

void JsonWriter::boolean(const char* key, bool value) {
    json_builder_set_member_name(builder_.get(), key);
    json_builder_add_boolean_value(builder_.get(), value ? TRUE : FALSE);
}

void JsonWriter::objectText(const char* key, std::string_view text) {
    if (text.empty())
        return;
    std::string problem;
    NodePtr node = parseJson(text, problem);
    if (!node || !JSON_NODE_HOLDS_OBJECT(node.get()))
        return;
    json_builder_set_member_name(builder_.get(), key);
    json_builder_add_value(builder_.get(), node.release()); // the builder takes the reference
}

void JsonWriter::beginObject(const char* key) {
    json_builder_set_member_name(builder_.get(), key);
    json_builder_begin_object(builder_.get());
}

void JsonWriter::beginArray(const char* key) {
    json_builder_set_member_name(builder_.get(), key);
    json_builder_begin_array(builder_.get());
}

void JsonWriter::beginObject() {
    json_builder_begin_object(builder_.get());
}

void JsonWriter::stringElement(std::string_view value) {
    addString(value);
}

void JsonWriter::integerElement(std::int64_t value) {
    json_builder_add_int_value(builder_.get(), value);
}

void JsonWriter::endObject() {
    json_builder_end_object(builder_.get());
}

void JsonWriter::endArray() {
    json_builder_end_array(builder_.get());
}

std::string JsonWriter::finish() {
    json_builder_end_object(builder_.get());
    NodePtr root(json_builder_get_root(builder_.get()));
    return toJsonText(root.get());
}

} // namespace manifold::protocol::json
