// WebhookAuthorizer against a real HTTP server on 127.0.0.1 in this process.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "TestHttpServer.hpp"
#include "signalling/auth/WebhookAuthorizer.hpp"

namespace manifold::auth {
namespace {

using namespace std::chrono_literals;
using protocol::ErrorCode;
using protocol::Grants;
using test::jsonAt;
using test::runFor;
using test::runUntil;
using test::TestHttpServer;

AuthContext joinContext() {
    AuthContext context;
    context.action = AuthAction::Join;
    context.room = "demo";
    context.token = "opaque-client-token";
    context.remoteAddress = "127.0.0.1";
    return context;
}

class WebhookAuthorizerTest : public ::testing::Test {
protected:
    std::unique_ptr<WebhookAuthorizer> make(const std::string& path, std::chrono::milliseconds timeout = 2000ms,
                                            std::size_t maxInFlight = 64, std::string bearer = "hook-secret") {
        return std::make_unique<WebhookAuthorizer>(
            WebhookAuthorizer::Config{server.url(path), std::move(bearer), timeout, maxInFlight});
    }

    /// Asks and turns the main loop until the answer comes.
    AuthDecision ask(WebhookAuthorizer& authorizer, const AuthContext& context) {
        std::optional<AuthDecision> result;
        int calls = 0;
        authorizer.authorize(context, [&](AuthDecision decision) {
            ++calls;
            result = std::move(decision);
        });
        EXPECT_TRUE(runUntil([&] { return result.has_value(); }));
        runFor(20ms);
        EXPECT_EQ(calls, 1);
        return result.value_or(AuthDecision::deny(ErrorCode::InternalError, "no answer"));
    }

    void TearDown() override {
        // Let cancelled requests deliver their last libsoup callback (frees them).
        runFor(50ms);
    }

    TestHttpServer server;
};

TEST_F(WebhookAuthorizerTest, AllowUsesTheReplysIdentityAndGrants) {
    server.on("/auth", {200, R"({"allow":true,"identity":"alice","grants":{"join":true,"subscribe":true,
                                "record":true}})"});
    auto authorizer = make("/auth");
    EXPECT_STREQ(authorizer->mode(), "webhook");
    const auto decision = ask(*authorizer, joinContext());
    ASSERT_TRUE(decision.allowed) << decision.message;
    EXPECT_EQ(decision.identity, "alice");
    EXPECT_EQ(decision.grants, (Grants{true, false, true, true, false}));
}

TEST_F(WebhookAuthorizerTest, PostsTheContextAsJsonWithTheBearerToken) {
    server.on("/auth", {200, R"({"allow":true})"});
    auto authorizer = make("/auth");
    ask(*authorizer, joinContext());
    ASSERT_EQ(server.requests().size(), 1u);
    const auto& request = server.requests()[0];
    EXPECT_EQ(request.path, "/auth");
    EXPECT_EQ(request.contentType, "application/json");
    EXPECT_EQ(request.authorization, "Bearer hook-secret");
    EXPECT_EQ(jsonAt(request.body, "action"), "join");
    EXPECT_EQ(jsonAt(request.body, "room"), "demo");
    EXPECT_EQ(jsonAt(request.body, "token"), "opaque-client-token");
    EXPECT_EQ(jsonAt(request.body, "remoteAddress"), "127.0.0.1");
}

TEST_F(WebhookAuthorizerTest, NoAuthorizationHeaderWithoutAWebhookToken) {
    server.on("/auth", {200, R"({"allow":true})"});
    auto authorizer = make("/auth", 2000ms, 64, "");
    ask(*authorizer, joinContext());
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0].authorization, "");
}

TEST_F(WebhookAuthorizerTest, AllowWithoutIdentityOrGrantsGetsTheDefaults) {
    server.on("/auth", {200, R"({"allow":true})"});
    auto authorizer = make("/auth");
    auto decision = ask(*authorizer, joinContext());
    ASSERT_TRUE(decision.allowed) << decision.message;
    EXPECT_EQ(decision.identity, "anonymous");
    EXPECT_EQ(decision.grants, (Grants{true, true, true, false, false}));

    auto context = joinContext();
    context.identity = "known-from-elsewhere";
    decision = ask(*authorizer, context);
    EXPECT_EQ(decision.identity, "known-from-elsewhere");
}

TEST_F(WebhookAuthorizerTest, AnAllowedJoinAlwaysCarriesTheJoinGrant) {
    server.on("/auth", {200, R"({"allow":true,"grants":{"subscribe":true}})"});
    auto authorizer = make("/auth");
    const auto decision = ask(*authorizer, joinContext());
    ASSERT_TRUE(decision.allowed);
    EXPECT_EQ(decision.grants, (Grants{true, false, true, false, false}));
}

TEST_F(WebhookAuthorizerTest, ExplicitDenyIsWebhookDeniedWithTheReason) {
    server.on("/auth", {200, R"({"allow":false,"reason":"alice is banned from demo"})"});
    auto authorizer = make("/auth");
    const auto decision = ask(*authorizer, joinContext());
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.code, ErrorCode::WebhookDenied);
    EXPECT_EQ(decision.message, "alice is banned from demo");

    server.on("/auth", {200, R"({"allow":false})"});
    const auto bare = ask(*authorizer, joinContext());
    EXPECT_EQ(bare.code, ErrorCode::WebhookDenied);
    EXPECT_FALSE(bare.message.empty());
}

TEST_F(WebhookAuthorizerTest, UnreadableRepliesFailClosed) {
    auto authorizer = make("/auth");
    for (const std::string body : {"garbage", "", "[]", R"({"allow":"yes"})", R"({"identity":"alice"})",
                                   R"({"allow":true,"grants":{"join":"yes"}})"}) {
        server.on("/auth", {200, body});
        const auto decision = ask(*authorizer, joinContext());
        EXPECT_FALSE(decision.allowed) << body;
        EXPECT_EQ(decision.code, ErrorCode::WebhookUnavailable) << body;
    }
}

TEST_F(WebhookAuthorizerTest, NonSuccessStatusFailsClosedEvenWithAnAllowBody) {
    auto authorizer = make("/auth");
    for (const unsigned status : {500u, 503u, 403u, 404u, 204u + 100u}) {
        server.on("/auth", {status, R"({"allow":true})"});
        const auto decision = ask(*authorizer, joinContext());
        EXPECT_FALSE(decision.allowed) << status;
        EXPECT_EQ(decision.code, ErrorCode::WebhookUnavailable) << status;
        EXPECT_NE(decision.message.find(std::to_string(status)), std::string::npos) << decision.message;
    }
}

TEST_F(WebhookAuthorizerTest, RedirectsAreNotFollowed) {
    server.on("/moved", {200, R"({"allow":true})"});
    server.on("/auth", {302, "", 0ms, server.url("/moved")});
    auto authorizer = make("/auth");
    const auto decision = ask(*authorizer, joinContext());
    EXPECT_EQ(decision.code, ErrorCode::WebhookUnavailable);
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(WebhookAuthorizerTest, SlowWebhookTimesOutAndFailsClosed) {
    server.on("/auth", {200, R"({"allow":true})", 1500ms});
    auto authorizer = make("/auth", 100ms);
    const auto start = std::chrono::steady_clock::now();
    const auto decision = ask(*authorizer, joinContext());
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.code, ErrorCode::WebhookUnavailable);
    EXPECT_GE(took, 90ms);
    EXPECT_LT(took, 1000ms);
    EXPECT_EQ(authorizer->inFlight(), 0u);
}

TEST_F(WebhookAuthorizerTest, ConnectionRefusedFailsClosed) {
    unsigned closedPort = 0;
    {
        TestHttpServer gone;
        closedPort = gone.port();
    }
    WebhookAuthorizer authorizer(
        {"http://127.0.0.1:" + std::to_string(closedPort) + "/auth", "", 2000ms, 64});
    const auto decision = ask(authorizer, joinContext());
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.code, ErrorCode::WebhookUnavailable);
}

TEST_F(WebhookAuthorizerTest, LaterActionsNeedTheJoinGrantThenTheWebhook) {
    server.on("/auth", {200, R"({"allow":true})"});
    auto authorizer = make("/auth");
    AuthContext context;
    context.action = AuthAction::Record;
    context.room = "demo";
    context.identity = "alice";
    context.participantId = "p1";
    context.trackId = "t1";
    context.grants = Grants{true, true, true, false, false};
    // Not granted at join: refused here, the webhook is not asked.
    const auto denied = ask(*authorizer, context);
    EXPECT_EQ(denied.code, ErrorCode::PermissionDenied);
    EXPECT_TRUE(server.requests().empty());
    // Granted at join: the webhook has the last word, and sees the grants.
    context.grants.record = true;
    const auto allowed = ask(*authorizer, context);
    EXPECT_TRUE(allowed.allowed) << allowed.message;
    EXPECT_EQ(allowed.identity, "alice");
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(jsonAt(server.requests()[0].body, "action"), "record");
    EXPECT_EQ(jsonAt(server.requests()[0].body, "trackId"), "t1");
    EXPECT_EQ(jsonAt(server.requests()[0].body, "grants.record"), "true");
    server.on("/auth", {200, R"({"allow":false,"reason":"no recording today"})"});
    EXPECT_EQ(ask(*authorizer, context).code, ErrorCode::WebhookDenied);
}

TEST_F(WebhookAuthorizerTest, AdminIsAskedDirectly) {
    server.on("/auth", {200, R"({"allow":true})"});
    auto authorizer = make("/auth");
    AuthContext context;
    context.action = AuthAction::Admin;
    context.token = "admin-bearer";
    EXPECT_TRUE(ask(*authorizer, context).allowed);
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(jsonAt(server.requests()[0].body, "action"), "admin");
}

TEST_F(WebhookAuthorizerTest, RequestsInFlightAreBounded) {
    server.on("/auth", {200, R"({"allow":true})", 300ms});
    auto authorizer = make("/auth", 2000ms, 2);
    std::vector<AuthDecision> decisions;
    for (int i = 0; i < 3; ++i)
        authorizer->authorize(joinContext(), [&](AuthDecision d) { decisions.push_back(std::move(d)); });
    // The third is refused at once.
    ASSERT_EQ(decisions.size(), 1u);
    EXPECT_EQ(decisions[0].code, ErrorCode::WebhookUnavailable);
    EXPECT_EQ(authorizer->inFlight(), 2u);
    EXPECT_TRUE(runUntil([&] { return decisions.size() == 3; }));
    EXPECT_TRUE(decisions[1].allowed);
    EXPECT_TRUE(decisions[2].allowed);
    EXPECT_EQ(authorizer->inFlight(), 0u);
}

TEST_F(WebhookAuthorizerTest, DestroyedBeforeTheAnswerNeverCallsBack) {
    server.on("/auth", {200, R"({"allow":true})", 200ms});
    auto authorizer = make("/auth");
    int calls = 0;
    for (int i = 0; i < 5; ++i) authorizer->authorize(joinContext(), [&](AuthDecision) { ++calls; });
    // Let the requests reach the server, then drop the authorizer mid-flight.
    EXPECT_TRUE(runUntil([&] { return server.requests().size() == 5; }));
    authorizer.reset();
    runUntil([&] { return server.answered() == 5; });
    runFor(100ms);
    EXPECT_EQ(calls, 0);
}

TEST_F(WebhookAuthorizerTest, DestroyedRightAfterAskingNeverCallsBack) {
    server.on("/auth", {200, R"({"allow":true})"});
    auto authorizer = make("/auth");
    int calls = 0;
    authorizer->authorize(joinContext(), [&](AuthDecision) { ++calls; });
    authorizer.reset();
    runFor(200ms);
    EXPECT_EQ(calls, 0);
}

TEST_F(WebhookAuthorizerTest, DoneMayDestroyTheAuthorizer) {
    server.on("/auth", {200, R"({"allow":true})"});
    auto authorizer = make("/auth");
    int calls = 0;
    authorizer->authorize(joinContext(), [&](AuthDecision decision) {
        ++calls;
        EXPECT_TRUE(decision.allowed);
        authorizer.reset();
    });
    authorizer->authorize(joinContext(), [&](AuthDecision) { ++calls; });
    EXPECT_TRUE(runUntil([&] { return calls > 0; }));
    runFor(100ms);
    EXPECT_EQ(calls, 1); // the second answer died with the authorizer
    EXPECT_EQ(authorizer, nullptr);
}

TEST(WebhookAuthorizerConfig, BadUrlsAreRefused) {
    for (const std::string url : {"", "not a url", "ftp://127.0.0.1/auth", "/auth", "http://"}) {
        EXPECT_THROW(WebhookAuthorizer({url, "", 2000ms, 64}), std::invalid_argument) << url;
    }
    EXPECT_THROW(WebhookAuthorizer({"http://127.0.0.1:1/auth", "", 0ms, 64}), std::invalid_argument);
    EXPECT_THROW(WebhookAuthorizer({"http://127.0.0.1:1/auth", "", 2000ms, 0}), std::invalid_argument);
}

} // namespace
} // namespace manifold::auth
