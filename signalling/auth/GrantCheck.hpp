// GrantCheck.hpp — the grant each action needs, and the denial when it is missing.
//
// What: shared by the authorizers that decide publish / subscribe / record from the
// grants given at join (AuthContext::grants), so they refuse with the same words.
// Thread: pure functions, any thread. Ownership: values in, values out.
#pragma once

#include <optional>
#include <string>

#include "signalling/protocol/AuthTypes.hpp"

namespace manifold::auth {

/// Whether `grants` allow `action`.
inline bool hasGrant(const protocol::Grants& grants, protocol::AuthAction action) {
    switch (action) {
    case protocol::AuthAction::Join: return grants.join;
    case protocol::AuthAction::Publish: return grants.publish;
    case protocol::AuthAction::Subscribe: return grants.subscribe;
    case protocol::AuthAction::Record: return grants.record;
    case protocol::AuthAction::Admin: return grants.admin;
    }
    return false;
}

/// A PermissionDenied decision when the grants decided at join do not cover the action;
/// nothing when they do.
inline std::optional<protocol::AuthDecision> denyWithoutGrant(const protocol::AuthContext& context) {
    if (hasGrant(context.grants, context.action)) return std::nullopt;
    const std::string action = protocol::toString(context.action);
    const std::string who = context.identity.empty() ? "this participant" : "'" + context.identity + "'";
    return protocol::AuthDecision::deny(
        protocol::ErrorCode::PermissionDenied,
        who + " may not " + action + ": the grants given at join do not include " + action +
            "; rejoin with a token (or authorization) that grants " + action);
}

} // namespace manifold::auth
