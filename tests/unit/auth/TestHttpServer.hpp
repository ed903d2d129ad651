// TestHttpServer.hpp — a real HTTP server inside the test process, on 127.0.0.1 only.
//
// What: a SoupServer on the loopback address and a kernel-chosen port, answering each path
// with a canned reply (status, body, optional delay) and recording every request. Plus
// runUntil(), which turns the GLib main loop until a condition holds or time runs out,
// and jsonAt() to read what arrived.
// Thread: the test's main thread (the GLib default main context).
// Ownership: owned by the test; owns its SoupServer and the requests it holds paused.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <libsoup/soup.h>

#include "common/GObjectPtr.hpp"


namespace manifold::test {

/// Turns the default main context until `done()` or `limit`; returns done().
bool runUntil(const std::function<bool()>& done,
              std::chrono::milliseconds limit = std::chrono::seconds(5));
/// Turns the default main context for `duration`.
void runFor(std::chrono::milliseconds duration);

/// A member of a JSON object, found by a dotted path ("participant.identity"): strings as
/// their text, anything else as JSON ("true", "42"); "<absent>" / "<not json>" otherwise.
std::string jsonAt(const std::string& json, const std::string& path);

class TestHttpServer {
public:
    struct Reply {
        unsigned status = 200;
        std::string body;
        std::chrono::milliseconds delay{0}; // hold the answer this long
        std::string location;               // Location header, for redirects
    };
    struct Request {
        std::string path;
        std::string body;
        std::string contentType;
        std::string authorization; // "" = header absent
    };

    TestHttpServer();  // listens on 127.0.0.1, port 0
    ~TestHttpServer();
    TestHttpServer(const TestHttpServer&) = delete;
    TestHttpServer& operator=(const TestHttpServer&) = delete;

    /// http://127.0.0.1:<port><path>
    std::string url(const std::string& path) const;
    unsigned port() const { return port_; }
    void on(const std::string& path, Reply reply) { replies_[path] = std::move(reply); }
    const std::vector<Request>& requests() const { return requests_; }
    std::size_t answered() const { return answered_; }

private:
    struct Delayed;
    static void onRequest(SoupServer*, SoupServerMessage* message, const char* path, GHashTable*,
                          gpointer self);
    static gboolean onDelayElapsed(gpointer delayed);
    static void answer(SoupServerMessage* message, const Reply& reply);

    GObjectPtr<SoupServer> server_;
    unsigned port_ = 0;
    std::map<std::string, Reply> replies_;
    std::vector<Request> requests_;
    std::vector<Delayed*> delayed_;
    std::size_t answered_ = 0;
};

} // namespace manifold::test
