// AllowAllAuthorizer.hpp — development mode: every action is allowed (auth mode "none").
//
// What: join answers at once with the context's identity, or a generated "guest-XXXX"
// when there is none, and Grants::all() (admin included); every later action is allowed.
// Never use it on a server reachable by anyone but its developer.
// Thread: control thread only (answers synchronously, inside authorize).
// Ownership: the App owns it, like every Authorizer.
#pragma once

#include "signalling/auth/Authorizer.hpp"

namespace manifold::auth {

class AllowAllAuthorizer final : public Authorizer {
public:
    AllowAllAuthorizer();

    void authorize(const AuthContext& context, Done done) override;
    const char* mode() const override { return "none"; }
};

} // namespace manifold::auth
