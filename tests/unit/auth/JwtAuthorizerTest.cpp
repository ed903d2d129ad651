// Every path of JwtAuthorizer. Tokens come from libjwt's own encoder; the ones libjwt
// refuses to produce (alg "none" by hand, odd headers, unsigned garbage) are built here
// with GLib's base64 and HMAC.
#include <glib.h>
#include <gtest/gtest.h>
#include <jwt.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "signalling/auth/JwtAuthorizer.hpp"

namespace manifold::auth {
namespace {

using protocol::ErrorCode;
using protocol::Grants;

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
constexpr std::int64_t kNow = 1'800'000'000; // 2027-01-15T08:00:00Z

struct JwtFree {
    void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};

/// Claims of a test token; std::nullopt leaves the claim out.
struct TokenSpec {
    std::optional<std::string> sub = "alice";
    std::optional<std::string> room = "demo";
    std::optional<std::int64_t> exp = kNow + 3600;
    std::optional<std::int64_t> nbf;
    std::optional<std::string> grantsJson; // e.g. R"({"join":true})"
    jwt_alg_t alg = JWT_ALG_HS256;
    std::string key = kSecret;
};

/// Encoded with libjwt: jwt_new / jwt_add_grant* / jwt_set_alg / jwt_encode_str.
std::string token(const TokenSpec& spec) {
    jwt_t* raw = nullptr;
    EXPECT_EQ(jwt_new(&raw), 0);
    std::unique_ptr<jwt_t, JwtFree> jwt(raw);
    if (spec.sub) {
        EXPECT_EQ(jwt_add_grant(raw, "sub", spec.sub->c_str()), 0);
    }
    if (spec.room) {
        EXPECT_EQ(jwt_add_grant(raw, "room", spec.room->c_str()), 0);
    }
    if (spec.exp) {
        EXPECT_EQ(jwt_add_grant_int(raw, "exp", static_cast<long>(*spec.exp)), 0);
    }
    if (spec.nbf) {
        EXPECT_EQ(jwt_add_grant_int(raw, "nbf", static_cast<long>(*spec.nbf)), 0);
    }
    if (spec.grantsJson) {
        EXPECT_EQ(jwt_add_grants_json(raw, ("{\"grants\":" + *spec.grantsJson + "}").c_str()), 0);
    }
    const auto* key = spec.key.empty() ? nullptr : reinterpret_cast<const unsigned char*>(spec.key.data());
    EXPECT_EQ(jwt_set_alg(raw, spec.alg, key, static_cast<int>(spec.key.size())), 0);
    char* encoded = jwt_encode_str(raw);
    EXPECT_NE(encoded, nullptr);
    std::string text = encoded ? encoded : "";
    free(encoded);
    return text;
}

std::string base64Url(std::string_view bytes) {
    g_autofree gchar* standard = g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size());
    std::string text = standard;
    for (char& c : text) {
        if (c == '+') c = '-';
        else if (c == '/') c = '_';
    }
    while (!text.empty() && text.back() == '=') text.pop_back();
    return text;
}

/// A token with any header and payload text, signed with HMAC-SHA256 by GLib.
std::string handSigned(std::string_view header, std::string_view payload, const std::string& key = kSecret) {
    const std::string input = base64Url(header) + "." + base64Url(payload);
    GHmac* hmac = g_hmac_new(G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(key.data()), key.size());
    g_hmac_update(hmac, reinterpret_cast<const guchar*>(input.data()), static_cast<gssize>(input.size()));
    guint8 digest[32];
    gsize length = sizeof digest;
    g_hmac_get_digest(hmac, digest, &length);
    g_hmac_unref(hmac);
    return input + "." + base64Url(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string validPayload() {
    return R"({"sub":"alice","room":"demo","exp":)" + std::to_string(kNow + 3600) + "}";
}

class JwtAuthorizerTest : public ::testing::Test {
protected:
    JwtAuthorizer make(std::chrono::seconds leeway = std::chrono::seconds(5)) {
        return JwtAuthorizer({kSecret, leeway, [this] {
                                  return std::chrono::system_clock::time_point(std::chrono::seconds(now));
                              }});
    }

    AuthDecision ask(JwtAuthorizer& authorizer, const AuthContext& context) {
        int calls = 0;
        AuthDecision result;
        authorizer.authorize(context, [&](AuthDecision decision) {
            ++calls;
            result = std::move(decision);
        });
        EXPECT_EQ(calls, 1) << "done must run exactly once, synchronously";
        return result;
    }

    AuthDecision join(const std::string& tokenText, const std::string& room = "demo") {
        auto authorizer = make();
        AuthContext context;
        context.action = AuthAction::Join;
        context.room = room;
        context.token = tokenText;
        return ask(authorizer, context);
    }

    AuthDecision admin(const std::string& tokenText, const std::string& room = "") {
        auto authorizer = make();
        AuthContext context;
        context.action = AuthAction::Admin;
        context.room = room;
        context.token = tokenText;
        return ask(authorizer, context);
    }

    AuthDecision later(AuthAction action, Grants grants, const std::string& tokenText = "") {
        auto authorizer = make();
        AuthContext context;
        context.action = action;
        context.room = "demo";
        context.identity = "alice";
        context.participantId = "p1";
        context.token = tokenText;
        context.grants = grants;
        return ask(authorizer, context);
    }

    std::int64_t now = kNow;
};

#define EXPECT_DENIED(decision, errorCode)                                              \
    do {                                                                                 \
        const AuthDecision& d_ = (decision);                                             \
        EXPECT_FALSE(d_.allowed);                                                        \
        EXPECT_EQ(d_.code, (errorCode)) << d_.message;                                  \
        EXPECT_FALSE(d_.message.empty());                                                \
    } while (0)

// ---------------------------------------------------------------- valid tokens

TEST_F(JwtAuthorizerTest, ValidTokenJoinsWithSubjectAndGrants) {
    const auto decision = join(token({.grantsJson = R"({"join":true,"publish":false,"subscribe":true,
                                                        "record":true,"admin":false})"}));
    ASSERT_TRUE(decision.allowed) << decision.message;
    EXPECT_EQ(decision.identity, "alice");
    EXPECT_EQ(decision.grants, (Grants{true, false, true, true, false}));
}

TEST_F(JwtAuthorizerTest, MissingGrantsMeansJoinPublishSubscribe) {
    const auto decision = join(token({}));
    ASSERT_TRUE(decision.allowed) << decision.message;
    EXPECT_EQ(decision.grants, (Grants{true, true, true, false, false}));
}

TEST_F(JwtAuthorizerTest, GrantsObjectGrantsOnlyWhatItLists) {
    const auto decision = join(token({.grantsJson = R"({"join":true,"subscribe":true})"}));
    ASSERT_TRUE(decision.allowed) << decision.message;
    EXPECT_EQ(decision.grants, (Grants{true, false, true, false, false}));
}

TEST_F(JwtAuthorizerTest, RoomStarJoinsAnyRoom) {
    const std::string any = token({.room = "*"});
    EXPECT_TRUE(join(any, "demo").allowed);
    EXPECT_TRUE(join(any, "another-room").allowed);
}

TEST_F(JwtAuthorizerTest, FractionalExpIsAccepted) {
    const auto decision = join(handSigned(R"({"alg":"HS256","typ":"JWT"})",
                                          R"({"sub":"alice","room":"demo","exp":)" +
                                              std::to_string(kNow + 60) + ".5}"));
    EXPECT_TRUE(decision.allowed) << decision.message;
}

TEST_F(JwtAuthorizerTest, HeaderWithoutTypIsAccepted) {
    const auto decision = join(handSigned(R"({"alg":"HS256"})", validPayload()));
    EXPECT_TRUE(decision.allowed) << decision.message;
}

// ---------------------------------------------------------------- signature and algorithm

TEST_F(JwtAuthorizerTest, OtherSecretIsBadSignature) {
    const auto decision = join(token({.key = "another-secret-another-secret-another"}));
    EXPECT_DENIED(decision, ErrorCode::TokenBadSignature);
}

TEST_F(JwtAuthorizerTest, TamperedPayloadIsBadSignature) {
    const std::string good = token({.grantsJson = R"({"join":true})"});
    const auto firstDot = good.find('.');
    const auto secondDot = good.find('.', firstDot + 1);
    const std::string forged = good.substr(0, firstDot) + "." +
                               base64Url(R"({"sub":"mallory","room":"*","exp":)" +
                                         std::to_string(kNow + 3600) + R"(,"grants":{"join":true,"admin":true}})") +
                               good.substr(secondDot);
    EXPECT_DENIED(join(forged), ErrorCode::TokenBadSignature);
}

TEST_F(JwtAuthorizerTest, TruncatedOrEmptySignatureIsBadSignature) {
    const std::string good = token({});
    EXPECT_DENIED(join(good.substr(0, good.size() - 4)), ErrorCode::TokenBadSignature);
    EXPECT_DENIED(join(good.substr(0, good.rfind('.') + 1)), ErrorCode::TokenBadSignature);
}

TEST_F(JwtAuthorizerTest, AlgNoneIsRefused) {
    // Built by hand, as an attacker would: no signature at all.
    const std::string unsigned_ = base64Url(R"({"alg":"none","typ":"JWT"})") + "." + base64Url(validPayload()) + ".";
    const auto decision = join(unsigned_);
    EXPECT_DENIED(decision, ErrorCode::TokenAlgorithm);
    EXPECT_NE(decision.message.find("\"none\""), std::string::npos) << decision.message;
    EXPECT_NE(decision.message.find("HS256"), std::string::npos) << decision.message;
    // ... and with a signature made with the right secret attached.
    EXPECT_DENIED(join(handSigned(R"({"alg":"none"})", validPayload())), ErrorCode::TokenAlgorithm);
    // libjwt's own encoder with alg none.
    EXPECT_DENIED(join(token({.alg = JWT_ALG_NONE, .key = ""})), ErrorCode::TokenAlgorithm);
}

TEST_F(JwtAuthorizerTest, OtherHmacAlgorithmsAreRefusedEvenWithTheRightSecret) {
    EXPECT_DENIED(join(token({.alg = JWT_ALG_HS512})), ErrorCode::TokenAlgorithm);
    EXPECT_DENIED(join(token({.alg = JWT_ALG_HS384})), ErrorCode::TokenAlgorithm);
}

TEST_F(JwtAuthorizerTest, AsymmetricAndUnknownAlgorithmsAreRefused) {
    EXPECT_DENIED(join(handSigned(R"({"alg":"RS256","typ":"JWT"})", validPayload())), ErrorCode::TokenAlgorithm);
    EXPECT_DENIED(join(handSigned(R"({"alg":"HS999"})", validPayload())), ErrorCode::TokenAlgorithm);
    EXPECT_DENIED(join(handSigned(R"({"alg":"hs256"})", validPayload())), ErrorCode::TokenAlgorithm);
}

TEST_F(JwtAuthorizerTest, HeaderWithoutAlgIsMalformed) {
    EXPECT_DENIED(join(handSigned(R"({"typ":"JWT"})", validPayload())), ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(handSigned(R"({"alg":256})", validPayload())), ErrorCode::TokenMalformed);
}

TEST_F(JwtAuthorizerTest, TypOtherThanJwtIsMalformed) {
    EXPECT_DENIED(join(handSigned(R"({"alg":"HS256","typ":"at+jwt"})", validPayload())), ErrorCode::TokenMalformed);
    // Case-insensitive, as RFC 7515 recommends and libjwt checks.
    EXPECT_TRUE(join(handSigned(R"({"alg":"HS256","typ":"jwt"})", validPayload())).allowed);
}

// ---------------------------------------------------------------- time

TEST_F(JwtAuthorizerTest, ExpiredTokenSaysWhenAndWhatToDo) {
    const auto decision = join(token({.exp = kNow - 60}));
    EXPECT_DENIED(decision, ErrorCode::TokenExpired);
    EXPECT_NE(decision.message.find("2027-01-15T07:59:00Z"), std::string::npos) << decision.message;
    EXPECT_NE(decision.message.find("fresh token"), std::string::npos) << decision.message;
}

TEST_F(JwtAuthorizerTest, NotYetValidToken) {
    const auto decision = join(token({.nbf = kNow + 60}));
    EXPECT_DENIED(decision, ErrorCode::TokenNotYetValid);
    EXPECT_NE(decision.message.find("2027-01-15T08:01:00Z"), std::string::npos) << decision.message;
}

TEST_F(JwtAuthorizerTest, LeewayToleratesSmallClockSkew) {
    EXPECT_TRUE(join(token({.exp = kNow - 4})).allowed);
    EXPECT_DENIED(join(token({.exp = kNow - 5})), ErrorCode::TokenExpired);
    EXPECT_TRUE(join(token({.nbf = kNow + 5})).allowed);
    EXPECT_DENIED(join(token({.nbf = kNow + 6})), ErrorCode::TokenNotYetValid);
}

TEST_F(JwtAuthorizerTest, ZeroLeewayExpiresAtExp) {
    auto authorizer = make(std::chrono::seconds(0));
    AuthContext context;
    context.room = "demo";
    context.token = token({.exp = kNow});
    EXPECT_DENIED(ask(authorizer, context), ErrorCode::TokenExpired);
    context.token = token({.exp = kNow + 1});
    EXPECT_TRUE(ask(authorizer, context).allowed);
}

TEST_F(JwtAuthorizerTest, ClockIsReadAtEachDecision) {
    auto authorizer = make();
    AuthContext context;
    context.room = "demo";
    context.token = token({.exp = kNow + 100});
    EXPECT_TRUE(ask(authorizer, context).allowed);
    now = kNow + 200;
    EXPECT_DENIED(ask(authorizer, context), ErrorCode::TokenExpired);
}

// ---------------------------------------------------------------- claims

TEST_F(JwtAuthorizerTest, WrongRoom) {
    const auto decision = join(token({.room = "other"}), "demo");
    EXPECT_DENIED(decision, ErrorCode::TokenWrongRoom);
    EXPECT_NE(decision.message.find("'other'"), std::string::npos) << decision.message;
    EXPECT_NE(decision.message.find("'demo'"), std::string::npos) << decision.message;
}

TEST_F(JwtAuthorizerTest, MissingSubIsMalformed) {
    EXPECT_DENIED(join(token({.sub = std::nullopt})), ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(token({.sub = ""})), ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(handSigned(R"({"alg":"HS256"})",
                                  R"({"sub":42,"room":"demo","exp":)" + std::to_string(kNow + 60) + "}")),
                  ErrorCode::TokenMalformed);
}

TEST_F(JwtAuthorizerTest, MissingExpIsMalformedBecauseTokensMustExpire) {
    const auto decision = join(token({.exp = std::nullopt}));
    EXPECT_DENIED(decision, ErrorCode::TokenMalformed);
    EXPECT_NE(decision.message.find("tokens must expire"), std::string::npos) << decision.message;
}

TEST_F(JwtAuthorizerTest, NonNumericTimesAreMalformed) {
    EXPECT_DENIED(join(handSigned(R"({"alg":"HS256"})", R"({"sub":"alice","room":"demo","exp":"tomorrow"})")),
                  ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(handSigned(R"({"alg":"HS256"})", R"({"sub":"alice","room":"demo","exp":true})")),
                  ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(handSigned(R"({"alg":"HS256"})", R"({"sub":"alice","room":"demo","exp":1e300})")),
                  ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(handSigned(R"({"alg":"HS256"})", R"({"sub":"alice","room":"demo","exp":)" +
                                                            std::to_string(kNow + 60) + R"(,"nbf":"now"})")),
                  ErrorCode::TokenMalformed);
}

TEST_F(JwtAuthorizerTest, MissingRoomIsMalformed) {
    EXPECT_DENIED(join(token({.room = std::nullopt})), ErrorCode::TokenMalformed);
}

TEST_F(JwtAuthorizerTest, BadGrantsAreMalformed) {
    EXPECT_DENIED(join(token({.grantsJson = R"({"join":"yes"})"})), ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(token({.grantsJson = R"({"join":true,"admin":1})"})), ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(token({.grantsJson = R"(["join"])"})), ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(token({.grantsJson = R"(true)"})), ErrorCode::TokenMalformed);
}

TEST_F(JwtAuthorizerTest, TokenWithoutJoinGrantCannotJoin) {
    const auto decision = join(token({.grantsJson = R"({"subscribe":true})"}));
    EXPECT_DENIED(decision, ErrorCode::PermissionDenied);
    EXPECT_NE(decision.message.find("grants.join"), std::string::npos) << decision.message;
}

// ---------------------------------------------------------------- not a token

TEST_F(JwtAuthorizerTest, EmptyTokenIsMissing) {
    EXPECT_DENIED(join(""), ErrorCode::TokenMissing);
}

TEST_F(JwtAuthorizerTest, GarbageIsMalformed) {
    for (const std::string& garbage : std::vector<std::string>{"garbage", "a.b", "a.b.c.d", "..", "abc..def", ".eyJhIjoxfQ.sig", "!!!.@@@.###", "eyJ hbGc.eyJ.x",
          "a.b.c", "e30=.e30=.sig", std::string(9000, 'a')}) {
        SCOPED_TRACE(garbage.substr(0, 40));
        EXPECT_DENIED(join(garbage), ErrorCode::TokenMalformed);
    }
}

TEST_F(JwtAuthorizerTest, HeaderOrPayloadNotJsonObjectIsMalformed) {
    EXPECT_DENIED(join(base64Url("not json") + "." + base64Url(validPayload()) + ".c2ln"), ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(handSigned(R"(["HS256"])", validPayload())), ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(handSigned(R"({"alg":"HS256"})", "not json")), ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(handSigned(R"({"alg":"HS256"})", "[1,2,3]")), ErrorCode::TokenMalformed);
    EXPECT_DENIED(join(handSigned(R"({"alg":"HS256"})", std::string(validPayload()) + std::string(1, '\0') + "x")),
                  ErrorCode::TokenMalformed);
}

// ---------------------------------------------------------------- later actions: grants from join

TEST_F(JwtAuthorizerTest, LaterActionsFollowTheGrantsGivenAtJoin) {
    const Grants none{true, false, false, false, false};
    for (const AuthAction action : {AuthAction::Publish, AuthAction::Subscribe, AuthAction::Record}) {
        SCOPED_TRACE(protocol::toString(action));
        const auto denied = later(action, none);
        EXPECT_DENIED(denied, ErrorCode::PermissionDenied);
        EXPECT_NE(denied.message.find(protocol::toString(action)), std::string::npos) << denied.message;
    }
    EXPECT_TRUE(later(AuthAction::Publish, {true, true, false, false, false}).allowed);
    EXPECT_TRUE(later(AuthAction::Subscribe, {true, false, true, false, false}).allowed);
    EXPECT_TRUE(later(AuthAction::Record, {true, false, false, true, false}).allowed);
    EXPECT_DENIED(later(AuthAction::Record, {true, true, true, false, true}), ErrorCode::PermissionDenied);
}

TEST_F(JwtAuthorizerTest, LaterActionsDoNotLookAtTheTokenAgain) {
    // The join-time token may have expired since; the grants decided then still hold.
    EXPECT_TRUE(later(AuthAction::Publish, Grants::all(), token({.exp = kNow - 3600})).allowed);
    EXPECT_TRUE(later(AuthAction::Subscribe, Grants::all(), "garbage").allowed);
}

// ---------------------------------------------------------------- admin

TEST_F(JwtAuthorizerTest, AdminNeedsTheAdminGrant) {
    const auto allowed = admin(token({.sub = "ops", .room = "*", .grantsJson = R"({"admin":true})"}));
    ASSERT_TRUE(allowed.allowed) << allowed.message;
    EXPECT_EQ(allowed.identity, "ops");
    EXPECT_DENIED(admin(token({.room = "*"})), ErrorCode::PermissionDenied);
    EXPECT_DENIED(admin(token({.room = "*", .grantsJson = R"({"join":true,"admin":false})"})),
                  ErrorCode::PermissionDenied);
}

TEST_F(JwtAuthorizerTest, AdminTokenForOneRoomAdministersOnlyThatRoom) {
    const std::string demoAdmin = token({.room = "demo", .grantsJson = R"({"admin":true})"});
    EXPECT_TRUE(admin(demoAdmin, "demo").allowed);
    EXPECT_DENIED(admin(demoAdmin, "other"), ErrorCode::TokenWrongRoom);
    const auto spanning = admin(demoAdmin, "");
    EXPECT_DENIED(spanning, ErrorCode::TokenWrongRoom);
    EXPECT_NE(spanning.message.find("\"*\""), std::string::npos) << spanning.message;
    EXPECT_TRUE(admin(token({.room = "*", .grantsJson = R"({"admin":true})"}), "demo").allowed);
}

TEST_F(JwtAuthorizerTest, AdminTokenIsVerifiedLikeAJoinToken) {
    EXPECT_DENIED(admin(""), ErrorCode::TokenMissing);
    EXPECT_DENIED(admin(token({.room = "*", .exp = kNow - 60, .grantsJson = R"({"admin":true})"})),
                  ErrorCode::TokenExpired);
    EXPECT_DENIED(admin(token({.room = "*", .grantsJson = R"({"admin":true})", .key = "wrong-secret-wrong-secret"})),
                  ErrorCode::TokenBadSignature);
    EXPECT_DENIED(admin(token({.room = "*", .grantsJson = R"({"admin":true})", .alg = JWT_ALG_HS512})),
                  ErrorCode::TokenAlgorithm);
}

// ---------------------------------------------------------------- config

TEST(JwtAuthorizerConfig, EmptySecretIsRefused) {
    EXPECT_THROW(JwtAuthorizer({}), std::invalid_argument);
    EXPECT_THROW(JwtAuthorizer({kSecret, std::chrono::seconds(-1), {}}), std::invalid_argument);
}

TEST(JwtAuthorizerConfig, ModeAndSystemClock) {
    JwtAuthorizer authorizer({kSecret, std::chrono::seconds(5), {}});
    EXPECT_STREQ(authorizer.mode(), "jwt");
    // With the real clock, a token that expires in an hour from now is fine.
    const auto realNow = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    AuthContext context;
    context.room = "demo";
    context.token = token({.exp = realNow + 3600});
    bool allowed = false;
    authorizer.authorize(context, [&](AuthDecision decision) { allowed = decision.allowed; });
    EXPECT_TRUE(allowed);
}

} // namespace
} // namespace manifold::auth
