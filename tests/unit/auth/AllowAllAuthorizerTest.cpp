#include <glib.h>
#include <gtest/gtest.h>

#include "signalling/auth/AllowAllAuthorizer.hpp"

namespace manifold::auth {
namespace {

AuthDecision ask(AllowAllAuthorizer& authorizer, const AuthContext& context) {
    int calls = 0;
    AuthDecision result;
    authorizer.authorize(context, [&](AuthDecision decision) {
        ++calls;
        result = std::move(decision);
    });
    EXPECT_EQ(calls, 1);
    return result;
}

TEST(AllowAllAuthorizer, JoinGetsAGuestIdentityAndEveryGrant) {
    AllowAllAuthorizer authorizer;
    EXPECT_STREQ(authorizer.mode(), "none");
    AuthContext context;
    context.room = "demo";
    const auto decision = ask(authorizer, context);
    ASSERT_TRUE(decision.allowed);
    EXPECT_TRUE(g_regex_match_simple("^guest-[0-9a-f]{4}$", decision.identity.c_str(), G_REGEX_DEFAULT,
                                     G_REGEX_MATCH_DEFAULT))
        << decision.identity;
    EXPECT_EQ(decision.grants, protocol::Grants::all());
}

TEST(AllowAllAuthorizer, JoinKeepsAnIdentityTheContextHas) {
    AllowAllAuthorizer authorizer;
    AuthContext context;
    context.room = "demo";
    context.identity = "alice";
    context.token = "not even a token";
    const auto decision = ask(authorizer, context);
    ASSERT_TRUE(decision.allowed);
    EXPECT_EQ(decision.identity, "alice");
    EXPECT_EQ(decision.grants, protocol::Grants::all());
}

TEST(AllowAllAuthorizer, EveryOtherActionIsAllowed) {
    AllowAllAuthorizer authorizer;
    for (const AuthAction action : {AuthAction::Publish, AuthAction::Subscribe, AuthAction::Record, AuthAction::Admin}) {
        AuthContext context;
        context.action = action;
        context.identity = "alice";
        EXPECT_TRUE(ask(authorizer, context).allowed) << protocol::toString(action);
    }
}

} // namespace
} // namespace manifold::auth
