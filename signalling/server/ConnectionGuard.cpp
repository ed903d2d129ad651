// ConnectionGuard.cpp — see ConnectionGuard.hpp.
#include "signalling/server/ConnectionGuard.hpp"

#include <libsoup/soup.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <utility>
#include <vector>

#include "core/Log.hpp"
#include "signalling/server/GuardInputStream.hpp"
#include "signalling/server/RequestHead.hpp"

namespace manifold::server {
namespace {

// How long a refused request's connection stays open: the answer is written, then what
// the client still sends is read and dropped, so that closing does not reset the
// connection under an answer the client has not read yet (RFC 9112 9.6).
constexpr guint kRefusalGraceMs = 2000;
constexpr gsize kRefusalDrainMax = 1024 * 1024;
// accept() failed for want of descriptors (or memory): wait this long before trying again,
// rather than spinning on a listening socket that stays readable.
constexpr guint kAcceptPauseMs = 200;
constexpr int kAcceptBurst = 64; // connections accepted per wakeup
constexpr int kListenBacklog = 128;

std::string ipOf(GSocketAddress* address) {
    if (!G_IS_INET_SOCKET_ADDRESS(address))
        return "?";
    g_autofree char* text = g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address)));
    return text ? text : "?";
}

long long millis(std::chrono::milliseconds d) { return static_cast<long long>(d.count()); }

} // namespace

void ConnectionGuard::SourceDeleter::operator()(GSource* source) const noexcept {
    g_source_destroy(source);
    g_source_unref(source);
}

// ---------------------------------------------------------------- one connection

// One accepted connection: its socket (and TLS), its phase and timer, and what libsoup
// reads it through. Control thread; owned by ConnectionGuard::connections_ until its socket
// is closed. Every GLib callback holds a weak_ptr and locks it, so `close` (which makes the
// guard drop it) never frees an object that is still running.
class ConnectionGuard::Guarded : public std::enable_shared_from_this<Guarded> {
public:
    Guarded(ConnectionGuard& guard, std::uint64_t id, GObjectPtr<GSocket> socket, GObjectPtr<GSocketAddress> remote,
            std::string address)
        : guard_(guard), id_(id), address_(std::move(address)), socket_(std::move(socket)), remote_(std::move(remote)) {}

    ~Guarded() {
        disarm();
        if (input_)
            guardInputStreamDetach(input_.get());
    }

    std::uint64_t id() const { return id_; }
    const std::string& address() const { return address_; }
    GSocketAddress* remote() const { return remote_.get(); }

    void start();
    void requestStarted(SoupServerMessage* msg);
    void upgraded();
    void close(const char* why);

private:
    enum class Phase { Handshake, Header, Body, Handling, Response, Idle, Upgraded, Refusing, Closed };
    using Weak = std::weak_ptr<Guarded>;

    gpointer weakData() { return new Weak(weak_from_this()); }
    static void deleteWeak(gpointer data) noexcept { delete static_cast<Weak*>(data); }
    static std::shared_ptr<Guarded> lock(gpointer data) { return static_cast<Weak*>(data)->lock(); }

    const HttpLimits& limits() const { return guard_.config_.limits; }
    GIOStream* stream() const { return tls_ ? tls_.get() : G_IO_STREAM(tcp_.get()); }

    void arm(Phase phase, guint ms);
    void disarm();
    void expired();
    void handOver();
    bool inspect(std::string_view bytes);
    bool endOfInput();
    bool soupOwns() const;
    void refuse(const Refusal& refusal, SoupServerMessage* stealFrom);
    void drain();

    static void onHandshake(GObject* source, GAsyncResult* result, gpointer data) noexcept;
    static gboolean onTimer(gpointer data) noexcept;
    static void onRefusalWritten(GObject* source, GAsyncResult* result, gpointer data) noexcept;
    static void onDrained(GObject* source, GAsyncResult* result, gpointer data) noexcept;
    static void onGotHeaders(SoupServerMessage* msg, gpointer data) noexcept;
    static void onGotChunk(SoupServerMessage* msg, GBytes* chunk, gpointer data) noexcept;
    static void onGotBody(SoupServerMessage* msg, gpointer data) noexcept;
    static void onWroteHeaders(SoupServerMessage* msg, gpointer data) noexcept;
    static void onFinished(SoupServerMessage* msg, gpointer data) noexcept;

    ConnectionGuard& guard_; // Passed by argument; owns this.
    const std::uint64_t id_;
    const std::string address_;
    GObjectPtr<GSocket> socket_;
    GObjectPtr<GSocketAddress> remote_;
    GObjectPtr<GSocketConnection> tcp_;
    GObjectPtr<GIOStream> tls_;          // null without TLS
    GObjectPtr<GInputStream> input_;     // what libsoup reads (GuardInputStream over stream())
    GObjectPtr<GIOStream> io_;           // what libsoup was handed
    GObjectPtr<GIOStream> stolen_;       // libsoup's wrapper, once the connection was taken from it
    GObjectPtr<SoupServerMessage> lastMsg_; // the latest request libsoup announced on this connection
    GObjectPtr<GCancellable> cancellable_ = adopt(g_cancellable_new()); // our own I/O
    Phase phase_ = Phase::Handshake;
    Phase timerPhase_ = Phase::Handshake;
    bool handshaking_ = false;
    guint timer_ = 0;
    RequestHeadScanner scanner_;
    bool scanning_ = true;          // the next bytes are a request head
    std::uint64_t bodyBytes_ = 0;   // of the current request
    std::string answer_;            // a refusal being written
    gsize drained_ = 0;
    char drainBuffer_[4096];
};

void ConnectionGuard::Guarded::arm(Phase phase, guint ms) {
    disarm();
    timerPhase_ = phase;
    timer_ = g_timeout_add_full(G_PRIORITY_DEFAULT, ms, &Guarded::onTimer, weakData(), &Guarded::deleteWeak);
}

void ConnectionGuard::Guarded::disarm() {
    if (timer_ != 0)
        g_source_remove(timer_);
    timer_ = 0;
}

gboolean ConnectionGuard::Guarded::onTimer(gpointer data) noexcept {
    if (auto self = lock(data)) {
        self->timer_ = 0; // this source ends with the callback
        self->expired();
    }
    return G_SOURCE_REMOVE;
}

void ConnectionGuard::Guarded::expired() {
    HttpPhase phase = HttpPhase::Header;
    guint ms = 0;
    switch (timerPhase_) {
    case Phase::Refusing:
        close("refused request answered");
        return;
    case Phase::Body:
        phase = HttpPhase::Body;
        ms = guint(limits().bodyTimeout.count());
        break;
    case Phase::Response:
        phase = HttpPhase::Response;
        ms = guint(limits().idleTimeout.count());
        break;
    case Phase::Idle:
        phase = HttpPhase::Idle;
        ms = guint(limits().idleTimeout.count());
        break;
    default:
        ms = guint(limits().headerTimeout.count());
        break;
    }
    guard_.counters_.timeouts[std::size_t(phase)]++;
    MLOG(Server, Info, "http connection %llu from %s: %s timeout (%u ms), closing",
         static_cast<unsigned long long>(id_), address_.c_str(), kHttpPhaseNames[std::size_t(phase)], ms);
    close("timeout");
}

void ConnectionGuard::Guarded::start() {
    g_socket_set_blocking(socket_.get(), FALSE); // no call on a client's socket may block the control thread
    g_socket_set_option(socket_.get(), IPPROTO_TCP, TCP_NODELAY, TRUE, nullptr);
    tcp_ = adopt(g_socket_connection_factory_create_connection(socket_.get()));
    phase_ = guard_.tls_ ? Phase::Handshake : Phase::Header;
    arm(Phase::Header, guint(limits().headerTimeout.count())); // the TLS handshake counts into it
    if (!guard_.tls_) {
        handOver();
        return;
    }
    GError* error = nullptr;
    GIOStream* tls = g_tls_server_connection_new(G_IO_STREAM(tcp_.get()), guard_.tls_.get(), &error);
    if (!tls) {
        MLOG(Server, Warning, "TLS for connection from %s: %s", address_.c_str(), error ? error->message : "?");
        g_clear_error(&error);
        close("TLS setup failed");
        return;
    }
    tls_ = adopt(tls);
    static const gchar* const kProtocols[] = {"http/1.1", nullptr};
    g_object_set(tls, "require-close-notify", FALSE, "advertised-protocols", kProtocols, nullptr);
    handshaking_ = true; // holds this object (not a weak handle) until it returns: see close()
    g_tls_connection_handshake_async(G_TLS_CONNECTION(tls), G_PRIORITY_DEFAULT, cancellable_.get(),
                                     &Guarded::onHandshake, new std::shared_ptr<Guarded>(shared_from_this()));
}

void ConnectionGuard::Guarded::onHandshake(GObject* source, GAsyncResult* result, gpointer data) noexcept {
    GError* error = nullptr;
    const gboolean ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), result, &error);
    std::shared_ptr<Guarded> self = std::move(*static_cast<std::shared_ptr<Guarded>*>(data));
    delete static_cast<std::shared_ptr<Guarded>*>(data);
    self->handshaking_ = false;
    if (self->phase_ == Phase::Closed) {
        g_socket_close(self->socket_.get(), nullptr); // deferred by close()
    } else if (self->phase_ == Phase::Handshake) {
        if (ok) {
            self->phase_ = Phase::Header;
            self->handOver();
        } else {
            MLOG(Server, Debug, "TLS handshake with %s failed: %s", self->address_.c_str(),
                 error ? error->message : "?");
            self->close("TLS handshake failed");
        }
    }
    g_clear_error(&error);
}

void ConnectionGuard::Guarded::handOver() {
    Weak weak = weak_from_this();
    GuardInputHooks hooks;
    hooks.inspect = [weak](std::string_view bytes) {
        auto self = weak.lock();
        return !self || self->inspect(bytes);
    };
    hooks.endOfInput = [weak] {
        auto self = weak.lock();
        return !self || self->endOfInput();
    };
    hooks.closed = [weak] {
        if (auto self = weak.lock())
            self->close("closed by libsoup");
    };
    input_ = adopt(guardInputStreamNew(g_io_stream_get_input_stream(stream()), std::move(hooks)));
    io_ = adopt(g_simple_io_stream_new(input_.get(), g_io_stream_get_output_stream(stream())));
    GObjectPtr<GSocketAddress> local = adopt(g_socket_get_local_address(socket_.get(), nullptr));
    if (!local) {
        close("no local address");
        return;
    }
    // libsoup announces the connection's first request (request-started) from in here.
    GError* error = nullptr;
    if (!soup_server_accept_iostream(guard_.server_, io_.get(), local.get(), remote_.get(), &error)) {
        MLOG(Server, Warning, "libsoup refused connection from %s: %s", address_.c_str(), error ? error->message : "?");
        g_clear_error(&error);
        close("not accepted by libsoup");
    }
}

// Called by libsoup's reads (through the GuardInputStream) with each chunk, before libsoup
// sees it. False withholds the chunk: the request is being refused.
bool ConnectionGuard::Guarded::inspect(std::string_view bytes) {
    if (phase_ == Phase::Refusing || phase_ == Phase::Closed)
        return false;
    if (!scanning_)
        return true;
    const RequestHeadScanner::Result result = scanner_.feed(bytes);
    switch (result.verdict) {
    case RequestHeadScanner::Verdict::NeedMore:
        return true;
    case RequestHeadScanner::Verdict::Complete:
        scanning_ = false; // the rest is libsoup's: a body, or the head of a pipelined request
        return true;
    case RequestHeadScanner::Verdict::Refused:
        break;
    }
    // libsoup has at most part of this head and now waits for more that never comes.
    refuse(scanner_.refusal(), nullptr);
    return false;
}

// The client closed its side (or reading failed). Between requests libsoup 3.2 would read
// that as the end of a request it has not announced yet, which it finishes without ever
// closing the connection (no completion callback is set until a request's first byte):
// the connection would stay in its list for good, and could no longer be taken from it.
// So the end is withheld and the connection taken back.
bool ConnectionGuard::Guarded::endOfInput() {
    if (phase_ != Phase::Idle)
        return true; // libsoup closes the connection itself
    g_idle_add_full(
        G_PRIORITY_DEFAULT,
        [](gpointer data) noexcept -> gboolean {
            if (auto self = lock(data))
                self->close("closed by the client");
            return G_SOURCE_REMOVE;
        },
        weakData(), &Guarded::deleteWeak);
    return false;
}

// libsoup still holds the connection: not closed by it (its disconnect closes our stream),
// not upgraded to a WebSocket or taken from it already (both did steal it).
bool ConnectionGuard::Guarded::soupOwns() const {
    return input_ && !stolen_ && phase_ != Phase::Upgraded && !g_input_stream_is_closed(input_.get());
}

void ConnectionGuard::Guarded::requestStarted(SoupServerMessage* msg) {
    if (phase_ == Phase::Refusing || phase_ == Phase::Closed)
        return;
    if (phase_ == Phase::Idle) { // a kept-alive connection's next request: its first bytes arrived
        phase_ = Phase::Header;
        arm(Phase::Header, guint(limits().headerTimeout.count()));
    }
    bodyBytes_ = 0;
    lastMsg_ = retain(msg);
    // The handlers share one weak handle, freed with the message.
    gpointer data = weakData();
    g_object_set_data_full(G_OBJECT(msg), "manifold-connection-guard", data, &Guarded::deleteWeak);
    g_signal_connect(msg, "got-headers", G_CALLBACK(&Guarded::onGotHeaders), data);
    g_signal_connect(msg, "got-chunk", G_CALLBACK(&Guarded::onGotChunk), data);
    g_signal_connect(msg, "got-body", G_CALLBACK(&Guarded::onGotBody), data);
    g_signal_connect(msg, "wrote-headers", G_CALLBACK(&Guarded::onWroteHeaders), data);
    g_signal_connect(msg, "finished", G_CALLBACK(&Guarded::onFinished), data);
}

void ConnectionGuard::Guarded::onGotHeaders(SoupServerMessage*, gpointer data) noexcept {
    auto self = lock(data);
    if (!self || self->phase_ != Phase::Header)
        return;
    self->phase_ = Phase::Body;
    self->arm(Phase::Body, guint(self->limits().bodyTimeout.count()));
}

void ConnectionGuard::Guarded::onGotChunk(SoupServerMessage* msg, GBytes* chunk, gpointer data) noexcept {
    auto self = lock(data);
    if (!self || self->phase_ != Phase::Body)
        return;
    self->bodyBytes_ += g_bytes_get_size(chunk);
    if (self->bodyBytes_ > kMaxRequestBodyBytes) // a chunked body: no Content-Length told us before
        self->refuse(Refusal{413, "the request body is larger than " + std::to_string(kMaxRequestBodyBytes) + " bytes"},
                     msg);
}

void ConnectionGuard::Guarded::onGotBody(SoupServerMessage*, gpointer data) noexcept {
    auto self = lock(data);
    if (!self || self->phase_ != Phase::Body)
        return;
    self->phase_ = Phase::Handling; // no timer: the handler may wait for the webhook (its own timeout)
    self->disarm();
}

void ConnectionGuard::Guarded::onWroteHeaders(SoupServerMessage*, gpointer data) noexcept {
    auto self = lock(data);
    if (!self || self->phase_ != Phase::Handling)
        return;
    self->phase_ = Phase::Response;
    self->arm(Phase::Response, guint(self->limits().idleTimeout.count()));
}

void ConnectionGuard::Guarded::onFinished(SoupServerMessage*, gpointer data) noexcept {
    auto self = lock(data);
    if (!self || self->phase_ == Phase::Refusing || self->phase_ == Phase::Closed || self->phase_ == Phase::Upgraded)
        return;
    // Answered. If libsoup keeps the connection, the next bytes are a new request head;
    // if not, it closes the stream and `closed` follows.
    self->phase_ = Phase::Idle;
    self->scanner_.reset();
    self->scanning_ = true;
    self->arm(Phase::Idle, guint(self->limits().idleTimeout.count()));
}

void ConnectionGuard::Guarded::upgraded() {
    if (phase_ == Phase::Closed)
        return;
    phase_ = Phase::Upgraded;
    scanning_ = false;
    lastMsg_.reset(); // libsoup has let go of the connection: nothing to take back
    disarm();
}

// Answers `refusal` on the connection itself and closes it. libsoup is out of the way:
// either it waits for head bytes the GuardInputStream withholds (and close() takes the
// connection from it), or (`stealFrom`, a request whose body it is reading) the connection
// is taken from it now.
void ConnectionGuard::Guarded::refuse(const Refusal& refusal, SoupServerMessage* stealFrom) {
    if (phase_ == Phase::Refusing || phase_ == Phase::Closed)
        return;
    phase_ = Phase::Refusing;
    scanning_ = false;
    guard_.counters_.refusedRequests[refusal.status]++;
    MLOG(Server, Info, "http connection %llu from %s: answered %u and closed: %s", static_cast<unsigned long long>(id_),
         address_.c_str(), refusal.status, refusal.reason.c_str());
    arm(Phase::Refusing, kRefusalGraceMs);
    guardInputStreamBlock(input_.get());
    if (stealFrom)
        stolen_ = adopt(soup_server_message_steal_connection(stealFrom));
    answer_ = refusalResponse(refusal, guard_.config_.serverHeader);
    g_output_stream_write_all_async(g_io_stream_get_output_stream(stream()), answer_.data(), answer_.size(),
                                    G_PRIORITY_DEFAULT, cancellable_.get(), &Guarded::onRefusalWritten, weakData());
}

void ConnectionGuard::Guarded::onRefusalWritten(GObject* source, GAsyncResult* result, gpointer data) noexcept {
    GError* error = nullptr;
    const gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, nullptr, &error);
    auto self = lock(data);
    deleteWeak(data);
    g_clear_error(&error);
    if (!self || self->phase_ != Phase::Refusing)
        return;
    if (!ok) {
        self->close("refusal not written");
        return;
    }
    if (!self->tls_) // FIN after the answer; TLS has no half-close, the client closes on "Connection: close"
        g_socket_shutdown(self->socket_.get(), FALSE, TRUE, nullptr);
    self->drain();
}

void ConnectionGuard::Guarded::drain() {
    g_input_stream_read_async(g_io_stream_get_input_stream(stream()), drainBuffer_, sizeof drainBuffer_,
                              G_PRIORITY_DEFAULT, cancellable_.get(), &Guarded::onDrained, weakData());
}

void ConnectionGuard::Guarded::onDrained(GObject* source, GAsyncResult* result, gpointer data) noexcept {
    GError* error = nullptr;
    const gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
    auto self = lock(data);
    deleteWeak(data);
    g_clear_error(&error);
    if (!self || self->phase_ != Phase::Refusing)
        return;
    self->drained_ += n > 0 ? gsize(n) : 0;
    if (n <= 0 || self->drained_ > kRefusalDrainMax)
        self->close("refused request answered");
    else
        self->drain();
}

void ConnectionGuard::Guarded::close(const char* why) {
    if (phase_ == Phase::Closed)
        return;
    // Take the connection from libsoup first, whatever it waits for: it lets go at once and
    // entirely (its stolen stream is ours to drop). Closing the socket under it would do in
    // most states, but not between two requests (see endOfInput). Never called from within
    // libsoup's own I/O, where this would free what it still uses.
    if (soupOwns() && lastMsg_)
        stolen_ = adopt(soup_server_message_steal_connection(lastMsg_.get()));
    phase_ = Phase::Closed;
    disarm();
    g_cancellable_cancel(cancellable_.get());
    if (input_) {
        guardInputStreamDetach(input_.get());
        guardInputStreamFail(input_.get()); // libsoup, if it still waits on it, lets go
    }
    // The socket itself, not TLS: closing TLS would try to write close_notify first. A TLS
    // handshake runs on a glib-networking thread; that one is cancelled above and the
    // socket closed when it has returned (onHandshake), never under its feet.
    if (!handshaking_)
        g_socket_close(socket_.get(), nullptr);
    MLOG(Server, Debug, "http connection %llu from %s closed (%s)", static_cast<unsigned long long>(id_),
         address_.c_str(), why);
    guard_.forget(id_);
}

// ---------------------------------------------------------------- the guard

ConnectionGuard::ConnectionGuard(SoupServer* server, Config config)
    : server_(server), config_(std::move(config)), tls_(retain(config_.tlsCertificate)) {}

ConnectionGuard::~ConnectionGuard() {
    *alive_ = false;
    if (requestStartedHandler_ != 0)
        g_signal_handler_disconnect(server_, requestStartedHandler_);
    if (resumeTimer_ != 0)
        g_source_remove(resumeTimer_);
    acceptSource_.reset();
    std::vector<std::shared_ptr<Guarded>> open;
    for (const auto& [id, guarded] : connections_)
        open.push_back(guarded);
    for (const auto& guarded : open)
        guarded->close("server stopping");
    if (listener_)
        g_socket_close(listener_.get(), nullptr);
}

bool ConnectionGuard::listen(std::string& error) {
    const std::string where = config_.address + ":" + std::to_string(config_.port);
    GObjectPtr<GInetAddress> inet = adopt(g_inet_address_new_from_string(config_.address.c_str()));
    if (!inet) {
        error = "listen address '" + config_.address + "' is not an IP address; use e.g. 127.0.0.1, 0.0.0.0 or ::";
        return false;
    }
    GError* err = nullptr;
    auto fail = [&](const char* what) {
        error = std::string("cannot ") + what + " on " + where + ": " + (err ? err->message : "unknown error") +
                "; choose another --address/--port";
        g_clear_error(&err);
        return false;
    };
    const GSocketFamily family = g_inet_address_get_family(inet.get());
    listener_ = adopt(g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &err));
    if (!listener_)
        return fail("create a socket");
    if (family == G_SOCKET_FAMILY_IPV6) // as libsoup does: :: is IPv6 only
        g_socket_set_option(listener_.get(), IPPROTO_IPV6, IPV6_V6ONLY, TRUE, nullptr);
    g_socket_set_blocking(listener_.get(), FALSE);
    GObjectPtr<GSocketAddress> address = adopt(g_inet_socket_address_new(inet.get(), guint16(config_.port)));
    if (!g_socket_bind(listener_.get(), address.get(), TRUE, &err))
        return fail("listen");
    g_socket_set_listen_backlog(listener_.get(), kListenBacklog);
    if (!g_socket_listen(listener_.get(), &err))
        return fail("listen");
    GObjectPtr<GSocketAddress> bound = adopt(g_socket_get_local_address(listener_.get(), &err));
    if (!bound)
        return fail("listen");
    boundPort_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound.get()));

    // libsoup 3.2 keeps a connection alive after an answer only while the server has a
    // listener of its own (request_finished in soup-server.c checks priv->listeners), and
    // soup_server_accept_iostream adds none. So it gets one that can never accept: one end
    // of a socket pair whose other end we keep open and never write to. Nothing can
    // connect to it.
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        error = "cannot create a socket pair for the HTTP server; check the process's file descriptor limit";
        return false;
    }
    inertListener_ = adopt(g_socket_new_from_fd(pair[0], &err));
    if (!inertListener_) {
        ::close(pair[1]);
        return fail("set up keep-alive");
    }
    inertPeer_ = adopt(g_socket_new_from_fd(pair[1], &err));
    if (!inertPeer_)
        return fail("set up keep-alive");
    if (!soup_server_listen_socket(server_, inertListener_.get(), SoupServerListenOptions(0), &err))
        return fail("set up keep-alive");

    requestStartedHandler_ = g_signal_connect(server_, "request-started", G_CALLBACK(&ConnectionGuard::onRequestStarted), this);
    watchListener();
    MLOG(Server, Info, "http limits: header %lld ms, body %lld ms, idle %lld ms, %zu connections (%zu per address)",
         millis(config_.limits.headerTimeout), millis(config_.limits.bodyTimeout), millis(config_.limits.idleTimeout),
         config_.limits.maxConnections, config_.limits.maxConnectionsPerAddress);
    return true;
}

void ConnectionGuard::watchListener() {
    GSource* source = g_socket_create_source(listener_.get(), G_IO_IN, nullptr);
    g_source_set_callback(source, G_SOURCE_FUNC(&ConnectionGuard::onAcceptReady), this, nullptr);
    g_source_attach(source, nullptr);
    acceptSource_.reset(source);
}

gboolean ConnectionGuard::onAcceptReady(GSocket*, GIOCondition, gpointer self) noexcept {
    static_cast<ConnectionGuard*>(self)->acceptPending();
    return G_SOURCE_CONTINUE;
}

void ConnectionGuard::acceptPending() {
    for (int i = 0; i < kAcceptBurst; ++i) {
        GError* error = nullptr;
        GSocket* socket = g_socket_accept(listener_.get(), nullptr, &error);
        if (socket) {
            admit(adopt(socket));
            continue;
        }
        const bool wouldBlock = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
        if (!wouldBlock) {
            // Out of descriptors or memory: the pending connection stays queued and the socket
            // readable, so pause rather than spin (libsoup's own listener gave up for good here).
            counters_.acceptErrors++;
            MLOG(Server, Warning, "accept failed: %s; pausing %u ms (raise the file descriptor limit or lower "
                                  "--max-connections)", error ? error->message : "?", kAcceptPauseMs);
            acceptSource_.reset(); // destroys the source; safe from within its own callback
            resumeTimer_ = g_timeout_add(kAcceptPauseMs, [](gpointer self) noexcept -> gboolean {
                auto* guard = static_cast<ConnectionGuard*>(self);
                guard->resumeTimer_ = 0;
                guard->watchListener();
                return G_SOURCE_REMOVE;
            }, this);
        }
        g_clear_error(&error);
        return;
    }
}

void ConnectionGuard::admit(GObjectPtr<GSocket> socket) {
    GObjectPtr<GSocketAddress> remote = adopt(g_socket_get_remote_address(socket.get(), nullptr));
    if (!remote) {
        g_socket_close(socket.get(), nullptr);
        return;
    }
    std::string address = ipOf(remote.get());
    const HttpLimits& limits = config_.limits;
    const char* refused = nullptr;
    if (connections_.size() >= limits.maxConnections) {
        counters_.refusedMaxConnections++;
        refused = "max-connections";
    } else if (perAddress_[address] >= limits.maxConnectionsPerAddress) {
        counters_.refusedMaxPerAddress++;
        refused = "max-connections-per-address";
    }
    if (refused) {
        if (perAddress_[address] == 0)
            perAddress_.erase(address);
        // Closed at once: answering would mean holding the descriptor the limit protects.
        MLOG(Server, Debug, "connection from %s refused: %s reached", address.c_str(), refused);
        g_socket_close(socket.get(), nullptr);
        return;
    }
    counters_.accepted++;
    const std::uint64_t id = nextId_++;
    auto guarded = std::make_shared<Guarded>(*this, id, std::move(socket), std::move(remote), address);
    connections_.emplace(id, guarded);
    byRemote_.emplace(guarded->remote(), id);
    perAddress_[address]++;
    MLOG(Server, Debug, "http connection %llu from %s (%zu open)", static_cast<unsigned long long>(id),
         address.c_str(), connections_.size());
    guarded->start();
}

void ConnectionGuard::forget(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end())
        return;
    byRemote_.erase(it->second->remote());
    auto count = perAddress_.find(it->second->address());
    if (count != perAddress_.end() && --count->second == 0)
        perAddress_.erase(count);
    connections_.erase(it);
}

std::shared_ptr<ConnectionGuard::Guarded> ConnectionGuard::find(SoupServerMessage* msg) {
    auto it = byRemote_.find(soup_server_message_get_remote_address(msg));
    if (it == byRemote_.end())
        return nullptr;
    auto guarded = connections_.find(it->second);
    return guarded == connections_.end() ? nullptr : guarded->second;
}

void ConnectionGuard::onRequestStarted(SoupServer*, SoupServerMessage* msg, gpointer self) noexcept {
    if (auto guarded = static_cast<ConnectionGuard*>(self)->find(msg))
        guarded->requestStarted(msg);
}

void ConnectionGuard::upgraded(SoupServerMessage* msg) {
    if (auto guarded = find(msg))
        guarded->upgraded();
}

} // namespace manifold::server
