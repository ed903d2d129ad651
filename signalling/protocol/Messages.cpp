// Messages.cpp — stable strings of the protocol enumerations (see Messages.hpp, AuthTypes.hpp).
#include "signalling/protocol/AuthTypes.hpp"
#include "signalling/protocol/Messages.hpp"

namespace manifold::protocol {

const char* errorReason(ErrorCode code) {
    switch (code) {
    case ErrorCode::MalformedJson: return "malformed-json";
    case ErrorCode::InvalidMessage: return "invalid-message";
    case ErrorCode::UnknownType: return "unknown-type";
    case ErrorCode::UnsupportedVersion: return "unsupported-version";
    case ErrorCode::NotNegotiated: return "not-negotiated";
    case ErrorCode::NotJoined: return "not-joined";
    case ErrorCode::AlreadyJoined: return "already-joined";
    case ErrorCode::MessageTooLarge: return "message-too-large";
    case ErrorCode::RateLimited: return "rate-limited";
    case ErrorCode::UnknownTrack: return "unknown-track";
    case ErrorCode::UnknownParticipant: return "unknown-participant";
    case ErrorCode::StaleNegotiation: return "stale-negotiation";
    case ErrorCode::Busy: return "busy";
    case ErrorCode::UnknownRoom: return "unknown-room";
    case ErrorCode::TokenMissing: return "token-missing";
    case ErrorCode::TokenMalformed: return "token-malformed";
    case ErrorCode::TokenBadSignature: return "token-bad-signature";
    case ErrorCode::TokenAlgorithm: return "token-algorithm";
    case ErrorCode::TokenExpired: return "token-expired";
    case ErrorCode::TokenNotYetValid: return "token-not-yet-valid";
    case ErrorCode::TokenWrongRoom: return "token-wrong-room";
    case ErrorCode::PermissionDenied: return "permission-denied";
    case ErrorCode::WebhookDenied: return "webhook-denied";
    case ErrorCode::WebhookUnavailable: return "webhook-unavailable";
    case ErrorCode::RoomFull: return "room-full";
    case ErrorCode::TooManyRooms: return "too-many-rooms";
    case ErrorCode::TooManyTracks: return "too-many-tracks";
    case ErrorCode::MediaUnavailable: return "media-unavailable";
    case ErrorCode::NegotiationFailed: return "negotiation-failed";
    case ErrorCode::CodecMismatch: return "codec-mismatch";
    case ErrorCode::InternalError: return "internal-error";
    case ErrorCode::ShuttingDown: return "shutting-down";
    }
    return "unknown-error"; // a code from a newer peer
}

const char* toString(AuthAction action) {
    switch (action) {
    case AuthAction::Join: return "join";
    case AuthAction::Publish: return "publish";
    case AuthAction::Subscribe: return "subscribe";
    case AuthAction::Record: return "record";
    case AuthAction::Admin: return "admin";
    }
    return "unknown";
}

} // namespace manifold::protocol
