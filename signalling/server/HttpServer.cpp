#include "signalling/server/HttpServer.hpp"

#include <gio/gio.h>
#include <libsoup/soup.h>

#include <cstring>
#include <string_view>
#include <vector>

#include "core/Log.hpp"
#include "signalling/protocol/Codec.hpp"
#include "signalling/server/ConnectionGuard.hpp"
#include "signalling/server/Metrics.hpp"

namespace manifold::server {

using session::Session;

namespace {
// How far past max-message-size a frame may go and still get a typed 1008 error (the
// frame is read, then refused) instead of libsoup cutting the connection.
constexpr guint64 kOversizeHeadroom = 1024 * 1024;
} // namespace

// One WebSocket connection: the socket, its signal handlers and its Session.
// Control thread; owned by HttpServer::connections_.
class Connection final : public Session::Transport {
public:
    Connection(HttpServer& server, std::uint64_t id, SoupWebsocketConnection* ws,
               std::string remoteAddress)
        : server_(server), id_(id), ws_(retain(ws)) {
        session_ = Session::create(server.config_.session,
                                   Session::Deps{server.deps_.gateway, server.deps_.authorizer,
                                                 server.deps_.scheduler, server.deps_.media,
                                                 server.metrics_},
                                   *this, std::move(remoteAddress));
        // libsoup drops the TCP connection without a close frame when a frame exceeds its
        // limit; give it headroom so an oversize frame reaches the session, which answers
        // with a typed error (1008) and carries on. Beyond the headroom libsoup cuts.
        soup_websocket_connection_set_max_incoming_payload_size(
            ws, server.config_.session.maxMessageSize + kOversizeHeadroom);
        soup_websocket_connection_set_keepalive_interval(ws, guint(std::max(0, server.config_.keepaliveSeconds)));
        messageHandler_ = g_signal_connect(ws, "message", G_CALLBACK(&Connection::onMessage), this);
        closedHandler_ = g_signal_connect(ws, "closed", G_CALLBACK(&Connection::onClosed), this);
        session_->start();
    }

    ~Connection() override {
        // Disconnect before the socket can outlive us (libsoup may still hold it).
        g_signal_handler_disconnect(ws_.get(), messageHandler_);
        g_signal_handler_disconnect(ws_.get(), closedHandler_);
        if (soup_websocket_connection_get_state(ws_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close(ws_.get(), session::kCloseGoingAway, "server stopped");
    }

    Session& session() { return *session_; }

    void send(const std::string& text) override {
        if (soup_websocket_connection_get_state(ws_.get()) != SOUP_WEBSOCKET_STATE_OPEN) return;
        soup_websocket_connection_send_text(ws_.get(), text.c_str());
    }

    void close(int code, const std::string& reason) override {
        if (soup_websocket_connection_get_state(ws_.get()) != SOUP_WEBSOCKET_STATE_OPEN) return;
        soup_websocket_connection_close(ws_.get(), gushort(code), reason.c_str());
    }

private:
    static void onMessage(SoupWebsocketConnection*, gint type, GBytes* message, gpointer data) noexcept {
        auto* self = static_cast<Connection*>(data);
        auto session = self->session_; // keep alive through the call
        if (type != SOUP_WEBSOCKET_DATA_TEXT) {
            session->onBinaryFrame();
            return;
        }
        gsize size = 0;
        const auto* bytes = static_cast<const char*>(g_bytes_get_data(message, &size));
        session->onFrame(std::string_view(bytes ? bytes : "", size));
    }

    static void onClosed(SoupWebsocketConnection*, gpointer data) noexcept {
        // libsoup may emit "closed" from inside a call we made (close, send); finish on a
        // fresh stack so no caller finds its connection gone under it.
        auto* self = static_cast<Connection*>(data);
        struct Ctx {
            std::weak_ptr<bool> alive;
            HttpServer* server;
            std::uint64_t id;
        };
        auto* ctx = new Ctx{self->server_.alive_, &self->server_, self->id_};
        g_idle_add_full(G_PRIORITY_DEFAULT, [](gpointer p) noexcept -> gboolean {
            std::unique_ptr<Ctx> c(static_cast<Ctx*>(p));
            if (c->alive.lock()) c->server->connectionClosed(c->id);
            return G_SOURCE_REMOVE;
        }, ctx, nullptr);
    }

    HttpServer& server_; // Passed by argument; owns this.
    std::uint64_t id_;
    GObjectPtr<SoupWebsocketConnection> ws_;
    std::shared_ptr<Session> session_; // Allocated by this.
    gulong messageHandler_ = 0;
    gulong closedHandler_ = 0;
};

namespace {

void respond(SoupServerMessage* msg, guint status, const char* contentType, const std::string& body) {
    soup_server_message_set_status(msg, status, nullptr);
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(headers, "Cache-Control", "no-store");
    soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
    soup_server_message_set_response(msg, contentType, SOUP_MEMORY_COPY, body.data(), body.size());
}

// 204, no body. libsoup 3 (3.2.3 here, master alike) strips Content-Length from a 204 while
// writing its headers, after which its keep-alive check (soup_server_message_is_keepalive)
// reads the response as delimited by EOF and closes the connection right after it,
// without a "Connection: close" that would tell the client. A client that reuses the
// connection (browsers, Node's default agent since Node 19) then sends its next request
// into a socket being closed and gets no answer ("socket hang up"). A 204 ends at its
// header block (RFC 9112 6.3), so once the headers are out we declare length-delimited
// framing again (harmless: the wire encoding was already fixed to "no body"), and libsoup
// keeps the connection open as HTTP/1.1 intends.
void respondNoContent(SoupServerMessage* msg) {
    soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(headers, "Cache-Control", "no-store");
    soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
    g_signal_connect(msg, "wrote-headers", G_CALLBACK(+[](SoupServerMessage* m, gpointer) noexcept {
                         soup_message_headers_set_encoding(soup_server_message_get_response_headers(m),
                                                           SOUP_ENCODING_CONTENT_LENGTH);
                     }),
                     nullptr);
}

void respondError(SoupServerMessage* msg, guint status, protocol::ErrorCode code, const std::string& message) {
    respond(msg, status, "application/json", protocol::encodeHttpError(code, message));
}

const char* contentTypeFor(const std::string& path) {
    auto ends = [&](const char* ext) {
        const std::size_t n = std::strlen(ext);
        return path.size() >= n && path.compare(path.size() - n, n, ext) == 0;
    };
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".json")) return "application/json";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".png")) return "image/png";
    if (ends(".ico")) return "image/x-icon";
    return "application/octet-stream";
}

// The client library's modules, built in as /org/manifold/lib/NAME.js
// (src/app/manifold.gresource.xml). Only a NAME of letters, digits, '-' and '_' is looked
// up, so no request reaches another resource; null when there is no such module.
GBytes* libraryModule(const std::string& file) {
    constexpr std::string_view ext = ".js";
    if (file.size() <= ext.size() || std::string_view(file).substr(file.size() - ext.size()) != ext)
        return nullptr;
    for (std::size_t i = 0; i < file.size() - ext.size(); ++i) {
        const char c = file[i];
        if (!g_ascii_isalnum(c) && c != '-' && c != '_') return nullptr;
    }
    const std::string resource = "/org/manifold/lib/" + file;
    return g_resources_lookup_data(resource.c_str(), G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr);
}

std::vector<std::string> splitPath(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        if (end > start) {
            g_autofree char* unescaped = g_uri_unescape_segment(path.c_str() + start, path.c_str() + end, "/");
            parts.emplace_back(unescaped ? unescaped : "");
        }
        start = end + 1;
    }
    return parts;
}

} // namespace

HttpServer::HttpServer(HttpServerConfig config, Deps deps)
    : config_(std::move(config)), deps_(deps) {}

HttpServer::~HttpServer() {
    *alive_ = false;
    connections_.clear();
    if (server_) soup_server_disconnect(server_.get());
    guard_.reset(); // closes what libsoup let go of last (WebSockets, refused requests)
}

bool HttpServer::start(std::string& error) {
    server_ = adopt(soup_server_new("server-header", ("manifold/" MANIFOLD_VERSION " "), nullptr));
    GObjectPtr<GTlsCertificate> certificate;
    if (!config_.tlsCertificate.empty()) {
        GError* err = nullptr;
        certificate = adopt(g_tls_certificate_new_from_files(config_.tlsCertificate.c_str(), config_.tlsKey.c_str(), &err));
        if (!certificate) {
            error = "cannot load TLS certificate '" + config_.tlsCertificate + "' / key '" +
                    config_.tlsKey + "': " + (err ? err->message : "unknown error") +
                    "; check both files are PEM and readable";
            g_clear_error(&err);
            return false;
        }
    }
    soup_server_add_websocket_handler(server_.get(), "/ws", nullptr, nullptr, &HttpServer::onWebsocket,
                                      this, nullptr);
    // No permessage-deflate: libsoup checks the size limit on the compressed frame, so a
    // small frame could inflate to megabytes before the session sees it. Signalling
    // messages are small; compression buys nothing here.
    soup_server_remove_websocket_extension(server_.get(), SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
    soup_server_add_handler(server_.get(), nullptr, &HttpServer::onRequest, this, nullptr);

    // The guard listens, does TLS, and hands each connection to the SoupServer.
    ConnectionGuard::Config guard{config_.address, config_.port, config_.limits, certificate.get(),
                                  "manifold/" MANIFOLD_VERSION};
    guard_ = std::make_unique<ConnectionGuard>(server_.get(), std::move(guard));
    if (!guard_->listen(error))
        return false;
    boundPort_ = guard_->boundPort();
    MLOG(Server, Info, "listening on %s", url().c_str());
    return true;
}

std::string HttpServer::url() const {
    const bool v6 = config_.address.find(':') != std::string::npos;
    return std::string(config_.tlsCertificate.empty() ? "http" : "https") + "://" +
           (v6 ? "[" + config_.address + "]" : config_.address) + ":" + std::to_string(boundPort_);
}

// ------------------------------------------------------------------ WebSocket

void HttpServer::onWebsocket(SoupServer*, SoupServerMessage* msg, const char*, SoupWebsocketConnection* ws,
                             gpointer self) noexcept {
    static_cast<HttpServer*>(self)->acceptWebsocket(msg, ws);
}

void HttpServer::acceptWebsocket(SoupServerMessage* msg, SoupWebsocketConnection* ws) {
    const char* remote = soup_server_message_get_remote_host(msg);
    const std::uint64_t id = nextConnectionId_++;
    guard_->upgraded(msg); // from now on the session's timeouts apply, not HTTP's
    auto connection = std::make_unique<Connection>(*this, id, ws, remote ? remote : "");
    Connection& c = *connection;
    connections_.emplace(id, std::move(connection));
    MLOG(Server, Debug, "connection %llu from %s", static_cast<unsigned long long>(id), remote ? remote : "?");
    if (closing_)
        c.session().disconnect("shutdown", "the gateway is shutting down; reconnect later",
                               session::kCloseGoingAway);
}

void HttpServer::connectionClosed(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    std::unique_ptr<Connection> gone = std::move(it->second);
    connections_.erase(it);
    gone->session().onTransportClosed();
    MLOG(Server, Debug, "connection %llu closed (%zu open)", static_cast<unsigned long long>(id),
         connections_.size());
}

void HttpServer::closeAll(const std::string& reason, const std::string& message) {
    closing_ = true;
    std::vector<std::uint64_t> ids;
    for (const auto& [id, c] : connections_) ids.push_back(id);
    for (std::uint64_t id : ids) {
        auto it = connections_.find(id);
        if (it != connections_.end())
            it->second->session().disconnect(reason, message, session::kCloseGoingAway);
    }
}

// ------------------------------------------------------------------ plain HTTP

void HttpServer::onRequest(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*,
                           gpointer self) noexcept {
    static_cast<HttpServer*>(self)->serveRequest(msg, path ? path : "/");
}

void HttpServer::serveRequest(SoupServerMessage* msg, const std::string& path) {
    const std::string method = soup_server_message_get_method(msg);
    if (path.rfind("/api/", 0) == 0) {
        serveAdmin(msg, path);
        return;
    }
    if (method != "GET" && method != "HEAD") {
        respond(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain", "only GET here\n");
        return;
    }
    if (path == "/healthz") {
        if (closing_ || deps_.gateway.shuttingDown())
            respond(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "text/plain", "shutting down\n");
        else
            respond(msg, SOUP_STATUS_OK, "text/plain", "ok\n");
        return;
    }
    if (path == "/metrics") {
        respond(msg, SOUP_STATUS_OK, "text/plain; version=0.0.4", renderMetrics());
        return;
    }
    if (path == "/ws") {
        respond(msg, SOUP_STATUS_BAD_REQUEST, "text/plain", "this is the WebSocket endpoint; connect with a WebSocket client\n");
        return;
    }
    serveStatic(msg, path);
}

void HttpServer::serveStatic(SoupServerMessage* msg, const std::string& requested) {
    std::string path = requested == "/" ? "/index.html" : requested;
    if (path.find("..") != std::string::npos || path.find('\\') != std::string::npos) {
        respond(msg, SOUP_STATUS_NOT_FOUND, "text/plain", "not found\n");
        return;
    }
    GBytes* bytes = nullptr;
    constexpr std::string_view lib = "/lib/";
    if (path.rfind(lib, 0) == 0) {
        // /lib/ is the client library's: always the modules built into the binary, even
        // with --web-root, and nothing else.
        bytes = libraryModule(path.substr(lib.size()));
    } else if (config_.webRoot.empty()) {
        const std::string resource = "/org/manifold/web" + path;
        bytes = g_resources_lookup_data(resource.c_str(), G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr);
    } else {
        const std::string file = config_.webRoot + path;
        gchar* contents = nullptr;
        gsize length = 0;
        if (g_file_get_contents(file.c_str(), &contents, &length, nullptr))
            bytes = g_bytes_new_take(contents, length);
    }
    if (!bytes) {
        respond(msg, SOUP_STATUS_NOT_FOUND, "text/plain", "not found\n");
        return;
    }
    gsize size = 0;
    const auto* data = static_cast<const char*>(g_bytes_get_data(bytes, &size));
    respond(msg, SOUP_STATUS_OK, contentTypeFor(path), std::string(data ? data : "", size));
    g_bytes_unref(bytes);
}

std::string HttpServer::renderMetrics() const {
    std::string out = server::renderMetrics(deps_.gateway, metrics_, connections_.size());
    if (guard_) out += renderConnectionMetrics(guard_->counters(), guard_->openConnections());
    for (const auto& source : metricsSources_) out += source();
    return out;
}

// ------------------------------------------------------------------ admin REST API

void HttpServer::serveAdmin(SoupServerMessage* msg, const std::string& path) {
    const std::vector<std::string> parts = splitPath(path);
    const std::string method = soup_server_message_get_method(msg);
    // /api/v1/rooms[/NAME[/participants/ID]]
    const bool shapeOk = parts.size() >= 3 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "rooms" &&
                         (parts.size() == 3 || parts.size() == 4 || (parts.size() == 6 && parts[4] == "participants"));
    if (!shapeOk) {
        respondError(msg, SOUP_STATUS_NOT_FOUND, protocol::ErrorCode::InvalidMessage,
                     "no such endpoint; see README: /api/v1/rooms[/ROOM[/participants/ID]]");
        return;
    }
    const bool isGet = method == "GET";
    const bool isDelete = method == "DELETE";
    if ((parts.size() == 3 && !isGet) || (parts.size() == 4 && !isGet && !isDelete) ||
        (parts.size() == 6 && !isDelete)) {
        respondError(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, protocol::ErrorCode::InvalidMessage,
                     "method " + method + " is not allowed on " + path);
        return;
    }

    const char* header = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
    std::string token;
    if (header && g_ascii_strncasecmp(header, "Bearer ", 7) == 0) token = header + 7;

    protocol::AuthContext context;
    context.action = protocol::AuthAction::Admin;
    context.room = parts.size() >= 4 ? parts[3] : "";
    context.participantId = parts.size() == 6 ? parts[5] : "";
    context.token = token;
    const char* remote = soup_server_message_get_remote_host(msg);
    context.remoteAddress = remote ? remote : "";

    // The decision may come later (webhook): pause the message until then. If the
    // client goes away meanwhile, "finished" fires and the answer is dropped.
    struct Pending {
        GObjectPtr<SoupServerMessage> msg;
        bool paused = false;
        bool finished = false;
        gulong finishedHandler = 0;
        ~Pending() {
            if (finishedHandler) g_signal_handler_disconnect(msg.get(), finishedHandler);
        }
    };
    auto pending = std::make_shared<Pending>();
    pending->msg = retain(msg);
    pending->finishedHandler = g_signal_connect_data(
        msg, "finished", G_CALLBACK(+[](SoupServerMessage*, gpointer p) noexcept {
            static_cast<Pending*>(p)->finished = true;
        }),
        pending.get(), nullptr, GConnectFlags(0));
    std::weak_ptr<bool> alive = alive_;
    auto decided = std::make_shared<bool>(false);
    deps_.authorizer.authorize(context, [this, alive, pending, parts, isGet, decided](protocol::AuthDecision decision) {
        *decided = true;
        SoupServerMessage* m = pending->msg.get();
        g_signal_handler_disconnect(m, pending->finishedHandler);
        pending->finishedHandler = 0;
        if (!alive.lock() || pending->finished) return;
        if (!decision.allowed) {
            metrics_.authDenials[std::size_t(protocol::AuthAction::Admin)]++;
            const guint status = decision.code == protocol::ErrorCode::TokenMissing ? SOUP_STATUS_UNAUTHORIZED
                                                                                   : SOUP_STATUS_FORBIDDEN;
            if (status == SOUP_STATUS_UNAUTHORIZED)
                soup_message_headers_replace(soup_server_message_get_response_headers(m), "WWW-Authenticate",
                                             "Bearer realm=\"manifold\"");
            respondError(m, status, decision.code, decision.message);
        } else if (parts.size() == 3) {
            respond(m, SOUP_STATUS_OK, "application/json", protocol::encodeRooms(deps_.gateway.rooms()));
        } else if (parts.size() == 4 && isGet) {
            if (Room* room = deps_.gateway.findRoom(parts[3]))
                respond(m, SOUP_STATUS_OK, "application/json", protocol::encodeRoom(room->info()));
            else
                respondError(m, SOUP_STATUS_NOT_FOUND, protocol::ErrorCode::UnknownRoom,
                             "no room named '" + parts[3] + "'");
        } else if (parts.size() == 4) {
            if (deps_.gateway.closeRoom(parts[3]))
                respondNoContent(m);
            else
                respondError(m, SOUP_STATUS_NOT_FOUND, protocol::ErrorCode::UnknownRoom,
                             "no room named '" + parts[3] + "'");
        } else {
            if (deps_.gateway.kick(parts[3], parts[5]))
                respondNoContent(m);
            else
                respondError(m, SOUP_STATUS_NOT_FOUND, protocol::ErrorCode::UnknownParticipant,
                             "no participant '" + parts[5] + "' in room '" + parts[3] + "'");
        }
        if (pending->paused) soup_server_message_unpause(m);
    });
    if (!*decided) {
        pending->paused = true;
        soup_server_message_pause(msg);
    }
}

} // namespace manifold::server
