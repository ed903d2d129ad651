#include "signalling/http/HttpPoster.hpp"

#include "core/Log.hpp"

#include <libsoup/soup.h>

#include <memory>
#include <stdexcept>
#include <utility>

namespace manifold::auth {

// One POST in flight. Allocated by post(), freed by onSent (libsoup always calls it, also
// after a cancel). `owner` is cleared by ~HttpPoster, so a late callback only frees this.
struct HttpPoster::Request {
    HttpPoster* owner = nullptr;
    GObjectPtr<SoupMessage> message;
    GObjectPtr<GCancellable> cancellable;
    guint timeoutSource = 0;
    bool timedOut = false;
    Done done;

    static void onSent(GObject* source, GAsyncResult* result, gpointer data) noexcept;
    static gboolean onTimeout(gpointer data) noexcept;
};

HttpPoster::HttpPoster(Config config) : config_(std::move(config)) {
    g_autoptr(GError) error = nullptr;
    g_autoptr(GUri) uri = g_uri_parse(config_.url.c_str(), static_cast<GUriFlags>(SOUP_HTTP_URI_FLAGS), &error);
    const char* scheme = uri ? g_uri_get_scheme(uri) : nullptr;
    const char* host = uri ? g_uri_get_host(uri) : nullptr;
    if (!scheme || (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0) ||
        !host || !*host)
        throw std::invalid_argument("'" + config_.url + "' is not an http:// or https:// URL");
    if (config_.timeout.count() <= 0 || config_.timeout.count() > G_MAXUINT)
        throw std::invalid_argument("the HTTP timeout must be positive");
    const unsigned connections = config_.maxConnections > 0 ? config_.maxConnections : 1;
    session_ = adopt(soup_session_new_with_options("max-conns", connections, "max-conns-per-host",
                                                   connections, "user-agent",
                                                   "manifold/" MANIFOLD_VERSION, nullptr));
    // Hooks are services next to the gateway: never route them through a system proxy.
    soup_session_set_proxy_resolver(session_.get(), nullptr);
}

HttpPoster::~HttpPoster() {
    const auto requests = std::move(requests_);
    requests_.clear();
    for (Request* request : requests) {
        request->owner = nullptr;
        request->done = nullptr;
        if (request->timeoutSource) g_source_remove(std::exchange(request->timeoutSource, 0));
        // libsoup may run onSent inside cancel(), which frees the request.
        const auto cancellable = retain(request->cancellable.get());
        g_cancellable_cancel(cancellable.get());
    }
    soup_session_abort(session_.get());
}

void HttpPoster::post(std::string body, Done done) {
    auto request = std::make_unique<Request>();
    request->owner = this;
    request->done = std::move(done);
    request->cancellable = adopt(g_cancellable_new());
    request->message = adopt(soup_message_new(SOUP_METHOD_POST, config_.url.c_str()));
    SoupMessage* message = request->message.get();
    soup_message_add_flags(message, SOUP_MESSAGE_NO_REDIRECT);
    g_autoptr(GBytes) bytes = g_bytes_new(body.data(), body.size());
    soup_message_set_request_body_from_bytes(message, "application/json", bytes);
    if (!config_.bearerToken.empty()) {
        const std::string authorization = "Bearer " + config_.bearerToken;
        soup_message_headers_replace(soup_message_get_request_headers(message), "Authorization",
                                     authorization.c_str());
    }
    Request* raw = request.release();
    requests_.insert(raw);
    raw->timeoutSource = g_timeout_add(static_cast<guint>(config_.timeout.count()), &Request::onTimeout, raw);
    soup_session_send_and_read_async(session_.get(), message, G_PRIORITY_DEFAULT, raw->cancellable.get(),
                                     &Request::onSent, raw);
}

gboolean HttpPoster::Request::onTimeout(gpointer data) noexcept {
    auto* request = static_cast<Request*>(data);
    request->timeoutSource = 0;
    request->timedOut = true;
    // libsoup may run onSent inside cancel(), which frees the request.
    const auto cancellable = retain(request->cancellable.get());
    g_cancellable_cancel(cancellable.get());
    return G_SOURCE_REMOVE;
}

void HttpPoster::Request::onSent(GObject* source, GAsyncResult* result, gpointer data) noexcept {
    std::unique_ptr<Request> request(static_cast<Request*>(data));
    g_autoptr(GError) error = nullptr;
    g_autoptr(GBytes) bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
    HttpPoster* owner = request->owner;
    if (!owner) return; // the poster is gone; nobody to tell
    owner->requests_.erase(request.get());
    if (request->timeoutSource) g_source_remove(std::exchange(request->timeoutSource, 0));

    Response response;
    if (error) {
        response.timedOut = request->timedOut;
        response.error = request->timedOut
                             ? "no answer within " + std::to_string(owner->config_.timeout.count()) + " ms"
                             : error->message;
    } else {
        response.status = soup_message_get_status(request->message.get());
        gsize size = 0;
        const auto* text = static_cast<const char*>(g_bytes_get_data(bytes, &size));
        response.body.assign(text ? text : "", text ? size : 0);
    }
    Done done = std::move(request->done);
    request.reset();
    try {
        done(std::move(response)); // may destroy the owner: touch nothing after this
    } catch (const std::exception& e) {
        MLOG(Auth, Warning, "http: a completion handler threw: %s", e.what());
    } catch (...) {
        MLOG(Auth, Warning, "http: a completion handler threw");
    }
}

} // namespace manifold::auth
