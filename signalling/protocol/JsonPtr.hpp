// JsonPtr.hpp — owning smart pointers for json-glib objects (codec-private).
//
// What: unique_ptr aliases with the right unref for each json-glib type, so the codec never
// calls g_object_unref / json_node_unref by hand. `adopt` takes over a reference the
// caller already owns (a "transfer full" return value).
// Thread: any. Ownership: each pointer owns one reference.
#pragma once

#include <memory>

#include <json-glib/json-glib.h>

namespace manifold::protocol::json {

struct GObjectUnref {
    void operator()(gpointer object) const noexcept { g_object_unref(object); }
};
struct NodeUnref {
    void operator()(JsonNode* node) const noexcept { json_node_unref(node); }
};
struct GFree {
    void operator()(gpointer memory) const noexcept { g_free(memory); }
};
struct GErrorFree {
    void operator()(GError* error) const noexcept { g_error_free(error); }
};

using ParserPtr = std::unique_ptr<JsonParser, GObjectUnref>;
using BuilderPtr = std::unique_ptr<JsonBuilder, GObjectUnref>;
using NodePtr = std::unique_ptr<JsonNode, NodeUnref>;
using CharPtr = std::unique_ptr<gchar, GFree>;
using ErrorPtr = std::unique_ptr<GError, GErrorFree>;

template <typename Ptr>
Ptr adopt(typename Ptr::pointer raw) noexcept { return Ptr(raw); }

} // namespace manifold::protocol::json
