// WebhookAuthorizer.hpp — an HTTP service decides (auth mode "webhook"), failing closed.
//
// What: POSTs the AuthContext as JSON (Codec encodeAuthRequest) to the configured URL and
// allows only on HTTP 2xx with a body that decodeAuthReply reads as {"allow": true}.
// A non-2xx status, a timeout, a connection error or an unreadable body deny with
// WebhookUnavailable; {"allow": false} denies with WebhookDenied and the reply's
// "reason". Join takes the reply's identity (else the context's, else "anonymous") and
// grants (absent: join, publish, subscribe, as decodeAuthReply fills in; join is always
// set on an allowed join). Publish, subscribe and record are first checked against the grants given at join
// (PermissionDenied without asking the webhook), then asked. Admin is asked directly.
// At most `maxInFlight` requests wait for the webhook; beyond that, WebhookUnavailable.
// Destroying it cancels the requests in flight: their `done` never runs.
// Thread: control thread only (libsoup answers on the GLib main loop's default context).
// Ownership: the App owns it, like every Authorizer; it owns its HttpPoster.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "signalling/auth/Authorizer.hpp"
#include "signalling/http/HttpPoster.hpp"

namespace manifold::auth {

class WebhookAuthorizer final : public Authorizer {
public:
    struct Config {
        std::string url;                         // http:// or https://
        std::string bearerToken;                 // sent as "Authorization: Bearer ..."; "" = none
        std::chrono::milliseconds timeout{2000}; // then deny with WebhookUnavailable
        std::size_t maxInFlight = 64;            // then deny with WebhookUnavailable
    };

    /// Throws std::invalid_argument on a URL that is not http(s), a non-positive timeout or
    /// maxInFlight 0.
    explicit WebhookAuthorizer(Config config);

    void authorize(const AuthContext& context, Done done) override;
    const char* mode() const override { return "webhook"; }

    std::size_t inFlight() const { return poster_.inFlight(); }

private:
    AuthDecision decide(const AuthContext& context, const HttpPoster::Response& response);
    AuthDecision unavailable(const std::string& detail, const std::string& message);

    std::size_t maxInFlight_;
    bool failing_ = false;  // the last answer was WebhookUnavailable (logged once per outage)
    HttpPoster poster_;     // Allocated by this; destroyed first, cancelling what is in flight.
};

} // namespace manifold::auth
