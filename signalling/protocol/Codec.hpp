// Codec.hpp — JSON <-> protocol messages. The only code in Manifold that touches json-glib.
//
// What: decode client frames (strictly: every field typed and bounded, unknown fields
// ignored), encode server messages, and the JSON bodies of the HTTP side (webhook
// authorization, event notifications, admin API). Decoding never throws and never
// asserts on remote input: failures come back as DecodeError with a stable ErrorCode.
// Thread: pure functions, any thread.
// Ownership: values in, values out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "signalling/protocol/AuthTypes.hpp"
#include "signalling/protocol/Messages.hpp"

namespace manifold::protocol {

struct DecodeError {
    ErrorCode code = ErrorCode::InvalidMessage;
    std::optional<RequestId> id; // the frame's id when it could be read
    std::string message;         // names the offending field, e.g. "join.room must be a string"
};

template <typename T>
using Decoded = std::variant<T, DecodeError>;

// WebSocket frames.
Decoded<ClientMessage> decodeClient(std::string_view text);
std::string encodeServer(const ServerMessage& message);
// The other direction, for tests, the fuzzer's round trip and C++ clients.
std::string encodeClient(const ClientMessage& message);
Decoded<ServerMessage> decodeServer(std::string_view text);

// Authorization webhook: request body POSTed to the hook, and its reply.
std::string encodeAuthRequest(const AuthContext& context);
/// Allows only on an explicit {"allow": true}. Optional "identity", "grants" object and
/// "reason" string. Anything else (not an object, allow missing or not a boolean) is an error.
Decoded<AuthDecision> decodeAuthReply(std::string_view body);

// Event notifications POSTed to --events-url.
struct Event {
    std::string event;         // "participant-joined", "participant-left", "track-published",
                               // "track-unpublished", "room-created", "room-closed", "recording-finished"
    std::string room;
    std::int64_t timeMs = 0;   // Unix time in milliseconds
    std::optional<ParticipantInfo> participant;
    std::optional<TrackInfo> track;
    std::string reason;        // participant-left / room-closed: why; "" = absent
    std::string path;          // recording-finished: file written; "" = absent
};
std::string encodeEvent(const Event& event);

// Admin REST API bodies.
std::string encodeRooms(const std::vector<RoomInfo>& rooms);
std::string encodeRoom(const RoomInfo& room);
std::string encodeHttpError(ErrorCode code, std::string_view message);

} // namespace manifold::protocol
