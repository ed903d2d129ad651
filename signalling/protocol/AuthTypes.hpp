// AuthTypes.hpp — what an authorization hook is asked and what it answers.
//
// What: the context of one decision (join, publish, subscribe, record, admin) and the
// decision. The webhook authorizer sends AuthContext as JSON (Codec::encodeAuthRequest)
// and reads AuthDecision back (Codec::decodeAuthReply).
// Thread: value types, usable anywhere. Ownership: plain values.
#pragma once

#include <string>

#include "signalling/protocol/Messages.hpp"

namespace manifold::protocol {

enum class AuthAction { Join, Publish, Subscribe, Record, Admin };
const char* toString(AuthAction action);

struct AuthContext {
    AuthAction action = AuthAction::Join;
    std::string room;          // "" for admin actions that span rooms
    std::string identity;      // "" before join (the token says who it is)
    std::string participantId; // "" before join
    std::string token;         // the bearer token given at join / in the admin request
    std::string remoteAddress; // peer IP address as the server saw it
    std::string trackId;       // subscribe/record: the track asked for; "" otherwise
    Grants grants;             // grants decided at join; empty before join
};

struct AuthDecision {
    bool allowed = false;
    ErrorCode code = ErrorCode::PermissionDenied; // why not, when !allowed
    std::string message;                          // human-readable, when !allowed
    std::string identity;                         // join: who this is (JWT `sub`)
    Grants grants;                                // join: what the participant may do

    static AuthDecision allow(std::string identity, Grants grants) {
        return AuthDecision{true, ErrorCode::PermissionDenied, {}, std::move(identity), grants};
    }
    static AuthDecision deny(ErrorCode code, std::string message) {
        return AuthDecision{false, code, std::move(message), {}, {}};
    }
};

} // namespace manifold::protocol
