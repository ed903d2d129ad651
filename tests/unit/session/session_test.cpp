// The signalling session without sockets: frames in, frames out, a manual clock, an
// authorizer that can hold its answer, and a media engine double that records calls.
#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "signalling/protocol/Codec.hpp"
#include "signalling/session/Session.hpp"
#include "tests/support/ManualScheduler.hpp"

using namespace manifold;
using namespace manifold::protocol;
using namespace std::chrono_literals;
using session::Session;

namespace {

struct Transport final : Session::Transport {
    std::vector<std::string> sent;
    int closeCode = 0;
    std::string closeReason;
    void send(const std::string& text) override { sent.push_back(text); }
    void close(int code, const std::string& reason) override {
        closeCode = code;
        closeReason = reason;
    }
};

/// Allows or denies by rules; can hold answers until release() (like a slow webhook).
struct TestAuthorizer final : auth::Authorizer {
    bool hold = false;
    std::deque<std::pair<AuthContext, Done>> held;
    std::map<AuthAction, AuthDecision> overrides;
    std::vector<AuthContext> asked;
    Grants grants = Grants{true, true, true, false, false};

    void authorize(const AuthContext& c, Done done) override {
        asked.push_back(c);
        if (hold) {
            held.emplace_back(c, std::move(done));
            return;
        }
        done(decide(c));
    }
    AuthDecision decide(const AuthContext& c) const {
        if (auto it = overrides.find(c.action); it != overrides.end()) return it->second;
        if (c.action == AuthAction::Join) return AuthDecision::allow(c.token.empty() ? "anon" : c.token, grants);
        return AuthDecision::allow(c.identity, c.grants);
    }
    void releaseAll() {
        while (!held.empty()) {
            auto [c, done] = std::move(held.front());
            held.pop_front();
            done(decide(c));
        }
    }
    const char* mode() const override { return "test"; }
};

struct FakeMedia;
struct FakeMediaSession final : MediaSession {
    FakeMediaSession(FakeMedia& engine, Listener& l, std::string pid) : engine(engine), listener(l), participantId(std::move(pid)) {}
    ~FakeMediaSession() override;
    void publish(const TrackInfo& t, const std::string& codec) override {
        calls.push_back("publish:" + t.id + (codec.empty() ? "" : ":" + codec));
        offer({MidMapping{"0", t.id, t.participantId, MidMapping::Direction::Send}});
    }
    void unpublish(const std::string& id) override { calls.push_back("unpublish:" + id); }
    void subscribe(const TrackInfo& t) override {
        calls.push_back("subscribe:" + t.id);
        offer({MidMapping{"1", t.id, t.participantId, MidMapping::Direction::Recv}});
    }
    void unsubscribe(const std::string& id) override { calls.push_back("unsubscribe:" + id); }
    void setPaused(const std::string& id, bool p) override { calls.push_back("pause:" + id + (p ? ":1" : ":0")); }
    void setMuted(const std::string& id, bool m) override { calls.push_back("mute:" + id + (m ? ":1" : ":0")); }
    Status applyAnswer(std::uint64_t n, const std::string& sdp) override {
        calls.push_back("answer:" + std::to_string(n));
        if (sdp == "bad") return Failure(Refusal::BadAnswer, "unparsable SDP");
        return std::nullopt;
    }
    Status addRemoteCandidate(int, const std::string&, const std::string& c) override {
        calls.push_back("candidate:" + c);
        if (c == "bad") return Failure(Refusal::BadCandidate, "not a candidate");
        return std::nullopt;
    }
    void offer(std::vector<MidMapping> mids) { listener.onLocalOffer(++negotiation, "v=0 fake", mids); }

    FakeMedia& engine;
    Listener& listener;
    std::string participantId;
    std::vector<std::string> calls;
    std::uint64_t negotiation = 0;
};

struct FakeMedia final : MediaEngine {
    std::map<std::string, FakeMediaSession*> sessions;
    std::unique_ptr<MediaSession> createSession(const std::string&, const std::string& pid,
                                                MediaSession::Listener& l) override {
        auto s = std::make_unique<FakeMediaSession>(*this, l, pid);
        sessions[pid] = s.get();
        return s;
    }
};
FakeMediaSession::~FakeMediaSession() { engine.sessions.erase(participantId); }

struct Client {
    Transport transport;
    std::shared_ptr<Session> session;

    void send(const std::string& json) { session->onFrame(json); }
    std::vector<ServerMessage> drain() {
        std::vector<ServerMessage> out;
        for (const auto& text : transport.sent) {
            auto decoded = decodeServer(text);
            if (auto* e = std::get_if<DecodeError>(&decoded)) {
                ADD_FAILURE() << "server sent undecodable " << text << ": " << e->message;
                continue;
            }
            out.push_back(std::get<ServerMessage>(decoded));
        }
        transport.sent.clear();
        return out;
    }
    template <typename T>
    std::vector<T> take() {
        std::vector<T> out;
        for (auto& m : drain())
            if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
        return out;
    }
    template <typename T>
    T only() {
        auto all = drain();
        EXPECT_EQ(all.size(), 1u);
        for (auto& m : all)
            if (auto* t = std::get_if<T>(&m)) return *t;
        ADD_FAILURE() << "expected one message of the asked type, got " << all.size() << " messages";
        return T{};
    }
};

class SessionTest : public ::testing::Test {
protected:
    test::ManualScheduler clock;
    Gateway gateway{Limits{5, 3, 2, 0ms}, clock};
    TestAuthorizer authorizer;
    FakeMedia media;
    session::SessionMetrics metrics;
    Session::Config config;
    bool withMedia = true;
    std::vector<std::unique_ptr<Client>> clients;

    Client& connect() {
        auto c = std::make_unique<Client>();
        c->session = Session::create(config, Session::Deps{gateway, authorizer, clock, withMedia ? &media : nullptr, metrics},
                                     c->transport, "127.0.0.1");
        c->session->start();
        clients.push_back(std::move(c));
        return *clients.back();
    }
    Client& joined(const std::string& room, const std::string& who) {
        Client& c = connect();
        c.send(R"({"type":"hello","id":1,"versions":[1]})");
        c.send(R"({"type":"join","id":2,"room":")" + room + R"(","token":")" + who + R"(","name":")" + who + R"("})");
        auto j = c.take<Joined>();
        EXPECT_EQ(j.size(), 1u) << who;
        c.transport.sent.clear();
        return c;
    }
    void TearDown() override {
        for (auto& c : clients)
            if (c->session) c->session->onTransportClosed();
    }
};

ErrorCode errorOf(Client& c) {
    auto errors = c.take<Error>();
    EXPECT_EQ(errors.size(), 1u);
    return errors.empty() ? ErrorCode::InternalError : errors[0].code;
}

} // namespace

TEST_F(SessionTest, HelloNegotiatesVersion) {
    Client& c = connect();
    c.send(R"({"type":"hello","id":7,"versions":[1,2],"client":"test"})");
    auto w = c.only<Welcome>();
    EXPECT_EQ(w.id, 7);
    EXPECT_EQ(w.version, 1);
    EXPECT_EQ(c.session->state(), Session::State::AwaitingJoin);
    c.send(R"({"type":"hello","id":8,"versions":[1]})");
    EXPECT_EQ(errorOf(c), ErrorCode::AlreadyJoined);
}

TEST_F(SessionTest, UnsupportedVersionClosesWithReason) {
    Client& c = connect();
    c.send(R"({"type":"hello","id":1,"versions":[2,3]})");
    auto msgs = c.drain();
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(std::get<Error>(msgs[0]).code, ErrorCode::UnsupportedVersion);
    EXPECT_EQ(std::get<Error>(msgs[0]).id, 1);
    EXPECT_EQ(std::get<Disconnect>(msgs[1]).reason, "protocol-error");
    EXPECT_EQ(c.transport.closeCode, session::kClosePolicy);
    EXPECT_EQ(c.session->state(), Session::State::Closed);
}

TEST_F(SessionTest, MessagesBeforeHelloAndBeforeJoin) {
    Client& c = connect();
    c.send(R"({"type":"join","id":3,"room":"r"})");
    auto e = c.take<Error>();
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, ErrorCode::NotNegotiated);
    EXPECT_EQ(e[0].id, 3) << "the error carries the request id";
    c.send(R"({"type":"hello","id":1,"versions":[1]})");
    c.drain();
    c.send(R"({"type":"publish","id":4,"kind":"audio"})");
    EXPECT_EQ(errorOf(c), ErrorCode::NotJoined);
    c.send(R"({"type":"ping","id":5})");
    EXPECT_EQ(c.only<Pong>().id, 5) << "ping works before join";
}

TEST_F(SessionTest, BadFramesGetTypedErrors) {
    Client& c = connect();
    c.send("{not json");
    EXPECT_EQ(errorOf(c), ErrorCode::MalformedJson);
    c.send(R"({"type":"teleport","id":1})");
    EXPECT_EQ(errorOf(c), ErrorCode::UnknownType);
    c.send(R"({"type":"hello","id":"one","versions":[1]})");
    EXPECT_EQ(errorOf(c), ErrorCode::InvalidMessage);
    c.session->onBinaryFrame();
    EXPECT_EQ(errorOf(c), ErrorCode::MalformedJson);
    c.send(std::string(config.maxMessageSize + 1, ' '));
    EXPECT_EQ(errorOf(c), ErrorCode::MessageTooLarge);
    EXPECT_NE(c.session->state(), Session::State::Closed);
}

TEST_F(SessionTest, PersistentGarbageClosesTheConnection) {
    Client& c = connect();
    for (int i = 0; i <= config.maxProtocolErrors; ++i) c.send("garbage");
    EXPECT_EQ(c.session->state(), Session::State::Closed);
    EXPECT_EQ(c.transport.closeCode, session::kClosePolicy);
    auto d = c.take<Disconnect>();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].reason, "protocol-error");
}

TEST_F(SessionTest, FloodIsRateLimitedThenClosed) {
    config.messageRate = 10;
    config.messageBurst = 5;
    Client& c = connect();
    for (int i = 0; i < 5; ++i) c.send(R"({"type":"hello","id":1,"versions":[1]})");
    c.drain();
    c.send(R"({"type":"ping","id":9})");
    EXPECT_EQ(errorOf(c), ErrorCode::RateLimited);
    clock.advance(200ms); // two tokens back
    c.send(R"({"type":"ping","id":10})");
    EXPECT_EQ(c.only<Pong>().id, 10);
    for (int i = 0; i < 100 && c.session->state() != Session::State::Closed; ++i) c.send(R"({"type":"ping","id":11})");
    EXPECT_EQ(c.session->state(), Session::State::Closed);
    EXPECT_EQ(c.take<Disconnect>().at(0).reason, "rate-limited");
}

TEST_F(SessionTest, JoinTellsTheRoomAndLeaveTellsItAgain) {
    Client& a = joined("room1", "alice");
    Client& b = connect();
    b.send(R"({"type":"hello","id":1,"versions":[1]})");
    b.send(R"({"type":"join","id":2,"room":"room1","token":"bob","name":"Bob","metadata":{"color":"red"}})");
    auto j = b.take<Joined>();
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0].id, 2);
    EXPECT_EQ(j[0].room, "room1");
    ASSERT_EQ(j[0].participants.size(), 1u);
    EXPECT_EQ(j[0].participants[0].identity, "alice");
    EXPECT_TRUE(j[0].grants.publish);
    auto pj = a.only<ParticipantJoined>();
    EXPECT_EQ(pj.participant.name, "Bob");
    EXPECT_EQ(pj.participant.metadataJson, R"({"color":"red"})");
    EXPECT_EQ(pj.participant.id, j[0].participantId);

    b.send(R"({"type":"leave","id":3})");
    EXPECT_EQ(b.only<Ok>().id, 3);
    EXPECT_EQ(b.transport.closeCode, session::kCloseNormal);
    auto left = a.only<ParticipantLeft>();
    EXPECT_EQ(left.participantId, j[0].participantId);
    EXPECT_EQ(left.reason, "left");
}

TEST_F(SessionTest, DroppedConnectionLeavesAsDisconnected) {
    Client& a = joined("r", "alice");
    Client& b = joined("r", "bob");
    a.drain();
    b.session->onTransportClosed();
    EXPECT_EQ(a.only<ParticipantLeft>().reason, "disconnected");
    EXPECT_EQ(gateway.participantCount(), 1u);
}

TEST_F(SessionTest, DeniedJoinKeepsTheCodeAndAllowsRetry) {
    authorizer.overrides[AuthAction::Join] = AuthDecision::deny(ErrorCode::TokenExpired, "token expired");
    Client& c = connect();
    c.send(R"({"type":"hello","id":1,"versions":[1]})");
    c.drain();
    c.send(R"({"type":"join","id":2,"room":"r","token":"x"})");
    auto e = c.take<Error>();
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, ErrorCode::TokenExpired);
    EXPECT_EQ(e[0].message, "token expired");
    EXPECT_EQ(metrics.authDenials[std::size_t(AuthAction::Join)], 1u);
    authorizer.overrides.clear();
    c.send(R"({"type":"join","id":3,"room":"r","token":"x"})");
    EXPECT_EQ(c.only<Joined>().id, 3);
    ASSERT_FALSE(authorizer.asked.empty());
    EXPECT_EQ(authorizer.asked.back().remoteAddress, "127.0.0.1");
    EXPECT_EQ(authorizer.asked.back().room, "r");
}

TEST_F(SessionTest, JoinWithoutJoinGrantIsDenied) {
    authorizer.grants = Grants{false, true, true, false, false};
    Client& c = connect();
    c.send(R"({"type":"hello","id":1,"versions":[1]})");
    c.send(R"({"type":"join","id":2,"room":"r"})");
    auto e = c.take<Error>();
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, ErrorCode::PermissionDenied);
    EXPECT_EQ(gateway.participantCount(), 0u);
}

TEST_F(SessionTest, LimitsAnswerWithTypedErrors) {
    joined("r", "a");
    joined("r", "b");
    joined("r", "c");
    Client& d = connect();
    d.send(R"({"type":"hello","id":1,"versions":[1]})");
    d.send(R"({"type":"join","id":2,"room":"r"})");
    auto e = d.take<Error>();
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, ErrorCode::RoomFull);
    EXPECT_EQ(e[0].id, 2);
}

TEST_F(SessionTest, RequestsWaitInOrderBehindASlowAuthorizer) {
    Client& c = connect();
    c.send(R"({"type":"hello","id":1,"versions":[1]})");
    c.drain();
    authorizer.hold = true;
    c.send(R"({"type":"join","id":2,"room":"r"})");
    c.send(R"({"type":"ping","id":3})");
    c.send(R"({"type":"publish","id":4,"kind":"audio","label":"mic"})");
    EXPECT_TRUE(c.drain().empty()) << "nothing answered while the join decision is pending";
    authorizer.releaseAll(); // join decided; ping answered; publish asks the authorizer
    authorizer.releaseAll(); // publish decided
    auto msgs = c.drain();
    ASSERT_GE(msgs.size(), 3u);
    EXPECT_EQ(std::get<Joined>(msgs[0]).id, 2);
    EXPECT_EQ(std::get<Pong>(msgs[1]).id, 3);
    EXPECT_EQ(std::get<Published>(msgs[2]).id, 4);
}

TEST_F(SessionTest, SessionGoneBeforeTheDecisionIsSafe) {
    Client& c = connect();
    c.send(R"({"type":"hello","id":1,"versions":[1]})");
    authorizer.hold = true;
    c.send(R"({"type":"join","id":2,"room":"r"})");
    c.session->onTransportClosed();
    c.session.reset();
    authorizer.releaseAll();
    EXPECT_EQ(gateway.participantCount(), 0u);
}

TEST_F(SessionTest, PublishWithoutMediaPlaneIsRefused) {
    withMedia = false;
    Client& c = joined("r", "alice");
    c.send(R"({"type":"publish","id":5,"kind":"video","label":"camera"})");
    auto e = c.take<Error>();
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, ErrorCode::MediaUnavailable);
    EXPECT_EQ(e[0].id, 5);
}

TEST_F(SessionTest, PublishDeniedByAuthorizer) {
    authorizer.grants.publish = false;
    authorizer.overrides[AuthAction::Publish] = AuthDecision::deny(ErrorCode::PermissionDenied, "no publish grant");
    Client& c = joined("r", "viewer");
    c.send(R"({"type":"publish","id":5,"kind":"video"})");
    EXPECT_EQ(errorOf(c), ErrorCode::PermissionDenied);
    EXPECT_EQ(metrics.authDenials[std::size_t(AuthAction::Publish)], 1u);
    ASSERT_EQ(authorizer.asked.back().action, AuthAction::Publish);
    EXPECT_EQ(authorizer.asked.back().identity, "viewer");
    EXPECT_FALSE(authorizer.asked.back().grants.publish);
}

TEST_F(SessionTest, PublishOfferAnswerAndCandidates) {
    Client& a = joined("r", "alice");
    Client& b = joined("r", "bob");
    a.drain();
    a.send(R"({"type":"publish","id":5,"kind":"video","label":"camera"})");
    auto msgs = a.drain();
    ASSERT_EQ(msgs.size(), 2u);
    const TrackInfo track = std::get<Published>(msgs[0]).track;
    EXPECT_EQ(track.label, "camera");
    EXPECT_EQ(track.kind, MediaKind::Video);
    const Offer offer = std::get<Offer>(msgs[1]);
    ASSERT_EQ(offer.mids.size(), 1u);
    EXPECT_EQ(offer.mids[0].trackId, track.id);
    EXPECT_EQ(offer.mids[0].direction, MidMapping::Direction::Send);

    // Bob hears about it, is subscribed automatically and gets his own offer.
    auto bmsgs = b.drain();
    ASSERT_EQ(bmsgs.size(), 2u);
    EXPECT_EQ(std::get<TrackPublished>(bmsgs[0]).track.id, track.id);
    EXPECT_EQ(std::get<Offer>(bmsgs[1]).mids.at(0).direction, MidMapping::Direction::Recv);

    const std::string n = std::to_string(offer.negotiationId);
    a.send(R"({"type":"answer","id":6,"negotiationId":99,"sdp":"v=0"})");
    EXPECT_EQ(errorOf(a), ErrorCode::StaleNegotiation);
    a.send(R"({"type":"candidate","negotiationId":99,"candidate":"candidate:1 1 UDP 1 127.0.0.1 5000 typ host","sdpMLineIndex":0})");
    EXPECT_EQ(errorOf(a), ErrorCode::StaleNegotiation);
    a.send(R"({"type":"answer","id":7,"negotiationId":)" + n + R"(,"sdp":"bad"})");
    EXPECT_EQ(errorOf(a), ErrorCode::NegotiationFailed);
    a.send(R"({"type":"answer","id":8,"negotiationId":)" + n + R"(,"sdp":"v=0"})");
    EXPECT_EQ(a.only<Ok>().id, 8);
    a.send(R"({"type":"answer","id":9,"negotiationId":)" + n + R"(,"sdp":"v=0"})");
    EXPECT_EQ(errorOf(a), ErrorCode::StaleNegotiation) << "an offer is answered once";
    a.send(R"({"type":"candidate","negotiationId":)" + n + R"(,"candidate":"candidate:1 1 UDP 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0})");
    EXPECT_TRUE(a.drain().empty());
    // A candidate gathered while answering an earlier offer is still good.
    media.sessions.at(a.session->participantId())->offer({});
    a.drain();
    a.send(R"({"type":"candidate","negotiationId":)" + n + R"(,"candidate":"candidate:3 1 UDP 1 127.0.0.1 5002 typ host","sdpMLineIndex":0})");
    EXPECT_TRUE(a.drain().empty());
    a.send(R"({"type":"candidate","negotiationId":0,"candidate":"candidate:4 1 UDP 1 127.0.0.1 5003 typ host","sdpMLineIndex":0})");
    EXPECT_EQ(errorOf(a), ErrorCode::StaleNegotiation);
    const auto& calls = media.sessions.at(a.session->participantId())->calls;
    EXPECT_EQ(calls.back(), "candidate:candidate:3 1 UDP 1 127.0.0.1 5002 typ host");
    // A candidate the media session cannot use gets an error without an id.
    a.send(R"({"type":"candidate","negotiationId":)" + n + R"(,"candidate":"bad","sdpMLineIndex":0})");
    auto refused = a.only<Error>();
    EXPECT_EQ(refused.code, ErrorCode::InvalidMessage);
    EXPECT_FALSE(refused.id.has_value());
    EXPECT_NE(refused.message.find("not a candidate"), std::string::npos) << refused.message;

    // Server candidates reach the client.
    media.sessions.at(a.session->participantId())->listener.onLocalCandidate(0, "0", "candidate:2 1 UDP 2 127.0.0.1 6000 typ host");
    auto cand = a.only<Candidate>();
    EXPECT_EQ(cand.sdpMid, "0");
}

TEST_F(SessionTest, LateJoinerSubscribesToExistingTracks) {
    Client& a = joined("r", "alice");
    a.send(R"({"type":"publish","id":5,"kind":"audio","label":"mic"})");
    const TrackInfo track = a.take<Published>().at(0).track;
    Client& b = joined("r", "bob");
    EXPECT_EQ(media.sessions.at(b.session->participantId())->calls,
              (std::vector<std::string>{"subscribe:" + track.id}));
}

TEST_F(SessionTest, ExplicitSubscriptionsAndPause) {
    Client& a = joined("r", "alice");
    a.send(R"({"type":"publish","id":5,"kind":"audio","label":"mic"})");
    const TrackInfo track = a.take<Published>().at(0).track;
    Client& b = connect();
    b.send(R"({"type":"hello","id":1,"versions":[1]})");
    b.send(R"({"type":"join","id":2,"room":"r","autoSubscribe":false})");
    b.drain();
    auto& calls = media.sessions.at(b.session->participantId())->calls;
    EXPECT_TRUE(calls.empty()) << "autoSubscribe false receives nothing until asked";
    b.send(R"({"type":"pause","id":3,"trackId":")" + track.id + R"(","paused":true})");
    EXPECT_EQ(errorOf(b), ErrorCode::UnknownTrack);
    b.send(R"({"type":"subscribe","id":4,"trackIds":["T-nope"]})");
    EXPECT_EQ(errorOf(b), ErrorCode::UnknownTrack);
    b.send(R"({"type":"subscribe","id":5,"trackIds":[")" + track.id + R"("]})");
    EXPECT_EQ(b.take<Ok>().at(0).id, 5);
    b.send(R"({"type":"pause","id":6,"trackId":")" + track.id + R"(","paused":true})");
    EXPECT_EQ(b.take<Ok>().at(0).id, 6);
    b.send(R"({"type":"unsubscribe","id":7,"trackIds":[")" + track.id + R"("]})");
    EXPECT_EQ(b.take<Ok>().at(0).id, 7);
    EXPECT_EQ(calls, (std::vector<std::string>{"subscribe:" + track.id, "pause:" + track.id + ":1",
                                               "unsubscribe:" + track.id}));
}

TEST_F(SessionTest, SubscribeDeniedPerTrack) {
    Client& a = joined("r", "alice");
    a.send(R"({"type":"publish","id":5,"kind":"audio","label":"mic"})");
    const TrackInfo track = a.take<Published>().at(0).track;
    authorizer.overrides[AuthAction::Subscribe] = AuthDecision::deny(ErrorCode::PermissionDenied, "no");
    Client& b = connect();
    b.send(R"({"type":"hello","id":1,"versions":[1]})");
    b.send(R"({"type":"join","id":2,"room":"r","autoSubscribe":false})");
    b.drain();
    b.send(R"({"type":"subscribe","id":3,"trackIds":[")" + track.id + R"("]})");
    auto e = b.take<Error>();
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, ErrorCode::PermissionDenied);
    EXPECT_NE(e[0].message.find(track.id), std::string::npos);
    EXPECT_EQ(authorizer.asked.back().trackId, track.id);
}

TEST_F(SessionTest, MuteIsBroadcast) {
    Client& a = joined("r", "alice");
    Client& b = joined("r", "bob");
    a.send(R"({"type":"publish","id":5,"kind":"audio","label":"mic"})");
    const TrackInfo track = a.take<Published>().at(0).track;
    b.drain();
    a.send(R"({"type":"mute","id":6,"trackId":")" + track.id + R"(","muted":true})");
    EXPECT_EQ(a.only<Ok>().id, 6);
    auto m = b.only<TrackMuted>();
    EXPECT_TRUE(m.muted);
    EXPECT_EQ(m.trackId, track.id);
    b.send(R"({"type":"mute","id":7,"trackId":")" + track.id + R"(","muted":true})");
    EXPECT_EQ(errorOf(b), ErrorCode::UnknownTrack) << "only the publisher mutes its track";
}

TEST_F(SessionTest, UnpublishAndLeaveStopSubscribers) {
    Client& a = joined("r", "alice");
    Client& b = joined("r", "bob");
    a.send(R"({"type":"publish","id":5,"kind":"audio","label":"mic"})");
    const TrackInfo track = a.take<Published>().at(0).track;
    b.drain();
    a.send(R"({"type":"unpublish","id":6,"trackId":")" + track.id + R"("})");
    EXPECT_EQ(a.only<Ok>().id, 6);
    EXPECT_EQ(b.only<TrackUnpublished>().trackId, track.id);
    EXPECT_EQ(media.sessions.at(b.session->participantId())->calls.back(), "unsubscribe:" + track.id);
}

TEST_F(SessionTest, JoinTimeout) {
    config.joinTimeout = 1000ms;
    Client& c = connect();
    c.send(R"({"type":"hello","id":1,"versions":[1]})");
    clock.advance(999ms);
    EXPECT_NE(c.session->state(), Session::State::Closed);
    clock.advance(1ms);
    EXPECT_EQ(c.session->state(), Session::State::Closed);
    EXPECT_EQ(c.take<Disconnect>().at(0).reason, "timeout");
}

TEST_F(SessionTest, IdleTimeoutResetsOnEveryFrame) {
    config.idleTimeout = 1000ms;
    Client& a = joined("r", "alice");
    for (int i = 0; i < 5; ++i) {
        clock.advance(800ms);
        a.send(R"({"type":"ping","id":1})");
    }
    EXPECT_EQ(a.session->state(), Session::State::Joined);
    clock.advance(1000ms);
    EXPECT_EQ(a.session->state(), Session::State::Closed);
    EXPECT_EQ(gateway.participantCount(), 0u);
}

TEST_F(SessionTest, KickAndShutdownTellTheClientWhy) {
    Client& a = joined("r", "alice");
    Client& b = joined("r", "bob");
    a.drain();
    ASSERT_TRUE(gateway.kick("r", b.session->participantId()));
    auto d = b.take<Disconnect>();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].reason, "kicked");
    EXPECT_EQ(b.transport.closeCode, session::kCloseNormal);
    EXPECT_EQ(a.only<ParticipantLeft>().reason, "kicked");
    gateway.shutdown();
    EXPECT_EQ(a.take<Disconnect>().at(0).reason, "shutdown");
    EXPECT_EQ(a.transport.closeCode, session::kCloseGoingAway);
    Client& c = connect();
    c.send(R"({"type":"hello","id":1,"versions":[1]})");
    c.send(R"({"type":"join","id":2,"room":"r"})");
    EXPECT_EQ(c.take<Error>().at(0).code, ErrorCode::ShuttingDown);
}

TEST_F(SessionTest, SpeakingIsBroadcast) {
    Client& a = joined("r", "alice");
    Client& b = joined("r", "bob");
    a.send(R"({"type":"publish","id":5,"kind":"audio","label":"mic"})");
    const TrackInfo track = a.take<Published>().at(0).track;
    a.drain();
    b.drain();
    media.sessions.at(a.session->participantId())->listener.onSpeaking(track.id, true);
    for (Client* c : {&a, &b}) {
        auto s = c->take<Speaking>();
        ASSERT_EQ(s.size(), 1u);
        EXPECT_EQ(s[0].trackId, track.id);
        EXPECT_EQ(s[0].participantId, a.session->participantId());
        EXPECT_TRUE(s[0].speaking);
    }
}

TEST_F(SessionTest, CodecMismatchIsAnErrorForTheSubscriber) {
    Client& a = joined("r", "alice");
    Client& b = joined("r", "bob");
    a.send(R"({"type":"publish","id":5,"kind":"video","label":"cam"})");
    const TrackInfo track = a.take<Published>().at(0).track;
    b.drain();
    media.sessions.at(b.session->participantId())->listener.onCodecMismatch(track, "H264");
    auto e = b.take<Error>();
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, ErrorCode::CodecMismatch);
    EXPECT_FALSE(e[0].id.has_value());
    EXPECT_NE(e[0].message.find("H264"), std::string::npos);
    EXPECT_NE(e[0].message.find(track.id), std::string::npos);
    EXPECT_EQ(b.session->state(), Session::State::Joined) << "the session goes on";
}

TEST_F(SessionTest, MediaFailureRemovesTheParticipant) {
    Client& a = joined("r", "alice");
    Client& b = joined("r", "bob");
    a.drain();
    b.session->onMediaFailed("ICE failed");
    EXPECT_EQ(b.take<Disconnect>().at(0).reason, "media-failed");
    EXPECT_EQ(a.only<ParticipantLeft>().reason, "media-failed");
}
