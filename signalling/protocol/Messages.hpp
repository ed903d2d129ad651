// Messages.hpp — the Manifold signalling protocol (version 1) as plain C++ types.
//
// What: one struct per message type, both directions, plus the error codes. This is the
// in-memory form of what signalling/PROTOCOL.md specifies; Codec turns these into JSON
// and back. No JSON, no GLib, no GStreamer here.
// Thread: value types, usable anywhere.
// Ownership: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/Types.hpp"

namespace manifold::protocol {

/// Protocol versions this build speaks, newest last.
inline constexpr int kProtocolVersion = 1;

/// Request ids are client-chosen non-negative integers (at most 2^53-1, so they survive
/// JavaScript numbers). Replies and errors carry the id of the request they answer.
using RequestId = std::int64_t;
inline constexpr RequestId kMaxRequestId = (std::int64_t{1} << 53) - 1;

/// Stable numeric error codes. Never renumber; add new codes at the end of a block, and to
/// constants.json (tests/integration/constants.test.mjs names every copy to update).
enum class ErrorCode : int {
    // 1xxx: protocol
    MalformedJson = 1001,      // frame is not valid JSON / not a JSON object
    InvalidMessage = 1002,     // a field is missing, of the wrong type or out of range
    UnknownType = 1003,        // "type" names no message this server knows
    UnsupportedVersion = 1004, // hello offered no version this server speaks
    NotNegotiated = 1005,      // a message arrived before hello
    NotJoined = 1006,          // a room message arrived before join
    AlreadyJoined = 1007,      // join (or hello) sent twice
    MessageTooLarge = 1008,    // frame larger than max-message-size
    RateLimited = 1009,        // more messages than max-message-rate allows
    UnknownTrack = 1010,       // trackId names no track in this room
    UnknownParticipant = 1011, // participantId names no participant in this room
    StaleNegotiation = 1012,   // answer/candidate for a negotiation that is not current
    Busy = 1013,               // too many requests queued behind a pending one
    UnknownRoom = 1014,        // admin API: no room of that name
    // 2xxx: authorization
    TokenMissing = 2001,       // the auth mode needs a token and none was given
    TokenMalformed = 2002,     // not a JWS compact token, or claims are not valid
    TokenBadSignature = 2003,  // HS256 signature does not verify with the secret
    TokenAlgorithm = 2004,     // alg is not HS256 (alg "none" included)
    TokenExpired = 2005,       // exp is in the past
    TokenNotYetValid = 2006,   // nbf is in the future
    TokenWrongRoom = 2007,     // the token's room claim names another room
    PermissionDenied = 2008,   // the identity lacks the grant for this action
    WebhookDenied = 2009,      // the authorization webhook did not allow it
    WebhookUnavailable = 2010, // the webhook timed out, failed or answered nonsense
    // 3xxx: limits
    RoomFull = 3001,           // max-participants reached in this room
    TooManyRooms = 3002,       // max-rooms reached
    TooManyTracks = 3003,      // max-tracks per participant reached
    // 4xxx: media
    MediaUnavailable = 4001,   // no media plane can serve this request
    NegotiationFailed = 4002,  // SDP could not be applied / produced
    CodecMismatch = 4003,      // publisher codec not receivable by a subscriber
    // 5xxx: server
    InternalError = 5001,
    ShuttingDown = 5002,
};

/// Short stable string for an error code ("token-expired"), used in JSON and metrics.
const char* errorReason(ErrorCode code);

using manifold::Grants;
using manifold::MediaKind;
using manifold::MidMapping;
using manifold::ParticipantInfo;
using manifold::RoomInfo;
using manifold::TrackInfo;

struct IceServer {
    std::vector<std::string> urls;
    std::string username;   // "" = absent
    std::string credential; // "" = absent
    bool operator==(const IceServer&) const = default;
};

// ---------------------------------------------------------------- client -> server

struct Hello {              // first message: version negotiation
    RequestId id = 0;
    std::vector<int> versions; // versions the client speaks
    std::string client;        // free-form client name/version, may be ""
    bool operator==(const Hello&) const = default;
};
struct Join {
    RequestId id = 0;
    std::string room;
    std::string token;        // "" = none given
    std::string name;         // display name, may be ""
    std::string metadataJson; // a JSON object as text, "" = none
    bool autoSubscribe = true;
    bool operator==(const Join&) const = default;
};
struct Leave {
    RequestId id = 0;
    bool operator==(const Leave&) const = default;
};
struct Publish {
    RequestId id = 0;
    MediaKind kind = MediaKind::Audio;
    std::string label;
    std::string codec; // preferred codec, upper case ("VP8", "VP9", "H264", "AV1", "OPUS"); "" = server's choice
    bool operator==(const Publish&) const = default;
};
struct Unpublish {
    RequestId id = 0;
    std::string trackId;
    bool operator==(const Unpublish&) const = default;
};
struct Subscribe {
    RequestId id = 0;
    std::vector<std::string> trackIds; // empty = every track the grants allow
    bool operator==(const Subscribe&) const = default;
};
struct Unsubscribe {
    RequestId id = 0;
    std::vector<std::string> trackIds;
    bool operator==(const Unsubscribe&) const = default;
};
struct Mute {
    RequestId id = 0;
    std::string trackId;
    bool muted = true;
    bool operator==(const Mute&) const = default;
};
struct Pause {              // pause or resume receiving one subscribed track
    RequestId id = 0;
    std::string trackId;
    bool paused = true;
    bool operator==(const Pause&) const = default;
};
struct Answer {             // the client's SDP answer to a server offer
    RequestId id = 0;
    std::uint64_t negotiationId = 0;
    std::string sdp;
    bool operator==(const Answer&) const = default;
};
struct Candidate {          // trickle ICE, both directions; empty candidate = end of candidates
    std::uint64_t negotiationId = 0; // client -> server only; 0 in server messages
    std::string candidate;
    std::string sdpMid;      // "" = absent
    int sdpMLineIndex = 0;
    bool operator==(const Candidate&) const = default;
};
struct Ping {
    RequestId id = 0;
    bool operator==(const Ping&) const = default;
};

using ClientMessage = std::variant<Hello, Join, Leave, Publish, Unpublish, Subscribe,
                                   Unsubscribe, Mute, Pause, Answer, Candidate, Ping>;

// ---------------------------------------------------------------- server -> client

struct Welcome {
    RequestId id = 0;
    int version = kProtocolVersion;
    std::string server; // "manifold/0.1.0"
    bool operator==(const Welcome&) const = default;
};
struct Joined {
    RequestId id = 0;
    std::string room;
    std::string participantId;
    Grants grants;
    std::vector<ParticipantInfo> participants; // everyone else, with their tracks
    std::vector<IceServer> iceServers;
    bool operator==(const Joined&) const = default;
};
struct Ok {                 // generic success reply
    RequestId id = 0;
    bool operator==(const Ok&) const = default;
};
struct Published {
    RequestId id = 0;
    TrackInfo track;
    bool operator==(const Published&) const = default;
};
struct Pong {
    RequestId id = 0;
    bool operator==(const Pong&) const = default;
};
struct ParticipantJoined {
    ParticipantInfo participant;
    bool operator==(const ParticipantJoined&) const = default;
};
struct ParticipantLeft {
    std::string participantId;
    std::string reason; // a leaveReason of constants.json: "left", "disconnected", ...
    bool operator==(const ParticipantLeft&) const = default;
};
struct TrackPublished {
    TrackInfo track;
    bool operator==(const TrackPublished&) const = default;
};
struct TrackUnpublished {
    std::string trackId;
    std::string participantId;
    bool operator==(const TrackUnpublished&) const = default;
};
struct TrackMuted {
    std::string trackId;
    std::string participantId;
    bool muted = true;
    bool operator==(const TrackMuted&) const = default;
};
struct Offer {
    std::uint64_t negotiationId = 0;
    std::string sdp;
    std::vector<MidMapping> mids;
    bool operator==(const Offer&) const = default;
};
struct Speaking {
    std::string participantId;
    std::string trackId;
    bool speaking = true;
    bool operator==(const Speaking&) const = default;
};
struct Disconnect {         // the server is about to close this connection
    std::string reason;     // a disconnectReason of constants.json: "shutdown", "kicked", ...
    std::string message;    // human-readable
    bool operator==(const Disconnect&) const = default;
};
struct Error {
    std::optional<RequestId> id; // absent when the failing frame had no readable id
    ErrorCode code = ErrorCode::InternalError;
    std::string message;         // human-readable: what went wrong and what to do
    bool operator==(const Error&) const = default;
};

using ServerMessage = std::variant<Welcome, Joined, Ok, Published, Pong, ParticipantJoined,
                                   ParticipantLeft, TrackPublished, TrackUnpublished,
                                   TrackMuted, Offer, Candidate, Speaking, Disconnect, Error>;

} // namespace manifold::protocol
