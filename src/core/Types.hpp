// Types.hpp — plain value types of the Manifold domain, shared by every layer.
//
// What: grants, tracks, participants, mid mappings and the reasons a participant leaves.
// Thread: value types, usable anywhere. Ownership: plain values.
// No JSON, no GLib, no GStreamer here (the control layer's rule).
#pragma once

#include <string>
#include <vector>

namespace manifold {

/// What a participant is allowed to do. Comes from the authorizer (token claims or
/// webhook reply); `admin` only matters for the admin REST API.
struct Grants {
    bool join = false;
    bool publish = false;
    bool subscribe = false;
    bool record = false;
    bool admin = false;
    bool operator==(const Grants&) const = default;
    static Grants all() { return Grants{true, true, true, true, true}; }
};

enum class MediaKind { Audio, Video };
const char* toString(MediaKind kind);

struct TrackInfo {
    std::string id;            // server-assigned, unique in the room
    std::string participantId; // publisher
    MediaKind kind = MediaKind::Audio;
    std::string label;         // client-chosen, e.g. "camera", "microphone", "screen"
    bool muted = false;
    bool operator==(const TrackInfo&) const = default;
};

struct ParticipantInfo {
    std::string id;           // server-assigned, unique in the room
    std::string identity;     // who the authorizer says this is (token `sub`)
    std::string name;         // display name
    std::string metadataJson; // client-supplied JSON object, kept as text ("" = none)
    std::vector<TrackInfo> tracks;
    bool operator==(const ParticipantInfo&) const = default;
};

struct RoomInfo {
    std::string name;
    std::vector<ParticipantInfo> participants;
    bool operator==(const RoomInfo&) const = default;
};

/// One m-line of a server offer: which track it carries and in which direction
/// (seen from the client: Send = the client publishes, Recv = the client receives).
struct MidMapping {
    enum class Direction { Send, Recv };
    std::string mid;
    std::string trackId;
    std::string participantId;
    Direction direction = Direction::Recv;
    bool operator==(const MidMapping&) const = default;
};

/// Why a participant is no longer in a room.
enum class LeaveReason { Left, Disconnected, Kicked, Timeout, RoomClosed, Shutdown, MediaFailed };
const char* toString(LeaveReason reason);

/// Why the control or media plane refused a request (Result.hpp carries it with a detail).
enum class Refusal {
    RoomFull,
    TooManyRooms,
    TooManyTracks,
    UnknownTrack,
    UnknownParticipant,
    NotOwner,
    ShuttingDown,
    MediaUnavailable,
    BadAnswer,    // the client's SDP answer is not one to our offer
    BadCandidate, // a trickled ICE candidate is malformed or names no m-line
};
const char* toString(Refusal refusal);

} // namespace manifold
