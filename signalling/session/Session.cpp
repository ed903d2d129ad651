#include "signalling/session/Session.hpp"

#include <algorithm>

#include "core/Log.hpp"
#include "signalling/protocol/Codec.hpp"

namespace manifold::session {

using namespace manifold::protocol;

const char* toString(Session::State state) {
    switch (state) {
    case Session::State::AwaitingHello: return "awaiting-hello";
    case Session::State::AwaitingJoin: return "awaiting-join";
    case Session::State::Joined: return "joined";
    case Session::State::Closed: return "closed";
    }
    return "unknown";
}

namespace {

ErrorCode toErrorCode(Refusal refusal) {
    switch (refusal) {
    case Refusal::RoomFull: return ErrorCode::RoomFull;
    case Refusal::TooManyRooms: return ErrorCode::TooManyRooms;
    case Refusal::TooManyTracks: return ErrorCode::TooManyTracks;
    case Refusal::UnknownTrack: return ErrorCode::UnknownTrack;
    case Refusal::UnknownParticipant: return ErrorCode::UnknownParticipant;
    case Refusal::NotOwner: return ErrorCode::PermissionDenied;
    case Refusal::ShuttingDown: return ErrorCode::ShuttingDown;
    case Refusal::MediaUnavailable: return ErrorCode::MediaUnavailable;
    case Refusal::BadAnswer: return ErrorCode::NegotiationFailed;
    case Refusal::BadCandidate: return ErrorCode::InvalidMessage;
    }
    return ErrorCode::InternalError;
}

bool isProtocolViolation(ErrorCode code) {
    switch (code) {
    case ErrorCode::MalformedJson:
    case ErrorCode::InvalidMessage:
    case ErrorCode::UnknownType:
    case ErrorCode::NotNegotiated:
    case ErrorCode::NotJoined:
    case ErrorCode::MessageTooLarge:
        return true;
    default:
        return false;
    }
}

std::string disconnectMessage(LeaveReason reason) {
    switch (reason) {
    case LeaveReason::Kicked: return "an administrator removed you from the room";
    case LeaveReason::RoomClosed: return "the room was closed by an administrator";
    case LeaveReason::Shutdown: return "the gateway is shutting down; reconnect later";
    case LeaveReason::Timeout: return "the connection timed out";
    case LeaveReason::MediaFailed: return "the media connection failed; rejoin to retry";
    case LeaveReason::Left:
    case LeaveReason::Disconnected: break;
    }
    return "disconnected";
}

} // namespace

std::shared_ptr<Session> Session::create(Config config, Deps deps, Transport& transport,
                                         std::string remoteAddress) {
    return std::shared_ptr<Session>(
        new Session(std::move(config), deps, transport, std::move(remoteAddress)));
}

Session::Session(Config config, Deps deps, Transport& transport, std::string remoteAddress)
    : config_(std::move(config)), deps_(deps), transport_(transport),
      remoteAddress_(std::move(remoteAddress)), tokens_(config_.messageBurst),
      lastRefill_(deps_.scheduler.now()) {
    deps_.metrics.connectionsTotal++;
}

Session::~Session() {
    // The owner drops the session only after onTransportClosed or disconnect, but be
    // safe: never leave a dangling listener in a room.
    if (participant_) leaveRoom(LeaveReason::Disconnected);
}

void Session::armIdleTimer(std::chrono::milliseconds delay) {
    std::weak_ptr<Session> weak = weak_from_this();
    idleTimer_ = deps_.scheduler.after(delay, [weak] {
        auto self = weak.lock();
        if (!self || self->state_ == State::Closed) return;
        const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(
            self->deps_.scheduler.now() - self->lastActivity_);
        if (idle >= self->config_.idleTimeout) {
            MLOG_P(Session, Info, self->room_, self->participantId_, "silent for %lld ms; closing",
                   static_cast<long long>(idle.count()));
            self->disconnect("timeout", "nothing received within the idle timeout; send ping when idle",
                             kClosePolicy);
            return;
        }
        self->armIdleTimer(self->config_.idleTimeout - idle);
    });
}

void Session::start() {
    lastActivity_ = deps_.scheduler.now();
    if (config_.idleTimeout.count() > 0) armIdleTimer(config_.idleTimeout);
    if (config_.joinTimeout.count() <= 0) return;
    std::weak_ptr<Session> weak = weak_from_this();
    joinTimer_ = deps_.scheduler.after(config_.joinTimeout, [weak] {
        auto self = weak.lock();
        if (!self || self->state_ == State::Joined || self->state_ == State::Closed) return;
        MLOG_P(Session, Info, "", "", "%s did not join within %lld ms; closing",
               self->remoteAddress_.c_str(), static_cast<long long>(self->config_.joinTimeout.count()));
        self->disconnect("timeout", "no join within the join timeout; send hello and join right after connecting",
                         kClosePolicy);
    });
}

bool Session::moveTo(State next) {
    const bool legal = (state_ == State::AwaitingHello && next == State::AwaitingJoin) ||
                       (state_ == State::AwaitingJoin && next == State::Joined) ||
                       (next == State::Closed && state_ != State::Closed);
    if (!legal) {
        MLOG_P(Session, Warning, room_, participantId_, "illegal state move %s -> %s",
               toString(state_), toString(next));
        return false;
    }
    MLOG_P(Session, Debug, room_, participantId_, "%s -> %s", toString(state_), toString(next));
    state_ = next;
    return true;
}

// ------------------------------------------------------------------ frames in

bool Session::allowByRate() {
    const auto now = deps_.scheduler.now();
    const double elapsed = std::chrono::duration<double>(now - lastRefill_).count();
    lastRefill_ = now;
    tokens_ = std::min(config_.messageBurst, tokens_ + elapsed * config_.messageRate);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

void Session::onFrame(std::string_view text) {
    if (state_ == State::Closed) return;
    deps_.metrics.messagesReceived++;
    lastActivity_ = deps_.scheduler.now();
    if (text.size() > config_.maxMessageSize) {
        fail(std::nullopt, ErrorCode::MessageTooLarge,
             log::format("frame of %zu bytes exceeds max-message-size (%zu)", text.size(),
                    config_.maxMessageSize));
        return;
    }
    if (!allowByRate()) {
        // One error per refused frame, and a flood that goes on is cut off: the bucket
        // refills at messageRate, so a well-behaved client never gets here twice in a row.
        fail(std::nullopt, ErrorCode::RateLimited,
             log::format("more than %.0f messages per second; slow down", config_.messageRate));
        if (++protocolErrors_ > config_.maxProtocolErrors && state_ != State::Closed)
            disconnect("rate-limited", "message flood; the connection was closed", kClosePolicy);
        return;
    }
    if (busy_) {
        if (queue_.size() >= config_.maxQueued) {
            fail(std::nullopt, ErrorCode::Busy,
                 "too many requests waiting behind a pending one; wait for replies before sending more");
            return;
        }
        queue_.emplace_back(text);
        return;
    }
    process(text);
}

void Session::onBinaryFrame() {
    if (state_ == State::Closed) return;
    deps_.metrics.messagesReceived++;
    lastActivity_ = deps_.scheduler.now();
    fail(std::nullopt, ErrorCode::MalformedJson, "binary frames are not part of the protocol; send text frames");
}

void Session::endAsync() {
    busy_ = false;
    if (!draining_) drain();
}

void Session::drain() {
    draining_ = true;
    while (!busy_ && !queue_.empty() && state_ != State::Closed) {
        std::string next = std::move(queue_.front());
        queue_.pop_front();
        process(next);
    }
    draining_ = false;
}

void Session::process(std::string_view text) {
    auto decoded = decodeClient(text);
    if (auto* error = std::get_if<DecodeError>(&decoded)) {
        fail(error->id, error->code, error->message);
        return;
    }
    auto& message = std::get<ClientMessage>(decoded);
    if (state_ == State::AwaitingHello && !std::holds_alternative<Hello>(message)) {
        std::optional<RequestId> id;
        std::visit([&](const auto& m) {
            if constexpr (requires { m.id; }) id = m.id;
        }, message);
        fail(id, ErrorCode::NotNegotiated, "send hello with the protocol versions you speak first");
        return;
    }
    std::visit([this](const auto& m) { handle(m); }, message);
}

// ------------------------------------------------------------------ requests

void Session::handle(const Hello& m) {
    if (state_ != State::AwaitingHello) {
        fail(m.id, ErrorCode::AlreadyJoined, "hello was already received");
        return;
    }
    if (std::find(m.versions.begin(), m.versions.end(), kProtocolVersion) == m.versions.end()) {
        fail(m.id, ErrorCode::UnsupportedVersion,
             log::format("this server speaks protocol version %d only; upgrade the client", kProtocolVersion));
        disconnect("protocol-error", "no common protocol version", kClosePolicy);
        return;
    }
    moveTo(State::AwaitingJoin);
    send(Welcome{m.id, kProtocolVersion, config_.serverName});
}

AuthContext Session::context(AuthAction action) const {
    AuthContext c;
    c.action = action;
    c.room = room_;
    c.identity = identity_;
    c.participantId = participantId_;
    c.token = token_;
    c.remoteAddress = remoteAddress_;
    c.grants = grants_;
    return c;
}

void Session::handle(const Join& m) {
    if (state_ == State::Joined) {
        fail(m.id, ErrorCode::AlreadyJoined, "already in room '" + room_ + "'; leave first");
        return;
    }
    if (deps_.gateway.shuttingDown()) {
        fail(m.id, ErrorCode::ShuttingDown, "the gateway is shutting down; reconnect later");
        return;
    }
    AuthContext c = context(AuthAction::Join);
    c.room = m.room;
    c.token = m.token;
    beginAsync();
    std::weak_ptr<Session> weak = weak_from_this();
    deps_.authorizer.authorize(c, [weak, m](AuthDecision decision) {
        auto self = weak.lock();
        if (!self || self->state_ == State::Closed) return;
        self->completeJoin(m, decision);
        self->endAsync();
    });
}

void Session::completeJoin(const Join& m, const AuthDecision& decision) {
    if (!decision.allowed || !decision.grants.join) {
        deps_.metrics.authDenials[std::size_t(AuthAction::Join)]++;
        const ErrorCode code = decision.allowed ? ErrorCode::PermissionDenied : decision.code;
        const std::string message = decision.allowed ? "your grants do not include join" : decision.message;
        MLOG_P(Session, Info, m.room, "", "join denied for %s: %s (%s)", remoteAddress_.c_str(),
               errorReason(code), message.c_str());
        fail(m.id, code, message);
        return;
    }
    if (deps_.gateway.shuttingDown()) {
        fail(m.id, ErrorCode::ShuttingDown, "the gateway is shutting down; reconnect later");
        return;
    }
    auto joined = deps_.gateway.join(m.room, decision.identity, m.name, m.metadataJson,
                                     decision.grants, *this);
    if (auto* refusal = std::get_if<Failure>(&joined)) {
        failWith(m.id, *refusal, "room '" + m.room + "'");
        return;
    }
    participant_ = std::get<Participant*>(joined);
    participantId_ = participant_->id();
    room_ = m.room;
    identity_ = decision.identity;
    token_ = m.token;
    grants_ = decision.grants;
    participant_->setAutoSubscribe(m.autoSubscribe && grants_.subscribe);
    joinTimer_.reset();
    moveTo(State::Joined);
    if (deps_.media) {
        media_ = deps_.media->createSession(room_, participantId_, *this);
    }
    Joined reply;
    reply.id = m.id;
    reply.room = room_;
    reply.participantId = participantId_;
    reply.grants = grants_;
    reply.iceServers = config_.iceServers;
    Room* room = deps_.gateway.findRoom(room_);
    if (room) reply.participants = room->othersThan(*participant_);
    send(std::move(reply));
    if (participant_->autoSubscribe() && room)
        for (const ParticipantInfo& other : room->othersThan(*participant_))
            for (const TrackInfo& track : other.tracks) subscribeTo(track.id, nullptr);
}

bool Session::requireJoined(RequestId id) {
    if (state_ == State::Joined && participant_) return true;
    fail(id, ErrorCode::NotJoined, "join a room first");
    return false;
}

void Session::handle(const Leave& m) {
    if (participant_) leaveRoom(LeaveReason::Left);
    send(Ok{m.id});
    if (moveTo(State::Closed)) transport_.close(kCloseNormal, "left");
}

void Session::handle(const Publish& m) {
    if (!requireJoined(m.id)) return;
    beginAsync();
    std::weak_ptr<Session> weak = weak_from_this();
    deps_.authorizer.authorize(context(AuthAction::Publish), [weak, m](AuthDecision decision) {
        auto self = weak.lock();
        if (!self || self->state_ == State::Closed) return;
        if (!decision.allowed) {
            self->deps_.metrics.authDenials[std::size_t(AuthAction::Publish)]++;
            self->fail(m.id, decision.code, decision.message);
        } else if (self->requireJoined(m.id)) {
            self->completePublish(m);
        }
        self->endAsync();
    });
}

void Session::completePublish(const Publish& m) {
    if (!media_) {
        failWith(m.id, Refusal::MediaUnavailable, "publish");
        return;
    }
    // The media session prepares to receive the track before the room announces it, so
    // subscribers that react at once find it; the reply goes out before the offer.
    bool replied = false;
    auto published = deps_.gateway.publish(*participant_, m.kind, m.label, [&](const TrackInfo& track) {
        send(Published{m.id, track});
        replied = true;
        media_->publish(track, m.codec);
    });
    if (auto* refusal = std::get_if<Failure>(&published)) {
        if (!replied) failWith(m.id, *refusal, "publish");
        return;
    }
}

void Session::handle(const Unpublish& m) {
    if (!requireJoined(m.id)) return;
    auto result = deps_.gateway.unpublish(*participant_, m.trackId);
    if (auto* refusal = std::get_if<Failure>(&result)) {
        failWith(m.id, *refusal, "track '" + m.trackId + "'");
        return;
    }
    if (media_) media_->unpublish(m.trackId);
    send(Ok{m.id});
}

void Session::subscribeTo(const std::string& trackId, std::function<void(bool)> done) {
    std::weak_ptr<Session> weak = weak_from_this();
    AuthContext c = context(AuthAction::Subscribe);
    c.trackId = trackId;
    deps_.authorizer.authorize(c, [weak, trackId, done = std::move(done)](AuthDecision decision) {
        auto self = weak.lock();
        if (!self || !self->participant_) return;
        if (!decision.allowed) {
            self->deps_.metrics.authDenials[std::size_t(AuthAction::Subscribe)]++;
            MLOG_P(Session, Info, self->room_, self->participantId_, "subscribe to %s denied: %s",
                   trackId.c_str(), decision.message.c_str());
            if (done) done(false);
            return;
        }
        Room* room = self->deps_.gateway.findRoom(self->room_);
        // The track may have gone while the hook decided.
        auto [track, publisher] = room ? room->findTrack(trackId) : std::pair<const TrackInfo*, Participant*>{};
        if (track && publisher != self->participant_ && !self->participant_->isSubscribed(trackId) &&
            !room->subscribe(*self->participant_, trackId) && self->media_)
            self->media_->subscribe(*track);
        if (done) done(true);
    });
}

void Session::handle(const Subscribe& m) {
    if (!requireJoined(m.id)) return;
    Room* room = deps_.gateway.findRoom(room_);
    std::vector<std::string> ids = m.trackIds;
    if (ids.empty()) {
        participant_->setAutoSubscribe(true);
        for (const ParticipantInfo& other : room->othersThan(*participant_))
            for (const TrackInfo& track : other.tracks)
                if (!participant_->isSubscribed(track.id)) ids.push_back(track.id);
    } else {
        for (const std::string& id : ids) {
            auto [track, publisher] = room->findTrack(id);
            if (!track) {
                failWith(m.id, Refusal::UnknownTrack, "track '" + id + "'");
                return;
            }
            if (publisher == participant_) {
                fail(m.id, ErrorCode::InvalidMessage, "track '" + id + "' is your own; it is not sent back");
                return;
            }
        }
    }
    if (ids.empty()) {
        send(Ok{m.id});
        return;
    }
    // One decision per track; the reply waits for all of them, in order.
    struct Pending {
        std::size_t left;
        std::vector<std::string> denied;
    };
    auto pending = std::make_shared<Pending>(Pending{ids.size(), {}});
    beginAsync();
    std::weak_ptr<Session> weak = weak_from_this();
    for (const std::string& id : ids) {
        subscribeTo(id, [weak, pending, id, requestId = m.id](bool allowed) {
            if (!allowed) pending->denied.push_back(id);
            if (--pending->left != 0) return;
            auto self = weak.lock();
            if (!self || self->state_ == State::Closed) return;
            if (pending->denied.empty()) {
                self->send(Ok{requestId});
            } else {
                std::string list;
                for (const auto& d : pending->denied) list += (list.empty() ? "" : ", ") + d;
                self->fail(requestId, ErrorCode::PermissionDenied, "not allowed to receive: " + list);
            }
            self->endAsync();
        });
    }
}

void Session::handle(const Unsubscribe& m) {
    if (!requireJoined(m.id)) return;
    Room* room = deps_.gateway.findRoom(room_);
    if (m.trackIds.empty()) {
        participant_->setAutoSubscribe(false);
        send(Ok{m.id});
        return;
    }
    for (const std::string& id : m.trackIds) {
        if (!participant_->isSubscribed(id)) {
            failWith(m.id, Refusal::UnknownTrack, "subscription to '" + id + "'");
            return;
        }
    }
    for (const std::string& id : m.trackIds) {
        room->unsubscribe(*participant_, id);
        if (media_) media_->unsubscribe(id);
    }
    send(Ok{m.id});
}

void Session::handle(const Mute& m) {
    if (!requireJoined(m.id)) return;
    auto result = deps_.gateway.setMuted(*participant_, m.trackId, m.muted);
    if (auto* refusal = std::get_if<Failure>(&result)) {
        failWith(m.id, *refusal, "track '" + m.trackId + "'");
        return;
    }
    if (media_) media_->setMuted(m.trackId, m.muted);
    send(Ok{m.id});
}

void Session::handle(const Pause& m) {
    if (!requireJoined(m.id)) return;
    if (!participant_->isSubscribed(m.trackId)) {
        failWith(m.id, Refusal::UnknownTrack, "subscription to '" + m.trackId + "'");
        return;
    }
    if (media_) media_->setPaused(m.trackId, m.paused);
    send(Ok{m.id});
}

void Session::handle(const Answer& m) {
    if (!requireJoined(m.id)) return;
    if (!media_ || !offerOutstanding_ || m.negotiationId != offeredNegotiation_) {
        fail(m.id, ErrorCode::StaleNegotiation,
             log::format("no offer %llu is waiting for an answer; answer the latest offer",
                         static_cast<unsigned long long>(m.negotiationId)));
        return;
    }
    if (Status failure = media_->applyAnswer(m.negotiationId, m.sdp)) {
        failWith(m.id, *failure, "answer");
        return;
    }
    offerOutstanding_ = false;
    send(Ok{m.id});
}

void Session::handle(const Candidate& m) {
    if (state_ != State::Joined || !participant_) {
        fail(std::nullopt, ErrorCode::NotJoined, "join a room first");
        return;
    }
    // Candidates belong to the ICE session, which every offer of this connection shares
    // (no ICE restarts): one gathered while answering an earlier offer is still good.
    if (!media_ || m.negotiationId == 0 || m.negotiationId > offeredNegotiation_) {
        fail(std::nullopt, ErrorCode::StaleNegotiation,
             log::format("candidate for negotiation %llu, but the latest offer is %llu",
                         static_cast<unsigned long long>(m.negotiationId),
                         static_cast<unsigned long long>(offeredNegotiation_)));
        return;
    }
    if (Status failure = media_->addRemoteCandidate(m.sdpMLineIndex, m.sdpMid, m.candidate))
        failWith(std::nullopt, *failure, "candidate");
}

void Session::handle(const Ping& m) { send(Pong{m.id}); }

// ------------------------------------------------------------------ leaving

void Session::leaveRoom(LeaveReason reason) {
    Participant* p = participant_;
    participant_ = nullptr;
    if (p) {
        deps_.gateway.leave(*p, reason);
    }
    media_.reset();
}

void Session::onTransportClosed() {
    if (state_ == State::Closed && !participant_) return;
    MLOG_P(Session, Debug, room_, participantId_, "connection closed by %s", remoteAddress_.c_str());
    if (participant_) leaveRoom(LeaveReason::Disconnected);
    moveTo(State::Closed);
    joinTimer_.reset();
    idleTimer_.reset();
    queue_.clear();
}

void Session::disconnect(const std::string& reason, const std::string& message, int closeCode) {
    if (state_ == State::Closed) return;
    if (participant_) {
        const LeaveReason why = reason == "timeout"      ? LeaveReason::Timeout
                                : reason == "media-failed" ? LeaveReason::MediaFailed
                                                           : LeaveReason::Disconnected;
        leaveRoom(why);
    }
    send(Disconnect{reason, message});
    moveTo(State::Closed);
    joinTimer_.reset();
    idleTimer_.reset();
    queue_.clear();
    transport_.close(closeCode, reason);
}

void Session::onRemoved(LeaveReason reason) {
    // The Participant is already destroyed.
    participant_ = nullptr;
    media_.reset();
    const int code = reason == LeaveReason::Shutdown ? kCloseGoingAway : kCloseNormal;
    disconnect(toString(reason), disconnectMessage(reason), code);
}

// ------------------------------------------------------------------ room events

void Session::onParticipantJoined(const ParticipantInfo& other) { send(ParticipantJoined{other}); }

void Session::onParticipantLeft(const ParticipantInfo& other, LeaveReason reason) {
    send(ParticipantLeft{other.id, toString(reason)});
}

void Session::onTrackPublished(const TrackInfo& track) {
    send(TrackPublished{track});
    if (participant_ && participant_->autoSubscribe()) subscribeTo(track.id, nullptr);
}

void Session::onTrackUnpublished(const TrackInfo& track) {
    if (media_) media_->unsubscribe(track.id);
    send(TrackUnpublished{track.id, track.participantId});
}

void Session::onTrackMuted(const TrackInfo& track) {
    send(TrackMuted{track.id, track.participantId, track.muted});
}

void Session::onSpeaking(const TrackInfo& track, bool speaking) {
    send(Speaking{track.participantId, track.id, speaking});
}

// ------------------------------------------------------------------ media events

void Session::onLocalOffer(std::uint64_t negotiationId, const std::string& sdp,
                           const std::vector<MidMapping>& mids) {
    offeredNegotiation_ = negotiationId;
    offerOutstanding_ = true;
    send(Offer{negotiationId, sdp, mids});
}

void Session::onLocalCandidate(int mlineIndex, const std::string& mid, const std::string& candidate) {
    send(Candidate{0, candidate, mid, mlineIndex});
}

void Session::onSpeaking(const std::string& trackId, bool speaking) {
    if (participant_) deps_.gateway.setSpeaking(*participant_, trackId, speaking);
}

void Session::onCodecMismatch(const TrackInfo& track, const std::string& codec) {
    fail(std::nullopt, ErrorCode::CodecMismatch,
         "track " + track.id + " of participant " + track.participantId + " is " + codec +
             ", which your client did not accept; it is not sent to you (enable " + codec +
             " in the client, or ask the publisher to use another codec)");
}

void Session::onMediaFailed(const std::string& reason) {
    MLOG_P(Session, Warning, room_, participantId_, "media failed: %s", reason.c_str());
    disconnect("media-failed", "the media connection failed (" + reason + "); rejoin to retry",
               kCloseNormal);
}

// ------------------------------------------------------------------ frames out

void Session::send(ServerMessage message) {
    if (state_ == State::Closed) return;
    deps_.metrics.messagesSent++;
    transport_.send(encodeServer(message));
}

void Session::fail(std::optional<RequestId> id, ErrorCode code, std::string message) {
    deps_.metrics.errors[code]++;
    MLOG_P(Session, Debug, room_, participantId_, "error %d %s: %s", int(code), errorReason(code),
           message.c_str());
    send(Error{id, code, std::move(message)});
    if (isProtocolViolation(code) && ++protocolErrors_ > config_.maxProtocolErrors &&
        state_ != State::Closed)
        disconnect("protocol-error", "too many invalid messages; the connection was closed", kClosePolicy);
}

void Session::failWith(std::optional<RequestId> id, const Failure& failure, const std::string& subject) {
    std::string message;
    switch (failure.code) {
    case Refusal::RoomFull:
        message = subject + " is full (max-participants); try again later";
        break;
    case Refusal::TooManyRooms:
        message = "the gateway has reached max-rooms; try again later";
        break;
    case Refusal::TooManyTracks:
        message = "you have published the maximum number of tracks (max-tracks); unpublish one first";
        break;
    case Refusal::UnknownTrack:
        message = subject + " does not exist in this room";
        break;
    case Refusal::MediaUnavailable:
        message = "this gateway has no media plane, so " + subject +
                  " is not possible; it serves signalling only";
        break;
    case Refusal::BadAnswer:
        message = "the answer was not applied: " + failure.detail + "; the offer still waits for an answer";
        break;
    case Refusal::BadCandidate:
        message = "the candidate was not used: " + failure.detail;
        break;
    default:
        message = subject + ": " + toString(failure.code) + (failure.detail.empty() ? "" : " (" + failure.detail + ")");
        break;
    }
    fail(id, toErrorCode(failure.code), std::move(message));
}

} // namespace manifold::session
