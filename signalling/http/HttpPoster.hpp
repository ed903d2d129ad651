// HttpPoster.hpp — POSTs JSON bodies to one configured URL with libsoup, asynchronously,
// each request with its own millisecond timeout.
//
// What: the HTTP client shared by WebhookAuthorizer and EventNotifier. `post` returns at
// once; `done` runs later on the control thread with the status and body, or with the
// transport error / timeout. Redirects are not followed, no proxy is used, the
// Authorization header carries the configured bearer token.
// Destroying the poster cancels every request in flight: their `done` never runs, and the
// libsoup callbacks that still arrive only free their own request (they hold no pointer
// to a dead poster). `done` may destroy the poster.
// Thread: control thread only (the GLib main loop's default context), where libsoup
// delivers its callbacks and the timeout timers run.
// Ownership: owned by its user (one per URL). Owns its SoupSession; each request in flight
// is owned by its pending libsoup callback, the poster only keeps a list to cancel them.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <unordered_set>

#include "common/GObjectPtr.hpp"

typedef struct _SoupSession SoupSession;

namespace manifold::auth {

class HttpPoster {
public:
    struct Config {
        std::string url;                         // http:// or https://
        std::string bearerToken;                 // "" = no Authorization header
        std::chrono::milliseconds timeout{2000}; // per request, from post() to the whole body
        unsigned maxConnections = 8;             // connections kept to the host
    };
    struct Response {
        unsigned status = 0;  // HTTP status; 0 when no response arrived
        std::string body;
        std::string error;    // why no response arrived ("" when one did)
        bool timedOut = false;
        bool ok() const { return error.empty() && status >= 200 && status < 300; }
    };
    using Done = std::function<void(Response)>;

    /// Throws std::invalid_argument when the URL is not an absolute http(s) URL or the
    /// timeout is not positive.
    explicit HttpPoster(Config config);
    ~HttpPoster();
    HttpPoster(const HttpPoster&) = delete;
    HttpPoster& operator=(const HttpPoster&) = delete;

    /// Sends `body` (Content-Type application/json); `done` runs exactly once, later,
    /// unless the poster is destroyed first.
    void post(std::string body, Done done);
    std::size_t inFlight() const { return requests_.size(); }
    const Config& config() const { return config_; }

private:
    struct Request;

    Config config_;
    GObjectPtr<SoupSession> session_;          // Allocated by this.
    std::unordered_set<Request*> requests_;    // In flight; owned by their libsoup callbacks.
};

} // namespace manifold::auth
