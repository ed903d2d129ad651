// EventBridge.hpp — turns control-plane happenings into event notifications.
//
// What: a GatewayObserver that builds protocol::Event values (room created/closed,
// participant joined/left, track published/unpublished) and hands them to the
// EventNotifier, which POSTs them to --events-url.
// Thread: control thread. Ownership: owned by the App; borrows the EventNotifier.
#pragma once

#include "core/Gateway.hpp"
#include "signalling/events/EventNotifier.hpp"

namespace manifold::app {

class EventBridge final : public GatewayObserver {
public:
    explicit EventBridge(auth::EventNotifier& notifier) : notifier_(notifier) {}

    void onRoomCreated(const std::string& room) override;
    void onRoomClosed(const std::string& room, const char* reason) override;
    void onParticipantJoined(const std::string& room, const ParticipantInfo& p) override;
    void onParticipantLeft(const std::string& room, const ParticipantInfo& p, LeaveReason reason) override;
    void onTrackPublished(const std::string& room, const TrackInfo& track) override;
    void onTrackUnpublished(const std::string& room, const TrackInfo& track) override;

private:
    protocol::Event make(const char* event, const std::string& room) const;
    auth::EventNotifier& notifier_; // Passed by argument.
};

} // namespace manifold::app
