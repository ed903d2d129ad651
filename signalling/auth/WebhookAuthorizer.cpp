#include "signalling/auth/WebhookAuthorizer.hpp"

#include "core/Log.hpp"

#include <glib.h>

#include <stdexcept>
#include <variant>

#include "signalling/auth/GrantCheck.hpp"
#include "signalling/protocol/Codec.hpp"

namespace manifold::auth {

namespace {

using protocol::ErrorCode;

constexpr unsigned kMaxConnections = 16;

} // namespace

WebhookAuthorizer::WebhookAuthorizer(Config config)
    : maxInFlight_(config.maxInFlight),
      poster_(HttpPoster::Config{std::move(config.url), std::move(config.bearerToken), config.timeout,
                                 kMaxConnections}) {
    if (maxInFlight_ == 0) throw std::invalid_argument("webhook: maxInFlight must be at least 1");
}

void WebhookAuthorizer::authorize(const AuthContext& context, Done done) {
    const bool grantedAtJoin = context.action == AuthAction::Publish ||
                               context.action == AuthAction::Subscribe ||
                               context.action == AuthAction::Record;
    if (grantedAtJoin) {
        if (auto denied = denyWithoutGrant(context)) {
            done(std::move(*denied));
            return;
        }
    }
    if (poster_.inFlight() >= maxInFlight_) {
        done(unavailable(std::to_string(poster_.inFlight()) + " requests in flight",
                         "too many authorization requests are waiting; try again later"));
        return;
    }
    // The poster never calls back after it (a member of this) is destroyed.
    poster_.post(protocol::encodeAuthRequest(context),
                 [this, context, done = std::move(done)](HttpPoster::Response response) {
                     done(decide(context, response)); // may destroy this: nothing after
                 });
}

AuthDecision WebhookAuthorizer::decide(const AuthContext& context, const HttpPoster::Response& response) {
    if (response.timedOut)
        return unavailable(response.error, "the authorization service did not answer in time; try again later");
    if (!response.error.empty())
        return unavailable(response.error, "the authorization service is unreachable; try again later");
    if (!response.ok())
        return unavailable("HTTP " + std::to_string(response.status),
                           "the authorization service failed (HTTP " + std::to_string(response.status) +
                               "); try again later");
    auto decoded = protocol::decodeAuthReply(response.body);
    if (const auto* error = std::get_if<protocol::DecodeError>(&decoded))
        return unavailable("unreadable reply: " + error->message,
                           "the authorization service answered something unreadable; try again later");

    if (failing_) {
        MLOG(Auth, Info, "auth webhook %s answers again", poster_.config().url.c_str());
        failing_ = false;
    }
    auto& reply = std::get<AuthDecision>(decoded);
    if (!reply.allowed) {
        std::string message = !reply.message.empty()
                                  ? std::move(reply.message)
                                  : std::string("the authorization service does not allow ") +
                                        protocol::toString(context.action) + " here";
        MLOG(Auth, Debug, "auth webhook denied %s in room '%s': %s", protocol::toString(context.action),
                context.room.c_str(), message.c_str());
        return AuthDecision::deny(ErrorCode::WebhookDenied, std::move(message));
    }
    if (context.action != AuthAction::Join) return AuthDecision::allow(context.identity, context.grants);

    std::string identity = !reply.identity.empty()     ? std::move(reply.identity)
                           : !context.identity.empty() ? context.identity
                                                       : std::string("anonymous");
    protocol::Grants grants = reply.grants; // decodeAuthReply supplies the defaults when absent
    grants.join = true;                     // the webhook allowed this join
    return AuthDecision::allow(std::move(identity), grants);
}

AuthDecision WebhookAuthorizer::unavailable(const std::string& detail, const std::string& message) {
    if (!failing_) {
        MLOG(Auth, Warning, "auth webhook %s unavailable (%s); denying until it answers again",
                  poster_.config().url.c_str(), detail.c_str());
        failing_ = true;
    }
    return AuthDecision::deny(ErrorCode::WebhookUnavailable, message);
}

} // namespace manifold::auth
