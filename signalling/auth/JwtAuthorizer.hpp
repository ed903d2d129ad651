// JwtAuthorizer.hpp — signed tokens: HS256 JWTs with expiry and per-room grants (auth mode "jwt").
//
// What: join and admin verify the bearer token (signature with the shared secret, alg
// HS256 only, exp required, nbf honoured, both with a leeway) and answer with its `sub`
// and grants. Claims: {"sub":"alice","room":"demo" | "*","exp":...,"nbf":...,
// "grants":{"join","publish","subscribe","record","admin": booleans}}. Without "grants"
// a token grants join, publish and subscribe; a "grants" object grants exactly the keys
// set to true. "room" is required; "*" means every room.
// Publish, subscribe and record are decided from the grants given at join
// (AuthContext::grants) without looking at any token again.
// Admin needs grants.admin, and a token for the room acted on: an action on one room
// (context.room set) accepts that room or "*"; an action spanning rooms (context.room
// "") accepts only "*". So a room's own admin token cannot administer other rooms.
// Every denial carries a distinct ErrorCode (TokenMissing ... PermissionDenied) and a
// message saying what is wrong and what to do.
// Thread: control thread only (answers synchronously, inside authorize).
// Ownership: the App owns it, like every Authorizer; it holds only its Config.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "signalling/auth/Authorizer.hpp"

namespace manifold::auth {

class JwtAuthorizer final : public Authorizer {
public:
    struct Config {
        std::string secret;              // HS256 key, raw bytes; must not be empty
        std::chrono::seconds leeway{5};  // clock skew tolerated on exp and nbf
        std::function<std::chrono::system_clock::time_point()> clock; // empty = system clock
    };

    /// Throws std::invalid_argument when the secret is empty or the leeway negative.
    explicit JwtAuthorizer(Config config);

    void authorize(const AuthContext& context, Done done) override;
    const char* mode() const override { return "jwt"; }

private:
    struct Claims;
    AuthDecision decide(const AuthContext& context) const;
    /// Fills `claims` and returns nothing when the token passes every check; otherwise
    /// returns the denial that says why not.
    std::optional<AuthDecision> verify(const std::string& token, Claims& claims) const;
    std::int64_t nowSeconds() const;

    Config config_;
};

} // namespace manifold::auth
