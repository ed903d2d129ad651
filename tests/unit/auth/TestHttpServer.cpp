#include "TestHttpServer.hpp"

#include <json-glib/json-glib.h>

#include <stdexcept>

namespace manifold::test {

bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    // A ticking source, so a blocking iteration wakes up to look at the clock.
    const guint tick = g_timeout_add(5, [](gpointer) -> gboolean { return G_SOURCE_CONTINUE; }, nullptr);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) g_main_context_iteration(nullptr, TRUE);
    g_source_remove(tick);
    return done();
}

void runFor(std::chrono::milliseconds duration) {
    const auto deadline = std::chrono::steady_clock::now() + duration;
    runUntil([&] { return std::chrono::steady_clock::now() >= deadline; }, duration * 2);
}

std::string jsonAt(const std::string& json, const std::string& path) {
    JsonNode* root = json_from_string(json.c_str(), nullptr);
    if (!root) return "<not json>";
    JsonNode* node = root;
    gchar** names = g_strsplit(path.c_str(), ".", -1);
    for (gchar** name = names; node && *name; ++name) {
        node = JSON_NODE_HOLDS_OBJECT(node) ? json_object_get_member(json_node_get_object(node), *name) : nullptr;
    }
    g_strfreev(names);
    std::string text = "<absent>";
    if (node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING) {
        text = json_node_get_string(node);
    } else if (node) {
        gchar* serialised = json_to_string(node, FALSE);
        text = serialised;
        g_free(serialised);
    }
    json_node_unref(root);
    return text;
}

struct TestHttpServer::Delayed {
    TestHttpServer* owner = nullptr;
    GObjectPtr<SoupServerMessage> message;
    Reply reply;
    guint source = 0;
};

TestHttpServer::TestHttpServer() : server_(adopt(soup_server_new(nullptr, nullptr))) {
    soup_server_add_handler(server_.get(), nullptr, &TestHttpServer::onRequest, this, nullptr);
    GError* error = nullptr;
    // Loopback only: the test never listens on any other address.
    if (!soup_server_listen_local(server_.get(), 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error)) {
        std::string message = error->message;
        g_error_free(error);
        throw std::runtime_error("cannot listen on 127.0.0.1: " + message);
    }
    GSList* uris = soup_server_get_uris(server_.get());
    port_ = static_cast<unsigned>(g_uri_get_port(static_cast<GUri*>(uris->data)));
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
}

TestHttpServer::~TestHttpServer() {
    for (Delayed* delayed : delayed_) {
        g_source_remove(delayed->source);
        delete delayed;
    }
    soup_server_disconnect(server_.get());
}

std::string TestHttpServer::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void TestHttpServer::onRequest(SoupServer*, SoupServerMessage* message, const char* path, GHashTable*,
                               gpointer data) {
    auto* self = static_cast<TestHttpServer*>(data);
    Request request;
    request.path = path;
    SoupMessageBody* body = soup_server_message_get_request_body(message);
    if (body && body->data) request.body.assign(body->data, static_cast<std::size_t>(body->length));
    SoupMessageHeaders* headers = soup_server_message_get_request_headers(message);
    if (const char* type = soup_message_headers_get_content_type(headers, nullptr)) request.contentType = type;
    if (const char* authorization = soup_message_headers_get_one(headers, "Authorization"))
        request.authorization = authorization;
    self->requests_.push_back(std::move(request));

    const auto found = self->replies_.find(path);
    const Reply reply = found != self->replies_.end() ? found->second : Reply{404, "{}", {}, {}};
    if (reply.delay.count() == 0) {
        answer(message, reply);
        ++self->answered_;
        return;
    }
    auto* delayed = new Delayed{self, retain(message), reply, 0};
    soup_server_message_pause(message);
    delayed->source = g_timeout_add(static_cast<guint>(reply.delay.count()), &TestHttpServer::onDelayElapsed, delayed);
    self->delayed_.push_back(delayed);
}

gboolean TestHttpServer::onDelayElapsed(gpointer data) {
    auto* delayed = static_cast<Delayed*>(data);
    answer(delayed->message.get(), delayed->reply);
    soup_server_message_unpause(delayed->message.get());
    TestHttpServer* owner = delayed->owner;
    ++owner->answered_;
    std::erase(owner->delayed_, delayed);
    delete delayed;
    return G_SOURCE_REMOVE;
}

void TestHttpServer::answer(SoupServerMessage* message, const Reply& reply) {
    soup_server_message_set_status(message, reply.status, nullptr);
    if (!reply.location.empty())
        soup_message_headers_replace(soup_server_message_get_response_headers(message), "Location",
                                     reply.location.c_str());
    soup_server_message_set_response(message, "application/json", SOUP_MEMORY_COPY, reply.body.data(),
                                     reply.body.size());
}

} // namespace manifold::test
