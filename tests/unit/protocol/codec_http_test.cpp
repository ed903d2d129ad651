// HTTP bodies: webhook authorization request and reply, event notifications, admin API;
// and the stable strings of Messages.cpp.
#include <set>

#include <gtest/gtest.h>

#include "CodecTestSupport.hpp"
#include "Examples.hpp"

namespace manifold::protocol {
namespace {

using namespace testing;

AuthDecision allowed(std::string_view body) {
    const Decoded<AuthDecision> decoded = decodeAuthReply(body);
    if (const auto* error = std::get_if<DecodeError>(&decoded)) {
        ADD_FAILURE() << body << ": " << error->message;
        return {};
    }
    return std::get<AuthDecision>(decoded);
}

TEST(AuthRequest, SubscribeCarriesEverything) {
    AuthContext context;
    context.action = AuthAction::Subscribe;
    context.room = "demo";
    context.identity = "alice";
    context.participantId = "p-alice";
    context.token = "tok";
    context.remoteAddress = "192.0.2.7";
    context.trackId = "t-1";
    context.grants = Grants{true, false, true, false, false};
    EXPECT_EQ(encodeAuthRequest(context),
              R"({"action":"subscribe","room":"demo","identity":"alice","participantId":"p-alice",)"
              R"("token":"tok","remoteAddress":"192.0.2.7","trackId":"t-1",)"
              R"("grants":{"join":true,"publish":false,"subscribe":true,"record":false,"admin":false}})");
}

TEST(AuthRequest, JoinOmitsEmptyFieldsAndGrants) {
    AuthContext context;
    context.action = AuthAction::Join;
    context.room = "demo";
    context.token = "a\"b";
    context.remoteAddress = "::1";
    EXPECT_EQ(encodeAuthRequest(context),
              R"({"action":"join","room":"demo","token":"a\"b","remoteAddress":"::1"})");
}

TEST(AuthReply, OnlyExplicitTrueAllows) {
    const AuthDecision decision = allowed(R"({"allow":true})");
    EXPECT_TRUE(decision.allowed);
    EXPECT_EQ(decision.identity, "");
    EXPECT_EQ(decision.grants, (Grants{true, true, true, false, false})) << "default grants";
}

TEST(AuthReply, IdentityAndGrants) {
    const AuthDecision decision =
        allowed(R"({"allow":true,"identity":"bob","grants":{"subscribe":true,"record":true},"x":1})");
    EXPECT_TRUE(decision.allowed);
    EXPECT_EQ(decision.identity, "bob");
    EXPECT_EQ(decision.grants, (Grants{false, false, true, true, false}))
        << "grants absent from the object are false";
}

TEST(AuthReply, ExplicitFalseIsADenialWithTheReason) {
    AuthDecision decision = allowed(R"({"allow":false,"reason":"banned"})");
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.code, ErrorCode::WebhookDenied);
    EXPECT_EQ(decision.message, "banned");
    decision = allowed(R"({"allow":false})");
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.code, ErrorCode::WebhookDenied);
    EXPECT_EQ(decision.message, "") << "the authorizer words a default";
}

TEST(AuthReply, AnythingElseIsAnError) {
    for (const char* body : {
             R"({"allow":"true"})", R"({})", R"([])", "garbage", "", "true", "null",
             R"([{"allow":true}])", R"({"allow":1})", R"({"allow":null})", R"({"Allow":true})",
             R"({"allow":true} trailing)", R"({"allow":true,"identity":5})",
             R"({"allow":true,"grants":true})", R"({"allow":true,"grants":{"publish":"yes"}})",
             R"({"allow":false,"reason":7})", "{\"allow\":true,\"identity\":\"\xFF\"}",
             R"({"allow":true,"identity":"a\u0000b"})"}) {
        SCOPED_TRACE(body);
        const DecodeError error = errorOf(decodeAuthReply(body), body);
        EXPECT_EQ(error.code, ErrorCode::WebhookUnavailable) << error.message;
        EXPECT_FALSE(error.message.empty());
    }
}

TEST(AuthReply, HugeBodyIsAnError) {
    const std::string body = R"({"allow":true,"x":")" + std::string(2 * 1024 * 1024, 'x') + "\"}";
    EXPECT_EQ(errorOf(decodeAuthReply(body), "huge").code, ErrorCode::WebhookUnavailable);
}

TEST(Event, ParticipantJoined) {
    Event event;
    event.event = "participant-joined";
    event.room = "demo";
    event.timeMs = 1735689600123;
    event.participant = ParticipantInfo{"p1", "alice", "Alice", R"({"k": "v"})",
                                        {TrackInfo{"t1", "p1", MediaKind::Audio, "mic", false}}};
    EXPECT_EQ(encodeEvent(event),
              R"({"event":"participant-joined","room":"demo","timeMs":1735689600123,)"
              R"("participant":{"id":"p1","identity":"alice","name":"Alice","metadata":{"k":"v"},)"
              R"("tracks":[{"id":"t1","participantId":"p1","kind":"audio","label":"mic","muted":false}]}})");
}

TEST(Event, TrackAndReasonAndPath) {
    Event event;
    event.event = "recording-finished";
    event.room = "demo";
    event.timeMs = 5;
    event.track = TrackInfo{"t1", "p1", MediaKind::Video, "camera", true};
    event.reason = "room-closed";
    event.path = "/var/lib/manifold/demo/t1.mkv";
    EXPECT_EQ(encodeEvent(event),
              R"({"event":"recording-finished","room":"demo","timeMs":5,)"
              R"("track":{"id":"t1","participantId":"p1","kind":"video","label":"camera","muted":true},)"
              R"("reason":"room-closed","path":"/var/lib/manifold/demo/t1.mkv"})");
}

TEST(Event, MinimalEvent) {
    Event event;
    event.event = "room-created";
    event.room = "demo";
    event.timeMs = 0;
    EXPECT_EQ(encodeEvent(event), R"({"event":"room-created","room":"demo","timeMs":0})");
}

TEST(Admin, Rooms) {
    const RoomInfo demo{"demo", {examples::bob()}};
    EXPECT_EQ(encodeRoom(demo),
              R"({"name":"demo","participants":[{"id":"p-bob","identity":"bob","name":"","tracks":[]}]})");
    EXPECT_EQ(encodeRooms({demo, RoomInfo{"empty", {}}}),
              R"({"rooms":[{"name":"demo","participants":[{"id":"p-bob","identity":"bob","name":"","tracks":[]}]},)"
              R"({"name":"empty","participants":[]}]})");
    EXPECT_EQ(encodeRooms({}), R"({"rooms":[]})");
}

TEST(Admin, HttpError) {
    EXPECT_EQ(encodeHttpError(ErrorCode::PermissionDenied, "needs the admin grant"),
              R"({"code":2008,"reason":"permission-denied","message":"needs the admin grant"})");
}

TEST(Messages, ErrorReasonsAreDistinctKebabCase) {
    const ErrorCode all[] = {
        ErrorCode::MalformedJson, ErrorCode::InvalidMessage, ErrorCode::UnknownType,
        ErrorCode::UnsupportedVersion, ErrorCode::NotNegotiated, ErrorCode::NotJoined,
        ErrorCode::AlreadyJoined, ErrorCode::MessageTooLarge, ErrorCode::RateLimited,
        ErrorCode::UnknownTrack, ErrorCode::UnknownParticipant, ErrorCode::StaleNegotiation,
        ErrorCode::Busy, ErrorCode::UnknownRoom, ErrorCode::TokenMissing,
        ErrorCode::TokenMalformed, ErrorCode::TokenBadSignature, ErrorCode::TokenAlgorithm,
        ErrorCode::TokenExpired, ErrorCode::TokenNotYetValid, ErrorCode::TokenWrongRoom,
        ErrorCode::PermissionDenied, ErrorCode::WebhookDenied, ErrorCode::WebhookUnavailable,
        ErrorCode::RoomFull, ErrorCode::TooManyRooms, ErrorCode::TooManyTracks,
        ErrorCode::MediaUnavailable, ErrorCode::NegotiationFailed, ErrorCode::CodecMismatch,
        ErrorCode::InternalError, ErrorCode::ShuttingDown};
    std::set<std::string> reasons;
    for (ErrorCode code : all) {
        const std::string reason = errorReason(code);
        SCOPED_TRACE(reason);
        EXPECT_TRUE(reasons.insert(reason).second) << "duplicate";
        EXPECT_NE(reason, "unknown-error");
        for (char c : reason)
            EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '-');
    }
    EXPECT_STREQ(errorReason(ErrorCode::MalformedJson), "malformed-json");
    EXPECT_STREQ(errorReason(ErrorCode::TokenExpired), "token-expired");
    EXPECT_STREQ(errorReason(static_cast<ErrorCode>(1999)), "unknown-error");
}

TEST(Messages, AuthActionNames) {
    EXPECT_STREQ(toString(AuthAction::Join), "join");
    EXPECT_STREQ(toString(AuthAction::Publish), "publish");
    EXPECT_STREQ(toString(AuthAction::Subscribe), "subscribe");
    EXPECT_STREQ(toString(AuthAction::Record), "record");
    EXPECT_STREQ(toString(AuthAction::Admin), "admin");
}

} // namespace
} // namespace manifold::protocol
