// Session.hpp — one client connection's protocol state machine (sans-I/O).
//
// What: takes text frames in, sends protocol messages out through a Transport, asks the
// Authorizer before join/publish/subscribe, drives the control plane (Gateway) and the
// participant's MediaSession, and relays room and media events to the client. It knows
// nothing of sockets: the HTTP server feeds it frames and closes; unit tests feed it
// strings. States: AwaitingHello -> AwaitingJoin -> Joined -> Closed, moved only by
// `moveTo`, which logs and rejects illegal moves.
// Requests are handled one at a time in arrival order: while an asynchronous
// authorization is pending, later frames wait in a bounded queue.
// Thread: control thread only.
// Ownership: created with `create` (shared_ptr); the HttpServer (or a test) owns it and
// keeps it alive while the connection is open. Asynchronous callbacks hold weak
// references. Borrows Gateway, Authorizer, Scheduler, MediaEngine, metrics and the
// Transport, which all outlive it. Owns its MediaSession.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/Gateway.hpp"
#include "core/MediaEngine.hpp"
#include "core/Scheduler.hpp"
#include "signalling/auth/Authorizer.hpp"
#include "signalling/protocol/Messages.hpp"
#include "signalling/session/SessionMetrics.hpp"

namespace manifold::session {

/// WebSocket close codes the session uses (RFC 6455).
inline constexpr int kCloseNormal = 1000;
inline constexpr int kCloseGoingAway = 1001;
inline constexpr int kClosePolicy = 1008;
inline constexpr int kCloseTooBig = 1009;

class Session final : public Participant::Listener,
                      public MediaSession::Listener,
                      public std::enable_shared_from_this<Session> {
public:
    /// The connection under the session. `send` and `close` must not call back into
    /// the session synchronously.
    class Transport {
    public:
        virtual ~Transport() = default;
        virtual void send(const std::string& text) = 0;
        virtual void close(int code, const std::string& reason) = 0;
    };

    struct Config {
        std::size_t maxMessageSize = 65536;   // bytes per frame
        double messageRate = 50;              // sustained frames per second
        double messageBurst = 100;            // bucket size
        std::chrono::milliseconds joinTimeout{30000};
        std::chrono::milliseconds idleTimeout{60000}; // nothing received for this long: close (0 = never)
        std::size_t maxQueued = 64;           // frames waiting behind a pending request
        int maxProtocolErrors = 16;           // undecodable frames before the peer is closed
        std::vector<protocol::IceServer> iceServers;
        std::string serverName = "manifold";
    };

    struct Deps {
        Gateway& gateway;
        auth::Authorizer& authorizer;
        Scheduler& scheduler;
        MediaEngine* media; // null: no media plane, publish/subscribe answer 4001
        SessionMetrics& metrics;
    };

    enum class State { AwaitingHello, AwaitingJoin, Joined, Closed };

    static std::shared_ptr<Session> create(Config config, Deps deps, Transport& transport,
                                           std::string remoteAddress);
    ~Session() override;

    /// Arms the join timeout. Call once, right after create.
    void start();
    void onFrame(std::string_view text);
    void onBinaryFrame();
    /// The connection is gone (peer closed, network error). Leaves the room.
    void onTransportClosed();
    /// Server-initiated close: tells the client why, leaves the room, closes.
    void disconnect(const std::string& reason, const std::string& message, int closeCode);

    State state() const { return state_; }
    const std::string& participantId() const { return participantId_; }
    const std::string& room() const { return room_; }

    // Participant::Listener
    void onParticipantJoined(const ParticipantInfo& other) override;
    void onParticipantLeft(const ParticipantInfo& other, LeaveReason reason) override;
    void onTrackPublished(const TrackInfo& track) override;
    void onTrackUnpublished(const TrackInfo& track) override;
    void onTrackMuted(const TrackInfo& track) override;
    void onSpeaking(const TrackInfo& track, bool speaking) override;
    void onRemoved(LeaveReason reason) override;

    // MediaSession::Listener
    void onLocalOffer(std::uint64_t negotiationId, const std::string& sdp,
                      const std::vector<MidMapping>& mids) override;
    void onLocalCandidate(int mlineIndex, const std::string& mid,
                          const std::string& candidate) override;
    void onMediaFailed(const std::string& reason) override;
    void onSpeaking(const std::string& trackId, bool speaking) override;
    void onCodecMismatch(const TrackInfo& track, const std::string& codec) override;

private:
    Session(Config config, Deps deps, Transport& transport, std::string remoteAddress);

    bool allowByRate();
    void process(std::string_view text);
    void drain();
    void beginAsync() { busy_ = true; }
    void endAsync();

    void handle(const protocol::Hello& m);
    void handle(const protocol::Join& m);
    void handle(const protocol::Leave& m);
    void handle(const protocol::Publish& m);
    void handle(const protocol::Unpublish& m);
    void handle(const protocol::Subscribe& m);
    void handle(const protocol::Unsubscribe& m);
    void handle(const protocol::Mute& m);
    void handle(const protocol::Pause& m);
    void handle(const protocol::Answer& m);
    void handle(const protocol::Candidate& m);
    void handle(const protocol::Ping& m);

    void completeJoin(const protocol::Join& m, const protocol::AuthDecision& decision);
    void completePublish(const protocol::Publish& m);
    /// Authorizes and starts receiving `trackId`; `done(denied)` runs once decided.
    void subscribeTo(const std::string& trackId, std::function<void(bool allowed)> done);
    protocol::AuthContext context(protocol::AuthAction action) const;
    void leaveRoom(LeaveReason reason);
    bool moveTo(State next);

    void send(protocol::ServerMessage message);
    void fail(std::optional<protocol::RequestId> id, protocol::ErrorCode code, std::string message);
    /// The one place a control- or media-plane Failure becomes a protocol error.
    void failWith(std::optional<protocol::RequestId> id, const Failure& failure, const std::string& subject);
    bool requireJoined(protocol::RequestId id);

    Config config_;
    Deps deps_;
    Transport& transport_;     // Passed by argument; outlives this.
    std::string remoteAddress_;
    State state_ = State::AwaitingHello;
    Participant* participant_ = nullptr; // Owned by its Room; null unless Joined.
    std::unique_ptr<MediaSession> media_; // Allocated by this (through the MediaEngine).
    std::string participantId_;
    std::string room_;
    std::string identity_;
    std::string token_;
    Grants grants_;

    void armIdleTimer(std::chrono::milliseconds delay);

    Scheduler::Timer joinTimer_;
    Scheduler::Timer idleTimer_;
    Scheduler::Clock::time_point lastActivity_;
    std::deque<std::string> queue_;
    bool busy_ = false;
    bool draining_ = false;
    int protocolErrors_ = 0;
    double tokens_;
    Scheduler::Clock::time_point lastRefill_;
    std::uint64_t offeredNegotiation_ = 0; // last offer sent; 0 = none yet
    bool offerOutstanding_ = false;
};

const char* toString(Session::State state);

} // namespace manifold::session
