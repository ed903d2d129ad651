// HttpServer.hpp — the one HTTP(S) port: WebSocket signalling, health, metrics, admin API,
// and the demo page.
//
// What: a libsoup 3 SoupServer. `/ws` upgrades to a WebSocket whose frames feed one
// session::Session each; `/healthz`, `/metrics` (Prometheus), `/api/v1/...` (admin REST,
// bearer token with the admin grant), `/lib/*.js` (the client library's modules, always
// embedded in the binary) and the demo page (embedded too, or from --web-root). The
// server only pumps frames: all protocol logic is in Session.
// The listening socket and the limits on every connection (timeouts, caps, requests
// libsoup cannot answer) are the ConnectionGuard's, which hands connections to libsoup.
// Thread: control thread only (the GLib main loop's default context).
// Ownership: owned by the App. Owns the SoupServer, the ConnectionGuard and every
// Connection (which owns its Session). Borrows Gateway, Authorizer, Scheduler,
// MediaEngine, which outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/GObjectPtr.hpp"
#include "core/Gateway.hpp"
#include "signalling/auth/Authorizer.hpp"
#include "signalling/server/HttpLimits.hpp"
#include "signalling/session/Session.hpp"
#include "signalling/session/SessionMetrics.hpp"

typedef struct _SoupServer SoupServer;
typedef struct _SoupServerMessage SoupServerMessage;
typedef struct _SoupWebsocketConnection SoupWebsocketConnection;

namespace manifold::server {

class Connection;
class ConnectionGuard;

struct HttpServerConfig {
    std::string address = "127.0.0.1";
    int port = 8443;             // 0 = any free port (see boundPort())
    std::string tlsCertificate;  // PEM files; both set = HTTPS/WSS
    std::string tlsKey;
    std::string webRoot;         // "" = the demo page embedded in the binary
    int keepaliveSeconds = 20;   // WebSocket pings from the server; 0 = off
    HttpLimits limits;           // timeouts and connection caps of the port (ConnectionGuard)
    session::Session::Config session;
};

/// Extra lines for /metrics from other parts of the app (event notifier, media plane).
using MetricsSource = std::function<std::string()>;

class HttpServer {
public:
    struct Deps {
        Gateway& gateway;
        auth::Authorizer& authorizer;
        Scheduler& scheduler;
        MediaEngine* media;
    };

    HttpServer(HttpServerConfig config, Deps deps);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Listens. On failure returns false and says why in `error` (one line, with what to do).
    bool start(std::string& error);
    int boundPort() const { return boundPort_; }
    std::string url() const;

    void addMetricsSource(MetricsSource source) { metricsSources_.push_back(std::move(source)); }

    /// Tells every connection that is not in a room yet why it closes, and closes it
    /// (joined ones are told by Gateway::shutdown). /healthz answers 503 from now on.
    void closeAll(const std::string& reason, const std::string& message);
    std::size_t connectionCount() const { return connections_.size(); }
    const session::SessionMetrics& metrics() const { return metrics_; }

private:
    friend class Connection;
    static void onWebsocket(SoupServer*, SoupServerMessage*, const char*, SoupWebsocketConnection*,
                            gpointer self) noexcept;
    static void onRequest(SoupServer*, SoupServerMessage*, const char* path, GHashTable*,
                          gpointer self) noexcept;
    void acceptWebsocket(SoupServerMessage* msg, SoupWebsocketConnection* ws);
    void connectionClosed(std::uint64_t id);
    void serveRequest(SoupServerMessage* msg, const std::string& path);
    void serveStatic(SoupServerMessage* msg, const std::string& path);
    void serveAdmin(SoupServerMessage* msg, const std::string& path);
    std::string renderMetrics() const;

    HttpServerConfig config_;
    Deps deps_;
    GObjectPtr<SoupServer> server_;                              // Allocated by this.
    std::unique_ptr<ConnectionGuard> guard_;                     // Allocated by this.
    std::map<std::uint64_t, std::unique_ptr<Connection>> connections_; // Allocated by this.
    std::uint64_t nextConnectionId_ = 1;
    session::SessionMetrics metrics_;
    std::vector<MetricsSource> metricsSources_;
    int boundPort_ = 0;
    bool closing_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true); // guards idle callbacks
};

} // namespace manifold::server
