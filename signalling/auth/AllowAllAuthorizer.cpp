#include "signalling/auth/AllowAllAuthorizer.hpp"


#include <glib.h>

namespace manifold::auth {

AllowAllAuthorizer::AllowAllAuthorizer() {
}

void AllowAllAuthorizer::authorize(const AuthContext& context, Done done) {
    if (context.action != AuthAction::Join) {
        done(AuthDecision::allow(context.identity, context.grants));
        return;
    }
    std::string identity = context.identity;
    if (identity.empty()) {
        char guest[16];
        g_snprintf(guest, sizeof guest, "guest-%04x", g_random_int_range(0, 0x10000));
        identity = guest;
    }
    done(AuthDecision::allow(std::move(identity), protocol::Grants::all()));
}

} // namespace manifold::auth
