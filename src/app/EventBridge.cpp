#include "app/EventBridge.hpp"

#include <glib.h>

namespace manifold::app {

protocol::Event EventBridge::make(const char* event, const std::string& room) const {
    protocol::Event e;
    e.event = event;
    e.room = room;
    e.timeMs = g_get_real_time() / 1000;
    return e;
}

void EventBridge::onRoomCreated(const std::string& room) { notifier_.notify(make("room-created", room)); }

void EventBridge::onRoomClosed(const std::string& room, const char* reason) {
    auto e = make("room-closed", room);
    e.reason = reason;
    notifier_.notify(e);
}

void EventBridge::onParticipantJoined(const std::string& room, const ParticipantInfo& p) {
    auto e = make("participant-joined", room);
    e.participant = p;
    notifier_.notify(e);
}

void EventBridge::onParticipantLeft(const std::string& room, const ParticipantInfo& p, LeaveReason reason) {
    auto e = make("participant-left", room);
    e.participant = p;
    e.reason = toString(reason);
    notifier_.notify(e);
}

void EventBridge::onTrackPublished(const std::string& room, const TrackInfo& track) {
    auto e = make("track-published", room);
    e.track = track;
    notifier_.notify(e);
}

void EventBridge::onTrackUnpublished(const std::string& room, const TrackInfo& track) {
    auto e = make("track-unpublished", room);
    e.track = track;
    notifier_.notify(e);
}

} // namespace manifold::app
