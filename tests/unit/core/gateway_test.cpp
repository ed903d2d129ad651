// Control plane: rooms appear on first join and close after the grace period, limits,
// events reach the other participants, kick/close/shutdown tell the removed one.
#include <gtest/gtest.h>

#include "core/Gateway.hpp"
#include "tests/support/ManualScheduler.hpp"

using namespace manifold;
using namespace std::chrono_literals;

namespace {

struct Recorder final : Participant::Listener {
    std::vector<std::string> events;
    void onParticipantJoined(const ParticipantInfo& p) override { events.push_back("joined:" + p.id); }
    void onParticipantLeft(const ParticipantInfo& p, LeaveReason r) override {
        events.push_back("left:" + p.id + ":" + toString(r));
    }
    void onTrackPublished(const TrackInfo& t) override { events.push_back("published:" + t.id); }
    void onTrackUnpublished(const TrackInfo& t) override { events.push_back("unpublished:" + t.id); }
    void onTrackMuted(const TrackInfo& t) override { events.push_back(std::string("muted:") + t.id + (t.muted ? ":1" : ":0")); }
    void onRemoved(LeaveReason r) override { events.push_back(std::string("removed:") + toString(r)); }
    void onSpeaking(const TrackInfo& t, bool s) override { events.push_back(std::string("speaking:") + t.id + (s ? ":1" : ":0")); }
};

struct Observer final : GatewayObserver {
    std::vector<std::string> events;
    void onRoomCreated(const std::string& r) override { events.push_back("room-created:" + r); }
    void onRoomClosed(const std::string& r, const char* why) override { events.push_back("room-closed:" + r + ":" + why); }
    void onParticipantJoined(const std::string& r, const ParticipantInfo& p) override { events.push_back("joined:" + r + ":" + p.identity); }
    void onParticipantLeft(const std::string& r, const ParticipantInfo& p, LeaveReason) override { events.push_back("left:" + r + ":" + p.identity); }
    void onTrackPublished(const std::string&, const TrackInfo& t) override { events.push_back("published:" + t.id); }
    void onTrackUnpublished(const std::string&, const TrackInfo& t) override { events.push_back("unpublished:" + t.id); }
};

Participant* joinOk(Gateway& g, const std::string& room, const std::string& who, Participant::Listener& l) {
    auto r = g.join(room, who, who, "", Grants::all(), l);
    EXPECT_TRUE(std::holds_alternative<Participant*>(r)) << who;
    return std::holds_alternative<Participant*>(r) ? std::get<Participant*>(r) : nullptr;
}

} // namespace

TEST(Gateway, RoomCreatedOnFirstJoinAndClosedAfterGrace) {
    test::ManualScheduler clock;
    Gateway g(Limits{10, 10, 4, 5000ms}, clock);
    Observer obs;
    g.addObserver(obs);
    Recorder a;
    Participant* pa = joinOk(g, "r1", "alice", a);
    ASSERT_TRUE(pa);
    EXPECT_EQ(g.roomCount(), 1u);
    g.leave(*pa, LeaveReason::Left);
    EXPECT_EQ(g.roomCount(), 1u) << "empty room stays for the grace period";
    clock.advance(4999ms);
    EXPECT_EQ(g.roomCount(), 1u);
    clock.advance(1ms);
    EXPECT_EQ(g.roomCount(), 0u);
    EXPECT_EQ(obs.events, (std::vector<std::string>{"room-created:r1", "joined:r1:alice", "left:r1:alice", "room-closed:r1:empty"}));
}

TEST(Gateway, RejoinWithinGraceKeepsRoom) {
    test::ManualScheduler clock;
    Gateway g(Limits{10, 10, 4, 5000ms}, clock);
    Recorder a, b;
    g.leave(*joinOk(g, "r", "alice", a), LeaveReason::Left);
    clock.advance(3000ms);
    joinOk(g, "r", "bob", b);
    clock.advance(10000ms);
    EXPECT_EQ(g.roomCount(), 1u);
    EXPECT_EQ(g.participantCount(), 1u);
}

TEST(Gateway, ZeroGraceClosesAtOnce) {
    test::ManualScheduler clock;
    Gateway g(Limits{10, 10, 4, 0ms}, clock);
    Recorder a;
    g.leave(*joinOk(g, "r", "alice", a), LeaveReason::Left);
    EXPECT_EQ(g.roomCount(), 0u);
}

TEST(Gateway, Limits) {
    test::ManualScheduler clock;
    Gateway g(Limits{1, 2, 1, 0ms}, clock);
    Recorder a, b, c, d;
    joinOk(g, "r", "a", a);
    joinOk(g, "r", "b", b);
    auto full = g.join("r", "c", "c", "", Grants::all(), c);
    ASSERT_TRUE(std::holds_alternative<Failure>(full));
    EXPECT_EQ(std::get<Failure>(full).code, Refusal::RoomFull);
    auto rooms = g.join("other", "d", "d", "", Grants::all(), d);
    ASSERT_TRUE(std::holds_alternative<Failure>(rooms));
    EXPECT_EQ(std::get<Failure>(rooms).code, Refusal::TooManyRooms);
}

TEST(Gateway, OthersHearJoinsLeavesAndTracks) {
    test::ManualScheduler clock;
    Gateway g(Limits{}, clock);
    Recorder a, b;
    Participant* pa = joinOk(g, "r", "alice", a);
    Participant* pb = joinOk(g, "r", "bob", b);
    EXPECT_EQ(a.events, (std::vector<std::string>{"joined:" + pb->id()}));
    EXPECT_TRUE(b.events.empty()) << "a joiner is not told about itself";
    auto t = g.publish(*pb, MediaKind::Video, "camera");
    ASSERT_TRUE(std::holds_alternative<TrackInfo>(t));
    const std::string trackId = std::get<TrackInfo>(t).id;
    EXPECT_EQ(a.events.back(), "published:" + trackId);
    ASSERT_TRUE(std::holds_alternative<TrackInfo>(g.setMuted(*pb, trackId, true)));
    EXPECT_EQ(a.events.back(), "muted:" + trackId + ":1");
    // A participant's view of the room includes the tracks.
    auto others = g.findRoom("r")->othersThan(*pa);
    ASSERT_EQ(others.size(), 1u);
    ASSERT_EQ(others[0].tracks.size(), 1u);
    EXPECT_TRUE(others[0].tracks[0].muted);
    const std::string bobId = pb->id();
    g.leave(*pb, LeaveReason::Disconnected);
    EXPECT_EQ(a.events[a.events.size() - 2], "unpublished:" + trackId) << "tracks go before the participant";
    EXPECT_EQ(a.events.back(), "left:" + bobId + ":disconnected");
}

TEST(Gateway, SpeakingReachesEveryoneIncludingThePublisher) {
    test::ManualScheduler clock;
    Gateway g(Limits{}, clock);
    Recorder a, b;
    Participant* pa = joinOk(g, "r", "alice", a);
    joinOk(g, "r", "bob", b);
    const std::string t = std::get<TrackInfo>(g.publish(*pa, MediaKind::Audio, "mic")).id;
    g.setSpeaking(*pa, t, true);
    EXPECT_EQ(a.events.back(), "speaking:" + t + ":1");
    EXPECT_EQ(b.events.back(), "speaking:" + t + ":1");
    g.setSpeaking(*pa, "T-unknown", true);
    EXPECT_EQ(b.events.back(), "speaking:" + t + ":1") << "unknown tracks are ignored";
}

TEST(Gateway, TrackLimitAndUnknownTrack) {
    test::ManualScheduler clock;
    Gateway g(Limits{10, 10, 1, 0ms}, clock);
    Recorder a;
    Participant* pa = joinOk(g, "r", "alice", a);
    ASSERT_TRUE(std::holds_alternative<TrackInfo>(g.publish(*pa, MediaKind::Audio, "mic")));
    auto second = g.publish(*pa, MediaKind::Video, "cam");
    ASSERT_TRUE(std::holds_alternative<Failure>(second));
    EXPECT_EQ(std::get<Failure>(second).code, Refusal::TooManyTracks);
    auto unknown = g.unpublish(*pa, "T-nope");
    ASSERT_TRUE(std::holds_alternative<Failure>(unknown));
    EXPECT_EQ(std::get<Failure>(unknown).code, Refusal::UnknownTrack);
}

TEST(Gateway, SubscriptionsFollowTracks) {
    test::ManualScheduler clock;
    Gateway g(Limits{}, clock);
    Recorder a, b;
    Participant* pa = joinOk(g, "r", "alice", a);
    Participant* pb = joinOk(g, "r", "bob", b);
    const std::string t = std::get<TrackInfo>(g.publish(*pa, MediaKind::Video, "cam")).id;
    Room* room = g.findRoom("r");
    EXPECT_EQ(room->subscribe(*pa, t), Refusal::NotOwner);
    EXPECT_FALSE(room->subscribe(*pb, t).has_value());
    EXPECT_TRUE(pb->isSubscribed(t));
    g.unpublish(*pa, t);
    EXPECT_FALSE(pb->isSubscribed(t)) << "unpublish ends subscriptions";
    EXPECT_EQ(room->subscribe(*pb, t), Refusal::UnknownTrack);
}

TEST(Gateway, KickCloseAndShutdownTellTheRemoved) {
    test::ManualScheduler clock;
    Gateway g(Limits{10, 10, 4, 0ms}, clock);
    Recorder a, b, c;
    joinOk(g, "r", "alice", a);
    Participant* pb = joinOk(g, "r", "bob", b);
    const std::string bobId = pb->id();
    EXPECT_FALSE(g.kick("r", "P-nope"));
    EXPECT_TRUE(g.kick("r", bobId));
    EXPECT_EQ(b.events.back(), "removed:kicked");
    EXPECT_EQ(a.events.back(), "left:" + bobId + ":kicked");
    joinOk(g, "s", "carol", c);
    EXPECT_TRUE(g.closeRoom("r"));
    EXPECT_EQ(a.events.back(), "removed:room-closed");
    EXPECT_EQ(g.roomCount(), 1u);
    g.shutdown();
    EXPECT_EQ(c.events.back(), "removed:shutdown");
    EXPECT_EQ(g.roomCount(), 0u);
    Recorder d;
    auto late = g.join("t", "dave", "dave", "", Grants::all(), d);
    ASSERT_TRUE(std::holds_alternative<Failure>(late));
    EXPECT_EQ(std::get<Failure>(late).code, Refusal::ShuttingDown);
}
