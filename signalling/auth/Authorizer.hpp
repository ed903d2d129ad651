// Authorizer.hpp — the authorization hook asked before every join, publish, subscribe,
// record and admin action.
//
// What: a narrow asynchronous interface. `authorize` may answer at once (JWT, none) or
// later (webhook); it calls `done` exactly once, on the control thread, unless the
// authorizer is destroyed first (then never). Callers that may die before the answer
// guard their callback with a weak reference.
// Thread: control thread (the GLib main loop's default context) only.
// Ownership: the App owns the one Authorizer; sessions and the HTTP server borrow it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "signalling/protocol/AuthTypes.hpp"

namespace manifold::auth {

using protocol::AuthAction;
using protocol::AuthContext;
using protocol::AuthDecision;

class Authorizer {
public:
    using Done = std::function<void(AuthDecision)>;
    virtual ~Authorizer() = default;

    /// Decide `context`. For AuthAction::Join the decision carries the identity and the
    /// grants the participant keeps for the rest of its session; later actions get
    /// those grants in `context.grants`. For AuthAction::Admin the authorizer itself
    /// checks the admin grant of `context.token`: allowed means "may administer".
    virtual void authorize(const AuthContext& context, Done done) = 0;

    /// One word for logs and /healthz: "jwt", "webhook", "none".
    virtual const char* mode() const = 0;
};

} // namespace manifold::auth
