// JsonDocument.cpp — see JsonDocument.hpp.
#include "signalling/protocol/JsonDocument.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "signalling/protocol/JsonSyntax.hpp"

namespace manifold::protocol::json {

NodePtr parseJson(std::string_view text, std::string& problem) {
    std::optional<NulString> nul;
    NodePtr root = parseJson(text, problem, nul);
    if (root && nul) {
        const std::string where = nul->path.empty() ? "the top level" : nul->path;
        problem = std::string("\\u0000 is not allowed in strings (") +
                  (nul->memberName ? "a member name in " : "") + where + ")";
        return nullptr;
    }
    return root;
}

NodePtr parseJson(std::string_view text, std::string& problem, std::optional<NulString>& nul) {
    nul.reset();
    const char* end = nullptr;
    if (!g_utf8_validate_len(text.data(), text.size(), &end)) {
        problem = "invalid UTF-8 at byte " + std::to_string(end - text.data());
        return nullptr;
    }
    SyntaxCheck syntax = checkJsonSyntax(text, kMaxDepth);
    if (!syntax.ok) {
        problem = std::move(syntax.problem);
        return nullptr;
    }
    nul = std::move(syntax.nul);
    // Integer literals too long for int64 are handed to json-glib as doubles ("…0.0"), so
    // range checks reject them instead of reading a silently wrapped integer.
    std::string rewritten;
    if (!syntax.longIntegerEnds.empty()) {
        rewritten.reserve(text.size() + 2 * syntax.longIntegerEnds.size());
        std::size_t from = 0;
        for (std::size_t end : syntax.longIntegerEnds) {
            rewritten.append(text.substr(from, end - from));
            rewritten.append(".0");
            from = end;
        }
        rewritten.append(text.substr(from));
        text = rewritten;
    }
    ParserPtr parser(json_parser_new());
    GError* rawError = nullptr;
    if (!json_parser_load_from_data(parser.get(), text.data(), static_cast<gssize>(text.size()),
                                    &rawError)) {
        ErrorPtr error(rawError);
        problem = error ? error->message : "json-glib could not parse it";
        nul.reset();
        return nullptr;
    }
    JsonNode* root = json_parser_get_root(parser.get());
    if (root == nullptr) {
        problem = "empty input";
        nul.reset();
        return nullptr;
    }
    return NodePtr(json_node_ref(root));
}

bool numbersFinite(JsonNode* node) {
    if (node == nullptr)
        return true;
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_OBJECT: {
        JsonObjectIter iter;
        json_object_iter_init(&iter, json_node_get_object(node));
        const char* name = nullptr;
        JsonNode* member = nullptr;
        while (json_object_iter_next(&iter, &name, &member))
            if (!numbersFinite(member))
                return false;
        return true;
    }
    case JSON_NODE_ARRAY: {
        JsonArray* array = json_node_get_array(node);
        const guint length = json_array_get_length(array);
        for (guint i = 0; i < length; ++i)
            if (!numbersFinite(json_array_get_element(array, i)))
                return false;
        return true;
    }
    case JSON_NODE_VALUE:
        return json_node_get_value_type(node) != G_TYPE_DOUBLE || std::isfinite(json_node_get_double(node));
    case JSON_NODE_NULL:
        return true;
    }
    return true;
}

namespace {

void writeString(std::string& out, const char* text) {
    out += '"';
    for (const char* p = text; *p != '\0'; ++p) {
        const unsigned char c = static_cast<unsigned char>(*p);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char escape[8];
                g_snprintf(escape, sizeof escape, "\\u%04x", c);
                out += escape;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

// The shortest text that reads back as the same double, always with a '.' or an exponent
// so that it reads back as a double again (json-glib's own generator writes 1e+57 as the
// invalid "1e+57.0").
void writeDouble(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null"; // callers refuse such trees first (numbersFinite)
        return;
    }
    char text[G_ASCII_DTOSTR_BUF_SIZE];
    char format[8];
    int precision = 1;
    for (; precision < 17; ++precision) {
        g_snprintf(format, sizeof format, "%%.%dg", precision);
        g_ascii_formatd(text, sizeof text, format, value);
        if (g_ascii_strtod(text, nullptr) == value)
            break;
    }
    // Whole digits up to 1e17 are written out: 2000.0, not 2e+03.
    const double magnitude = std::fabs(value);
    if (magnitude >= 1.0 && magnitude < 1e17)
        precision = std::max(precision, static_cast<int>(std::floor(std::log10(magnitude))) + 1);
    g_snprintf(format, sizeof format, "%%.%dg", precision);
    g_ascii_formatd(text, sizeof text, format, value);
    out += text;
    if (std::strpbrk(text, ".eE") == nullptr)
        out += ".0";
}

void writeNode(std::string& out, JsonNode* node) {
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_OBJECT: {
        out += '{';
        JsonObjectIter iter;
        json_object_iter_init_ordered(&iter, json_node_get_object(node));
        const char* name = nullptr;
        JsonNode* member = nullptr;
        bool first = true;
        while (json_object_iter_next_ordered(&iter, &name, &member)) {
            if (!first)
                out += ',';
            first = false;
            writeString(out, name);
            out += ':';
            writeNode(out, member);
        }
        out += '}';
        return;
    }
    case JSON_NODE_ARRAY: {
        out += '[';
        JsonArray* array = json_node_get_array(node);
        const guint length = json_array_get_length(array);
        for (guint i = 0; i < length; ++i) {
            if (i > 0)
                out += ',';
            writeNode(out, json_array_get_element(array, i));
        }
        out += ']';
        return;
    }
    case JSON_NODE_VALUE: {
        const GType type = json_node_get_value_type(node);
        if (type == G_TYPE_INT64)
            out += std::to_string(json_node_get_int(node));
        else if (type == G_TYPE_DOUBLE)
            writeDouble(out, json_node_get_double(node));
        else if (type == G_TYPE_BOOLEAN)
            out += json_node_get_boolean(node) ? "true" : "false";
        else if (type == G_TYPE_STRING)
            writeString(out, json_node_get_string(node));
        else
            out += "null";
        return;
    }
    case JSON_NODE_NULL:
        out += "null";
        return;
    }
    out += "null";
}

} // namespace

std::string toJsonText(JsonNode* node) {
    std::string out;
    if (node == nullptr)
        return "null";
    writeNode(out, node);
    return out;
}

} // namespace manifold::protocol::json
