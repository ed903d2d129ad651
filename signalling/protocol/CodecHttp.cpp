// CodecHttp.cpp — JSON bodies of the HTTP side: webhook authorization, event
// notifications and the admin API (see PROTOCOL.md "HTTP side").
#include "signalling/protocol/Codec.hpp"

#include "signalling/protocol/CodecSupport.hpp"
#include "signalling/protocol/JsonDocument.hpp"

namespace manifold::protocol {

using namespace wire;

std::string encodeAuthRequest(const AuthContext& context) {
    JsonWriter writer;
    writer.string("action", toString(context.action));
    writer.optionalString("room", context.room);
    writer.optionalString("identity", context.identity);
    writer.optionalString("participantId", context.participantId);
    writer.optionalString("token", context.token);
    writer.optionalString("remoteAddress", context.remoteAddress);
    writer.optionalString("trackId", context.trackId);
    if (context.action != AuthAction::Join) // join is where grants get decided
        writeGrants(writer, "grants", context.grants);
    return writer.finish();
}

// A reply that is not understood is the webhook's failure, not a denial: every DecodeError
// here carries ErrorCode::WebhookUnavailable, so an authorizer can fail closed with it as is.
// {"allow": false} decodes to a denial (WebhookDenied, the reply's "reason" as message, ""
// when absent).
// {"allow": true} without "grants" gets join, publish and subscribe (as a token without
// a grants claim does).
Decoded<AuthDecision> decodeAuthReply(std::string_view body) {
    auto failure = [](std::string message) {
        return DecodeError{ErrorCode::WebhookUnavailable, std::nullopt,
                           "webhook reply: " + std::move(message)};
    };
    if (body.size() > kMaxFrameBytes)
        return failure("larger than " + std::to_string(kMaxFrameBytes) + " bytes");
    std::string problem;
    json::NodePtr root = json::parseJson(body, problem);
    if (!root)
        return failure("not valid JSON: " + problem);
    if (!JSON_NODE_HOLDS_OBJECT(root.get()))
        return failure("not a JSON object");
    JsonReader reader(json_node_get_object(root.get()), "reply");
    bool allow = false;
    reader.boolean("allow", allow);
    std::string reason;
    reader.optionalString("reason", reason, kText);
    AuthDecision decision;
    decision.grants = Grants{true, true, true, false, false};
    reader.optionalString("identity", decision.identity, kIdentity);
    reader.object("grants", [&](JsonReader& grants) { readGrants(grants, decision.grants, false); },
                  false);
    if (!reader.ok())
        return failure(reader.error());
    if (!allow) // message "" when the webhook gave no reason: the authorizer words one
        return AuthDecision::deny(ErrorCode::WebhookDenied, std::move(reason));
    return AuthDecision::allow(std::move(decision.identity), decision.grants);
}

std::string encodeEvent(const Event& event) {
    JsonWriter writer;
    writer.string("event", event.event);
    writer.string("room", event.room);
    writer.integer("timeMs", event.timeMs);
    if (event.participant) {
        writer.beginObject("participant");
        writeParticipant(writer, *event.participant);
        writer.endObject();
    }
    if (event.track) {
        writer.beginObject("track");
        writeTrack(writer, *event.track);
        writer.endObject();
    }
    writer.optionalString("reason", event.reason);
    writer.optionalString("path", event.path);
    return writer.finish();
}

std::string encodeRooms(const std::vector<RoomInfo>& rooms) {
    JsonWriter writer;
    writer.beginArray("rooms");
    for (const RoomInfo& room : rooms) {
        writer.beginObject();
        writeRoom(writer, room);
        writer.endObject();
    }
    writer.endArray();
    return writer.finish();
}

std::string encodeRoom(const RoomInfo& room) {
    JsonWriter writer;
    writeRoom(writer, room);
    return writer.finish();
}

std::string encodeHttpError(ErrorCode code, std::string_view message) {
    JsonWriter writer;
    writer.integer("code", static_cast<int>(code));
    writer.string("reason", errorReason(code));
    writer.string("message", message);
    return writer.finish();
}

} // namespace manifold::protocol
