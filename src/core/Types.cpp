#include "core/Types.hpp"

namespace manifold {

const char* toString(MediaKind kind) {
    switch (kind) {
    case MediaKind::Audio: return "audio";
    case MediaKind::Video: return "video";
    }
    return "unknown";
}

const char* toString(LeaveReason reason) {
    switch (reason) {
    case LeaveReason::Left: return "left";
    case LeaveReason::Disconnected: return "disconnected";
    case LeaveReason::Kicked: return "kicked";
    case LeaveReason::Timeout: return "timeout";
    case LeaveReason::RoomClosed: return "room-closed";
    case LeaveReason::Shutdown: return "shutdown";
    case LeaveReason::MediaFailed: return "media-failed";
    }
    return "unknown";
}

const char* toString(Refusal refusal) {
    switch (refusal) {
    case Refusal::RoomFull: return "room-full";
    case Refusal::TooManyRooms: return "too-many-rooms";
    case Refusal::TooManyTracks: return "too-many-tracks";
    case Refusal::UnknownTrack: return "unknown-track";
    case Refusal::UnknownParticipant: return "unknown-participant";
    case Refusal::NotOwner: return "not-owner";
    case Refusal::ShuttingDown: return "shutting-down";
    case Refusal::MediaUnavailable: return "media-unavailable";
    case Refusal::BadAnswer: return "bad-answer";
    case Refusal::BadCandidate: return "bad-candidate";
    }
    return "unknown";
}

} // namespace manifold
