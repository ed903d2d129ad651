// Examples.hpp — one realistic value of every protocol message, both directions.
//
// What: shared by codec_test (round trips) and dump_examples (the schema agreement test
// validates their encodings against signalling/schema). Every type of ClientMessage and
// ServerMessage appears at least once; the static_asserts below keep it that way.
#pragma once

#include <vector>

#include "signalling/protocol/Messages.hpp"

namespace manifold::protocol::examples {

inline TrackInfo cameraTrack() {
    return TrackInfo{"t-7f3a", "p-alice", MediaKind::Video, "camera", false};
}

inline TrackInfo microphoneTrack() {
    return TrackInfo{"t-19c2", "p-alice", MediaKind::Audio, "microphone", true};
}

inline ParticipantInfo alice() {
    return ParticipantInfo{"p-alice", "alice", "Alice Liddell",
                           R"({"avatar":"https://example.org/a.png","tags":["host"],"n":1.5})",
                           {cameraTrack(), microphoneTrack()}};
}

inline ParticipantInfo bob() {
    return ParticipantInfo{"p-bob", "bob", "", "", {}};
}

inline const char* kSdp =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0 1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\na=rtpmap:111 opus/48000/2\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n";

inline const char* kCandidate =
    "candidate:1 1 UDP 2122252543 192.0.2.10 54321 typ host generation 0";

/// Every client message type, some more than once (optional fields present and absent).
inline std::vector<ClientMessage> clientMessages() {
    return {
        Hello{1, {1}, "manifold.js/0.1.0"},
        Hello{2, {1, 2, 3}, ""},
        Join{3, "demo", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln", "Alice",
             R"({"color":"#ff0000","seat":3})", false},
        Join{4, "a.B_c~d-9", "", "", "", true},
        Leave{5},
        Publish{6, MediaKind::Video, "camera"},
        Publish{7, MediaKind::Audio, ""},
        Unpublish{8, "t-7f3a"},
        Subscribe{9, {}},
        Subscribe{10, {"t-7f3a", "t-19c2"}},
        Unsubscribe{11, {"t-7f3a"}},
        Unsubscribe{12, {}}, // auto-subscribe off
        Mute{12, "t-19c2", true},
        Mute{13, "t-19c2", false},
        Pause{14, "t-7f3a", true},
        Answer{15, 3, kSdp},
        Candidate{3, kCandidate, "0", 0},
        Candidate{3, "", "", 1}, // end of candidates
        Ping{kMaxRequestId},
    };
}

/// Every server message type, some more than once.
inline std::vector<ServerMessage> serverMessages() {
    return {
        Welcome{1, 1, "manifold/0.1.0"},
        Joined{3, "demo", "p-bob", Grants{true, true, true, false, false}, {alice()},
               {IceServer{{"stun:stun.example.org:3478"}, "", ""},
                IceServer{{"turn:turn.example.org:3478?transport=udp",
                           "turns:turn.example.org:5349"},
                          "1735689600:bob", "c2VjcmV0"}}},
        Joined{4, "empty", "p-1", Grants::all(), {}, {}},
        Ok{5},
        Published{6, cameraTrack()},
        Pong{kMaxRequestId},
        ParticipantJoined{alice()},
        ParticipantJoined{bob()},
        ParticipantLeft{"p-alice", "left"},
        TrackPublished{microphoneTrack()},
        TrackUnpublished{"t-7f3a", "p-alice"},
        TrackMuted{"t-19c2", "p-alice", true},
        Offer{3, kSdp,
              {MidMapping{"0", "t-19c2", "p-alice", MidMapping::Direction::Recv},
               MidMapping{"1", "t-9999", "p-bob", MidMapping::Direction::Send},
               MidMapping{"2", "", "", MidMapping::Direction::Recv}}}, // idle, kept for reuse
        Candidate{0, kCandidate, "0", 0},
        Candidate{0, "", "", 0},
        Speaking{"p-alice", "t-19c2", true},
        Disconnect{"shutdown", "the server is restarting; reconnect in a few seconds"},
        Error{7, ErrorCode::TokenExpired, "the token expired at 2025-01-01T00:00:00Z"},
        Error{std::nullopt, ErrorCode::MalformedJson, "frame is not valid JSON"},
    };
}

} // namespace manifold::protocol::examples
