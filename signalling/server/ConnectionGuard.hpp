// ConnectionGuard.hpp — the HTTP port's listening socket, and a guard on every connection.
//
// What libsoup 3.2 does itself: its SoupServer sets no timeout on a connection (one that
// never finishes a request, or never sends the next, holds its file descriptor for ever),
// limits nothing but a 64 KiB request head (past it, it drops the connection without an
// answer), never closes a kept-alive connection whose client closed it between two
// requests, and its listener stops accepting for good after one failed accept() (EMFILE).
// GSocket's own timeout would not do either: it restarts with every read, so a client
// dripping a byte a second never trips it.
//
// What the guard does: it owns the listening socket. It accepts (pausing briefly on
// EMFILE/ENFILE instead of giving up), closes at once a connection beyond max-connections
// or beyond max-connections-per-address (WebSockets count too: each holds a descriptor),
// does the TLS handshake itself, and hands each connection to libsoup with
// soup_server_accept_iostream, libsoup reading through a GuardInputStream that shows the
// guard every byte first. It follows each request through libsoup's signals, with one
// timer per connection:
//
//   accept (TLS handshake included), or first byte of a request -> head read: header-timeout
//   head read -> body read                                                 : body-timeout
//   answer being written (a client that does not read)                     : idle-timeout
//   answer written, connection kept alive, no new request                  : idle-timeout
//   upgraded to a WebSocket: none (the session's join and idle timeouts apply)
//
// A timer that fires, or a client that leaves between requests, closes the connection:
// the guard takes it from libsoup (soup_server_message_steal_connection, so libsoup lets
// go of it entirely) and closes the socket. A request libsoup cannot answer well is
// answered here with "Connection: close": a head too long, not HTTP or framed ambiguously
// (RequestHead.hpp: 400, 413, 414, 431, 501, seen before libsoup reads the head), a
// chunked body over the cap (413). The guard then reads what the client still sends for a
// moment before closing (RFC 9112 9.6), so the answer is not lost to a TCP reset.
//
// Thread: control thread. Ownership: owned by HttpServer; owns the listening socket and
// every accepted connection until its socket is closed; borrows the SoupServer, which
// outlives it.
#pragma once

#include <gio/gio.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/GObjectPtr.hpp"
#include "signalling/server/HttpLimits.hpp"

typedef struct _SoupServer SoupServer;
typedef struct _SoupServerMessage SoupServerMessage;

namespace manifold::server {

/// The phases a timer can end (the `phase` label of manifold_http_timeouts_total).
enum class HttpPhase : std::size_t { Header, Body, Response, Idle };
inline constexpr std::array<const char*, 4> kHttpPhaseNames{"header", "body", "response", "idle"};

struct ConnectionCounters {
    std::uint64_t accepted = 0;
    std::uint64_t refusedMaxConnections = 0;
    std::uint64_t refusedMaxPerAddress = 0;
    std::uint64_t acceptErrors = 0;
    std::array<std::uint64_t, 4> timeouts{}; // by HttpPhase
    std::map<unsigned, std::uint64_t> refusedRequests; // by the status answered
};

class ConnectionGuard {
public:
    struct Config {
        std::string address;
        int port = 0;
        HttpLimits limits;
        GTlsCertificate* tlsCertificate = nullptr; // borrowed; null = plain HTTP
        std::string serverHeader;                  // for the answers the guard writes itself
    };

    ConnectionGuard(SoupServer* server, Config config);
    ~ConnectionGuard();
    ConnectionGuard(const ConnectionGuard&) = delete;
    ConnectionGuard& operator=(const ConnectionGuard&) = delete;

    /// Binds and listens. On failure returns false and says why in `error` (one line).
    bool listen(std::string& error);
    int boundPort() const { return boundPort_; }

    /// The request `msg` became a WebSocket (HttpServer's /ws handler): no timer from now on.
    void upgraded(SoupServerMessage* msg);

    /// Connections whose socket is open (HTTP, WebSocket, and ones being refused).
    std::size_t openConnections() const { return connections_.size(); }
    const ConnectionCounters& counters() const { return counters_; }

private:
    class Guarded;
    friend class Guarded;

    static gboolean onAcceptReady(GSocket*, GIOCondition, gpointer self) noexcept;
    static void onRequestStarted(SoupServer*, SoupServerMessage* msg, gpointer self) noexcept;
    void watchListener();
    void acceptPending();
    void admit(GObjectPtr<GSocket> socket);
    void forget(std::uint64_t id);
    std::shared_ptr<Guarded> find(SoupServerMessage* msg);

    SoupServer* server_; // Passed by argument.
    Config config_;
    GObjectPtr<GTlsCertificate> tls_;
    GObjectPtr<GSocket> listener_;
    GObjectPtr<GSocket> inertListener_; // see listen()
    GObjectPtr<GSocket> inertPeer_;
    struct SourceDeleter {
        void operator()(GSource* source) const noexcept;
    };
    std::unique_ptr<GSource, SourceDeleter> acceptSource_; // null while accepting is paused
    guint resumeTimer_ = 0;
    gulong requestStartedHandler_ = 0;
    int boundPort_ = 0;
    std::uint64_t nextId_ = 1;
    std::map<std::uint64_t, std::shared_ptr<Guarded>> connections_; // Allocated by this.
    std::unordered_map<GSocketAddress*, std::uint64_t> byRemote_;  // libsoup's key for a message's connection
    std::map<std::string, std::size_t> perAddress_;
    ConnectionCounters counters_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace manifold::server
